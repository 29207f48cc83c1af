import { bindRoutes, httpHandler } from '../src/http/wrapper';
import { decodeCursor, encodeCursor } from '../src/http/cursor';
import { createPacket, getPacket, myPackets, newPacketCode } from '../src/app/packets';
import { Keys } from '../src/store/keys';

/** POST /v1/packets · GET /v1/packets/{id} · POST /v1/packets/{id}/codes · GET /v1/me/packets */
export const routes = bindRoutes('packets', {
  'POST /v1/packets': ({ d, who, body, idemKey, deviceId }) => createPacket(d, who, body, idemKey, deviceId),
  'GET /v1/packets/{id}': async ({ d, who, params, query }) => {
    const { id } = params;
    const out = await getPacket(d, who, id, decodeCursor(query.forwardsCursor, { pk: Keys.forwardsPk(id) }));
    const { lastKey, ...rest } = out.body;
    // The cursor of the forwarding tree's next page, for those who see the tree.
    return { status: 200, body: rest.forwards ? { ...rest, forwardsCursor: encodeCursor(lastKey) } : rest };
  },
  'POST /v1/packets/{id}/codes': ({ d, who, params, body }) =>
    newPacketCode(d, who, params.id, body.kind ?? 'live', body.via),
  'GET /v1/me/packets': async ({ d, who, query }) => {
    const role = query.role ?? 'sent';
    // The received list pages through the caller's own ledger (claim credits carry no index entry).
    const expect: Record<string, string> =
      role === 'sent' ? { gsi2pk: Keys.sentPk(who.userId) } : { pk: Keys.ledgerPk(who.userId) };
    const out = await myPackets(d, who, role, query.limit ?? 20, decodeCursor(query.cursor, expect));
    const { lastKey, ...rest } = out.body;
    return { status: 200, body: { ...rest, cursor: encodeCursor(lastKey) } };
  },
});

export const handler = httpHandler(routes);
