import { fail } from '../domain/errors';
import { dayKeyUtc8, policyFor, type Fen } from '../domain/money';
import { shardOf } from '../domain/shard';
import type { AppendRequest } from '../store/ledger';
import type { PacketRecord, SlotRecord } from '../store/packets';
import type { TopupRecord, TransferRecord } from '../store/transfers';
import { feeAccountOf, iso } from './context';
import type { Deps } from './deps';

/**
 * The crash-safe steps that move money between two items. Each step is idempotent (ledger
 * operations are applied at most once per opId, state changes are conditional), so the
 * request's own retry and the sweeper run the same functions to finish what a crash left.
 */

/** The ledger operation that credits a claimed share: one per (claimer, packet). */
export function claimCredit(packetId: string, slot: Pick<SlotRecord, 'amount' | 'at'>): AppendRequest {
  return {
    opId: `claim:${packetId}`,
    type: 'claim_credit',
    amount: slot.amount,
    ref: packetId,
    packetId,
    at: slot.at,
    received: true,
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
    await d.wallets.append(feeAccountOf(p), p.feeHint, { opId: `fee:${p.id}`, type: 'fee', amount: p.fee, ref: p.id, packetId: p.id, at: p.createdAt });
  }
  const active = await d.packets.activate(p.id, { shard: dueShard(d, p.id), at: p.expiresAt });
  return active ?? (await d.packets.get(p.id))!;
}

export interface SettleResult {
  refunded: Fen;
  settled: boolean;
}

/**
 * Settles an expired packet: closes it to claims, seals shares taken by claims that never
 * recorded them, makes sure every recorded share was credited, refunds the rest exactly once.
 *
 * Timeline: [A] state → settling (conditional: only after expiry; from now on no claim can take
 * a share, so `claimed` is final) → [A′] > 100 shares: close every counter (each close returns
 * its final count; re-closing is harmless) → [B] void slots for taken-but-unrecorded indexes (a late
 * claim's slot put then fails and it answers PACKET_EXPIRED) → [C] credit any recorded slot
 * whose claim crashed before its credit → [D] refund total − Σ recorded shares to the sender
 * (opId `refund:<packet>`, at most once) → [E] state → settled, leave the due index.
 * A crash anywhere leaves the packet in `settling` and still due: the next sweep (or a
 * concurrent one) repeats A–E; every step is idempotent, so the refund happens exactly once.
 */
export async function settlePacket(d: Deps, packetId: string, nowMs: number): Promise<SettleResult> {
  const pre = await d.packets.get(packetId);
  if (!pre || (pre.state !== 'active' && pre.state !== 'settling')) return { refunded: 0, settled: false };
  const senderState = await d.wallets.state(pre.senderId);
  const p = await d.packets.beginSettle(packetId, nowMs, senderState.seq);
  if (!p) return { refunded: 0, settled: false };
  // A sharded packet's counters are closed one by one after [A]; each close returns that
  // counter's final count. Until every one is closed a claim may still take from it — so the
  // slots are read only after.
  const counters = await d.packets.closeCounters(p);
  let slots = await d.packets.slots(p);
  const recorded = new Set(slots.map((s) => s.index));
  const at = iso(nowMs);
  let voided = false;
  for (const c of counters) {
    for (let i = c.start; i < c.start + Math.min(c.claimed, c.size); i++) {
      if (!recorded.has(i)) {
        await d.packets.voidSlot(packetId, i, at);
        voided = true;
      }
    }
  }
  if (voided) slots = await d.packets.slots(p);
  let granted = 0;
  for (const s of slots) {
    if (s.void) continue;
    granted += s.amount;
    await d.wallets.append(s.userId, s.seqHint, claimCredit(packetId, s));
  }
  const refund = p.total - granted;
  if (refund < 0) throw new Error(`settle: packet ${packetId} granted more than its total`);
  if (refund > 0) {
    await d.wallets.append(p.senderId, p.refundHint ?? senderState.seq, {
      opId: `refund:${packetId}`,
      type: 'refund_credit',
      amount: refund,
      ref: packetId,
      packetId,
      at,
    });
  }
  await d.packets.finishSettle(packetId, refund, at);
  return { refunded: refund, settled: true };
}

/**
 * Completes a transfer. Timeline: record (pending, due in 1 min) → [A] payer debited (commit
 * point for the payer) → [B] payee credited → [C] record done. A crash between A and B leaves
 * the money in transit on a pending record; the retry or the sweeper credits the payee (the
 * credit is keyed by the transfer id, so it happens once). `bySweeper` never debits: without a
 * debit the transfer is canceled and nothing moved.
 */
export async function completeTransfer(d: Deps, t: TransferRecord, bySweeper: boolean, dailyLimit?: Fen): Promise<'done' | 'canceled'> {
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
      ...(dailyLimit !== undefined ? { daily: { amount: t.amount, limit: dailyLimit, day: dayKeyUtc8(Date.parse(t.at)) } } : {}),
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
export async function completeTopup(d: Deps, t: TopupRecord, bySweeper: boolean): Promise<'done' | 'canceled' | 'pending'> {
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
  await d.wallets.append(t.userId, t.hint, { opId: `topup:${t.id}`, type: 'topup', amount: t.amount, ref: t.id, at: t.at });
  await d.movements.setTopupState(t.id, 'done', providerRef);
  return 'done';
}
