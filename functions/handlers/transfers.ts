import { httpHandler, route } from '../src/http/wrapper';
import { TransferBody } from '../src/http/schemas';
import { receiveCode, transfer } from '../src/app/transfers';

/** GET /v1/receive-code · POST /v1/transfers */
export const routes = [
  route({ method: 'GET', path: '/v1/receive-code', access: 'user', apiKey: 'full', run: ({ d, who }) => receiveCode(d, who) }),
  route({
    method: 'POST',
    path: '/v1/transfers',
    access: 'user',
    apiKey: 'full',
    body: TransferBody,
    run: ({ d, who, body, idemKey, deviceId }) => transfer(d, who, body, idemKey, deviceId),
  }),
];

export const handler = httpHandler(routes);
