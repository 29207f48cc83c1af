import { bindRoutes, httpHandler } from '../src/http/wrapper';
import { getPayment, onWeChatPayNotification } from '../src/app/payments';

/**
 * GET /v1/payments/{paymentId} · POST /v1/pay/wechat/notify (WeChat Pay's notification URL: no
 * bearer token — the signature over the raw body is the authentication).
 */
export const routes = bindRoutes('payments', {
  'GET /v1/payments/{paymentId}': ({ d, who, params }) => getPayment(d, who, params.paymentId),
  'POST /v1/pay/wechat/notify': ({ d, rawBody, headers }) => onWeChatPayNotification(d, headers ?? {}, rawBody ?? ''),
});

export const handler = httpHandler(routes);
