/**
 * Refund of a packet's unclaimed remainder to the payment that funded it (a packet paid
 * directly through WeChat Pay). A packet funded from the balance is refunded to the balance by
 * settlement itself (app/settlement.ts); this is the other branch of settlement's last step.
 *
 * Ledger view: the packet paid directly was booked as +amount `topup`, −amount `packet_debit`,
 * so its money sits in the packet's escrow like any packet's. The remainder then
 *   - leaves the escrow for "refunds requested" (money in transit to WeChat Pay) when the
 *     refund record is written — no ledger entry: the sender's balance never holds it;
 *   - leaves the books as paid out and confirmed when WeChat says SUCCESS;
 *   - or, if WeChat cannot refund it (ABNORMAL, CLOSED, or a create it refused with no refund
 *     behind it), comes back to the sender's balance as `refund_credit` with opId
 *     `refund:<packet>` — the very entry a balance-funded packet gets, so a packet is credited
 *     a refund at most once whichever way it went.
 *
 * Timeline (out_refund_no derived from the packet, ≤ 64 characters; one refund per order):
 *   [R1] record `requested`, due at once + RETRY_MS (conditional put: a re-run of settlement gets
 *        the same record; the amount is the same Σ of the same final slots) — the transit point;
 *   [R2] the packet `settled` with `refundedTo: wechatpay` (settlement's last write, out of the
 *        packet's due entry);
 *   [R3] the create at WeChat under the one number (an unknown answer is sent once more: the
 *        same number is the same refund at WeChat) → PROCESSING: `processing`, due at the next
 *        poll; SUCCESS → [R4]; ABNORMAL / CLOSED → [R5]; refused → query: a refund WeChat knows is
 *        applied, none at all → [R5]; unknown → left to the sweeper;
 *   [R4] `success` (conditional on open: the notification, the sweeper's query and the create's
 *        answer race; one wins), out of the due index;
 *   [R5] `failed` (conditional, once) → `refund_credit` to the sender (opId, at most once) → the
 *        packet's `refundedTo: balance` → an ops event → `returned`, out of the due index.
 * Crashes: before R1 the packet is still `settling` and due (settlement re-runs); between R1 and
 * R2 likewise (R1 is found, not repeated); after R2 the refund record is due: the sweeper
 * queries WeChat and sends the create (same number) if WeChat has none, or applies what it
 * says. Inside R5 the record stays `failed` and due until `returned`: the next sweep repeats the
 * credit (found by its opId), the packet write and the event (keyed by the refund), then ends it.
 * (docs/crash-timelines.md has this and every other flow.)
 */
import { derivedId } from '../domain/ids';
import type { Fen } from '../domain/money';
import type { PacketRecord } from '../store/packets';
import type { RefundRecord } from '../store/refunds';
import type { Refund } from '../wechatpay/client';
import { log } from '../log';
import { iso } from './context';
import type { Deps } from './deps';
import { dueShard } from './settlement';
import { notifyRefundArrived } from './notifications';

/** A retry after an answer we could not use. */
const RETRY_MS = 60_000;
/** The next look at a refund WeChat is still paying (a notification usually comes first). */
const POLL_MS = 5 * 60_000;
/** What the payer sees in WeChat as the refund's reason (≤ 80 characters). */
const REASON = '红包未领取部分退回';

/** The out_refund_no of a packet's refund: one per packet (WeChat allows 50 per order; we make one). */
export const refundNoOf = (packetId: string) => derivedId('r', packetId, 'refund');

/** Whether settlement refunds this packet to its WeChat Pay payment rather than the balance. */
export const refundsToWeChatPay = (p: PacketRecord) => p.funding === 'wechatpay' && !!p.paymentId;

/** R1: the record (a re-run gets the stored one). */
export async function openRefund(
  d: Deps,
  p: PacketRecord,
  amount: Fen,
  at: string,
  hint: number,
): Promise<RefundRecord> {
  const id = refundNoOf(p.id);
  const existing = await d.refunds.get(id);
  if (existing) return existing;
  const payment = await d.payIns.get(p.paymentId!);
  return d.refunds.create(
    {
      id,
      packetId: p.id,
      userId: p.senderId,
      paymentId: p.paymentId!,
      amount,
      orderTotal: payment?.amount ?? p.total + p.fee,
      state: 'requested',
      createdAt: at,
      hint,
    },
    { shard: dueShard(d, id), at: iso(Date.parse(at) + RETRY_MS) },
  );
}

/** Whether WeChat's refund is the one we recorded (number, order, amount). */
function mismatchOf(r: RefundRecord, w: Refund): string | undefined {
  if (w.outRefundNo !== r.id) return 'out_refund_no';
  if (w.outTradeNo !== r.paymentId) return 'out_trade_no';
  if (w.refund !== r.amount || w.total !== r.orderTotal) return 'amount';
  return undefined;
}

/** R4 / R5 / processing for what WeChat says about the refund. Returns the record as it now is. */
export async function applyRefund(d: Deps, r: RefundRecord, w: Refund): Promise<RefundRecord> {
  const problem = mismatchOf(r, w);
  if (problem) {
    log('error', 'refund: WeChat Pay reports a refund that does not match our record', { refundNo: r.id, problem });
    return r;
  }
  const nowMs = d.now();
  if (w.status === 'SUCCESS') {
    if (r.state === 'failed') {
      // WeChat keeps one final state per refund: say so loudly, change nothing.
      log('error', 'refund: WeChat says SUCCESS for a refund we returned to the balance', { refundNo: r.id });
      return r;
    }
    if (r.state === 'success') return r;
    const done =
      (await d.refunds.finish(r.id, 'success', { atIso: iso(nowMs), refundId: w.refundId })) ??
      (await d.refunds.get(r.id))!;
    // After the refund is final: the sender's "refund arrived" (recorded once whoever decided).
    await notifyRefundArrived(d, {
      packetId: r.packetId,
      userId: r.userId,
      amount: r.amount,
      to: 'wechatpay',
      atMs: nowMs,
    });
    return done;
  }
  if (w.status === 'ABNORMAL' || w.status === 'CLOSED') {
    if (r.state === 'success') {
      log('error', 'refund: WeChat says failed for a refund we recorded paid', { refundNo: r.id, status: w.status });
      return r;
    }
    const failed =
      r.state === 'failed'
        ? r
        : ((await d.refunds.finish(r.id, 'failed', {
            atIso: iso(nowMs),
            refundId: w.refundId,
            failReason: w.status,
          })) ?? (await d.refunds.get(r.id))!);
    return returnToBalance(d, failed);
  }
  if (r.state !== 'requested' && r.state !== 'processing') return r;
  return (
    (await d.refunds.markProcessing(r.id, w.refundId, { shard: dueShard(d, r.id), at: iso(nowMs + POLL_MS) })) ??
    (await d.refunds.get(r.id))!
  );
}

/** R5 after the decision: the amount to the sender's balance once, then the packet, the event, `returned`. */
export async function returnToBalance(d: Deps, r: RefundRecord): Promise<RefundRecord> {
  if (r.state !== 'failed' || r.returned) return r;
  const at = r.finishedAt ?? iso(d.now());
  await d.wallets.append(r.userId, r.hint, {
    opId: `refund:${r.packetId}`,
    type: 'refund_credit',
    amount: r.amount,
    ref: r.packetId,
    packetId: r.packetId,
    at,
  });
  await d.packets.setRefundedTo(r.packetId, 'balance');
  // The money is on the balance: "refund arrived" (a re-run of this step finds the message recorded).
  await notifyRefundArrived(d, {
    packetId: r.packetId,
    userId: r.userId,
    amount: r.amount,
    to: 'balance',
    atMs: Date.parse(at),
  });
  await d.refunds.putOpsEvent({
    type: 'refund_fallback',
    id: r.id,
    packetId: r.packetId,
    detail: `WeChat Pay could not refund ${r.amount} (${r.failReason ?? 'unknown'}); returned to the sender's balance`,
    atIso: at,
  });
  log('warn', 'refund: returned to the balance', { refundNo: r.id, packetId: r.packetId, reason: r.failReason });
  await d.refunds.markReturned(r.id);
  return { ...r, returned: true };
}

/**
 * R3: the create under the one number, and what its answer means. Never throws for WeChat's
 * answers (the sweeper repeats what is left); returns the record as it now is.
 */
export async function sendRefund(d: Deps, r: RefundRecord): Promise<RefundRecord> {
  if (r.state !== 'requested' && r.state !== 'processing') return r.state === 'failed' ? returnToBalance(d, r) : r;
  const pay = d.wechatPay;
  if (!pay) {
    log('error', 'refund due but WeChat Pay is not configured', { refundNo: r.id });
    return r;
  }
  const input = {
    outTradeNo: r.paymentId,
    outRefundNo: r.id,
    amount: r.amount,
    total: r.orderTotal,
    reason: REASON,
    ...(d.cfg.wechatPay?.notifyUrl ? { notifyUrl: d.cfg.wechatPay.notifyUrl } : {}),
  };
  let c = await pay.createRefund(input);
  if (c.kind === 'unknown' || (c.kind === 'rejected' && c.retryable)) c = await pay.createRefund(input);
  if (c.kind === 'ok') return applyRefund(d, r, c.refund);
  if (c.kind === 'rejected' && !c.retryable) {
    // Refused: this call did nothing. An earlier send (a lost answer) may have made the refund,
    // so only WeChat not knowing the number fails it.
    log('warn', 'refund create refused by WeChat Pay', { refundNo: r.id, code: c.code });
    const q = await pay.queryRefund(r.id);
    if (q.kind === 'ok') return applyRefund(d, r, q.refund);
    if (q.kind === 'not_found') {
      const failed =
        (await d.refunds.finish(r.id, 'failed', { atIso: iso(d.now()), failReason: c.code })) ??
        (await d.refunds.get(r.id))!;
      return returnToBalance(d, failed);
    }
  }
  await d.refunds.reschedule(r.id, { shard: dueShard(d, r.id), at: iso(d.now() + RETRY_MS) });
  return r;
}

/** What the sweeper did with one refund. */
export type RefundSweep = 'success' | 'returned' | 'open' | 'retry' | 'none';

/**
 * The sweeper's step for a due refund: finish a fallback a crash left, else ask WeChat; a refund
 * WeChat does not know was never created (a crash before R3, or a lost create that never
 * arrived): send the create under the same number.
 */
export async function sweepRefund(d: Deps, id: string): Promise<RefundSweep> {
  const r = await d.refunds.get(id);
  if (!r) return 'none';
  if (r.state === 'success') {
    // A crash right after `success` left the message unrecorded: record it now (once by its id).
    await notifyRefundArrived(d, {
      packetId: r.packetId,
      userId: r.userId,
      amount: r.amount,
      to: 'wechatpay',
      atMs: Date.parse(r.finishedAt ?? '') || d.now(),
    });
    await d.refunds.settle(id);
    return 'success';
  }
  if (r.state === 'failed') return (await returnToBalance(d, r)).returned ? 'returned' : 'retry';
  if (!d.wechatPay) {
    log('error', 'refund due but WeChat Pay is not configured', { refundNo: id });
    await d.refunds.reschedule(id, { shard: dueShard(d, id), at: iso(d.now() + RETRY_MS) });
    return 'retry';
  }
  const q = await d.wechatPay.queryRefund(id);
  const after =
    q.kind === 'ok' ? await applyRefund(d, r, q.refund) : q.kind === 'not_found' ? await sendRefund(d, r) : undefined;
  if (!after) {
    await d.refunds.reschedule(id, { shard: dueShard(d, id), at: iso(d.now() + RETRY_MS) });
    return 'retry';
  }
  if (after.state === 'success') return 'success';
  if (after.returned) return 'returned';
  return after.state === 'failed' ? 'retry' : 'open';
}

/** What became of a refund notification (all are answered 204). */
export type RefundNotice = 'applied' | 'repeat' | 'unknown_refund' | 'mismatch' | 'ignored';

/** A verified refund notification (REFUND.SUCCESS / ABNORMAL / CLOSED), applied once. */
export async function onRefundNotification(d: Deps, w: Refund): Promise<RefundNotice> {
  const r = await d.refunds.get(w.outRefundNo);
  if (!r) return 'unknown_refund';
  if (mismatchOf(r, w)) {
    log('error', 'refund notification does not match our record', {
      refundNo: r.id,
      amount: w.refund,
      expected: r.amount,
    });
    return 'mismatch';
  }
  if (w.status === 'PROCESSING') return 'ignored';
  if (r.state === 'success' || (r.state === 'failed' && r.returned)) return 'repeat';
  await applyRefund(d, r, w);
  return 'applied';
}
