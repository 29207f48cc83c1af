/**
 * The WeChat Pay v3 adapter: the {@link WeChatPay} port and its implementation over global
 * `fetch` and {@link ./protocol} (why not an SDK: docs/wechatpay.md).
 *
 * Outcomes are typed so that a caller cannot mistake a lost answer for a refusal:
 *   - `ok`        — WeChat answered 2xx with a verified signature;
 *   - `not_found` — (queries only) WeChat says the number is unknown to it;
 *   - `rejected`  — WeChat answered 4xx with a verified signature: it did NOT perform the action
 *                   (its error `code` tells why; `retryable` marks refusals such as rate limits
 *                   that the same call with the same number may pass later);
 *   - `unknown`   — timeout, network error, 5xx, or an answer whose signature does not verify:
 *                   the action may or may not have happened. The caller must find out with a
 *                   query (or repeat the SAME call with the SAME out_* number, which WeChat
 *                   treats as the same action), never act as if it failed.
 * The adapter itself never retries: a retry is the caller's decision, made with the same number.
 *
 * Logs carry the operation, the status, WeChat's error code and the time taken; never keys,
 * signatures, bodies or openids.
 */
import crypto, { type KeyObject } from 'node:crypto';
import { log as appLog, type LogLevel } from '../log';
import {
  authorizationHeader,
  decryptResource,
  type EncryptedResource,
  paymentRequestParams,
  type PaymentRequestParams,
  platformKeyring,
  type PlatformKeyring,
  randomNonce,
  signatureHeaders,
  type SignatureFailure,
  unixSeconds,
  verifySignature,
  apiV3KeyBytes,
} from './protocol';

/** Everything the adapter needs; in production it comes from configuration (SSM). */
export interface WeChatPayConfig {
  /** `https://api.mch.weixin.qq.com`, or the local simulator's base URL. */
  baseUrl: string;
  mchid: string;
  /** The mini-program's appid (orders and transfers are made for it). */
  appid: string;
  /** Serial of the merchant API certificate (names our key to WeChat). */
  merchantSerialNo: string;
  /** The merchant API private key, PEM. */
  merchantPrivateKey: string;
  /** The APIv3 key (32 bytes), for notification resources. */
  apiV3Key: string;
  /** Trusted platform keys: `PUB_KEY_ID_…` → public key PEM, and/or certificate serial → certificate (or its public key) PEM. */
  platformKeys: Readonly<Record<string, string>>;
  /** Per-call budget; an answer later than this is `unknown` (default 10 s). */
  timeoutMs?: number;
}

/** WeChat Pay's documented error codes we act on; others pass through as strings. */
export const WeChatPayErrorCodes = {
  PARAM_ERROR: 'PARAM_ERROR',
  INVALID_REQUEST: 'INVALID_REQUEST',
  SIGN_ERROR: 'SIGN_ERROR',
  NO_AUTH: 'NO_AUTH',
  ORDER_NOT_EXIST: 'ORDER_NOT_EXIST',
  RESOURCE_NOT_EXISTS: 'RESOURCE_NOT_EXISTS',
  NOT_FOUND: 'NOT_FOUND',
  ORDER_CLOSED: 'ORDER_CLOSED',
  ORDERPAID: 'ORDERPAID',
  OUT_TRADE_NO_USED: 'OUT_TRADE_NO_USED',
  NOT_ENOUGH: 'NOT_ENOUGH',
  FREQUENCY_LIMITED: 'FREQUENCY_LIMITED',
  SYSTEM_ERROR: 'SYSTEM_ERROR',
} as const;
export type WeChatPayErrorCode = (typeof WeChatPayErrorCodes)[keyof typeof WeChatPayErrorCodes];

/** WeChat refused: nothing was done. */
export interface Rejected {
  kind: 'rejected';
  status: number;
  code: WeChatPayErrorCode | (string & {});
  message: string;
  /** The same call with the same number may succeed later (rate limit). */
  retryable: boolean;
}

/** Why an outcome is unknown. */
export type UnknownReason = 'timeout' | 'network' | 'server_error' | 'unverified_answer' | 'malformed_answer';

/** The action may or may not have happened: query before deciding anything. */
export interface Unknown {
  kind: 'unknown';
  reason: UnknownReason;
  status?: number;
}

export type Failure = Rejected | Unknown;
export interface NotFound {
  kind: 'not_found';
}

export type TradeState = 'SUCCESS' | 'REFUND' | 'NOTPAY' | 'CLOSED' | 'REVOKED' | 'USERPAYING' | 'PAYERROR';
export type RefundStatus = 'SUCCESS' | 'CLOSED' | 'PROCESSING' | 'ABNORMAL';
export type TransferState =
  | 'ACCEPTED'
  | 'PROCESSING'
  | 'WAIT_USER_CONFIRM'
  | 'TRANSFERING'
  | 'SUCCESS'
  | 'FAIL'
  | 'CANCELING'
  | 'CANCELLED';

/** A JSAPI transaction as WeChat reports it (query answer or decrypted notification). Amounts in fen. */
export interface Transaction {
  appid: string;
  mchid: string;
  outTradeNo: string;
  transactionId?: string;
  state: TradeState;
  /** The order's total, fen. */
  total: number;
  /** What the payer paid, fen (after coupons); present once paid. */
  payerTotal?: number;
  currency: string;
  successTime?: string;
  payerOpenid?: string;
  attach?: string;
}

/** A refund as WeChat reports it. Amounts in fen. */
export interface Refund {
  outRefundNo: string;
  refundId: string;
  outTradeNo: string;
  transactionId?: string;
  status: RefundStatus;
  /** Refunded amount, fen. */
  refund: number;
  /** The original order's total, fen. */
  total: number;
  createTime?: string;
  successTime?: string;
}

/** A merchant transfer bill as WeChat reports it. Amounts in fen. */
export interface TransferBill {
  outBillNo: string;
  transferBillNo: string;
  state: TransferState;
  /** Only in the create answer while the user has to confirm: what `wx.requestMerchantTransfer` takes. */
  packageInfo?: string;
  amount?: number;
  openid?: string;
  failReason?: string;
  createTime?: string;
  updateTime?: string;
}

/** What `wx.requestMerchantTransfer` takes. */
export interface TransferConfirmParams {
  mchId: string;
  appId: string;
  package: string;
}

export interface CreateJsapiOrderInput {
  /** 6–32 of `[A-Za-z0-9_-|*]`, derived from our id so a retry reuses it. */
  outTradeNo: string;
  description: string;
  /** Fen, a positive integer. */
  amount: number;
  payerOpenid: string;
  notifyUrl: string;
  /** RFC 3339; after it WeChat refuses to take the payment. */
  timeExpire?: string;
  attach?: string;
}

export interface CreateRefundInput {
  outTradeNo: string;
  /** ≤ 64 of `[A-Za-z0-9_-|*@]`, derived from what is refunded so a retry reuses it. */
  outRefundNo: string;
  /** Fen to refund. */
  amount: number;
  /** The original order's total, fen. */
  total: number;
  reason?: string;
  notifyUrl?: string;
}

export interface CreateTransferInput {
  /** ≤ 32 letters and digits: the idempotency key of the transfer. */
  outBillNo: string;
  openid: string;
  /** Fen, at least 10 (0.1 yuan). */
  amount: number;
  /** Shown to the user (≤ 32 characters). */
  remark: string;
  /** The transfer scene WeChat granted the merchant (e.g. '1000' 现金营销). */
  sceneId: string;
  /** The report infos the scene requires (`info_type` / `info_content`). */
  sceneReportInfos: ReadonlyArray<{ infoType: string; infoContent: string }>;
  notifyUrl?: string;
  /** `user_recv_perception`: how the user sees the money arrive (scene-specific wording). */
  userRecvPerception?: string;
}

/** A verified, decrypted notification. */
export type NotificationEvent = {
  id: string;
  eventType: string;
  createTime: string;
  summary: string;
} & (
  | { resourceType: 'transaction'; transaction: Transaction }
  | { resourceType: 'refund'; refund: Refund }
  | { resourceType: 'transfer_bill'; bill: TransferBill }
  | { resourceType: 'other'; originalType: string; data: unknown }
);

/** Why a notification was refused (answer WeChat 401 and record nothing). */
export type NotificationFailure =
  | SignatureFailure
  | 'malformed_body'
  | 'decrypt_failed'
  | 'malformed_resource'
  | 'unsupported_algorithm';

/** The port: WeChat Pay v3 as the app uses it. */
export interface WeChatPay {
  /** `POST /v3/pay/transactions/jsapi`: the prepay id and the signed `wx.requestPayment` parameters. */
  createJsapiOrder(
    input: CreateJsapiOrderInput,
  ): Promise<{ kind: 'ok'; prepayId: string; request: PaymentRequestParams } | Failure>;
  /** Signs `wx.requestPayment` parameters again for a known prepay id (e.g. the app asks once more). */
  paymentRequest(prepayId: string): PaymentRequestParams;
  /** `GET /v3/pay/transactions/out-trade-no/{no}`. */
  queryOrder(outTradeNo: string): Promise<{ kind: 'ok'; transaction: Transaction } | NotFound | Failure>;
  /** `POST /v3/pay/transactions/out-trade-no/{no}/close` (204 → ok; closing a closed order is ok too). */
  closeOrder(outTradeNo: string): Promise<{ kind: 'ok' } | Failure>;
  /** `POST /v3/refund/domestic/refunds`: the refund is asynchronous, usually PROCESSING here. */
  createRefund(input: CreateRefundInput): Promise<{ kind: 'ok'; refund: Refund } | Failure>;
  /** `GET /v3/refund/domestic/refunds/{out_refund_no}`. */
  queryRefund(outRefundNo: string): Promise<{ kind: 'ok'; refund: Refund } | NotFound | Failure>;
  /** `POST /v3/fund-app/mch-transfer/transfer-bills` (user-confirmation mode). */
  createTransfer(input: CreateTransferInput): Promise<{ kind: 'ok'; bill: TransferBill } | Failure>;
  /** `GET /v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{no}`. */
  queryTransfer(outBillNo: string): Promise<{ kind: 'ok'; bill: TransferBill } | NotFound | Failure>;
  /** `POST /v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{no}/cancel`: CANCELING or CANCELLED. */
  cancelTransfer(outBillNo: string): Promise<{ kind: 'ok'; bill: TransferBill } | Failure>;
  /** The `wx.requestMerchantTransfer` parameters for a bill's package_info. */
  transferConfirmParams(packageInfo: string): TransferConfirmParams;
  /**
   * Verifies (signature, serial, timestamp) and decrypts one notification. `rawBody` must be
   * the body exactly as received. Checking that appid, mchid, amount and number match our own
   * record is the caller's job: this proves only that WeChat sent it.
   */
  verifyNotification(
    headers: Headers | Readonly<Record<string, string | string[] | undefined>>,
    rawBody: string,
  ): { kind: 'ok'; event: NotificationEvent } | { kind: 'invalid'; reason: NotificationFailure };
}

/** Injected edges (tests and the simulator swap them). */
export interface WeChatPayDeps {
  fetch?: typeof fetch;
  /** Milliseconds since epoch; signs our requests and judges answer timestamps. */
  now?: () => number;
  log?: (level: LogLevel, msg: string, fields: Record<string, unknown>) => void;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const OUT_TRADE_NO = /^[A-Za-z0-9_\-|*]{6,32}$/;
const OUT_REFUND_NO = /^[A-Za-z0-9_\-|*@]{1,64}$/;
const OUT_BILL_NO = /^[A-Za-z0-9]{1,32}$/;

function assertMatch(re: RegExp, value: string, what: string): void {
  if (!re.test(value)) throw new RangeError(`WeChat Pay: bad ${what}`);
}

function assertFen(value: number, min: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < min)
    throw new RangeError(`WeChat Pay: ${what} must be an integer number of fen ≥ ${min}`);
}

type Json = Record<string, unknown>;
type Answer = { kind: 'answer'; status: number; json: Json | null } | Unknown;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined);
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});

/** A transaction object (query answer or notification resource) in our shape; null when malformed. */
export function parseTransaction(j: Json): Transaction | null {
  const amount = obj(j.amount);
  const appid = str(j.appid);
  const mchid = str(j.mchid);
  const outTradeNo = str(j.out_trade_no);
  const state = str(j.trade_state) as TradeState | undefined;
  const total = int(amount.total);
  if (!appid || !mchid || !outTradeNo || !state || total === undefined) return null;
  const t: Transaction = { appid, mchid, outTradeNo, state, total, currency: str(amount.currency) ?? 'CNY' };
  const transactionId = str(j.transaction_id);
  if (transactionId) t.transactionId = transactionId;
  const payerTotal = int(amount.payer_total);
  if (payerTotal !== undefined) t.payerTotal = payerTotal;
  const successTime = str(j.success_time);
  if (successTime) t.successTime = successTime;
  const openid = str(obj(j.payer).openid);
  if (openid) t.payerOpenid = openid;
  const attach = str(j.attach);
  if (attach) t.attach = attach;
  return t;
}

/** A refund object (answer or notification resource) in our shape; null when malformed. */
export function parseRefund(j: Json): Refund | null {
  const amount = obj(j.amount);
  const outRefundNo = str(j.out_refund_no);
  const refundId = str(j.refund_id);
  const outTradeNo = str(j.out_trade_no);
  // The answers call it `status`, the notification resource `refund_status`.
  const status = (str(j.status) ?? str(j.refund_status)) as RefundStatus | undefined;
  const refund = int(amount.refund);
  const total = int(amount.total);
  if (!outRefundNo || !refundId || !outTradeNo || !status || refund === undefined || total === undefined) return null;
  const r: Refund = { outRefundNo, refundId, outTradeNo, status, refund, total };
  const transactionId = str(j.transaction_id);
  if (transactionId) r.transactionId = transactionId;
  const createTime = str(j.create_time);
  if (createTime) r.createTime = createTime;
  const successTime = str(j.success_time);
  if (successTime) r.successTime = successTime;
  return r;
}

/** A transfer bill object (answer or notification resource) in our shape; null when malformed. */
export function parseTransferBill(j: Json): TransferBill | null {
  const outBillNo = str(j.out_bill_no);
  const transferBillNo = str(j.transfer_bill_no);
  const state = str(j.state) as TransferState | undefined;
  if (!outBillNo || !transferBillNo || !state) return null;
  const b: TransferBill = { outBillNo, transferBillNo, state };
  const packageInfo = str(j.package_info);
  if (packageInfo) b.packageInfo = packageInfo;
  const amount = int(j.transfer_amount);
  if (amount !== undefined) b.amount = amount;
  const openid = str(j.openid);
  if (openid) b.openid = openid;
  const failReason = str(j.fail_reason);
  if (failReason) b.failReason = failReason;
  const createTime = str(j.create_time);
  if (createTime) b.createTime = createTime;
  const updateTime = str(j.update_time);
  if (updateTime) b.updateTime = updateTime;
  return b;
}

/** Checks configuration once (throws on a bad key) and returns the adapter. */
export function createWeChatPay(config: WeChatPayConfig, deps: WeChatPayDeps = {}): WeChatPay {
  const privateKey: KeyObject = crypto.createPrivateKey(config.merchantPrivateKey);
  if (privateKey.asymmetricKeyType !== 'rsa') throw new Error('WeChat Pay merchant key must be RSA');
  apiV3KeyBytes(config.apiV3Key);
  const ring: PlatformKeyring = platformKeyring(config.platformKeys);
  if (ring.size === 0) throw new Error('WeChat Pay: no platform key configured');
  const baseUrl = config.baseUrl.replace(/\/+$/, '');
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const doFetch = deps.fetch ?? fetch;
  const now = deps.now ?? Date.now;
  const log = deps.log ?? appLog;

  /**
   * One signed call and its verified answer. Anything we cannot trust — no answer in time, a
   * 5xx, an unverifiable signature, unparsable JSON — is `unknown`: the request may have been
   * applied, and only a query can tell.
   */
  async function call(op: string, method: 'GET' | 'POST', pathAndQuery: string, body?: Json): Promise<Answer> {
    const started = now();
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'User-Agent': 'hongbao-codes-wechatpay/1',
      Authorization: authorizationHeader({
        mchid: config.mchid,
        serialNo: config.merchantSerialNo,
        privateKey,
        method,
        pathAndQuery,
        body: text,
        timestamp: unixSeconds(started),
        nonce: randomNonce(),
      }),
    };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const done = (level: LogLevel, outcome: string, extra: Record<string, unknown> = {}): void =>
      log(level, 'wechatpay call', { op, outcome, ms: now() - started, ...extra });

    let status: number;
    let raw: string;
    let resHeaders: Headers;
    try {
      const res = await doFetch(baseUrl + pathAndQuery, {
        method,
        headers,
        body: body === undefined ? undefined : text,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.status;
      resHeaders = res.headers;
      raw = await res.text();
    } catch (err) {
      // By name, not instanceof: fetch's DOMException may come from another realm (jest, vm).
      const name = err !== null && typeof err === 'object' ? (err as { name?: unknown }).name : undefined;
      const reason: UnknownReason = name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network';
      done('warn', 'unknown', { reason });
      return { kind: 'unknown', reason };
    }
    if (status >= 500) {
      done('warn', 'unknown', { reason: 'server_error', status });
      return { kind: 'unknown', reason: 'server_error', status };
    }
    const check = verifySignature(ring, signatureHeaders(resHeaders), raw, now());
    if (!check.ok) {
      // A 2xx or 4xx we cannot authenticate proves nothing either way.
      done('error', 'unknown', { reason: 'unverified_answer', status, check: check.reason });
      return { kind: 'unknown', reason: 'unverified_answer', status };
    }
    let json: Json | null = null;
    if (raw !== '') {
      try {
        json = obj(JSON.parse(raw));
      } catch {
        done('error', 'unknown', { reason: 'malformed_answer', status });
        return { kind: 'unknown', reason: 'malformed_answer', status };
      }
    }
    done(status < 300 ? 'info' : 'warn', status < 300 ? 'ok' : 'rejected', {
      status,
      code: json ? str(json.code) : undefined,
    });
    return { kind: 'answer', status, json };
  }

  function rejected(a: { status: number; json: Json | null }): Rejected {
    const code = str(a.json?.code) ?? `HTTP_${a.status}`;
    return {
      kind: 'rejected',
      status: a.status,
      code,
      message: str(a.json?.message) ?? '',
      retryable: a.status === 429 || code === WeChatPayErrorCodes.FREQUENCY_LIMITED,
    };
  }

  const malformed = (status: number): Unknown => ({ kind: 'unknown', reason: 'malformed_answer', status });

  /** Maps an answer through `parse` for 2xx, `not_found` for 404 (queries), `rejected` for other 4xx. */
  function outcome<T>(
    a: Answer,
    parse: (j: Json) => T | null,
    notFound: true,
  ): { kind: 'ok'; value: T } | NotFound | Failure;
  function outcome<T>(a: Answer, parse: (j: Json) => T | null, notFound: false): { kind: 'ok'; value: T } | Failure;
  function outcome<T>(
    a: Answer,
    parse: (j: Json) => T | null,
    notFound: boolean,
  ): { kind: 'ok'; value: T } | NotFound | Failure {
    if (a.kind === 'unknown') return a;
    if (a.status >= 200 && a.status < 300) {
      const value = parse(a.json ?? {});
      return value === null ? malformed(a.status) : { kind: 'ok', value };
    }
    if (notFound && a.status === 404) return { kind: 'not_found' };
    return rejected(a);
  }

  const paymentRequest = (prepayId: string): PaymentRequestParams =>
    paymentRequestParams({
      appId: config.appid,
      prepayId,
      privateKey,
      timestamp: unixSeconds(now()),
      nonce: randomNonce(),
    });

  const tx = (no: string): string => `/v3/pay/transactions/out-trade-no/${encodeURIComponent(no)}`;
  const bill = (no: string): string => `/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/${encodeURIComponent(no)}`;

  return {
    async createJsapiOrder(input) {
      assertMatch(OUT_TRADE_NO, input.outTradeNo, 'out_trade_no');
      assertFen(input.amount, 1, 'amount');
      const body: Json = {
        appid: config.appid,
        mchid: config.mchid,
        description: input.description,
        out_trade_no: input.outTradeNo,
        notify_url: input.notifyUrl,
        amount: { total: input.amount, currency: 'CNY' },
        payer: { openid: input.payerOpenid },
      };
      if (input.timeExpire) body.time_expire = input.timeExpire;
      if (input.attach) body.attach = input.attach;
      const r = outcome(
        await call('jsapi.create', 'POST', '/v3/pay/transactions/jsapi', body),
        (j) => str(j.prepay_id) ?? null,
        false,
      );
      return r.kind === 'ok' ? { kind: 'ok', prepayId: r.value, request: paymentRequest(r.value) } : r;
    },

    paymentRequest,

    async queryOrder(outTradeNo) {
      assertMatch(OUT_TRADE_NO, outTradeNo, 'out_trade_no');
      const r = outcome(
        await call('jsapi.query', 'GET', `${tx(outTradeNo)}?mchid=${encodeURIComponent(config.mchid)}`),
        parseTransaction,
        true,
      );
      return r.kind === 'ok' ? { kind: 'ok', transaction: r.value } : r;
    },

    async closeOrder(outTradeNo) {
      assertMatch(OUT_TRADE_NO, outTradeNo, 'out_trade_no');
      const r = outcome(
        await call('jsapi.close', 'POST', `${tx(outTradeNo)}/close`, { mchid: config.mchid }),
        () => true,
        false,
      );
      return r.kind === 'ok' ? { kind: 'ok' } : r;
    },

    async createRefund(input) {
      assertMatch(OUT_TRADE_NO, input.outTradeNo, 'out_trade_no');
      assertMatch(OUT_REFUND_NO, input.outRefundNo, 'out_refund_no');
      assertFen(input.amount, 1, 'refund amount');
      assertFen(input.total, input.amount, 'order total');
      const body: Json = {
        out_trade_no: input.outTradeNo,
        out_refund_no: input.outRefundNo,
        amount: { refund: input.amount, total: input.total, currency: 'CNY' },
      };
      if (input.reason) body.reason = input.reason;
      if (input.notifyUrl) body.notify_url = input.notifyUrl;
      const r = outcome(await call('refund.create', 'POST', '/v3/refund/domestic/refunds', body), parseRefund, false);
      return r.kind === 'ok' ? { kind: 'ok', refund: r.value } : r;
    },

    async queryRefund(outRefundNo) {
      assertMatch(OUT_REFUND_NO, outRefundNo, 'out_refund_no');
      const r = outcome(
        await call('refund.query', 'GET', `/v3/refund/domestic/refunds/${encodeURIComponent(outRefundNo)}`),
        parseRefund,
        true,
      );
      return r.kind === 'ok' ? { kind: 'ok', refund: r.value } : r;
    },

    async createTransfer(input) {
      assertMatch(OUT_BILL_NO, input.outBillNo, 'out_bill_no');
      assertFen(input.amount, 10, 'transfer amount');
      const body: Json = {
        appid: config.appid,
        out_bill_no: input.outBillNo,
        transfer_scene_id: input.sceneId,
        openid: input.openid,
        transfer_amount: input.amount,
        transfer_remark: input.remark,
        transfer_scene_report_infos: input.sceneReportInfos.map((i) => ({
          info_type: i.infoType,
          info_content: i.infoContent,
        })),
      };
      if (input.notifyUrl) body.notify_url = input.notifyUrl;
      if (input.userRecvPerception) body.user_recv_perception = input.userRecvPerception;
      const r = outcome(
        await call('transfer.create', 'POST', '/v3/fund-app/mch-transfer/transfer-bills', body),
        parseTransferBill,
        false,
      );
      return r.kind === 'ok' ? { kind: 'ok', bill: r.value } : r;
    },

    async queryTransfer(outBillNo) {
      assertMatch(OUT_BILL_NO, outBillNo, 'out_bill_no');
      const r = outcome(await call('transfer.query', 'GET', bill(outBillNo)), parseTransferBill, true);
      return r.kind === 'ok' ? { kind: 'ok', bill: r.value } : r;
    },

    async cancelTransfer(outBillNo) {
      assertMatch(OUT_BILL_NO, outBillNo, 'out_bill_no');
      const r = outcome(await call('transfer.cancel', 'POST', `${bill(outBillNo)}/cancel`), parseTransferBill, false);
      return r.kind === 'ok' ? { kind: 'ok', bill: r.value } : r;
    },

    transferConfirmParams(packageInfo) {
      return { mchId: config.mchid, appId: config.appid, package: packageInfo };
    },

    verifyNotification(headers, rawBody) {
      const check = verifySignature(ring, signatureHeaders(headers), rawBody, now());
      if (!check.ok) {
        // WeChat sends forged notifications on purpose: a refusal here is routine, logged without the body.
        log('warn', 'wechatpay notification refused', { reason: check.reason });
        return { kind: 'invalid', reason: check.reason };
      }
      let body: Json;
      try {
        body = obj(JSON.parse(rawBody));
      } catch {
        return { kind: 'invalid', reason: 'malformed_body' };
      }
      const resource = obj(body.resource) as unknown as EncryptedResource;
      const plain = decryptResource(config.apiV3Key, resource);
      if (!plain.ok) {
        log('warn', 'wechatpay notification refused', { reason: plain.reason });
        return { kind: 'invalid', reason: plain.reason as NotificationFailure };
      }
      let data: Json;
      try {
        data = obj(JSON.parse(plain.plaintext));
      } catch {
        return { kind: 'invalid', reason: 'malformed_resource' };
      }
      const head = {
        id: str(body.id) ?? '',
        eventType: str(body.event_type) ?? '',
        createTime: str(body.create_time) ?? '',
        summary: str(body.summary) ?? '',
      };
      const originalType = str(resource.original_type) ?? '';
      if (originalType === 'transaction') {
        const transaction = parseTransaction(data);
        return transaction
          ? { kind: 'ok', event: { ...head, resourceType: 'transaction', transaction } }
          : { kind: 'invalid', reason: 'malformed_resource' };
      }
      if (originalType === 'refund') {
        const refund = parseRefund(data);
        return refund
          ? { kind: 'ok', event: { ...head, resourceType: 'refund', refund } }
          : { kind: 'invalid', reason: 'malformed_resource' };
      }
      if (originalType === 'mch_payment' || head.eventType.startsWith('MCHTRANSFER.')) {
        const b = parseTransferBill(data);
        return b
          ? { kind: 'ok', event: { ...head, resourceType: 'transfer_bill', bill: b } }
          : { kind: 'invalid', reason: 'malformed_resource' };
      }
      return { kind: 'ok', event: { ...head, resourceType: 'other', originalType, data } };
    },
  };
}
