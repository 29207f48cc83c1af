import { bindRoutes, httpHandler } from '../src/http/wrapper';
import { openCode } from '../src/app/open';
import { groupOfQuery } from '../src/http/schemas';

/** GET /v1/codes/{code} — the open view; changes nothing. */
export const routes = bindRoutes('codes', {
  'GET /v1/codes/{code}': ({ d, who, params, query }) => openCode(d, who, params.code, groupOfQuery(query)),
});

export const handler = httpHandler(routes);
