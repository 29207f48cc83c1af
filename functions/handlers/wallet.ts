import { bindRoutes, httpHandler } from '../src/http/wrapper';
import { getWallet, ledger, topup } from '../src/app/wallet';

/** GET /v1/wallet · POST /v1/wallet/topups · GET /v1/wallet/ledger */
export const routes = bindRoutes('wallet', {
  'GET /v1/wallet': ({ d, who }) => getWallet(d, who),
  'POST /v1/wallet/topups': ({ d, who, body, idemKey, deviceId }) =>
    topup(d, who, body.amount, idemKey, deviceId, body.method),
  'GET /v1/wallet/ledger': ({ d, who, query }) => ledger(d, who, query.limit ?? 20, query.cursor),
});

export const handler = httpHandler(routes);
