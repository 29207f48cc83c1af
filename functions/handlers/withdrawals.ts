import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { httpHandler, route } from '../src/http/wrapper';
import { PageQuery, WithdrawalBody } from '../src/http/schemas';
import { decodeCursor, encodeCursor } from '../src/http/cursor';
import { createWithdrawal, getWithdrawal, listWithdrawals, wechatPayNotification } from '../src/app/withdrawals';
import { deps as defaultDeps, type Deps } from '../src/app/deps';
import { Keys } from '../src/store/keys';

/** POST /v1/withdrawals · GET /v1/withdrawals · GET /v1/withdrawals/{id} */
export const routes = [
  route({
    method: 'POST',
    path: '/v1/withdrawals',
    access: 'user',
    body: WithdrawalBody,
    run: ({ d, who, body, idemKey }) => createWithdrawal(d, who, body, idemKey),
  }),
  route({
    method: 'GET',
    path: '/v1/withdrawals',
    access: 'user',
    query: PageQuery,
    run: async ({ d, who, query }) => {
      const start = decodeCursor(query.cursor, { gsi2pk: Keys.withdrawalsPk(who.userId) });
      const out = await listWithdrawals(d, who, query.limit ?? 20, start);
      const { lastKey, ...rest } = out.body;
      return { status: 200, body: { ...rest, cursor: encodeCursor(lastKey) } };
    },
  }),
  route({ method: 'GET', path: '/v1/withdrawals/{id}', access: 'user', run: ({ d, who, params }) => getWithdrawal(d, who, params.id!) }),
];

export const NOTIFY_PATH = '/v1/pay/wechat/notify';
/** WeChat's notifications are a few KB; anything far larger is not one. */
const MAX_NOTIFY_BYTES = 64 * 1024;

/**
 * POST /v1/pay/wechat/notify, outside the JSON wrapper: the signature covers the body exactly as
 * received, and the caller is WeChat Pay (no bearer token).
 */
export function notifyHandler(getDeps: () => Deps = defaultDeps) {
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const raw = event.body == null ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    const answer =
      event.requestContext?.http?.method !== 'POST'
        ? { status: 401 as const, body: { code: 'FAIL' as const, message: 'method' } }
        : Buffer.byteLength(raw) > MAX_NOTIFY_BYTES
          ? { status: 401 as const, body: { code: 'FAIL' as const, message: 'too large' } }
          : await wechatPayNotification(getDeps(), event.headers ?? {}, raw);
    return answer.body
      ? { statusCode: answer.status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(answer.body) }
      : { statusCode: answer.status };
  };
}

const http = httpHandler(routes);
const notify = notifyHandler();

/** The withdrawals routes, and WeChat Pay's notification URL. */
export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  return event.rawPath === NOTIFY_PATH ? notify(event) : http(event);
}
