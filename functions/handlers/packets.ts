import { bindRoutes, httpHandler } from '../src/http/wrapper';
import { createPacket, getPacket, myPackets, newPacketCode } from '../src/app/packets';

/** POST /v1/packets · GET /v1/packets/{id} · POST /v1/packets/{id}/codes · GET /v1/me/packets */
export const routes = bindRoutes('packets', {
  'POST /v1/packets': ({ d, who, body, idemKey, deviceId }) => createPacket(d, who, body, idemKey, deviceId),
  'GET /v1/packets/{id}': ({ d, who, params, query }) => getPacket(d, who, params.id, query.forwardsCursor),
  'POST /v1/packets/{id}/codes': ({ d, who, params, body }) =>
    newPacketCode(d, who, params.id, body.kind ?? 'live', body.via),
  'GET /v1/me/packets': ({ d, who, query }) => myPackets(d, who, query.role ?? 'sent', query.limit ?? 20, query.cursor),
});

export const handler = httpHandler(routes);
