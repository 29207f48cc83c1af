import { bindRoutes, httpHandler } from '../src/http/wrapper';
import { createWithdrawal, getWithdrawal, listWithdrawals } from '../src/app/withdrawals';

/** POST /v1/withdrawals · GET /v1/withdrawals · GET /v1/withdrawals/{id} */
export const routes = bindRoutes('withdrawals', {
  'POST /v1/withdrawals': ({ d, who, body, idemKey }) => createWithdrawal(d, who, body, idemKey),
  'GET /v1/withdrawals': ({ d, who, query }) => listWithdrawals(d, who, query.limit ?? 20, query.cursor),
  'GET /v1/withdrawals/{id}': ({ d, who, params }) => getWithdrawal(d, who, params.id),
});

/** WeChat Pay's notifications (transfer bills included) arrive at the payments function. */
export const handler = httpHandler(routes);
