import { httpHandler, route } from '../src/http/wrapper';
import { ClaimBody } from '../src/http/schemas';
import { claim } from '../src/app/claims';

/** POST /v1/claims — the hot path (see claim() for its write timeline). */
export const routes = [
  route({ method: 'POST', path: '/v1/claims', access: 'user', apiKey: 'full', body: ClaimBody, run: ({ d, who, body, deviceId }) => claim(d, who, body.code, deviceId, body.group) }),
];

export const handler = httpHandler(routes);
