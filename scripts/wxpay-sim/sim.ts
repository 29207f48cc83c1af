/**
 * A local WeChat Pay v3 simulator: the endpoints the app uses, speaking WeChat's protocol with
 * its own keys, so the real adapter (signatures and encryption included) runs against it in
 * `npm start` and the tests. WeChat Pay has no v3 sandbox.
 *
 * What it does like WeChat:
 *   - verifies every /v3 request's Authorization (merchant key, mchid, serial, ±5 min) and
 *     answers 401 SIGN_ERROR otherwise;
 *   - signs every /v3 answer (Wechatpay-Signature/-Timestamp/-Nonce/-Serial, public-key mode);
 *   - keeps WeChat's state machines: orders NOTPAY → SUCCESS (→ REFUND once refunded) or
 *     CLOSED; refunds PROCESSING → SUCCESS / ABNORMAL; transfer bills WAIT_USER_CONFIRM →
 *     SUCCESS / FAIL / CANCELLED;
 *   - an out_* number is the idempotency key: the same call again gets the same object; the
 *     same number with other parameters is refused (OUT_TRADE_NO_USED / INVALID_REQUEST);
 *   - notifications: resource encrypted with the APIv3 key (AEAD_AES_256_GCM), signed, POSTed to
 *     the notify URL, retried on anything but 2xx on WeChat's schedule (15 s, 15 s, 30 s, 3 m …
 *     6 h, about 24 h in all) multiplied by `retryScale` (1/1000 by default: 86 s in all).
 * Where it is simpler than WeChat (said here so nobody relies on it): orders are payable until
 * closed (no time_expire), refunds settle after `refundSettleMs`, a cancel goes straight to
 * CANCELLED (WeChat may answer CANCELING first), transfers skip ACCEPTED/TRANSFERING, and
 * `POST /sim/payments/{prepayId}/cancel` only notes that the user closed the sheet: the order
 * stays NOTPAY, as at WeChat, until the merchant closes it.
 *
 * Test hooks (local only, no auth): `POST /sim/payments/{prepayId}/pay` (the user pays) and
 * `.../cancel`, `POST /sim/transfers/{outBillNo}/confirm` and `.../reject`, notification faults
 * `POST /sim/faults {"notify": "drop"|"duplicate"|"forge"|"delay", "times"?}`, `GET /sim/state`, plus
 * `POST /sim/refunds/{outRefundNo}/settle {"state":"SUCCESS"|"ABNORMAL"}`,
 * `POST /sim/transfers/{outBillNo}/expire` (the 24 h without confirmation), `GET /sim/notifications`
 * (the delivery log) and answer faults in `POST /sim/faults`: `{"answer": "lost"|"error"|"slow"|
 * "bad_signature", "times"?, "ms"?}` — the next /v3 calls are applied and then their answer is
 * dropped (socket destroyed), replaced by a 500, delayed by `ms`, or signed wrongly.
 */
import crypto, { type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  encryptResource,
  MAX_CLOCK_SKEW_SECONDS,
  parseAuthorization,
  randomNonce,
  requestSignMessage,
  responseSignMessage,
  rsaSign,
  rsaVerify,
  unixSeconds,
  wechatTime,
} from '../../functions/src/wechatpay/protocol';
import type { WxPaySimKeys } from './keys';

/** WeChat's notification retry schedule, seconds after each failed attempt. */
export const NOTIFY_RETRY_SECONDS = [
  15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
] as const;

export const NotifyFaults = ['drop', 'duplicate', 'forge', 'delay'] as const;
export type NotifyFault = (typeof NotifyFaults)[number];
export const AnswerFaults = ['lost', 'error', 'slow', 'bad_signature'] as const;
export type AnswerFault = (typeof AnswerFaults)[number];

export interface WxPaySimOptions {
  keys: WxPaySimKeys;
  /** 0 = any free port. */
  port?: number;
  host?: string;
  /** When set, every notification goes here instead of the notify_url given with the order. */
  notifyUrl?: string;
  /** Multiplies the retry schedule (default 0.001). */
  retryScale?: number;
  /** Milliseconds until a refund settles SUCCESS (default 500); null: only the settle hook does. */
  refundSettleMs?: number | null;
  /** How late a 'delay' notification is (default 2000 ms; `ms` in the fault overrides). */
  notifyDelayMs?: number;
  /** How slow a 'slow' answer is (default 3000 ms; `ms` in the fault overrides). */
  slowAnswerMs?: number;
  /** The simulator's clock (ms); signs answers and judges request timestamps. */
  now?: () => number;
  /** The serial the simulator signs under (default the keys' PUB_KEY_ID; a certificate serial tests certificate mode). */
  platformSerial?: string;
  /** One line per event; silent by default. */
  log?: (line: string) => void;
}

export type PaymentState = 'NOTPAY' | 'SUCCESS' | 'REFUND' | 'CLOSED';
export type RefundState = 'PROCESSING' | 'SUCCESS' | 'ABNORMAL';
export type TransferState = 'WAIT_USER_CONFIRM' | 'SUCCESS' | 'FAIL' | 'CANCELLED';

/** `GET /sim/state` (amounts in fen). */
export interface WxPaySimState {
  payments: Array<{ outTradeNo: string; prepayId: string; amount: number; state: PaymentState }>;
  refunds: Array<{ outRefundNo: string; outTradeNo: string; amount: number; state: RefundState }>;
  transfers: Array<{ outBillNo: string; amount: number; state: TransferState }>;
}

/** One notification and what became of it (`GET /sim/notifications`). */
export interface NotificationRecord {
  id: string;
  eventType: string;
  url: string;
  fault?: NotifyFault;
  attempts: number;
  statuses: number[];
  delivered: boolean;
}

export interface WxPaySim {
  port: number;
  baseUrl: string;
  keys: WxPaySimKeys;
  state(): WxPaySimState;
  notifications(): NotificationRecord[];
  close(): Promise<void>;
}

interface Payment {
  outTradeNo: string;
  prepayId: string;
  appid: string;
  mchid: string;
  description: string;
  amount: number;
  openid: string;
  notifyUrl: string;
  attach?: string;
  state: PaymentState;
  transactionId?: string;
  successTime?: string;
  userCanceled: boolean;
}

interface RefundRec {
  outRefundNo: string;
  refundId: string;
  outTradeNo: string;
  transactionId: string;
  amount: number;
  total: number;
  state: RefundState;
  notifyUrl?: string;
  createTime: string;
  successTime?: string;
}

interface Bill {
  outBillNo: string;
  transferBillNo: string;
  appid: string;
  openid: string;
  amount: number;
  remark: string;
  sceneId: string;
  notifyUrl?: string;
  state: TransferState;
  packageInfo: string;
  failReason?: string;
  createTime: string;
  updateTime: string;
}

type Reply = { status: number; body?: Record<string, unknown> };
const err = (status: number, code: string, message: string): Reply => ({ status, body: { code, message } });

const MAX_BODY_BYTES = 1 << 20;
const OUT_TRADE_NO = /^[A-Za-z0-9_\-|*]{6,32}$/;
const OUT_REFUND_NO = /^[A-Za-z0-9_\-|*@]{1,64}$/;
const OUT_BILL_NO = /^[A-Za-z0-9]{1,32}$/;
const isFen = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const s = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const o = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** Starts the simulator; resolves once it listens. */
export async function startWxPaySim(opts: WxPaySimOptions): Promise<WxPaySim> {
  const { keys } = opts;
  const now = opts.now ?? Date.now;
  const say = opts.log ?? (() => undefined);
  const retryScale = opts.retryScale ?? 0.001;
  const refundSettleMs = opts.refundSettleMs === undefined ? 500 : opts.refundSettleMs;
  const serial = opts.platformSerial ?? keys.platformPublicKeyId;
  const merchantKey: KeyObject = crypto.createPublicKey(keys.merchantPublicKey);
  const platformKey: KeyObject = crypto.createPrivateKey(keys.platformPrivateKey);
  let forgeKey: KeyObject | undefined;

  const payments = new Map<string, Payment>();
  const prepayIndex = new Map<string, string>();
  const refunds = new Map<string, RefundRec>();
  const bills = new Map<string, Bill>();
  const notifyLog: NotificationRecord[] = [];
  const notifyFaults: Array<{ fault: NotifyFault; ms?: number }> = [];
  const answerFaults: Array<{ fault: AnswerFault; ms?: number }> = [];
  const timers = new Set<NodeJS.Timeout>();
  const inflight = new AbortController();
  let closed = false;

  const later = (ms: number, fn: () => void): void => {
    if (closed) return;
    const t = setTimeout(() => {
      timers.delete(t);
      if (!closed) fn();
    }, ms);
    timers.add(t);
  };

  const signedHeaders = (body: string, key: KeyObject = platformKey): Record<string, string> => {
    const ts = unixSeconds(now());
    const nonce = randomNonce();
    return {
      'Wechatpay-Timestamp': ts,
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Serial': serial,
      'Wechatpay-Signature': rsaSign(key, responseSignMessage(ts, nonce, body)),
    };
  };

  // ---- notifications ------------------------------------------------------------------------

  function notify(
    notifyUrl: string | undefined,
    eventType: string,
    summary: string,
    originalType: string,
    resource: Record<string, unknown>,
  ): void {
    const url = opts.notifyUrl ?? notifyUrl;
    if (!url) return;
    const id = crypto.randomUUID();
    const body = JSON.stringify({
      id,
      create_time: wechatTime(now()),
      resource_type: 'encrypt-resource',
      event_type: eventType,
      summary,
      resource: {
        original_type: originalType,
        ...encryptResource(keys.apiV3Key, JSON.stringify(resource), originalType),
      },
    });
    const next = notifyFaults.shift();
    const rec: NotificationRecord = {
      id,
      eventType,
      url,
      attempts: 0,
      statuses: [],
      delivered: false,
      ...(next ? { fault: next.fault } : {}),
    };
    notifyLog.push(rec);
    say(`notify ${eventType}${next ? ` (fault: ${next.fault})` : ''}`);
    switch (next?.fault) {
      case 'drop':
        return;
      case 'forge':
        // One copy signed by a key WeChat never published, under the real serial; no retry,
        // and the genuine one is never sent: only an order query can then reveal the truth.
        forgeKey ??= crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
        later(0, () => void deliver(rec, body, 0, forgeKey, false));
        return;
      case 'duplicate':
        later(0, () => void deliver(rec, body, 0));
        later(0, () => void deliver(rec, body, 0));
        return;
      case 'delay':
        later(next.ms ?? opts.notifyDelayMs ?? 2000, () => void deliver(rec, body, 0));
        return;
      default:
        later(0, () => void deliver(rec, body, 0));
    }
  }

  async function deliver(
    rec: NotificationRecord,
    body: string,
    attempt: number,
    key?: KeyObject,
    retry = true,
  ): Promise<void> {
    rec.attempts += 1;
    let status = 0;
    try {
      const signal = AbortSignal.any([inflight.signal, AbortSignal.timeout(5000)]);
      // Signed at each attempt, as WeChat does: a retry hours later must not carry a stale timestamp.
      const res = await fetch(rec.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...signedHeaders(body, key) },
        body,
        signal,
      });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
    } catch {
      status = 0;
    }
    rec.statuses.push(status);
    if (status >= 200 && status < 300) {
      rec.delivered = true;
      return;
    }
    const wait = NOTIFY_RETRY_SECONDS[attempt];
    if (retry && wait !== undefined)
      later(wait * 1000 * retryScale, () => void deliver(rec, body, attempt + 1, key, retry));
  }

  // ---- /v3 resources -----------------------------------------------------------------------

  const transactionJson = (p: Payment): Record<string, unknown> => ({
    appid: p.appid,
    mchid: p.mchid,
    out_trade_no: p.outTradeNo,
    ...(p.transactionId ? { transaction_id: p.transactionId } : {}),
    trade_type: 'JSAPI',
    trade_state: p.state,
    trade_state_desc: { NOTPAY: '未支付', SUCCESS: '支付成功', REFUND: '转入退款', CLOSED: '已关闭' }[p.state],
    ...(p.successTime ? { success_time: p.successTime, bank_type: 'OTHERS' } : {}),
    attach: p.attach ?? '',
    payer: { openid: p.openid },
    amount: p.transactionId
      ? { total: p.amount, payer_total: p.amount, currency: 'CNY', payer_currency: 'CNY' }
      : { total: p.amount, currency: 'CNY' },
  });

  const refundJson = (r: RefundRec, statusField = 'status'): Record<string, unknown> => ({
    mchid: keys.mchid,
    refund_id: r.refundId,
    out_refund_no: r.outRefundNo,
    transaction_id: r.transactionId,
    out_trade_no: r.outTradeNo,
    channel: 'ORIGINAL',
    user_received_account: '支付用户零钱',
    create_time: r.createTime,
    ...(r.successTime ? { success_time: r.successTime } : {}),
    [statusField]: r.state,
    funds_account: 'AVAILABLE',
    amount: {
      total: r.total,
      refund: r.amount,
      payer_total: r.total,
      payer_refund: r.amount,
      settlement_total: r.total,
      settlement_refund: r.amount,
      discount_refund: 0,
      currency: 'CNY',
      refund_fee: 0,
    },
  });

  const billJson = (b: Bill): Record<string, unknown> => ({
    mch_id: keys.mchid,
    out_bill_no: b.outBillNo,
    transfer_bill_no: b.transferBillNo,
    appid: b.appid,
    state: b.state,
    transfer_amount: b.amount,
    transfer_remark: b.remark,
    openid: b.openid,
    ...(b.failReason ? { fail_reason: b.failReason } : {}),
    create_time: b.createTime,
    update_time: b.updateTime,
  });

  function finishBill(b: Bill, state: 'SUCCESS' | 'FAIL' | 'CANCELLED', failReason?: string): void {
    b.state = state;
    b.updateTime = wechatTime(now());
    if (failReason) b.failReason = failReason;
    notify(b.notifyUrl, 'MCHTRANSFER.BILL.FINISHED', '商家转账单据终态通知', 'mch_payment', {
      out_bill_no: b.outBillNo,
      transfer_bill_no: b.transferBillNo,
      state: b.state,
      mch_id: keys.mchid,
      transfer_amount: b.amount,
      openid: b.openid,
      ...(b.failReason ? { fail_reason: b.failReason } : {}),
      create_time: b.createTime,
      update_time: b.updateTime,
    });
  }

  function settleRefund(r: RefundRec, state: 'SUCCESS' | 'ABNORMAL'): void {
    if (r.state !== 'PROCESSING') return;
    r.state = state;
    if (state === 'SUCCESS') r.successTime = wechatTime(now());
    const p = payments.get(r.outTradeNo);
    notify(r.notifyUrl ?? p?.notifyUrl, `REFUND.${state}`, state === 'SUCCESS' ? '退款成功' : '退款异常', 'refund', {
      mchid: keys.mchid,
      out_trade_no: r.outTradeNo,
      transaction_id: r.transactionId,
      out_refund_no: r.outRefundNo,
      refund_id: r.refundId,
      refund_status: r.state,
      ...(r.successTime ? { success_time: r.successTime } : {}),
      user_received_account: '支付用户零钱',
      amount: { total: r.total, refund: r.amount, payer_total: r.total, payer_refund: r.amount },
    });
  }

  function createJsapi(b: Record<string, unknown>): Reply {
    const appid = s(b.appid);
    const mchid = s(b.mchid);
    const outTradeNo = s(b.out_trade_no);
    const description = s(b.description);
    const notifyUrl = s(b.notify_url);
    const total = o(b.amount).total;
    const openid = s(o(b.payer).openid);
    if (!appid || !mchid || !outTradeNo || !description || !notifyUrl || !openid)
      return err(400, 'PARAM_ERROR', '缺少必填参数');
    if (mchid !== keys.mchid || appid !== keys.appid) return err(400, 'APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配');
    if (!OUT_TRADE_NO.test(outTradeNo)) return err(400, 'PARAM_ERROR', 'out_trade_no 格式错误');
    if (!isFen(total, 1)) return err(400, 'PARAM_ERROR', 'amount.total 必须为正整数（分）');
    if (!/^https?:\/\//.test(notifyUrl)) return err(400, 'PARAM_ERROR', 'notify_url 格式错误');
    const existing = payments.get(outTradeNo);
    if (existing) {
      if (existing.state === 'SUCCESS' || existing.state === 'REFUND') return err(400, 'ORDERPAID', '该订单已支付');
      if (existing.state === 'CLOSED') return err(400, 'ORDER_CLOSED', '订单已关闭');
      if (existing.amount !== total || existing.openid !== openid || existing.description !== description) {
        return err(403, 'OUT_TRADE_NO_USED', '商户订单号重复');
      }
      return { status: 200, body: { prepay_id: existing.prepayId } };
    }
    const p: Payment = {
      outTradeNo,
      prepayId: `wx${crypto.randomBytes(16).toString('hex')}`,
      appid,
      mchid,
      description,
      amount: total,
      openid,
      notifyUrl,
      state: 'NOTPAY',
      userCanceled: false,
      ...(s(b.attach) ? { attach: s(b.attach) } : {}),
    };
    payments.set(outTradeNo, p);
    prepayIndex.set(p.prepayId, outTradeNo);
    say(`order ${outTradeNo} ${total} fen`);
    return { status: 200, body: { prepay_id: p.prepayId } };
  }

  function createRefund(b: Record<string, unknown>): Reply {
    const outTradeNo = s(b.out_trade_no);
    const outRefundNo = s(b.out_refund_no);
    const amount = o(b.amount);
    if (!outTradeNo || !outRefundNo || !OUT_REFUND_NO.test(outRefundNo))
      return err(400, 'PARAM_ERROR', 'out_trade_no / out_refund_no 格式错误');
    if (!isFen(amount.refund, 1) || !isFen(amount.total, 1))
      return err(400, 'PARAM_ERROR', 'amount 必须为正整数（分）');
    const existing = refunds.get(outRefundNo);
    if (existing) {
      if (existing.outTradeNo !== outTradeNo || existing.amount !== amount.refund || existing.total !== amount.total) {
        return err(400, 'INVALID_REQUEST', '退款单号已存在，请求参数与原退款单不一致');
      }
      return { status: 200, body: refundJson(existing) };
    }
    const p = payments.get(outTradeNo);
    if (!p) return err(404, 'RESOURCE_NOT_EXISTS', '订单不存在');
    if (p.state !== 'SUCCESS' && p.state !== 'REFUND') return err(400, 'INVALID_REQUEST', '订单未支付，不能退款');
    if (amount.total !== p.amount) return err(400, 'INVALID_REQUEST', '订单金额与原订单不一致');
    const mine = [...refunds.values()].filter((r) => r.outTradeNo === outTradeNo && r.state !== 'ABNORMAL');
    if (mine.length >= 50) return err(400, 'INVALID_REQUEST', '退款次数超过限制');
    const refunded = mine.reduce((sum, r) => sum + r.amount, 0);
    if (refunded + amount.refund > p.amount) return err(400, 'INVALID_REQUEST', '申请退款金额超过订单可退金额');
    const r: RefundRec = {
      outRefundNo,
      refundId: `50${Date.now()}${crypto.randomInt(1e9)}`,
      outTradeNo,
      transactionId: p.transactionId ?? '',
      amount: amount.refund,
      total: amount.total,
      state: 'PROCESSING',
      createTime: wechatTime(now()),
      ...(s(b.notify_url) ? { notifyUrl: s(b.notify_url) } : {}),
    };
    refunds.set(outRefundNo, r);
    p.state = 'REFUND';
    if (refundSettleMs !== null) later(refundSettleMs, () => settleRefund(r, 'SUCCESS'));
    say(`refund ${outRefundNo} ${r.amount} fen`);
    return { status: 200, body: refundJson(r) };
  }

  function createTransfer(b: Record<string, unknown>): Reply {
    const appid = s(b.appid);
    const outBillNo = s(b.out_bill_no);
    const openid = s(b.openid);
    const remark = s(b.transfer_remark);
    const sceneId = s(b.transfer_scene_id);
    const amount = b.transfer_amount;
    if (!appid || !outBillNo || !openid || !remark || !sceneId) return err(400, 'PARAM_ERROR', '缺少必填参数');
    if (appid !== keys.appid) return err(400, 'PARAM_ERROR', 'appid 与商户号不匹配');
    if (!OUT_BILL_NO.test(outBillNo)) return err(400, 'PARAM_ERROR', 'out_bill_no 格式错误');
    if (!isFen(amount, 10)) return err(400, 'PARAM_ERROR', '转账金额不能低于0.1元');
    const existing = bills.get(outBillNo);
    if (existing) {
      if (existing.amount !== amount || existing.openid !== openid)
        return err(400, 'INVALID_REQUEST', '商户单号重复，请求参数与原单据不一致');
      return { status: 200, body: createAnswer(existing) };
    }
    const t = wechatTime(now());
    const bill: Bill = {
      outBillNo,
      transferBillNo: `1330${Date.now()}${crypto.randomInt(1e9)}`,
      appid,
      openid,
      amount,
      remark,
      sceneId,
      state: 'WAIT_USER_CONFIRM',
      packageInfo: `ABBQO+oYAAABAAAAAAAk${crypto.randomBytes(24).toString('base64')}`,
      createTime: t,
      updateTime: t,
      ...(s(b.notify_url) ? { notifyUrl: s(b.notify_url) } : {}),
    };
    bills.set(outBillNo, bill);
    say(`transfer ${outBillNo} ${amount} fen`);
    return { status: 200, body: createAnswer(bill) };
  }

  const createAnswer = (b: Bill): Record<string, unknown> => ({
    out_bill_no: b.outBillNo,
    transfer_bill_no: b.transferBillNo,
    create_time: b.createTime,
    state: b.state,
    ...(b.state === 'WAIT_USER_CONFIRM' ? { package_info: b.packageInfo } : {}),
    ...(b.failReason ? { fail_reason: b.failReason } : {}),
  });

  function v3(method: string, path: string, query: URLSearchParams, body: Record<string, unknown>): Reply {
    let m: RegExpMatchArray | null;
    if (method === 'POST' && path === '/v3/pay/transactions/jsapi') return createJsapi(body);
    if ((m = path.match(/^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)$/)) && method === 'GET') {
      if (query.get('mchid') !== keys.mchid) return err(400, 'PARAM_ERROR', 'mchid 错误');
      const p = payments.get(decodeURIComponent(m[1] ?? ''));
      return p ? { status: 200, body: transactionJson(p) } : err(404, 'ORDER_NOT_EXIST', '订单不存在');
    }
    if ((m = path.match(/^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)\/close$/)) && method === 'POST') {
      if (body.mchid !== keys.mchid) return err(400, 'PARAM_ERROR', 'mchid 错误');
      const p = payments.get(decodeURIComponent(m[1] ?? ''));
      if (!p) return err(404, 'ORDER_NOT_EXIST', '订单不存在');
      if (p.state === 'SUCCESS' || p.state === 'REFUND') return err(400, 'ORDERPAID', '订单已支付');
      p.state = 'CLOSED';
      return { status: 204 };
    }
    if (method === 'POST' && path === '/v3/refund/domestic/refunds') return createRefund(body);
    if ((m = path.match(/^\/v3\/refund\/domestic\/refunds\/([^/]+)$/)) && method === 'GET') {
      const r = refunds.get(decodeURIComponent(m[1] ?? ''));
      return r ? { status: 200, body: refundJson(r) } : err(404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
    }
    if (method === 'POST' && path === '/v3/fund-app/mch-transfer/transfer-bills') return createTransfer(body);
    if ((m = path.match(/^\/v3\/fund-app\/mch-transfer\/transfer-bills\/out-bill-no\/([^/]+)$/)) && method === 'GET') {
      const b = bills.get(decodeURIComponent(m[1] ?? ''));
      return b ? { status: 200, body: billJson(b) } : err(404, 'NOT_FOUND', '记录不存在');
    }
    if (
      (m = path.match(/^\/v3\/fund-app\/mch-transfer\/transfer-bills\/out-bill-no\/([^/]+)\/cancel$/)) &&
      method === 'POST'
    ) {
      const b = bills.get(decodeURIComponent(m[1] ?? ''));
      if (!b) return err(404, 'NOT_FOUND', '记录不存在');
      if (b.state === 'WAIT_USER_CONFIRM') finishBill(b, 'CANCELLED');
      else if (b.state !== 'CANCELLED') return err(400, 'INVALID_REQUEST', '单据状态不允许撤销');
      return {
        status: 200,
        body: {
          out_bill_no: b.outBillNo,
          transfer_bill_no: b.transferBillNo,
          state: b.state,
          update_time: b.updateTime,
        },
      };
    }
    return err(404, 'NOT_FOUND', '接口不存在');
  }

  /** Checks our Authorization header as WeChat does; a reason string when it fails. */
  function authFailure(req: http.IncomingMessage, raw: string): string | null {
    const auth = parseAuthorization(req.headers.authorization);
    if (!auth) return 'Authorization 格式错误';
    if (auth.mchid !== keys.mchid) return '商户号错误';
    if (auth.serialNo !== keys.merchantSerialNo) return '证书序列号错误';
    if (
      !/^\d+$/.test(auth.timestamp) ||
      Math.abs(Number(auth.timestamp) * 1000 - now()) > MAX_CLOCK_SKEW_SECONDS * 1000
    )
      return '时间戳已过期';
    const msg = requestSignMessage(req.method ?? '', req.url ?? '', auth.timestamp, auth.nonceStr, raw);
    return rsaVerify(merchantKey, msg, auth.signature) ? null : '签名错误';
  }

  // ---- /sim hooks --------------------------------------------------------------------------

  function hook(method: string, path: string, body: Record<string, unknown>): Reply {
    let m: RegExpMatchArray | null;
    if (method === 'GET' && path === '/sim/state')
      return { status: 200, body: state() as unknown as Record<string, unknown> };
    if (method === 'GET' && path === '/sim/notifications') return { status: 200, body: { notifications: notifyLog } };
    if (method === 'POST' && path === '/sim/faults') {
      const times = body.times === undefined ? 1 : body.times;
      const ms = body.ms;
      if (!isFen(times, 1) || times > 1000 || (ms !== undefined && !isFen(ms, 0)))
        return err(400, 'PARAM_ERROR', 'times / ms');
      const notifyFault = body.notify as NotifyFault | undefined;
      const answerFault = body.answer as AnswerFault | undefined;
      if (notifyFault === undefined && answerFault === undefined)
        return err(400, 'PARAM_ERROR', 'notify 或 answer 必填');
      if (notifyFault !== undefined && !NotifyFaults.includes(notifyFault))
        return err(400, 'PARAM_ERROR', `notify: ${NotifyFaults.join('|')}`);
      if (answerFault !== undefined && !AnswerFaults.includes(answerFault))
        return err(400, 'PARAM_ERROR', `answer: ${AnswerFaults.join('|')}`);
      for (let i = 0; i < times; i++) {
        if (notifyFault) notifyFaults.push({ fault: notifyFault, ...(ms === undefined ? {} : { ms }) });
        if (answerFault) answerFaults.push({ fault: answerFault, ...(ms === undefined ? {} : { ms }) });
      }
      return {
        status: 200,
        body: { pendingNotifyFaults: notifyFaults.length, pendingAnswerFaults: answerFaults.length },
      };
    }
    if ((m = path.match(/^\/sim\/payments\/([^/]+)\/(pay|cancel)$/)) && method === 'POST') {
      const no = prepayIndex.get(decodeURIComponent(m[1] ?? ''));
      const p = no === undefined ? undefined : payments.get(no);
      if (!p) return err(404, 'NOT_FOUND', 'prepay_id 不存在');
      if (m[2] === 'cancel') {
        p.userCanceled = true;
        return { status: 200, body: { outTradeNo: p.outTradeNo, state: p.state } };
      }
      if (p.state === 'CLOSED') return err(409, 'ORDER_CLOSED', '订单已关闭');
      if (p.state === 'NOTPAY') {
        p.state = 'SUCCESS';
        p.transactionId = `42${Date.now()}${crypto.randomInt(1e9)}`;
        p.successTime = wechatTime(now());
        notify(p.notifyUrl, 'TRANSACTION.SUCCESS', '支付成功', 'transaction', transactionJson(p));
      }
      return { status: 200, body: { outTradeNo: p.outTradeNo, state: p.state } };
    }
    if ((m = path.match(/^\/sim\/transfers\/([^/]+)\/(confirm|reject|expire)$/)) && method === 'POST') {
      const b = bills.get(decodeURIComponent(m[1] ?? ''));
      if (!b) return err(404, 'NOT_FOUND', 'out_bill_no 不存在');
      const target = m[2] === 'confirm' ? 'SUCCESS' : 'FAIL';
      if (b.state === 'WAIT_USER_CONFIRM') {
        finishBill(
          b,
          target,
          m[2] === 'confirm'
            ? undefined
            : m[2] === 'expire'
              ? 'OVERDUE_CLOSE'
              : (s(body.reason) ?? 'OTHER_FAIL_REASON_TYPE'),
        );
      } else if (b.state !== target) {
        return err(409, 'INVALID_STATE', `单据状态为 ${b.state}`);
      }
      return { status: 200, body: { outBillNo: b.outBillNo, state: b.state } };
    }
    if ((m = path.match(/^\/sim\/refunds\/([^/]+)\/settle$/)) && method === 'POST') {
      const r = refunds.get(decodeURIComponent(m[1] ?? ''));
      if (!r) return err(404, 'NOT_FOUND', 'out_refund_no 不存在');
      const target = body.state === undefined ? 'SUCCESS' : body.state;
      if (target !== 'SUCCESS' && target !== 'ABNORMAL') return err(400, 'PARAM_ERROR', 'state: SUCCESS|ABNORMAL');
      if (r.state === 'PROCESSING') settleRefund(r, target);
      else if (r.state !== target) return err(409, 'INVALID_STATE', `退款状态为 ${r.state}`);
      return { status: 200, body: { outRefundNo: r.outRefundNo, state: r.state } };
    }
    return err(404, 'NOT_FOUND', '接口不存在');
  }

  function state(): WxPaySimState {
    return {
      payments: [...payments.values()].map((p) => ({
        outTradeNo: p.outTradeNo,
        prepayId: p.prepayId,
        amount: p.amount,
        state: p.state,
      })),
      refunds: [...refunds.values()].map((r) => ({
        outRefundNo: r.outRefundNo,
        outTradeNo: r.outTradeNo,
        amount: r.amount,
        state: r.state,
      })),
      transfers: [...bills.values()].map((b) => ({ outBillNo: b.outBillNo, amount: b.amount, state: b.state })),
    };
  }

  // ---- HTTP --------------------------------------------------------------------------------

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      // WeChat's requests and ours are a few KB; anything huge is a mistake, not a payment.
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413).end();
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return;
      void (async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const url = new URL(req.url ?? '/', 'http://sim.local');
        const method = req.method ?? 'GET';
        let body: Record<string, unknown> = {};
        if (raw !== '') {
          try {
            body = o(JSON.parse(raw));
          } catch {
            body = {};
          }
        }
        const isV3 = url.pathname.startsWith('/v3/');
        // The H5 app's stand-in payment sheet calls the hooks from another origin.
        const cors: Record<string, string> = isV3
          ? {}
          : {
              'Access-Control-Allow-Origin': '*',
              'Access-Control-Allow-Methods': 'GET, POST',
              'Access-Control-Allow-Headers': 'Content-Type',
            };
        if (method === 'OPTIONS' && !isV3) {
          res.writeHead(204, cors).end();
          return;
        }
        let reply: Reply;
        let fault: { fault: AnswerFault; ms?: number } | undefined;
        if (isV3) {
          const why = authFailure(req, raw);
          if (why) {
            say(`401 ${method} ${url.pathname}: ${why}`);
            reply = err(401, 'SIGN_ERROR', why);
          } else {
            reply = v3(method, url.pathname, url.searchParams, body);
            fault = answerFaults.shift();
          }
        } else {
          reply = hook(method, url.pathname, body);
        }
        const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
        if (fault?.fault === 'lost') {
          // Applied, but the answer never arrives.
          say(`answer lost: ${method} ${url.pathname}`);
          req.socket.destroy();
          return;
        }
        if (fault?.fault === 'error') {
          const e = JSON.stringify({ code: 'SYSTEM_ERROR', message: '系统错误' });
          res.writeHead(500, { 'Content-Type': 'application/json', ...signedHeaders(e) }).end(e);
          return;
        }
        if (fault?.fault === 'slow') await new Promise<void>((r) => later(fault?.ms ?? opts.slowAnswerMs ?? 3000, r));
        if (closed) return;
        const headers: Record<string, string> = { 'Request-ID': crypto.randomUUID(), ...cors };
        if (text !== '') headers['Content-Type'] = 'application/json; charset=utf-8';
        if (isV3) {
          Object.assign(headers, signedHeaders(text));
          if (fault?.fault === 'bad_signature') {
            forgeKey ??= crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
            Object.assign(headers, signedHeaders(text, forgeKey));
          }
        }
        res.writeHead(reply.status, headers).end(text);
      })().catch((e: unknown) => {
        say(`simulator error: ${e instanceof Error ? e.message : String(e)}`);
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    baseUrl: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    keys,
    state,
    notifications: () => notifyLog.map((r) => ({ ...r, statuses: [...r.statuses] })),
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      inflight.abort();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
