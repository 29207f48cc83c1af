import { bindRoutes, httpHandler } from '../src/http/wrapper';
import { openCode } from '../src/app/open';
import { fail } from '../src/domain/errors';
import { groupOfQuery } from '../src/http/schemas';

/** GET /v1/codes/{code} — the open view; changes nothing. */
export const routes = bindRoutes('codes', {
  'GET /v1/codes/{code}': ({ d, who, params, query }) => {
    const code = params.code ?? '';
    if (code.length > 200 || !/^[\x21-\x7e]+$/.test(code)) fail('CODE_INVALID', '无效的二维码');
    return openCode(d, who, code, groupOfQuery(query));
  },
});

export const handler = httpHandler(routes);
