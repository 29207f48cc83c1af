import { httpHandler, route } from '../src/http/wrapper';
import { openCode } from '../src/app/open';
import { fail } from '../src/domain/errors';

/** GET /v1/codes/{code} — the open view; changes nothing. */
export const routes = [
  route({
    method: 'GET',
    path: '/v1/codes/{code}',
    access: 'user',
    run: ({ d, who, params }) => {
      const code = params.code ?? '';
      if (code.length > 200 || !/^[\x21-\x7e]+$/.test(code)) fail('CODE_INVALID', '无效的二维码');
      return openCode(d, who, code);
    },
  }),
];

export const handler = httpHandler(routes);
