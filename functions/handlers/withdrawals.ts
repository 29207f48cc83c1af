import { bindRoutes, httpHandler } from '../src/http/wrapper';
import { decodeCursor, encodeCursor } from '../src/http/cursor';
import { createWithdrawal, getWithdrawal, listWithdrawals } from '../src/app/withdrawals';
import { Keys } from '../src/store/keys';

/** POST /v1/withdrawals · GET /v1/withdrawals · GET /v1/withdrawals/{id} */
export const routes = bindRoutes('withdrawals', {
  'POST /v1/withdrawals': ({ d, who, body, idemKey }) => createWithdrawal(d, who, body, idemKey),
  'GET /v1/withdrawals': async ({ d, who, query }) => {
    const start = decodeCursor(query.cursor, { gsi2pk: Keys.withdrawalsPk(who.userId) });
    const out = await listWithdrawals(d, who, query.limit ?? 20, start);
    const { lastKey, ...rest } = out.body;
    return { status: 200, body: { ...rest, cursor: encodeCursor(lastKey) } };
  },
  'GET /v1/withdrawals/{id}': ({ d, who, params }) => getWithdrawal(d, who, params.id),
});

/** WeChat Pay's notifications (transfer bills included) arrive at the payments function. */
export const handler = httpHandler(routes);
