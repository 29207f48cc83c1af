import { fail } from '../domain/errors';
import { dayKeyUtc8, policyFor, type Fen } from '../domain/money';
import { shardOf } from '../domain/shard';
import { ShareLayouts } from '../domain/share-counters';
import type { AppendRequest } from '../store/ledger';
import type { PacketRecord, SettleCursor } from '../store/packets';
import type { SlotRecord } from '../store/claims';
import { mapLimited } from '../concurrency';
import type { TopupRecord, TransferRecord } from '../store/movements';
import type { RefundRecord } from '../store/refunds';
import { log } from '../log';
import { feeAccountOf, iso } from './context';
import type { Deps } from './deps';
import { openRefund, refundsToWeChatPay, sendRefund } from './refunds';
import { notifyRefundArrived } from './notifications';

/**
 * The crash-safe steps that move money between two items. Each step is idempotent (ledger
 * operations are applied at most once per opId, state changes are conditional), so the
 * request's own retry and the sweeper run the same functions to finish what a crash left.
 * Every flow's timeline in long form: docs/crash-timelines.md.
 */

/**
 * The ledger operation that credits a claimed share: one per (claimer, packet). It carries the
 * slot's index, so a sharded packet's claimer finds the slot from the credit (app/slots.ts).
 */
export function claimCredit(packetId: string, slot: Pick<SlotRecord, 'amount' | 'at' | 'index'>): AppendRequest {
  return {
    opId: `claim:${packetId}`,
    type: 'claim_credit',
    amount: slot.amount,
    ref: packetId,
    packetId,
    at: slot.at,
    slotIndex: slot.index,
  };
}

export const dueShard = (d: Deps, id: string) => shardOf(id, d.cfg.dueShards);

/**
 * Funds a packet in `funding` (or `canceled`) state and opens it to claims.
 *
 * Timeline (create): shares put → packet put (funding, due in 2 min) → [A] sender debited
 * total+fee (one ledger entry; the commit point) → [B] fee account credited → [C] packet active
 * (due at expiry).
 * - crash before A: no money moved; the retry funds it, or the sweeper cancels it when due.
 * - crash between A and C: the sender paid; the retry, or the sweeper (which finds the debit by
 *   its opId), credits the fee and activates. Until then the money sits in the packet's escrow
 *   (a `funding` packet with a debit), which reconciliation counts.
 * `bySweeper` never debits: a user who gave up is not charged behind their back.
 */
export async function fundPacket(d: Deps, p: PacketRecord, bySweeper: boolean): Promise<PacketRecord | 'canceled'> {
  const debitOp = `pkt:${p.id}`;
  if (bySweeper) {
    const debit = await d.wallets.find(p.senderId, p.senderHint, debitOp);
    if (!debit) {
      await d.packets.cancel(p.id);
      return 'canceled';
    }
  } else {
    const profile = await d.accounts.get(p.senderId);
    const policy = policyFor(profile?.tier ?? 'personal', profile?.settings);
    const r = await d.wallets.append(p.senderId, p.senderHint, {
      opId: debitOp,
      type: 'packet_debit',
      amount: -(p.total + p.fee),
      fee: p.fee,
      ref: p.id,
      packetId: p.id,
      at: p.createdAt,
      daily: { amount: p.total, limit: policy.dailyLimit, day: dayKeyUtc8(Date.parse(p.createdAt)) },
    });
    if (r.kind === 'insufficient') {
      await d.packets.cancel(p.id);
      fail('INSUFFICIENT_FUNDS', '余额不足');
    }
    if (r.kind === 'daily_limit') {
      await d.packets.cancel(p.id);
      fail('LIMIT_DAILY', '超出今日发送限额', { dailyLimit: policy.dailyLimit, sentToday: r.sentToday });
    }
  }
  if (p.fee > 0) {
    // The fee ledger fixed at creation: a retry or the sweeper credits the same one (exactly-once by opId).
    await d.wallets.append(feeAccountOf(p), p.feeHint, {
      opId: `fee:${p.id}`,
      type: 'fee',
      amount: p.fee,
      ref: p.id,
      packetId: p.id,
      at: p.createdAt,
    });
  }
  const active = await d.packets.activate(p.id, { shard: dueShard(d, p.id), at: p.expiresAt });
  return active ?? (await d.packets.get(p.id))!;
}

/**
 * How much more a long job may do (the sweep's time budget, see app/sweeper.ts): `step` says
 * whether another step may start (the item's slice is not used up), `work` whether a step that
 * started may go on (the run's budget is not used up). A step runs on past its slice so that
 * every slice makes progress: what a step did is kept even when the run stops it half-way.
 */
export interface Budget {
  step(): boolean;
  work(): boolean;
}

/** No limit: the job runs to its end (direct calls, tests of other flows). */
export const UNBOUNDED: Budget = { step: () => true, work: () => true };

export interface SettleResult {
  refunded: Fen;
  settled: boolean;
  /**
   * The budget ran out first: the packet stays `settling` and due, with counters
   * [0, verified) of `of` verified; the next run resumes there.
   */
  pending?: { verified: number; of: number };
}

/** Credits (and voids) of one counter in flight at once. */
const CREDIT_CONCURRENCY = 8;
/**
 * Counters verified side by side per step, and per cursor write (slots layout): 4 × 100 slots,
 * one slot Query, one ledger BatchGetItem and a counter close each, then one conditional write.
 */
const COUNTERS_PER_STEP = 4;
/**
 * Counters per step of the recorded layout: 10 × 10 records, so the step's credits are
 * confirmed by ONE BatchGetItem of ≤ 100 keys. The step is one read of its counters (with their
 * records), a close of each that still has room (a full counter takes nothing more), that
 * credit read and one cursor write: 3 requests for 100 shares of a drained packet, 13 when no
 * counter is full — a 10,000-share packet (1,000 counters) drained costs about 300 requests.
 */
export const RECORDED_COUNTERS_PER_STEP = 10;
/**
 * Closes of a recorded step in flight at once, each after a check of the run's budget: the
 * budget's reserve holds what is in flight when it runs out (as many closes as a step of the
 * slots layout, about) plus the run's closing reads, so ten closes at once would overrun a small
 * budget. Two waves of five: a step is still 4 round trips (closes, closes, read, cursor).
 */
const RECORDED_CLOSE_CONCURRENCY = 5;

/**
 * Settles an expired packet: closes it to claims, seals shares taken by claims that never
 * recorded them, makes sure every recorded share was credited, refunds the rest exactly once.
 * Incremental: work is done counter by counter (a packet of ≤ 100 shares is one counter), the
 * progress is kept on the packet item, and `budget` is asked before each step and each credit,
 * so a 10,000-share packet is settled over as many runs as it takes, each stopping cleanly.
 *
 * Timeline: [A] state → settling, cursor 0 (conditional: only after expiry; a re-run keeps the
 * cursor; from now on no claim is accepted by the packet) → then per step of up to
 * {@link COUNTERS_PER_STEP} counters from the cursor on:
 *   [B] close each counter (> 100 shares; returns its final count, re-closing is harmless; a
 *       single-counter packet was closed by A) — only then are its slots read;
 *   [C] slots layout: void its taken-but-unrecorded indexes (a late claim's slot put then fails
 *       and it answers PACKET_EXPIRED). The recorded layout has none: its counter's records are
 *       read after the close, and a taken index without a record stops the settlement;
 *   [D] confirm its recorded shares' credits: one BatchGetItem of each claimer's ledger entry
 *       at the slot's `seqHint` + 1 (where a claim's credit lands unless the claimer's ledger
 *       moved meanwhile); an entry there with opId `claim:<packet>` is the credit. The others go
 *       through `append`, which finds the credit after the hint or applies it, once;
 *   [E] cursor += the step's counters, settleGranted += their granted shares (conditional on
 *       the cursor read, so concurrent sweepers add each counter once; the last step skips it);
 * Recorded layout: steps of {@link RECORDED_COUNTERS_PER_STEP} counters; B is one read of the
 * step's counters with their records and a close of each that still has room (its records, final
 * once closed, come back from the close; a full counter's are final already), there is no C (a
 * take is its record), and D is one BatchGetItem for the whole step.
 * → [F] refund total − settleGranted to the sender (opId `refund:<packet>`, at most once), or
 *   for a packet paid directly through WeChat Pay, to its payment (app/refunds.ts: the refund
 *   record is F, the create at WeChat follows G)
 * → [G] state → settled, leave the due index.
 * A crash (or a spent budget) anywhere leaves the packet `settling` and still due: the next run
 * resumes at the stored cursor. A crash between D and E repeats that step: its voids are found,
 * its credits confirmed by D's read, nothing applied twice. A crash between F and G repeats the
 * last step and finds the refund by its opId: the amount is the same, Σ of the same final slots.
 */
export async function settlePacket(
  d: Deps,
  packetId: string,
  nowMs: number,
  budget: Budget = UNBOUNDED,
): Promise<SettleResult> {
  const pre = await d.packets.item(packetId);
  if (!pre || (pre.state !== 'active' && pre.state !== 'settling')) return { refunded: 0, settled: false };
  // The refund's hint is read before the packet leaves `active`; a resumed run finds it stored.
  const refundHint = pre.refundHint ?? (await d.wallets.state(pre.senderId)).seq;
  const p = await d.packets.beginSettle(packetId, nowMs, refundHint);
  if (!p) return { refunded: 0, settled: false };
  const n = p.counters ?? 1;
  const recorded = p.layout === ShareLayouts.recorded;
  const perStep = recorded ? RECORDED_COUNTERS_PER_STEP : COUNTERS_PER_STEP;
  const at = iso(nowMs);
  let cursor: SettleCursor = { counter: p.settleCursor ?? 0, granted: p.settleGranted ?? 0 };
  for (let steps = 0; cursor.counter < n; steps++) {
    // The first step of a call only needs the run's budget: each slice moves the cursor.
    if (!(steps === 0 ? budget.work() : budget.step()))
      return { refunded: 0, settled: false, pending: { verified: cursor.counter, of: n } };
    const ks = Array.from({ length: Math.min(perStep, n - cursor.counter) }, (_, i) => cursor.counter + i);
    const granted = recorded
      ? [await verifyRecordedStep(d, p, ks, budget)]
      : await mapLimited(ks, ks.length, (k) => verifyCounter(d, p, k, at, budget));
    if (granted.some((g) => g === undefined))
      return { refunded: 0, settled: false, pending: { verified: cursor.counter, of: n } };
    const next = {
      counter: cursor.counter + ks.length,
      granted: cursor.granted + granted.reduce<number>((a, g) => a + g!, 0),
    };
    if (next.counter === n || (await d.packets.advanceSettle(packetId, cursor, next))) {
      cursor = next;
      continue;
    }
    // Another sweeper moved the cursor first (or finished): go on from what it stored.
    const now = await d.packets.item(packetId);
    if (now?.state !== 'settling') return { refunded: 0, settled: false };
    cursor = { counter: now.settleCursor ?? 0, granted: now.settleGranted ?? 0 };
  }
  const refund = p.total - cursor.granted;
  if (refund < 0) throw new Error(`settle: packet ${packetId} granted more than its total`);
  // F for a packet paid directly: the remainder goes back to its payment (app/refunds.ts has
  // the timeline): [R1] the refund record — the money leaves the escrow, in transit to WeChat
  // Pay — then G, then [R3] the create. A crash before G repeats this step, which finds R1.
  const toWeChat = refund > 0 && refundsToWeChatPay(p);
  let refundRecord: RefundRecord | undefined;
  if (toWeChat) {
    refundRecord = await openRefund(d, p, refund, at, p.refundHint ?? refundHint);
  } else if (refund > 0) {
    await d.wallets.append(p.senderId, p.refundHint ?? refundHint, {
      opId: `refund:${packetId}`,
      type: 'refund_credit',
      amount: refund,
      ref: packetId,
      packetId,
      at,
    });
  }
  const finished = await d.packets.finishSettle(
    packetId,
    refund,
    refundRecord?.createdAt ?? at,
    refund > 0 ? (toWeChat ? 'wechatpay' : 'balance') : undefined,
  );
  // "Refund arrived" once the credit is on the balance (every run that got here records it;
  // the message's id makes it one). A WeChat Pay refund's message waits for WeChat's SUCCESS.
  if (refund > 0 && !toWeChat)
    await notifyRefundArrived(d, {
      packetId,
      userId: p.senderId,
      amount: refund,
      to: 'balance',
      atMs: nowMs,
      packet: p,
    });
  if (refundRecord && finished) {
    // The create right away; whatever it cannot finish, the refund's due entry brings back.
    try {
      await sendRefund(d, refundRecord);
    } catch (err) {
      log('error', 'refund create failed; the sweeper retries', {
        refundNo: refundRecord.id,
        error: err instanceof Error ? err.message : 'unknown',
      });
    }
  }
  return { refunded: refund, settled: finished !== undefined };
}

/**
 * Steps B–D for counter `k`: its granted shares' sum once every one is verified credited, or
 * undefined when the budget ran out first (what was done stays done).
 */
async function verifyCounter(
  d: Deps,
  p: PacketRecord,
  k: number,
  at: string,
  budget: Budget,
): Promise<Fen | undefined> {
  // Each request of the step checks the run's budget first: once the run is past the point where
  // no new work starts, a step in flight stops before its next request (what it wrote is kept and
  // the next run goes on from the stored cursor), so the budget's reserve covers one request per
  // counter and the credits already started, not whole steps.
  const c = await d.packets.closeCounter(p, k);
  if (!budget.work()) return undefined;
  let slots = await d.claims.counterSlots(p, k);
  const recorded = new Set(slots.map((s) => s.index));
  const missing: number[] = [];
  for (let i = c.start; i < c.start + Math.min(c.claimed, c.size); i++) if (!recorded.has(i)) missing.push(i);
  if (missing.length > 0) {
    const voided = await mapLimited(
      missing,
      CREDIT_CONCURRENCY,
      async (i) => budget.work() && (await d.claims.voidSlot(p.id, i, at), true),
    );
    if (voided.includes(false) || !budget.work()) return undefined;
    slots = await d.claims.counterSlots(p, k);
  }
  const granted = slots.filter((s) => !s.void);
  if (!budget.work()) return undefined;
  return creditGranted(d, p, granted, budget);
}

/**
 * Steps B and D for counters `ks` of a packet of the recorded layout: the Σ of their recorded
 * shares once every one is verified credited, or undefined when the budget ran out first. There
 * is no C: a take is its record, so no share is ever taken without its taker being known.
 * The closes go five at a time and each returns its counter's final records; the credits of the
 * whole step are then confirmed by one read (≤ 100 records), and only the unconfirmed ones go
 * through `append` (which finds a credit after the hint, or applies it, once).
 */
async function verifyRecordedStep(
  d: Deps,
  p: PacketRecord,
  ks: readonly number[],
  budget: Budget,
): Promise<Fen | undefined> {
  // A full counter can take no share: its records are final without a close. Only those with
  // room are closed (a drained packet's settlement closes none).
  const read = await d.packets.recordedCounters(p, ks);
  if (!budget.work()) return undefined;
  const closed = await mapLimited(read, RECORDED_CLOSE_CONCURRENCY, async (c) =>
    c.closed || c.claimed >= c.size ? c : budget.work() ? await d.packets.closeCounter(p, c.counter) : undefined,
  );
  if (closed.includes(undefined) || !budget.work()) return undefined;
  const granted = closed.flatMap((c) => {
    if (!c!.records) throw new Error(`settle: counter ${c!.counter} of ${p.id} closed without its records`);
    // A recorded counter takes and records in one write: a taken index without its record is
    // damage, not a crash. Settling on it would refund a share someone may hold: stop here (the
    // packet stays due, the sweep-lag alarm fires, reconciliation names the counter).
    const taken = Math.min(c!.claimed, c!.size);
    if (c!.records.length !== taken)
      throw new Error(
        `settle: counter ${c!.counter} of packet ${p.id} handed out ${taken} share(s) and records ${c!.records.length}: it does not record them all`,
      );
    return c!.records;
  });
  return creditGranted(d, p, granted, budget);
}

/**
 * Step D: confirms the credits of `granted` (one read), applies the missing ones through
 * `append` (found or applied, once), and returns their Σ — or undefined when the budget ran
 * out first.
 */
async function creditGranted(
  d: Deps,
  p: PacketRecord,
  granted: readonly SlotRecord[],
  budget: Budget,
): Promise<Fen | undefined> {
  const unconfirmed = await unconfirmedCredits(d, p.id, granted);
  const credited = await mapLimited(
    unconfirmed,
    CREDIT_CONCURRENCY,
    async (s) => budget.work() && (await d.wallets.append(s.userId, s.seqHint, claimCredit(p.id, s)), true),
  );
  if (credited.includes(false)) return undefined;
  return granted.reduce((a, s) => a + s.amount, 0);
}

/**
 * The slots whose credit is not at the claimer's ledger entry `seqHint` + 1 (one BatchGetItem
 * per 100 slots; a packet's shares belong to distinct accounts, and a repeated key is read once). Entries are
 * never deleted, so a credit found there is final; the rest may sit further on, or be missing.
 */
async function unconfirmedCredits(d: Deps, packetId: string, slots: readonly SlotRecord[]): Promise<SlotRecord[]> {
  if (slots.length === 0) return [];
  const opId = claimCredit(packetId, slots[0]!).opId;
  const found = await d.wallets.entriesAt(slots.map((s) => ({ userId: s.userId, seq: s.seqHint + 1 })));
  const credited = new Set(found.filter((e) => e.opId === opId).map((e) => e.userId));
  return slots.filter((s) => !credited.has(s.userId));
}

/**
 * Completes a transfer. Timeline: record (pending, due in 1 min) → [A] payer debited (commit
 * point for the payer) → [B] payee credited → [C] record done. A crash between A and B leaves
 * the money in transit on a pending record; the retry or the sweeper credits the payee (the
 * credit is keyed by the transfer id, so it happens once). `bySweeper` never debits: without a
 * debit the transfer is canceled and nothing moved.
 */
export async function completeTransfer(
  d: Deps,
  t: TransferRecord,
  bySweeper: boolean,
  dailyLimit?: Fen,
): Promise<'done' | 'canceled'> {
  const opId = `xfer:${t.id}`;
  if (bySweeper) {
    if (!(await d.wallets.find(t.fromId, t.fromHint, opId))) {
      await d.movements.setTransferState(t.id, 'canceled');
      return 'canceled';
    }
  } else {
    const r = await d.wallets.append(t.fromId, t.fromHint, {
      opId,
      type: 'transfer_debit',
      amount: -t.amount,
      ref: t.id,
      at: t.at,
      ...(dailyLimit !== undefined
        ? { daily: { amount: t.amount, limit: dailyLimit, day: dayKeyUtc8(Date.parse(t.at)) } }
        : {}),
    });
    if (r.kind === 'insufficient') {
      await d.movements.setTransferState(t.id, 'canceled');
      fail('INSUFFICIENT_FUNDS', '余额不足');
    }
    if (r.kind === 'daily_limit') {
      await d.movements.setTransferState(t.id, 'canceled');
      fail('LIMIT_DAILY', '超出今日转账限额', { dailyLimit, sentToday: r.sentToday });
    }
  }
  await d.wallets.append(t.toId, t.toHint, { opId, type: 'transfer_credit', amount: t.amount, ref: t.id, at: t.at });
  await d.movements.setTransferState(t.id, 'done');
  return 'done';
}

/**
 * Completes a top-up. Timeline: record (pending, due in 1 min) → [A] provider charge
 * (idempotent by top-up id) → [B] wallet credited (opId `topup:<id>`) → [C] record done.
 * A crash after A: the retry charges again (the provider dedupes) or the sweeper asks the
 * provider for the outcome, then credits once.
 */
export async function completeTopup(
  d: Deps,
  t: TopupRecord,
  bySweeper: boolean,
): Promise<'done' | 'canceled' | 'pending'> {
  let providerRef = t.providerRef;
  if (bySweeper) {
    const status = await d.payments.status(t.id);
    if (status === 'failed') {
      await d.movements.setTopupState(t.id, 'canceled');
      return 'canceled';
    }
    if (status === 'unknown') return 'pending';
  } else {
    const charged = await d.payments.charge({ topupId: t.id, userId: t.userId, amount: t.amount });
    if (!charged.ok) {
      await d.movements.setTopupState(t.id, 'canceled');
      fail('VALIDATION_FAILED', `支付失败：${charged.reason}`);
    } else providerRef = charged.providerRef;
  }
  await d.wallets.append(t.userId, t.hint, {
    opId: `topup:${t.id}`,
    type: 'topup',
    amount: t.amount,
    ref: t.id,
    at: t.at,
  });
  await d.movements.setTopupState(t.id, 'done', providerRef);
  return 'done';
}
