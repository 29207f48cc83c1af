/**
 * Money in through WeChat Pay (JSAPI): top-ups and packets paid directly, the notification,
 * the sweeper's query and the payer's read. The adapter's outcomes (ok / not_found / rejected /
 * unknown) are in wechatpay/client.ts; the store in store/payments.ts.
 *
 * Money counts only when WeChat Pay says SUCCESS — in a verified notification or in our own
 * order query. The app's `wx.requestPayment` success callback proves nothing and is never asked.
 *
 * Timeline of one payment (id = out_trade_no, derived from the caller's Idempotency-Key, or
 * from the packet for a packet, so a retry never makes a second order):
 *   0. (packet only) the packet is put `funding` with `funding: wechatpay` — no code can be
 *      issued — and its own due entry far after the payment window (a safety net only).
 *   1. the payment record is put `pending`, due after FIRST_CHECK_MS (the sweeper's net for a
 *      lost notification).
 *   2. the JSAPI order is created under the one number, `time_expire` at the window's end; an
 *      unknown answer is sent once more (same number: WeChat returns the same order). `ok` →
 *      the prepay id is kept; still unknown → 503 and the idempotency record stays pending, so
 *      the caller's retry sends the same create again. No create is sent in the window's last
 *      minute (CREATE_CUTOFF_MS) so none can land after the sweeper gave the order up.
 *   3. SUCCESS (notification, sweeper query, read query) → `paid`, once, by a conditional write
 *      (the decision; it also wins over a `closed` we wrote, because WeChat has the money) →
 *      [C1] the payer is credited `topup` of the whole amount, opId `topup:<payment id>`, at most
 *      once → (packet) [C2] the packet's usual `packet_debit` of total + fee, opId `pkt:<packet>`
 *      (counted in the day's sent amount, never refused for it: the limits were checked at
 *      creation) → [C3] the fee to the fee account, opId `fee:<packet>` → [C4] the packet
 *      `active`, its lifetime counted from now → [C5] the payment settled (out of the due index).
 *      Ledger view of a packet paid directly: +amount `topup`, −amount `packet_debit` (its fee
 *      line included) — so conservation holds with no new kind of money: what WeChat confirmed
 *      came in as a top-up and went into the packet's escrow like any other packet.
 *   4. unpaid at the window's end (15 min) → the sweeper closes the order at WeChat, then queries:
 *      only CLOSED (or an order WeChat never got) closes the payment; a SUCCESS that raced the
 *      close is step 3. `closed` → (packet) the packet `canceled` → settled.
 * Crashes: before 1 nothing but maybe the packet (its due entry cancels it); between 1 and 2 no
 * order exists (the retry creates it, or the sweeper closes the record after the window);
 * after 3's decision and before C5 the record is still due: the next sweep repeats C1–C5 (each
 * keyed by its opId or conditional, so each happens once). Between 4's `closed` and the cancel,
 * the record is still due too. (docs/crash-timelines.md has this and every other flow.)
 */
import { fail } from '../domain/errors';
import { derivedId } from '../domain/ids';
import { dayKeyUtc8, type Fen } from '../domain/money';
import { rfc3339Utc8 } from '../domain/time';
import { riskEventId, RiskRules } from '../domain/risk';
import type { PacketRecord } from '../store/packets';
import type { PaymentPurpose, PaymentRecord } from '../store/payments';
import type { Transaction, WeChatPay } from '../wechatpay/client';
import type { WeChatPaySettings } from '../config';
import type { Payment, PendingTopupResponse, WeChatPayNotifyAnswer } from '../http/contract';
import { log } from '../log';
import { feeAccountOf, iso, type Outcome, type Principal } from './context';
import type { Deps } from './deps';
import { dueShard } from './settlement';
import { onTransferBillNotification, openidOf } from './withdrawals';
import { onRefundNotification } from './refunds';

/** How long the payer has to pay; then the order is closed (and a packet canceled). */
export const PAYMENT_WINDOW_MS = 15 * 60_000;
/** No create is sent this close to the window's end (see the timeline). */
const CREATE_CUTOFF_MS = 60_000;
/** The sweeper's first look at a pending payment (a notification usually comes within seconds). */
const FIRST_CHECK_MS = 60_000;
/** Then every so often until the window ends. */
const POLL_MS = 3 * 60_000;
/** A retry after an answer we could not use (unknown, rate limited). */
const RETRY_MS = 60_000;
/** An order WeChat does not know is given up only this long after the window (no create can still be on its way). */
const NOT_FOUND_GRACE_MS = 2 * 60_000;
/** A read asks WeChat only about a payment pending at least this long (the app polls right after the sheet). */
const READ_QUERY_AFTER_MS = 5_000;
/** …and waits at most this long for the answer (the app polls again; the sweeper asks too). */
export const READ_QUERY_BUDGET_MS = 2_000;
/** A packet paid directly keeps its own due entry this long after the window: a net under the payment's. */
export const PAID_PACKET_NET_MS = PAYMENT_WINDOW_MS + 60 * 60_000;

/** Payment ids (= out_trade_no): `y` + 15 base64url characters — 16 of WeChat's alphabet. */
export const PAYMENT_ID = /^y[A-Za-z0-9_-]{15}$/;

/** The id of a top-up paid by WeChat Pay (also its topupId). */
export const topupPaymentId = (userId: string, idemKey: string) => derivedId('y', userId, 'topup', idemKey);
/** The id of the payment of a packet paid directly: one per packet. */
export const packetPaymentId = (packetId: string) => derivedId('y', packetId, 'payment');

const DESCRIPTIONS: Record<PaymentPurpose, string> = { topup: '红包零钱充值', packet: '发红包' };

/** The configured adapter, or 503 where WeChat Pay is not configured. */
export function requireWeChatPay(d: Deps): { pay: WeChatPay; settings: WeChatPaySettings } {
  if (!d.wechatPay || !d.cfg.wechatPay) return fail('UNAVAILABLE', '微信支付暂不可用');
  return { pay: d.wechatPay, settings: d.cfg.wechatPay };
}

/** The openid a payment is made from, or 403 (the payer must have logged in with WeChat). */
export async function payerOpenid(d: Deps, userId: string): Promise<string> {
  const openid = await openidOf(d, userId);
  if (!openid) fail('FORBIDDEN', '请先使用微信登录后再支付');
  return openid;
}

/**
 * The API's Payment. `request` is signed afresh from the prepay id (what `wx.requestPayment`
 * takes); it is absent only for an order whose prepay id we never learned because it was paid
 * or closed before the create's answer reached us — the app then has nothing left to pay.
 */
export function paymentView(d: Deps, p: PaymentRecord): Payment {
  const request = p.prepayId && d.wechatPay ? d.wechatPay.paymentRequest(p.prepayId) : undefined;
  return { paymentId: p.id, amount: p.amount, state: p.state, ...(request ? { request } : {}) };
}

/** Step 1: the record (a retry gets the stored one). */
export async function openPayment(
  d: Deps,
  p: { id: string; userId: string; purpose: PaymentPurpose; packetId?: string; amount: Fen },
): Promise<PaymentRecord> {
  const nowMs = d.now();
  const hint = (await d.wallets.state(p.userId)).seq;
  return d.payIns.create(
    { ...p, state: 'pending', createdAt: iso(nowMs), hint },
    { shard: dueShard(d, p.id), at: iso(nowMs + FIRST_CHECK_MS) },
  );
}

/**
 * Step 2 (and its retries): the order at WeChat under the one number. Returns the record with
 * its prepay id, or one that is already decided. Throws UNAVAILABLE when WeChat's answer is
 * unknown (the same create is sent by the caller's retry).
 */
export async function placeOrder(d: Deps, p: PaymentRecord, openid: string): Promise<PaymentRecord> {
  const { pay, settings } = requireWeChatPay(d);
  if (p.state !== 'pending' || p.prepayId) return p;
  const createdMs = Date.parse(p.createdAt);
  if (d.now() > createdMs + PAYMENT_WINDOW_MS - CREATE_CUTOFF_MS) fail('UNAVAILABLE', '支付已超时，请重新发起');
  const input = {
    outTradeNo: p.id,
    description: DESCRIPTIONS[p.purpose],
    amount: p.amount,
    payerOpenid: openid,
    notifyUrl: settings.notifyUrl,
    // WeChat's `time_expire`: RFC 3339 with an offset (WeChat documents +08:00).
    timeExpire: rfc3339Utc8(createdMs + PAYMENT_WINDOW_MS),
  };
  let r = await pay.createJsapiOrder(input);
  if (r.kind === 'unknown' || (r.kind === 'rejected' && r.retryable)) r = await pay.createJsapiOrder(input);
  if (r.kind === 'ok') return (await d.payIns.savePrepay(p.id, r.prepayId)) ?? (await d.payIns.get(p.id))!;
  if (r.kind === 'rejected' && !r.retryable) {
    log('warn', 'payment order refused by WeChat Pay', { paymentId: p.id, code: r.code });
    // ORDERPAID / OUT_TRADE_NO_USED: an earlier create of ours made the order; ask what it is.
    const q = await pay.queryOrder(p.id);
    if (q.kind === 'ok' && !mismatchOf(d, p, q.transaction)) {
      const after = await applyTransaction(d, p, q.transaction);
      // Still open but without a prepay id the app could pay with: the sweeper closes it in time.
      if (after.state === 'pending' && !after.prepayId) fail('UNAVAILABLE', '微信支付下单失败，请稍后重试');
      return after;
    }
    if (q.kind === 'not_found') {
      // Nothing exists at WeChat and this create made nothing: the payment ends here.
      await closePayment(d, p);
      fail('UNAVAILABLE', '微信支付下单失败，请稍后重试');
    }
  }
  return fail('UNAVAILABLE', '微信支付繁忙，请稍后重试');
}

/** POST /v1/wallet/topups with WeChat Pay: the order; credited when WeChat Pay confirms. */
export async function startTopup(
  d: Deps,
  who: Principal,
  amount: Fen,
  idemKey: string,
  openid: string,
): Promise<Outcome<PendingTopupResponse>> {
  const id = topupPaymentId(who.userId, idemKey);
  let p = await openPayment(d, { id, userId: who.userId, purpose: 'topup', amount });
  p = await placeOrder(d, p, openid);
  if (p.state === 'closed' && !p.prepayId) fail('UNAVAILABLE', '微信支付下单失败，请稍后重试');
  const payment = paymentView(d, p);
  const body: PendingTopupResponse = { topupId: id, amount, state: p.state, payment };
  return { status: 202, body };
}

/**
 * Whether a transaction WeChat reports is ours as recorded: merchant, app, number and amount.
 * A verified notification that fails this is WeChat's word about something we did not order.
 */
function mismatchOf(d: Deps, p: PaymentRecord | undefined, t: Transaction): string | undefined {
  const s = d.cfg.wechatPay;
  if (!p) return 'unknown_out_trade_no';
  if (s && t.mchid !== s.mchid) return 'mchid';
  if (s && t.appid !== s.appid) return 'appid';
  if (t.total !== p.amount || t.currency !== 'CNY') return 'amount';
  return undefined;
}

/**
 * Step 3 or 4 for what WeChat says about an order (a query answer or a checked notification).
 * SUCCESS (or REFUND: it was paid) → paid and completed; CLOSED / REVOKED → closed; an open
 * state changes nothing. Returns the record as it now is.
 */
export async function applyTransaction(d: Deps, p: PaymentRecord, t: Transaction): Promise<PaymentRecord> {
  if (t.state === 'SUCCESS' || t.state === 'REFUND') {
    let paid = p;
    if (p.state !== 'paid') {
      const nowMs = d.now();
      paid =
        (await d.payIns.markPaid(
          p.id,
          { atIso: iso(nowMs), ...(t.transactionId ? { transactionId: t.transactionId } : {}) },
          { shard: dueShard(d, p.id), at: iso(nowMs + RETRY_MS) },
        )) ?? (await d.payIns.get(p.id))!;
    }
    return completePaid(d, paid);
  }
  if (t.state === 'CLOSED' || t.state === 'REVOKED') return closePayment(d, p);
  return p;
}

/** C1–C5 of the timeline, each at most once; safe to repeat. */
async function completePaid(d: Deps, p: PaymentRecord): Promise<PaymentRecord> {
  if (p.state !== 'paid' || p.settled) return p;
  const at = p.paidAt ?? iso(d.now());
  await d.wallets.append(p.userId, p.hint, {
    opId: `topup:${p.id}`,
    type: 'topup',
    amount: p.amount,
    ref: p.packetId ?? p.id,
    at,
  });
  if (p.purpose === 'packet' && p.packetId) await activatePaidPacket(d, p, at);
  await d.payIns.settle(p.id);
  return { ...p, settled: true };
}

/** C2–C4: the paid packet funded from what was just credited, then opened. */
async function activatePaidPacket(d: Deps, p: PaymentRecord, paidAt: string): Promise<void> {
  const packet = await d.packets.get(p.packetId!);
  if (!packet) {
    log('error', 'payment: paid packet not found (the money stays on the balance)', {
      paymentId: p.id,
      packetId: p.packetId,
    });
    return;
  }
  if (packet.state !== 'funding' && packet.state !== 'canceled') return;
  const debit = await d.wallets.append(packet.senderId, Math.min(packet.senderHint, p.hint), {
    opId: `pkt:${packet.id}`,
    type: 'packet_debit',
    amount: -(packet.total + packet.fee),
    fee: packet.fee,
    ref: packet.id,
    packetId: packet.id,
    at: paidAt,
    // Counted into the day's sent amount, never refused for it: checked when the packet was made.
    daily: { amount: packet.total, limit: Number.MAX_SAFE_INTEGER, day: dayKeyUtc8(Date.parse(packet.createdAt)) },
  });
  if (debit.kind === 'insufficient') {
    // The balance was spent between the credit and this debit (another request of the same
    // payer): the payment stays on the balance and the packet is not opened.
    log('warn', 'payment: paid packet could not be funded; the money stays on the balance', {
      paymentId: p.id,
      packetId: packet.id,
    });
    await d.packets.cancel(packet.id);
    return;
  }
  if (packet.fee > 0) {
    await d.wallets.append(feeAccountOf(packet), packet.feeHint, {
      opId: `fee:${packet.id}`,
      type: 'fee',
      amount: packet.fee,
      ref: packet.id,
      packetId: packet.id,
      at: paidAt,
    });
  }
  // The packet's lifetime starts when it can be claimed.
  const ttlMs = packet.expiresAtMs - Date.parse(packet.createdAt);
  const expiresAtMs = d.now() + ttlMs;
  await d.packets.activatePaid(packet.id, expiresAtMs, { shard: dueShard(d, packet.id), at: iso(expiresAtMs) });
}

/** Step 4: closed unpaid, then (packet) canceled, then settled. */
async function closePayment(d: Deps, p: PaymentRecord): Promise<PaymentRecord> {
  let closed = p;
  if (p.state === 'pending') closed = (await d.payIns.markClosed(p.id, iso(d.now()))) ?? (await d.payIns.get(p.id))!;
  if (closed.state !== 'closed') return closed.state === 'paid' ? completePaid(d, closed) : closed;
  if (closed.settled) return closed;
  if (closed.purpose === 'packet' && closed.packetId) await d.packets.cancel(closed.packetId);
  await d.payIns.settle(closed.id);
  return { ...closed, settled: true };
}

/** What the sweeper did with one payment. */
export type PaymentSweep = 'paid' | 'closed' | 'open' | 'retry' | 'none';

/**
 * The sweeper's step for a due payment: finish what a crash left, ask WeChat about an order
 * whose notification has not come, close an order unpaid at the window's end (close first,
 * then believe only the query: a payment that beat the close is paid).
 */
export async function sweepPayment(d: Deps, id: string, nowMs: number): Promise<PaymentSweep> {
  const p = await d.payIns.get(id);
  if (!p) return 'none';
  if (p.state === 'paid') return (await completePaid(d, p)).settled ? 'paid' : 'retry';
  if (p.state === 'closed') return (await closePayment(d, p)).state === 'closed' ? 'closed' : 'paid';
  const due = (atMs: number) => ({ shard: dueShard(d, id), at: iso(atMs) });
  if (!d.wechatPay) {
    log('error', 'payment due but WeChat Pay is not configured', { paymentId: id });
    await d.payIns.reschedule(id, due(nowMs + RETRY_MS));
    return 'retry';
  }
  const pay = d.wechatPay;
  const endMs = Date.parse(p.createdAt) + PAYMENT_WINDOW_MS;
  const q = await pay.queryOrder(id);
  if (q.kind === 'not_found') {
    // No order at WeChat: none can still be on its way once the window (and its grace) is over.
    if (nowMs < endMs + NOT_FOUND_GRACE_MS) {
      await d.payIns.reschedule(id, due(Math.min(nowMs + POLL_MS, endMs + NOT_FOUND_GRACE_MS)));
      return 'retry';
    }
    return outcomeOf(await closePayment(d, p));
  }
  if (q.kind !== 'ok') {
    await d.payIns.reschedule(id, due(nowMs + RETRY_MS));
    return 'retry';
  }
  let t = q.transaction;
  if (mismatchOf(d, p, t)) {
    // Our own query answered about another order: never act on it.
    log('error', 'payment query does not match our record', { paymentId: id, problem: mismatchOf(d, p, t) });
    await d.payIns.reschedule(id, due(nowMs + RETRY_MS));
    return 'retry';
  }
  if (
    t.state !== 'SUCCESS' &&
    t.state !== 'REFUND' &&
    t.state !== 'CLOSED' &&
    t.state !== 'REVOKED' &&
    nowMs >= endMs
  ) {
    const c = await pay.closeOrder(id);
    if (c.kind === 'rejected') log('info', 'payment close refused', { paymentId: id, code: c.code });
    const again = await pay.queryOrder(id);
    if (again.kind !== 'ok') {
      await d.payIns.reschedule(id, due(nowMs + RETRY_MS));
      return 'retry';
    }
    t = again.transaction;
  }
  const after = await applyTransaction(d, p, t);
  if (after.state === 'pending') {
    await d.payIns.reschedule(id, due(nowMs >= endMs ? nowMs + RETRY_MS : Math.min(nowMs + POLL_MS, endMs)));
    return 'open';
  }
  return outcomeOf(after);
}

function outcomeOf(p: PaymentRecord): PaymentSweep {
  if (p.state === 'paid') return p.settled ? 'paid' : 'retry';
  return p.state === 'closed' ? 'closed' : 'open';
}

/** GET /v1/payments/{id} — the payer only; a payment pending for a while is checked with WeChat (one query). */
export async function getPayment(d: Deps, who: Principal, id: string): Promise<Outcome<Payment>> {
  let p = PAYMENT_ID.test(id) ? await d.payIns.get(id) : undefined;
  if (!p || p.userId !== who.userId) return fail('NOT_FOUND', '没有这笔支付');
  if (p!.state === 'pending' && d.wechatPay && d.now() - Date.parse(p!.createdAt) >= READ_QUERY_AFTER_MS) {
    // Bounded: a slow WeChat answer is left behind (a query changes nothing), the record answers.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), READ_QUERY_BUDGET_MS)));
    const q = await Promise.race([d.wechatPay.queryOrder(p!.id), late]).finally(() => clearTimeout(timer));
    if (q?.kind === 'ok' && !mismatchOf(d, p, q.transaction)) p = await applyTransaction(d, p!, q.transaction);
  }
  return { status: 200, body: paymentView(d, p!) };
}

/** What became of one verified notification (all of them are answered 204). */
export type NotificationResult = 'applied' | 'repeat' | 'ignored' | 'mismatch';

/**
 * A verified transaction notification: checked against our order (number, merchant, app,
 * amount) and applied once. A repeat finds the payment already decided and settled and does
 * nothing; a mismatch is recorded as a risk event (once per notification id) and credits nothing.
 */
export async function onTransactionNotification(
  d: Deps,
  notificationId: string,
  t: Transaction,
): Promise<NotificationResult> {
  const p = PAYMENT_ID.test(t.outTradeNo) ? await d.payIns.get(t.outTradeNo) : undefined;
  const problem = mismatchOf(d, p, t);
  if (problem) {
    await recordMismatch(d, notificationId, problem, p, t);
    return 'mismatch';
  }
  const rec = p!;
  if (rec.state === 'paid' && rec.settled) return 'repeat';
  if (t.state !== 'SUCCESS' && t.state !== 'CLOSED' && t.state !== 'REVOKED' && t.state !== 'REFUND') return 'ignored';
  await applyTransaction(d, rec, t);
  return 'applied';
}

/** A well-signed notification about an order that is not ours as recorded: for the risk officer, never money. */
async function recordMismatch(
  d: Deps,
  notificationId: string,
  problem: string,
  p: PaymentRecord | undefined,
  t: Transaction,
): Promise<void> {
  log('error', 'payment notification does not match our order', {
    problem,
    paymentId: p?.id,
    amount: t.total,
    expected: p?.amount,
  });
  await d.risk.putEvents([
    {
      id: riskEventId(RiskRules.payment_mismatch, notificationId || t.outTradeNo, t.transactionId ?? ''),
      rule: RiskRules.payment_mismatch,
      action: 'report',
      atMs: d.now(),
      ...(p ? { accountId: p.userId, amount: p.amount } : {}),
      details: { problem, outTradeNo: t.outTradeNo.slice(0, 32), reportedAmount: t.total, state: t.state },
    },
  ]);
}

/**
 * POST /v1/pay/wechat/notify: verify over the raw body (signature, known serial, ±5 min),
 * decrypt, dispatch. Valid → 204 (a repeat too); refused → 401 `{"code":"FAIL","message"}` with
 * nothing recorded. Nothing of the body is logged (the adapter logs only the reason).
 */
export async function onWeChatPayNotification(
  d: Deps,
  headers: Record<string, string | undefined>,
  rawBody: string,
): Promise<Outcome<WeChatPayNotifyAnswer>> {
  // Without WeChat Pay settings nothing can be verified: refused like any unverifiable one.
  if (!d.wechatPay) return { status: 401, body: { code: 'FAIL', message: 'not_configured' } };
  const v = d.wechatPay.verifyNotification(headers, rawBody);
  if (v.kind === 'invalid') return { status: 401, body: { code: 'FAIL', message: v.reason } };
  const e = v.event;
  if (e.resourceType === 'transaction') {
    const r = await onTransactionNotification(d, e.id, e.transaction);
    log('info', 'payment notification', {
      result: r,
      paymentId: PAYMENT_ID.test(e.transaction.outTradeNo) ? e.transaction.outTradeNo : undefined,
      state: e.transaction.state,
    });
  } else if (e.resourceType === 'transfer_bill') {
    const r = await onTransferBillNotification(d, e.bill);
    log('info', 'transfer bill notification', { result: r, state: e.bill.state });
  } else if (e.resourceType === 'refund') {
    const r = await onRefundNotification(d, e.refund);
    log('info', 'refund notification', { result: r, status: e.refund.status });
  } else {
    // Nothing of ours to apply: answered so that WeChat stops retrying.
    log('warn', 'wechatpay notification of an unhandled kind', {
      resourceType: e.resourceType,
      eventType: e.eventType,
    });
  }
  return { status: 204, body: undefined };
}

/** The packet's share of the timeline's step 0: the record WeChat Pay's payment will fund. */
export function awaitingPaymentPacket(p: PacketRecord, paymentId: string): PacketRecord {
  return { ...p, funding: 'wechatpay', paymentId };
}
