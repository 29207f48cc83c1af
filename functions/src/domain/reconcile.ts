/**
 * Reconciliation (对账), the pure part: ledgers and packets in, mismatches and platform totals
 * out. No I/O; store/reconcile.ts streams the items and app/reconcile.ts orchestrates.
 *
 * Consistency under live traffic. A table scan is no snapshot, so the money totals are taken as
 * of a cutoff T (run start − margin, the margin longer than any request's Lambda timeout):
 * only ledger entries, slots, packets and refunds whose operation time `at` ≤ T count. Every
 * write of one money operation carries that operation's time (settlement.ts: a packet's debit
 * and fee carry its createdAt, a claim credit its slot's `at`, both sides of a transfer the
 * transfer's `at`), so an operation is either wholly before T or wholly after it, whichever of
 * its writes the scan happened to see. What the margin cannot cover: an operation whose first
 * write landed before T and that crashed and was completed later still carries its old time and
 * is counted as "in transit" (debited, not yet credited) until completed — never as lost.
 *
 * The per-item checks (ledger chains, SPEC §8 per packet) do not depend on T: they hold at every
 * moment for any single item the scan reads.
 */
import type { Fen } from './money';
import { LEDGER_GENESIS, ledgerEntryHash, type ChainedEntry } from './ledger-chain';

/** What a mismatch is about. */
export const MismatchKinds = {
  ledger_gap: 'ledger_gap',
  ledger_link: 'ledger_link',
  ledger_hash: 'ledger_hash',
  ledger_balance: 'ledger_balance',
  negative_balance: 'negative_balance',
  duplicate_op: 'duplicate_op',
  shares_sum: 'shares_sum',
  share_amount: 'share_amount',
  duplicate_share: 'duplicate_share',
  marker_missing: 'marker_missing',
  shares_exceed_total: 'shares_exceed_total',
  refund_wrong: 'refund_wrong',
  uncredited_share: 'uncredited_share',
  credit_wrong: 'credit_wrong',
  credit_without_share: 'credit_without_share',
  missing_debit: 'missing_debit',
  fee_missing: 'fee_missing',
  unrefunded_expired: 'unrefunded_expired',
  transfer_unmatched: 'transfer_unmatched',
  transfer_stuck: 'transfer_stuck',
  topup_uncredited: 'topup_uncredited',
  conservation: 'conservation',
} as const;
export type MismatchKind = (typeof MismatchKinds)[keyof typeof MismatchKinds];

export interface Mismatch {
  kind: MismatchKind;
  /** The account, packet or transfer it concerns. */
  id: string;
  detail: string;
}

/** Tunables of one run. */
export interface ReconcileClock {
  nowMs: number;
  /** Totals are as of this time (ISO), see the module comment. */
  cutoffIso: string;
  /** A share or transfer still uncredited after this long is a mismatch, not "in transit". */
  graceMs: number;
  /** An expired packet still unrefunded after this long is a mismatch (the sweeper runs every minute). */
  sweepLagMs: number;
}

/** A ledger entry as reconciliation reads it. */
export type LedgerLine = ChainedEntry & { hash: string; packetId?: string };

interface Dated {
  amount: Fen;
  at: string;
}

/** Cross-account facts gathered from the ledgers, matched against packets and transfers later. */
export class LedgerFacts {
  /** `<packet>#<user>` → the claim credit(s). */
  readonly claimCredits = new Map<string, Dated & { count: number }>();
  readonly packetDebits = new Map<string, Dated>();
  readonly feeCredits = new Map<string, Dated>();
  readonly refunds = new Map<string, Dated>();
  readonly transferDebits = new Map<string, Dated>();
  readonly transferCredits = new Map<string, Dated>();
  /** Top-up ids credited to some wallet (checked against completed top-up records). */
  readonly topupCredits = new Set<string>();
  /** Σ amounts of entries with at ≤ T, over every account read (the fee account included). */
  balancesAtCutoff = 0;
  topupsAtCutoff = 0;
  entries = 0;
}

const afterPrefix = (opId: string, prefix: string) => (opId.startsWith(prefix) ? opId.slice(prefix.length) : undefined);

/**
 * One account's ledger, fed oldest first page by page (memory: one entry at a time plus the
 * account's op ids, needed to find an operation applied twice).
 */
export class LedgerCheck {
  private seq = 0;
  private prevHash = LEDGER_GENESIS;
  private balance = 0;
  private broken = false;
  private readonly ops = new Set<string>();
  readonly mismatches: Mismatch[] = [];

  constructor(
    readonly accountId: string,
    private readonly facts: LedgerFacts,
    private readonly clock: Pick<ReconcileClock, 'cutoffIso'>,
    /** In a scoped run, only these packets' fee entries count for the fee account. */
    private readonly feeScope?: ReadonlySet<string>,
  ) {}

  private fail(kind: MismatchKind, detail: string) {
    if (this.broken) return;
    this.broken = true; // the first break names the account; later ones follow from it
    this.mismatches.push({ kind, id: this.accountId, detail });
  }

  push(e: LedgerLine): void {
    this.facts.entries++;
    if (e.seq !== this.seq + 1) this.fail('ledger_gap', `entry ${this.seq + 1} missing (next is ${e.seq})`);
    // Balance before hash: an edited balance also breaks the hash, but "balance" says what changed.
    else if (e.balance !== this.balance + e.amount) this.fail('ledger_balance', `entry ${e.seq}: balance ${e.balance} ≠ ${this.balance} + ${e.amount}`);
    else if (e.prevHash !== this.prevHash) this.fail('ledger_link', `entry ${e.seq} does not link to ${this.seq}`);
    else if (ledgerEntryHash(e) !== e.hash) this.fail('ledger_hash', `entry ${e.seq} hash mismatch`);
    if (e.balance < 0) this.fail('negative_balance', `entry ${e.seq}: ${e.balance}`);
    if (this.ops.has(e.opId)) this.fail('duplicate_op', `operation ${e.opId} applied twice`);
    this.ops.add(e.opId);
    this.seq = e.seq;
    this.prevHash = e.hash;
    this.balance = this.balance + e.amount;

    const inScope = !this.feeScope || e.type !== 'fee' || this.feeScope.has(e.ref);
    const counted = e.at <= this.clock.cutoffIso;
    if (counted && inScope) this.facts.balancesAtCutoff += e.amount;
    const dated = { amount: e.amount, at: e.at };
    let id: string | undefined;
    if (e.type === 'topup') {
      if (counted) this.facts.topupsAtCutoff += e.amount;
      const topupId = afterPrefix(e.opId, 'topup:');
      if (topupId !== undefined) this.facts.topupCredits.add(topupId);
    } else if ((id = afterPrefix(e.opId, 'claim:')) !== undefined) {
      const key = `${id}#${this.accountId}`;
      const prev = this.facts.claimCredits.get(key);
      this.facts.claimCredits.set(key, { ...dated, count: (prev?.count ?? 0) + 1 });
    } else if ((id = afterPrefix(e.opId, 'pkt:')) !== undefined) this.facts.packetDebits.set(id, dated);
    else if ((id = afterPrefix(e.opId, 'fee:')) !== undefined) {
      if (inScope) this.facts.feeCredits.set(id, dated);
    } else if ((id = afterPrefix(e.opId, 'refund:')) !== undefined) this.facts.refunds.set(id, dated);
    else if ((id = afterPrefix(e.opId, 'xfer:')) !== undefined) {
      (e.type === 'transfer_debit' ? this.facts.transferDebits : this.facts.transferCredits).set(id, dated);
    }
  }
}

/** A packet with everything stored about it, as reconciliation reads it. */
export interface PacketFacts {
  id: string;
  senderId: string;
  total: Fen;
  count: number;
  fee: Fen;
  state: string;
  claimed: number;
  createdAt: string;
  expiresAtMs: number;
  refundedAmount?: Fen | undefined;
  /** The SHARES item's amounts (undefined: missing). */
  shares: readonly Fen[] | undefined;
  slots: ReadonlyArray<{ index: number; userId: string; amount: Fen; at: string; void?: boolean | undefined }>;
  /** Users holding a claim marker on this packet (among the slots' users). */
  markers: ReadonlySet<string>;
}

export interface PacketOutcome {
  mismatches: Mismatch[];
  /** Money of this packet still held for claimers as of T. */
  escrowAtCutoff: Fen;
  /** Shares recorded by T whose credit the ledgers do not hold yet. */
  sharesInTransit: Fen;
  /** Fee debited by T not yet credited to the fee account. */
  feeInTransit: Fen;
}

/**
 * SPEC §8 for one packet: shares sum to the total, one share per account (each with its
 * marker), every recorded share credited exactly once with its amount, a settled packet refunded
 * exactly the rest, an expired packet settled in time. Consumes the packet's claim credits from
 * `facts` (what is left afterwards are credits without a share).
 */
export function checkPacket(p: PacketFacts, facts: LedgerFacts, clock: ReconcileClock): PacketOutcome {
  const out: Mismatch[] = [];
  const bad = (kind: MismatchKind, detail: string) => out.push({ kind, id: p.id, detail });
  const T = clock.cutoffIso;
  const debit = facts.packetDebits.get(p.id);
  if (p.shares === undefined) bad('shares_sum', 'no SHARES item');
  else {
    const sum = p.shares.reduce((a, x) => a + x, 0);
    if (p.shares.length !== p.count || sum !== p.total || p.shares.some((x) => !Number.isSafeInteger(x) || x < 1)) {
      bad('shares_sum', `shares: ${p.shares.length} summing to ${sum}, want ${p.count} summing to ${p.total}`);
    }
  }
  const granted = p.slots.filter((s) => !s.void);
  const users = new Set<string>();
  let grantedSum = 0;
  let grantedAtCutoff = 0;
  let sharesInTransit = 0;
  for (const s of granted) {
    if (users.has(s.userId)) bad('duplicate_share', `account ${s.userId} holds two shares`);
    users.add(s.userId);
    if (!p.markers.has(s.userId)) bad('marker_missing', `share ${s.index} of ${s.userId} has no claim marker`);
    if (p.shares && p.shares[s.index] !== s.amount) bad('share_amount', `share ${s.index}: ${s.amount} ≠ ${p.shares[s.index]}`);
    grantedSum += s.amount;
    const key = `${p.id}#${s.userId}`;
    const credit = facts.claimCredits.get(key);
    facts.claimCredits.delete(key);
    if (!credit) {
      if (clock.nowMs - Date.parse(s.at) > clock.graceMs) bad('uncredited_share', `share ${s.index} of ${s.userId} recorded ${s.at}, never credited`);
      if (s.at <= T) sharesInTransit += s.amount;
    } else if (credit.count !== 1 || credit.amount !== s.amount) {
      bad('credit_wrong', `share ${s.index} of ${s.userId}: credited ${credit.count}× ${credit.amount}, want 1× ${s.amount}`);
    }
    if (s.at <= T) grantedAtCutoff += s.amount;
  }
  if (grantedSum > p.total) bad('shares_exceed_total', `granted ${grantedSum} > total ${p.total}`);
  if (p.claimed < p.slots.length) bad('shares_exceed_total', `counter ${p.claimed} < ${p.slots.length} recorded slots`);

  const refund = facts.refunds.get(p.id);
  if (p.state === 'settled') {
    const want = p.total - grantedSum;
    if ((p.refundedAmount ?? 0) !== want) bad('refund_wrong', `refunded ${p.refundedAmount ?? 0}, want ${want}`);
    if ((refund?.amount ?? 0) !== want) bad('refund_wrong', `refund credit ${refund?.amount ?? 0}, want ${want}`);
  } else if (refund) bad('refund_wrong', `refund credited while ${p.state}`);
  if ((p.state === 'active' || p.state === 'settling') && clock.nowMs - p.expiresAtMs > clock.sweepLagMs) {
    bad('unrefunded_expired', `expired ${new Date(p.expiresAtMs).toISOString()}, still ${p.state}`);
  }
  if (!debit && p.state !== 'funding' && p.state !== 'canceled') bad('missing_debit', `${p.state} without a debit`);
  if (debit && debit.amount !== -(p.total + p.fee)) bad('missing_debit', `debit ${debit.amount}, want ${-(p.total + p.fee)}`);

  let escrowAtCutoff = 0;
  let feeInTransit = 0;
  if (debit && debit.at <= T) {
    escrowAtCutoff = p.total - grantedAtCutoff - (refund && refund.at <= T ? refund.amount : 0);
    if (p.fee > 0) {
      const fee = facts.feeCredits.get(p.id);
      if (!fee) {
        feeInTransit = p.fee;
        if (clock.nowMs - Date.parse(debit.at) > clock.graceMs) bad('fee_missing', `fee ${p.fee} debited, never credited`);
      } else if (fee.amount !== p.fee) bad('fee_missing', `fee credited ${fee.amount}, want ${p.fee}`);
    }
  }
  return { mismatches: out, escrowAtCutoff, sharesInTransit, feeInTransit };
}

/** Transfers: both sides equal; a debit without its credit is in transit, then stuck. */
export function checkTransfers(facts: LedgerFacts, clock: ReconcileClock): { mismatches: Mismatch[]; inTransit: Fen } {
  const out: Mismatch[] = [];
  let inTransit = 0;
  for (const [id, debit] of facts.transferDebits) {
    const credit = facts.transferCredits.get(id);
    if (!credit) {
      if (debit.at <= clock.cutoffIso) inTransit += -debit.amount;
      if (clock.nowMs - Date.parse(debit.at) > clock.graceMs) out.push({ kind: 'transfer_stuck', id, detail: `debited ${-debit.amount} at ${debit.at}, never credited` });
    } else if (credit.amount !== -debit.amount) out.push({ kind: 'transfer_unmatched', id, detail: `debit ${debit.amount}, credit ${credit.amount}` });
  }
  for (const [id, credit] of facts.transferCredits) {
    if (!facts.transferDebits.has(id)) out.push({ kind: 'transfer_unmatched', id, detail: `credit ${credit.amount} without a debit` });
  }
  return { mismatches: out, inTransit };
}

/**
 * Completed top-ups whose credit no ledger holds: catches a deleted newest ledger entry, which
 * no chain can notice on its own (the other movements are cross-checked against packets and
 * transfers).
 */
export function uncreditedTopups(doneTopups: Iterable<string>, facts: LedgerFacts): Mismatch[] {
  const out: Mismatch[] = [];
  for (const id of doneTopups) if (!facts.topupCredits.has(id)) out.push({ kind: 'topup_uncredited', id, detail: 'top-up completed, no wallet credit' });
  return out;
}

/** Claim credits no packet's share accounts for (left after every checkPacket ran). */
export function orphanCredits(facts: LedgerFacts, packets: ReadonlySet<string>): Mismatch[] {
  const out: Mismatch[] = [];
  for (const [key, c] of facts.claimCredits) {
    const cut = key.lastIndexOf('#');
    const packetId = key.slice(0, cut);
    if (!packets.has(packetId)) continue; // a packet outside this run's scope
    out.push({ kind: 'credit_without_share', id: packetId, detail: `account ${key.slice(cut + 1)} credited ${c.amount} without a share` });
  }
  return out;
}

/** The platform's money as of T: where every fen that came in by a top-up is now. */
export interface Conservation {
  balances: Fen;
  escrow: Fen;
  inTransit: Fen;
  topups: Fen;
}

/** SPEC §8.4: Σ balances + escrow + in transit = Σ top-ups, or a mismatch. */
export function checkConservation(c: Conservation): Mismatch[] {
  const held = c.balances + c.escrow + c.inTransit;
  return held === c.topups ? [] : [{ kind: 'conservation', id: 'platform', detail: `balances ${c.balances} + escrow ${c.escrow} + in transit ${c.inTransit} = ${held} ≠ top-ups ${c.topups}` }];
}
