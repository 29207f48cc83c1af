import { bindRoutes, httpHandler } from '../src/http/wrapper';
import { decodeCursor, encodeCursor } from '../src/http/cursor';
import { getWallet, ledger, topup } from '../src/app/wallet';
import { Keys } from '../src/store/keys';

/** GET /v1/wallet · POST /v1/wallet/topups · GET /v1/wallet/ledger */
export const routes = bindRoutes('wallet', {
  'GET /v1/wallet': ({ d, who }) => getWallet(d, who),
  'POST /v1/wallet/topups': ({ d, who, body, idemKey, deviceId }) =>
    topup(d, who, body.amount, idemKey, deviceId, body.method),
  'GET /v1/wallet/ledger': async ({ d, who, query }) => {
    const start = decodeCursor(query.cursor, { pk: Keys.ledgerPk(who.userId) });
    const out = await ledger(d, who, query.limit ?? 20, start);
    const { lastKey, ...rest } = out.body;
    return { status: 200, body: { ...rest, cursor: encodeCursor(lastKey) } };
  },
});

export const handler = httpHandler(routes);
