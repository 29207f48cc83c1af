import { httpHandler, route } from '../src/http/wrapper';
import { SessionBody } from '../src/http/schemas';
import { createSession } from '../src/app/session';

/** POST /v1/session */
export const routes = [
  route({ method: 'POST', path: '/v1/session', access: 'public', body: SessionBody, run: ({ d, body, deviceId }) => createSession(d, body, deviceId) }),
];

export const handler = httpHandler(routes);
