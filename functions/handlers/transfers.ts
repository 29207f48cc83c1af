import { bindRoutes, httpHandler } from '../src/http/wrapper';
import { receiveCode, transfer } from '../src/app/transfers';

/** GET /v1/receive-code · POST /v1/transfers */
export const routes = bindRoutes('transfers', {
  'GET /v1/receive-code': ({ d, who }) => receiveCode(d, who),
  'POST /v1/transfers': ({ d, who, body, idemKey, deviceId }) => transfer(d, who, body, idemKey, deviceId),
});

export const handler = httpHandler(routes);
