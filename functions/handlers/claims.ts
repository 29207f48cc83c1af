import { bindRoutes, httpHandler } from '../src/http/wrapper';
import { claim } from '../src/app/claims';

/** POST /v1/claims — the hot path (see claim() for its write timeline). */
export const routes = bindRoutes('claims', {
  'POST /v1/claims': ({ d, who, body, deviceId }) => claim(d, who, body.code, deviceId, body.group),
});

export const handler = httpHandler(routes);
