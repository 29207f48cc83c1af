import { httpHandler, route } from '../src/http/wrapper';
import { getPayment, onWeChatPayNotification } from '../src/app/payments';

/**
 * GET /v1/payments/{paymentId} · POST /v1/pay/wechat/notify (WeChat Pay's notification URL: no
 * bearer token — the signature over the raw body is the authentication).
 */
export const routes = [
  route({ method: 'GET', path: '/v1/payments/{paymentId}', access: 'user', run: ({ d, who, params }) => getPayment(d, who, params.paymentId!) }),
  route({
    method: 'POST',
    path: '/v1/pay/wechat/notify',
    access: 'public',
    rawBody: true,
    run: ({ d, rawBody, headers }) => onWeChatPayNotification(d, headers ?? {}, rawBody ?? ''),
  }),
];

export const handler = httpHandler(routes);
