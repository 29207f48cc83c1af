import { httpHandler, route } from '../src/http/wrapper';
import { PageQuery, TopupBody } from '../src/http/schemas';
import { decodeCursor, encodeCursor } from '../src/http/cursor';
import { getWallet, ledger, topup } from '../src/app/wallet';
import { Keys } from '../src/store/keys';

/** GET /v1/wallet · POST /v1/wallet/topups · GET /v1/wallet/ledger */
export const routes = [
  route({ method: 'GET', path: '/v1/wallet', access: 'user', apiKey: 'basic', run: ({ d, who }) => getWallet(d, who) }),
  route({
    method: 'POST',
    path: '/v1/wallet/topups',
    access: 'user',
    apiKey: 'full',
    body: TopupBody,
    run: ({ d, who, body, idemKey, deviceId }) => topup(d, who, body.amount, idemKey, deviceId, body.method),
  }),
  route({
    method: 'GET',
    path: '/v1/wallet/ledger',
    access: 'user',
    apiKey: 'basic',
    query: PageQuery,
    run: async ({ d, who, query }) => {
      const start = decodeCursor(query.cursor, { pk: Keys.ledgerPk(who.userId) });
      const out = await ledger(d, who, query.limit ?? 20, start);
      const { lastKey, ...rest } = out.body as { lastKey?: Record<string, unknown> };
      return { status: 200, body: { ...rest, cursor: encodeCursor(lastKey) } };
    },
  }),
];

export const handler = httpHandler(routes);
