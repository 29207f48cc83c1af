/**
 * Reconciliation (对账), the pure part: ledger entries, packets and slots in (streamed, one at a
 * time), per-key aggregates kept, mismatches and the platform's money totals out. No I/O and no
 * SDK; store/reconcile.ts reads the items and app/reconcile.ts orchestrates a run.
 *
 * ## Consistency under live traffic: totals as of a cutoff T
 *
 * A scan and the queries after it are no snapshot: an account's ledger is read at one moment,
 * another account's or a packet's slots seconds later, while claims, transfers and refunds go on.
 * So every cross-item comparison and every money total is taken as of a cutoff
 * T = run start − margin (60 s by default, longer than any request function's 6 s timeout):
 * only ledger entries, slots, packets and markers whose operation time `at` ≤ T count.
 *
 * Why that view is consistent: every write of one money operation carries that operation's time,
 * not the time of the write (checked in app/settlement.ts and app/claims.ts):
 *
 *   operation       entries (and records) and the `at` they carry
 *   top-up          topup credit ............................ t.at (record time)
 *   packet create   sender debit −(total+fee), fee credit ... p.createdAt (both)
 *   claim           slot, claim credit ...................... slot.at (the credit copies it;
 *                   the sweeper's and a retry's late credit too); marker.at ≤ slot.at
 *   transfer        payer debit, payee credit ............... t.at (both)
 *   refund          refund credit, packet settledAt ......... the settlement's time (both)
 *
 * An operation is therefore wholly ≤ T or wholly > T, whichever of its writes a read happened to
 * see; and an operation dated ≤ T normally finished writing before the run started (T is older
 * than any request can live), so every read of the run — all after its start — sees all of it.
 * Operations > T are left out on both sides (counted in `entriesAfterCutoff`; the next run
 * covers them). In-flight claims thus never look like a share without credit or a credit
 * without share.
 *
 * The remaining window: a write dated ≤ T that lands after the run started. That only happens
 * when a crashed operation is completed late by a retry or the sweeper (a claim credit or a
 * transfer credit carries its original time; a revived `funding` packet its creation time). If
 * the run read that item before the late write, the operation shows half done: debited and not
 * credited is counted as money *in transit* (no false alarm; a mismatch only after the grace
 * below); the reverse order (credit seen, its slot or debit read earlier and missed) is
 * impossible for claims (the slot is read after the ledgers) and shows for a transfer as a
 * credit without debit until the next run. Runs are hourly; a mismatch that is gone at the next
 * run was this window.
 *
 * Checks of a single item (hash chains, balances, slot amounts, duplicate shares) hold at every
 * moment and do not depend on T.
 *
 * ## Memory
 *
 * Nothing per ledger entry, slot or claim is kept: an account's ledger is walked page by page
 * (one running state), a packet's slots are held only while that packet is checked (≤ its share
 * count, at most 10,000). What stays for the whole run is one small fixed-size aggregate per key:
 * per account (its id), per packet ({@link PacketMoney}: debit, fee, refund, and the claim
 * credits as count + sum + a multiset fingerprint), per transfer and per top-up. So memory is
 * O(accounts + packets + transfers + top-ups) × ~100 bytes, independent of the number of claims
 * and ledger entries, which dominate the table.
 */
import { isTaken, type CounterState } from './share-counters';
import { createHash } from 'node:crypto';
import type { Fen } from './money';
import { LEDGER_GENESIS, ledgerEntryHash, type ChainedEntry } from './ledger-chain';

/** What a mismatch is about. Each names an account, a packet, a transfer or a top-up by id. */
export const MismatchKinds = {
  /** Ledger (id: account): a seq missing, a link or hash broken, a stored balance off. */
  ledger_gap: 'ledger_gap',
  ledger_link: 'ledger_link',
  ledger_hash: 'ledger_hash',
  ledger_balance: 'ledger_balance',
  negative_balance: 'negative_balance',
  /** An entry whose opId and type match no money operation. */
  unknown_op: 'unknown_op',
  /** Packet (id: packet). */
  shares_sum: 'shares_sum',
  share_amount: 'share_amount',
  /**
   * A slot (or a counter's record) its counter never handed out; in the recorded layout also a
   * counter that handed out more shares than it records.
   */
  slot_beyond_counter: 'slot_beyond_counter',
  duplicate_share: 'duplicate_share',
  marker_missing: 'marker_missing',
  shares_exceed_total: 'shares_exceed_total',
  uncredited_share: 'uncredited_share',
  credit_wrong: 'credit_wrong',
  credit_without_share: 'credit_without_share',
  missing_debit: 'missing_debit',
  debit_wrong: 'debit_wrong',
  fee_wrong: 'fee_wrong',
  refund_wrong: 'refund_wrong',
  funding_stuck: 'funding_stuck',
  canceled_debited: 'canceled_debited',
  unrefunded_expired: 'unrefunded_expired',
  /** Ledger entries of a packet that has no packet item. */
  missing_packet: 'missing_packet',
  /** Campaign (id: campaign): its one debit or fee wrong, packets missing, entries without a record. */
  campaign_wrong: 'campaign_wrong',
  /** Transfer (id: transfer). */
  transfer_unmatched: 'transfer_unmatched',
  transfer_stuck: 'transfer_stuck',
  /** Top-up (id: top-up). */
  topup_uncredited: 'topup_uncredited',
  topup_wrong: 'topup_wrong',
  /** Withdrawal (id: withdrawal): a hold or return wrong or twice, entries without a record, a hold not returned. */
  withdrawal_wrong: 'withdrawal_wrong',
  withdrawal_stuck: 'withdrawal_stuck',
  /** Refund to WeChat Pay (id: out_refund_no): wrong amount, credited while not failed, failed and not returned. */
  refund_to_wechatpay_wrong: 'refund_to_wechatpay_wrong',
  /** A record whose state WeChat Pay reports otherwise (id: the record; a payment, refund or withdrawal). */
  wechatpay_state: 'wechatpay_state',
  /** The platform (id: `platform`). */
  conservation: 'conservation',
} as const;
export type MismatchKind = (typeof MismatchKinds)[keyof typeof MismatchKinds];

export interface Mismatch {
  kind: MismatchKind;
  /** The account, packet, transfer or top-up it concerns. */
  id: string;
  detail: string;
}

/** The times of one run. */
export interface ReconcileClock {
  nowMs: number;
  /** Cross-item checks and totals are as of this time (ISO, compared as strings like `at`). */
  cutoffIso: string;
  /** Half-done work older than this is a mismatch, not "in transit" (the sweeper runs every minute). */
  graceMs: number;
  /** An expired packet still active/settling this long after expiry is unrefunded. */
  sweepLagMs: number;
}

/** A ledger entry as reconciliation reads it (the chained fields and the hash). */
export type LedgerLine = ChainedEntry & { hash: string };

// ------------------------------------------------------------------------------------------
// Multiset fingerprints

const FP_MOD = 2 ** 48;

/**
 * A 48-bit hash of a tuple. Sums of these (mod 2^48) fingerprint a multiset, so "the claim
 * credits of a packet are exactly its recorded shares" is one comparison of two numbers per
 * packet, with no list of either side in memory. A false match needs a 2^-48 collision.
 */
export function fingerprint(...parts: Array<string | number>): number {
  return createHash('sha256').update(parts.join('\u0000')).digest().readUIntBE(0, 6);
}
const addFp = (sum: number, fp: number) => (sum + fp) % FP_MOD;

/** Count, sum and fingerprint of a multiset of (account, amount) or accounts. */
export interface Bag {
  count: number;
  sum: Fen;
  fp: number;
}
export const emptyBag = (): Bag => ({ count: 0, sum: 0, fp: 0 });
/** Adds one element (its amount and fingerprint) to a bag. */
export function addToBag(b: Bag, amount: Fen, fp: number): void {
  b.count++;
  b.sum += amount;
  b.fp = addFp(b.fp, fp);
}
const sameBag = (a: Bag, b: Bag) => a.count === b.count && a.sum === b.sum && a.fp === b.fp;

/** A claim credit / recorded share as fingerprinted on both sides. */
export const shareFp = (userId: string, amount: Fen) => fingerprint('share', userId, amount);
/** A claim marker / share holder. */
export const holderFp = (userId: string) => fingerprint('holder', userId);

// ------------------------------------------------------------------------------------------
// Aggregates from the ledgers

/** Entries of one operation on one side: how many (1 when sound), their sum, the first `at`. */
export interface Side {
  count: number;
  amount: Fen;
  at: string;
}

/** What the ledgers hold about one packet, as of T. */
export interface PacketMoney {
  debit?: Side;
  fee?: Side;
  refund?: Side;
  /** Claim credits of this packet (any account): (claimer, amount) multiset. */
  credits: Bag;
}

/** What the ledgers hold about one campaign (its one debit and one fee credit), as of T. */
export interface CampaignMoney {
  debit?: Side;
  fee?: Side;
}

export interface TransferMoney {
  debit?: Side;
  credit?: Side;
}

/** A top-up record as stored (TOPUP#<id>). */
export interface TopupFact {
  userId: string;
  amount: Fen;
  state: string;
  at: string;
}

export interface TopupMoney {
  credit?: Side & { userId: string };
  record?: TopupFact;
}

function addSide(side: Side | undefined, amount: Fen, at: string): Side {
  return side ? { count: side.count + 1, amount: side.amount + amount, at: side.at } : { count: 1, amount, at };
}

const after = (opId: string, prefix: string) => (opId.startsWith(prefix) ? opId.slice(prefix.length) : undefined);

/**
 * The cross-account aggregates of one run, fed by {@link LedgerWalk}s (one per account) and
 * consumed by the packet, transfer and top-up checks.
 */
export class MoneyFacts {
  readonly packets = new Map<string, PacketMoney>();
  readonly campaigns = new Map<string, CampaignMoney>();
  readonly transfers = new Map<string, TransferMoney>();
  readonly topups = new Map<string, TopupMoney>();
  readonly withdrawals = new Map<string, WithdrawalMoney>();
  /** Σ amounts of every entry with at ≤ T (the fee ledgers: only in-scope fees). */
  balances: Fen = 0;
  /** Σ top-up credits with at ≤ T (conservation takes the top-ups from checkTopups). */
  topupsIn: Fen = 0;
  entries = 0;
  entriesAfterCutoff = 0;
  readonly mismatches: Mismatch[] = [];

  constructor(
    readonly cutoffIso: string,
    /** A scoped run: only fee entries of these packets count (the fee ledgers are shared). */
    readonly feeScope?: ReadonlySet<string>,
  ) {}

  withdrawal(id: string): WithdrawalMoney {
    let m = this.withdrawals.get(id);
    if (!m) this.withdrawals.set(id, (m = {}));
    return m;
  }

  packet(id: string): PacketMoney {
    let m = this.packets.get(id);
    if (!m) this.packets.set(id, (m = { credits: emptyBag() }));
    return m;
  }

  /**
   * Whether an entry belongs to this run (a scoped run reads the shared fee ledgers whole). The
   * fee account is spread over several ledgers (shards): a packet's fee is aggregated by its
   * opId whichever shard holds it, so a fee credited on two shards counts twice (fee_wrong).
   */
  inScope(e: LedgerLine): boolean {
    return !this.feeScope || e.type !== 'fee' || this.feeScope.has(after(e.opId, 'fee:') ?? '');
  }

  /** Adds one entry (at ≤ T) of `accountId` to the aggregates. */
  add(accountId: string, e: LedgerLine): void {
    if (!this.inScope(e)) return;
    this.balances += e.amount;
    let id: string | undefined;
    const wrong = (): void => {
      this.mismatches.push({
        kind: 'unknown_op',
        id: accountId,
        detail: `entry ${e.seq}: ${e.type} ${e.amount} for operation ${e.opId}`,
      });
    };
    if ((id = after(e.opId, 'topup:')) !== undefined) {
      if (e.type !== 'topup' || e.amount <= 0) {
        wrong();
        return;
      }
      this.topupsIn += e.amount;
      const t = this.topups.get(id) ?? {};
      const credit = addSide(t.credit, e.amount, e.at);
      this.topups.set(id, { ...t, credit: { ...credit, userId: t.credit?.userId ?? accountId } });
    } else if ((id = after(e.opId, 'claim:')) !== undefined) {
      if (e.type !== 'claim_credit' || e.amount <= 0) {
        wrong();
        return;
      }
      addToBag(this.packet(id).credits, e.amount, shareFp(accountId, e.amount));
    } else if ((id = after(e.opId, 'camp:')) !== undefined) {
      if (e.type !== 'packet_debit' || e.amount >= 0) {
        wrong();
        return;
      }
      const c = this.campaigns.get(id) ?? {};
      this.campaigns.set(id, { ...c, debit: addSide(c.debit, e.amount, e.at) });
    } else if ((id = after(e.opId, 'wd:')) !== undefined) {
      if (e.type !== 'withdrawal_debit' || e.amount >= 0) {
        wrong();
        return;
      }
      const m = this.withdrawal(id);
      m.hold = { ...addSide(m.hold, e.amount, e.at), userId: m.hold?.userId ?? accountId };
    } else if ((id = after(e.opId, 'wdret:')) !== undefined) {
      if (e.type !== 'withdrawal_return' || e.amount <= 0) {
        wrong();
        return;
      }
      const m = this.withdrawal(id);
      m.ret = addSide(m.ret, e.amount, e.at);
    } else if ((id = after(e.opId, 'fee:wd:')) !== undefined) {
      if (e.type !== 'fee' || e.amount <= 0) {
        wrong();
        return;
      }
      const m = this.withdrawal(id);
      m.fee = addSide(m.fee, e.amount, e.at);
    } else if ((id = after(e.opId, 'fee:camp:')) !== undefined) {
      if (e.type !== 'fee' || e.amount <= 0) {
        wrong();
        return;
      }
      const c = this.campaigns.get(id) ?? {};
      this.campaigns.set(id, { ...c, fee: addSide(c.fee, e.amount, e.at) });
    } else if ((id = after(e.opId, 'pkt:')) !== undefined) {
      if (e.type !== 'packet_debit' || e.amount >= 0) {
        wrong();
        return;
      }
      const m = this.packet(id);
      m.debit = addSide(m.debit, e.amount, e.at);
    } else if ((id = after(e.opId, 'fee:')) !== undefined) {
      if (e.type !== 'fee' || e.amount <= 0) {
        wrong();
        return;
      }
      const m = this.packet(id);
      m.fee = addSide(m.fee, e.amount, e.at);
    } else if ((id = after(e.opId, 'refund:')) !== undefined) {
      if (e.type !== 'refund_credit' || e.amount <= 0) {
        wrong();
        return;
      }
      const m = this.packet(id);
      m.refund = addSide(m.refund, e.amount, e.at);
    } else if ((id = after(e.opId, 'xfer:')) !== undefined) {
      const t = this.transfers.get(id) ?? {};
      if (e.type === 'transfer_debit' && e.amount < 0) t.debit = addSide(t.debit, e.amount, e.at);
      else if (e.type === 'transfer_credit' && e.amount > 0) t.credit = addSide(t.credit, e.amount, e.at);
      else {
        wrong();
        return;
      }
      this.transfers.set(id, t);
    } else wrong();
  }
}

/**
 * One account's ledger, fed oldest first: dense seqs from 1, each link and hash
 * (domain/ledger-chain, the same rules as verifyLedgerChain), each stored balance = the
 * recomputed one, never negative. Memory: the running state only. The first break names the
 * account (later ones usually follow from it); the entries still feed the aggregates.
 */
export class LedgerWalk {
  private seq = 0;
  private prevHash = LEDGER_GENESIS;
  /** Recomputed from the amounts, never taken from the stored `balance`. */
  private balance: Fen = 0;
  private broken = false;
  readonly mismatches: Mismatch[] = [];

  constructor(
    readonly accountId: string,
    private readonly facts: MoneyFacts,
  ) {}

  private fail(kind: MismatchKind, detail: string) {
    if (this.broken) return;
    this.broken = true;
    this.mismatches.push({ kind, id: this.accountId, detail });
  }

  push(e: LedgerLine): void {
    this.facts.entries++;
    const expected = this.balance + e.amount;
    if (e.seq !== this.seq + 1) this.fail('ledger_gap', `entry ${this.seq + 1} missing (the next stored is ${e.seq})`);
    // Balance before hash: an edited balance also breaks the hash, but "balance" says what changed.
    else if (e.balance !== expected)
      this.fail('ledger_balance', `entry ${e.seq}: stored balance ${e.balance}, recomputed ${expected}`);
    else if (e.prevHash !== this.prevHash)
      this.fail('ledger_link', `entry ${e.seq} does not link to entry ${this.seq}`);
    else if (ledgerEntryHash(e) !== e.hash) this.fail('ledger_hash', `entry ${e.seq}: hash does not match its fields`);
    if (expected < 0) this.fail('negative_balance', `entry ${e.seq}: balance ${expected}`);
    this.seq = e.seq;
    this.prevHash = e.hash;
    this.balance = expected;
    if (e.at > this.facts.cutoffIso) {
      if (this.facts.inScope(e)) this.facts.entriesAfterCutoff++;
    } else this.facts.add(this.accountId, e);
  }

  /** The balance recomputed from every entry read (compare with the newest stored one). */
  get recomputed(): Fen {
    return this.balance;
  }
}

// ------------------------------------------------------------------------------------------
// Packets

/** The packet item's fields reconciliation uses. */
export interface PacketFacts {
  id: string;
  senderId: string;
  total: Fen;
  count: number;
  fee: Fen;
  state: string;
  /** Shares taken (sharded packets: Σ over the counters). */
  claimed: number;
  /** Packets of > 100 shares: their counters, read after the slots. */
  counters?: readonly CounterState[] | undefined;
  /**
   * Recorded layout: each counter records its takers, so the slots are those records (read
   * with the counters, in one read) and a claim has a marker only when its home counter was
   * full — the records themselves are the one-per-account gate.
   */
  recorded?: boolean | undefined;
  createdAt: string;
  expiresAtMs: number;
  refundedAmount?: Fen | undefined;
  settledAt?: string | undefined;
  /** A packet paid directly: its refund to the WeChat Pay payment, if settlement made one. */
  refund?: RefundFact | undefined;
}

/** A refund to WeChat Pay as stored (RFD#<out_refund_no>). */
export interface RefundFact {
  id: string;
  amount: Fen;
  state: string;
  createdAt: string;
  finishedAt?: string | undefined;
}

export interface SlotFact {
  index: number;
  userId: string;
  amount: Fen;
  at: string;
  void?: boolean | undefined;
  /**
   * Recorded layout: why the account's entry on its counter resolves to no record (a position
   * out of the range or past the records). Reported, and counts as no share.
   */
  broken?: string | undefined;
}

/** One packet as read: the item, its share amounts (undefined: no SHARES item) and its slots. */
export interface PacketInput {
  packet: PacketFacts;
  shares: readonly Fen[] | undefined;
  slots: readonly SlotFact[];
}

/** Point reads done only when an aggregate comparison failed (see {@link lookupsNeeded}). */
export interface Lookups {
  /** Holders of the granted shares dated ≤ T whose claim marker exists. */
  markers?: ReadonlySet<string>;
  /** Per holder of a granted share dated ≤ T: that account's `claim:<packet>` entries. */
  credits?: ReadonlyMap<string, { count: number; amount: Fen }>;
}

/** The granted shares dated ≤ T (what the claim credits as of T must equal). */
export const oldGranted = (slots: readonly SlotFact[], T: string) =>
  slots.filter((s) => !s.void && !s.broken && s.at <= T);

/**
 * Which point reads a packet needs. Normally none: the claim credits the ledgers hold for it
 * (as of T) equal its recorded shares (as of T) as multisets, and — in a whole-table run — the
 * markers the scan saw equal the share holders. Only a difference (a crash, a bug, tampering, a
 * stray marker of a refused claim) costs reads, and then only for this packet's shares.
 */
export function lookupsNeeded(
  input: PacketInput,
  money: PacketMoney | undefined,
  markers: Bag | undefined,
  cutoffIso: string,
): { markers: boolean; credits: boolean } {
  const shares = emptyBag();
  const holders = emptyBag();
  for (const s of oldGranted(input.slots, cutoffIso)) {
    addToBag(shares, s.amount, shareFp(s.userId, s.amount));
    addToBag(holders, 0, holderFp(s.userId));
  }
  return {
    markers: input.packet.recorded !== true && (!markers || !sameBag(markers, holders)),
    credits: !sameBag(money?.credits ?? emptyBag(), shares),
  };
}

export interface PacketOutcome {
  mismatches: Mismatch[];
  /** Money of this packet held for claimers as of T: total − granted − refunded. */
  escrow: Fen;
  /** Shares recorded by T whose credit the ledgers did not hold at T. */
  sharesInTransit: Fen;
  /** Fee debited by T and not credited to the fee account by T. */
  feeInTransit: Fen;
  /** Shares uncredited longer than the grace on a packet not yet due for settlement (not a mismatch). */
  staleShares: number;
  /** Its refund to WeChat Pay: requested and not final (or failed and not yet on the balance) as of T. */
  refundInTransit: Fen;
  /** Its refund WeChat Pay paid back (the money left the platform). */
  refundPaidOut: Fen;
}

/**
 * The money rules for one packet: shares sum to the total (each ≥ 1 fen, one per share), each slot's
 * amount is its share, one share per account with its claim marker, Σ granted ≤ total, every
 * granted share credited exactly once with its amount, settled ⇒ refunded = total − Σ granted
 * and exactly one refund credit of it, claimed + refunded + remaining = total, the sender debited
 * total + fee and the fee credited once, an expired packet settled within the sweep lag.
 */
export function checkPacket(
  input: PacketInput,
  money: PacketMoney | undefined,
  lookups: Lookups,
  clock: ReconcileClock,
): PacketOutcome {
  const { packet: p, shares, slots } = input;
  const T = clock.cutoffIso;
  const out: Mismatch[] = [];
  const bad = (kind: MismatchKind, detail: string) => out.push({ kind, id: p.id, detail });
  const createdByT = p.createdAt <= T;

  if (shares === undefined) bad('shares_sum', 'no SHARES item');
  else {
    const sum = shares.reduce((a, x) => a + x, 0);
    if (shares.length !== p.count || sum !== p.total || shares.some((x) => !Number.isSafeInteger(x) || x < 1)) {
      bad('shares_sum', `${shares.length} shares summing to ${sum}, want ${p.count} summing to ${p.total}, each ≥ 1`);
    }
  }

  // Per slot (no time dependence: slots are immutable once written, and were read before the
  // packet item, so `claimed` is at least every index seen).
  const holders = new Set<string>();
  const indexes = new Set<number>();
  let grantedAll = 0;
  for (const s of slots) {
    if (s.broken) {
      bad('slot_beyond_counter', `account ${s.userId}: ${s.broken}`);
      continue;
    }
    if (p.counters ? !isTaken(p.counters, s.index) : s.index >= p.claimed)
      bad('slot_beyond_counter', `slot ${s.index} but ${p.claimed} taken of ${p.count}`);
    else if (s.index >= p.count) bad('slot_beyond_counter', `slot ${s.index} of ${p.count} shares`);
    if (s.void) continue;
    // One share, one holder: a slot item is keyed by its index, but a counter's records map
    // accounts to positions, so two accounts on one position is a share granted twice.
    if (indexes.has(s.index)) bad('duplicate_share', `share ${s.index} held by two accounts (${s.userId} too)`);
    indexes.add(s.index);
    if (holders.has(s.userId)) bad('duplicate_share', `account ${s.userId} holds two shares (slot ${s.index})`);
    holders.add(s.userId);
    if (shares && shares[s.index] !== s.amount)
      bad('share_amount', `slot ${s.index}: ${s.amount}, share is ${shares[s.index]}`);
    grantedAll += s.amount;
  }
  if (grantedAll > p.total) bad('shares_exceed_total', `granted ${grantedAll} > total ${p.total}`);
  // Recorded layout: a counter's count and its records change in one write, and were read in
  // one read, so every share it handed out has its record — at every moment, not only as of T
  // (the slots layout's taken-but-unrecorded indexes, claims in flight or crashed, do not exist).
  if (p.recorded && p.counters) {
    for (const c of p.counters) {
      const taken = Math.min(c.claimed, c.size);
      let unrecorded = 0;
      for (let i = c.start; i < c.start + taken; i++) if (!indexes.has(i)) unrecorded++;
      if (unrecorded > 0)
        bad(
          'slot_beyond_counter',
          `counter ${c.counter} handed out ${taken} shares, ${unrecorded} of them with no record`,
        );
    }
  }

  // Shares dated ≤ T against markers and credits (the ledgers were read after T).
  const old = oldGranted(slots, T);
  const grantedOld = old.reduce((a, s) => a + s.amount, 0);
  const credits = money?.credits ?? emptyBag();
  const settledByT = p.state === 'settled' && (p.settledAt ?? '') <= T;
  // Settlement credits every recorded share before it settles, with the share's own (old) time:
  // settled by T, a missing credit is lost money; settled after T, that credit may have landed
  // after this run read the ledger — the next run judges it.
  const overdue = p.state !== 'settled' && clock.nowMs - p.expiresAtMs > clock.sweepLagMs;
  let staleShares = 0;
  if (lookups.markers) {
    for (const s of old)
      if (!lookups.markers.has(s.userId)) bad('marker_missing', `slot ${s.index} of ${s.userId} has no claim marker`);
  }
  if (lookups.credits) {
    let matched = 0;
    for (const s of old) {
      const c = lookups.credits.get(s.userId);
      if (!c || c.count === 0) {
        // In transit: the user's retry or, at the latest, the settlement credits it.
        const stale = clock.nowMs - Date.parse(s.at) > clock.graceMs;
        if (settledByT || (stale && overdue)) {
          bad('uncredited_share', `slot ${s.index} of ${s.userId} (${s.amount}) recorded ${s.at}, never credited`);
        } else if (stale) staleShares++;
        continue;
      }
      matched += c.count;
      if (c.count !== 1 || c.amount !== s.amount)
        bad(
          'credit_wrong',
          `slot ${s.index} of ${s.userId}: credited ${c.count}× totalling ${c.amount}, want once ${s.amount}`,
        );
    }
    if (credits.count > matched)
      bad(
        'credit_without_share',
        `${credits.count - matched} claim credit(s) with no recorded share (credits: ${credits.count} totalling ${credits.sum}; shares: ${old.length} totalling ${grantedOld})`,
      );
  }

  // The sender's debit and the fee (both dated createdAt).
  const debit = money?.debit;
  const funded = p.state === 'active' || p.state === 'settling' || p.state === 'settled';
  if (debit) {
    if (debit.count !== 1 || debit.amount !== -(p.total + p.fee))
      bad('debit_wrong', `debited ${debit.count}× totalling ${debit.amount}, want once ${-(p.total + p.fee)}`);
  } else if (createdByT && funded) bad('missing_debit', `${p.state} without a debit`);
  const stale = (at: string) => clock.nowMs - Date.parse(at) > clock.graceMs;
  if (debit && p.state === 'funding' && stale(p.createdAt))
    bad('funding_stuck', `debited at ${p.createdAt}, still funding`);
  if (debit && p.state === 'canceled' && stale(p.createdAt))
    bad('canceled_debited', `debited ${-debit.amount} at ${p.createdAt}, canceled`);
  let feeInTransit = 0;
  const fee = money?.fee;
  if (fee && (fee.count !== 1 || fee.amount !== p.fee))
    bad('fee_wrong', `fee credited ${fee.count}× totalling ${fee.amount}, want once ${p.fee}`);
  if (debit && p.fee > 0 && !fee) {
    feeInTransit = p.fee;
    // The fee is credited before the packet is activated.
    if (funded || stale(p.createdAt)) bad('fee_wrong', `fee ${p.fee} debited, never credited`);
  }

  // The refund (dated settledAt), exactly once, of exactly the rest.
  // A packet settled after T is checked by the next run: its last slots may have landed between
  // this run's read of the slots and of the packet.
  const refund = money?.refund;
  if (refund && refund.count !== 1) bad('refund_wrong', `refunded ${refund.count} times`);
  // A refund to WeChat Pay (dated like the settlement) takes the remainder out of the escrow
  // itself; a credit then exists only if WeChat could not pay it and it fell back to the balance.
  const wx = p.refund && p.refund.createdAt <= T ? p.refund : undefined;
  const refundedOut = wx ? wx.amount : (refund?.amount ?? 0);
  let refundInTransit = 0;
  let refundPaidOut = 0;
  if (wx) {
    const wrong = (detail: string) => out.push({ kind: 'refund_to_wechatpay_wrong', id: wx.id, detail });
    if (refund && wx.state !== 'failed') wrong(`credited ${refund.amount} to the balance but ${wx.state}`);
    if (refund && refund.amount !== wx.amount) wrong(`credited ${refund.amount} of a refund of ${wx.amount}`);
    refundPaidOut = wx.state === 'success' ? wx.amount : 0;
    refundInTransit = wx.amount - refundPaidOut - (refund?.amount ?? 0);
    if (wx.state === 'failed' && !refund && wx.finishedAt && clock.nowMs - Date.parse(wx.finishedAt) > clock.graceMs)
      wrong(`failed at ${wx.finishedAt}, ${wx.amount} never returned to the balance`);
  }
  if (settledByT) {
    const want = p.total - grantedAll;
    if ((p.refundedAmount ?? 0) !== want)
      bad(
        'refund_wrong',
        `packet says refunded ${p.refundedAmount ?? 0}, want total ${p.total} − granted ${grantedAll} = ${want}`,
      );
    if (refundedOut !== (p.refundedAmount ?? 0))
      bad(
        'refund_wrong',
        `refund ${wx ? 'to WeChat Pay' : 'credit'} ${refundedOut}, packet says ${p.refundedAmount ?? 0}`,
      );
  } else if (refund && !wx && p.state !== 'settling' && p.state !== 'settled')
    bad('refund_wrong', `refund of ${refund.amount} credited while ${p.state}`);
  const refunded = settledByT ? (p.refundedAmount ?? 0) : refundedOut;
  // claimed + refunded + remaining = total, remaining ≥ 0 (and 0 once settled, above).
  if (grantedAll + refunded > p.total)
    bad('shares_exceed_total', `granted ${grantedAll} + refunded ${refunded} > total ${p.total}`);

  if ((p.state === 'active' || p.state === 'settling') && clock.nowMs - p.expiresAtMs > clock.sweepLagMs) {
    bad('unrefunded_expired', `expired ${new Date(p.expiresAtMs).toISOString()}, still ${p.state}`);
  }

  // In transit is what was recorded and not yet credited — never negative: credits beyond the
  // shares are money no share accounts for, and must show in conservation, not cancel there.
  const escrow = debit ? p.total - grantedOld - refundedOut : 0;
  return {
    mismatches: out,
    escrow,
    sharesInTransit: Math.max(0, grantedOld - credits.sum),
    feeInTransit,
    staleShares,
    refundInTransit,
    refundPaidOut,
  };
}

/**
 * Ledger aggregates of packets no packet item was found for (a whole-table run: every packet
 * created by T was there when the scan ran).
 */
export function missingPackets(facts: MoneyFacts, checked: ReadonlySet<string>): Mismatch[] {
  const out: Mismatch[] = [];
  for (const [id, m] of facts.packets) {
    if (checked.has(id)) continue;
    const parts = [
      m.debit && `debit ${m.debit.amount}`,
      m.fee && `fee ${m.fee.amount}`,
      m.refund && `refund ${m.refund.amount}`,
      m.credits.count && `${m.credits.count} claim credit(s) ${m.credits.sum}`,
    ];
    out.push({
      kind: 'missing_packet',
      id,
      detail: `ledger entries (${parts.filter(Boolean).join(', ')}) of a packet that does not exist`,
    });
  }
  return out;
}

// ------------------------------------------------------------------------------------------
// Campaigns: one debit and one fee credit fund all of a campaign's packets.

/**
 * A campaign packet's share of its campaign's debit and fee, in the shape {@link checkPacket}
 * checks (so every per-packet rule — escrow, refund, fee in transit — applies unchanged). A
 * duplicated campaign debit is reported once, by {@link checkCampaign}, not once per packet.
 */
export function campaignPacketMoney(
  c: CampaignMoney | undefined,
  p: { total: Fen; fee: Fen },
): { debit?: Side; fee?: Side } {
  return {
    ...(c?.debit ? { debit: { count: 1, amount: -(p.total + p.fee), at: c.debit.at } } : {}),
    ...(c?.fee && p.fee > 0 ? { fee: { count: 1, amount: p.fee, at: c.fee.at } } : {}),
  };
}

/** The campaign record's fields reconciliation uses. */
export interface CampaignFacts {
  id: string;
  quantity: number;
  total: Fen;
  feePerPacket: Fen;
  debit: Fen;
  state: string;
  createdAt: string;
}

/**
 * One campaign: its debit is exactly quantity × (total + fee), once; its fee once; an active
 * campaign has all its packets; money debited for packets not written yet is in transit while
 * the request (or the sweeper) can still write them, then a mismatch.
 */
export function checkCampaign(
  id: string,
  rec: CampaignFacts | undefined,
  money: CampaignMoney | undefined,
  packetsSeen: number,
  clock: ReconcileClock,
): { mismatches: Mismatch[]; inTransit: Fen } {
  const out: Mismatch[] = [];
  const bad = (detail: string) => out.push({ kind: 'campaign_wrong', id, detail });
  if (!rec) {
    if (money?.debit || money?.fee)
      bad(
        `ledger entries (debit ${money.debit?.amount ?? 0}, fee ${money.fee?.amount ?? 0}) of a campaign that does not exist`,
      );
    return { mismatches: out, inTransit: 0 };
  }
  const fees = rec.feePerPacket * rec.quantity;
  const debit = money?.debit;
  if (debit && (debit.count !== 1 || debit.amount !== -rec.debit))
    bad(`debited ${debit.count}× totalling ${debit.amount}, want once ${-rec.debit}`);
  if (money?.fee && (money.fee.count !== 1 || money.fee.amount !== fees))
    bad(`fee credited ${money.fee.count}× totalling ${money.fee.amount}, want once ${fees}`);
  const stale = clock.nowMs - Date.parse(rec.createdAt) > clock.graceMs;
  if (rec.state === 'active' && packetsSeen < rec.quantity)
    bad(`active with ${packetsSeen} of ${rec.quantity} packets`);
  if (debit && rec.state === 'funding' && stale)
    bad(`debited at ${rec.createdAt}, still funding with ${packetsSeen} of ${rec.quantity} packets`);
  if (debit && rec.state === 'canceled') bad(`debited ${-debit.amount}, canceled`);
  if (!debit && rec.state === 'active' && rec.createdAt <= clock.cutoffIso) bad('active without its debit');
  // Debited for packets not yet written: in transit (the retry or the sweeper writes them) —
  // their totals, and their fees too while the fee credit is not in (written packets count
  // their own fee in transit then, in checkPacket).
  const missing = Math.max(0, rec.quantity - packetsSeen);
  const unwritten = missing * rec.total + (money?.fee ? 0 : missing * rec.feePerPacket);
  return { mismatches: out, inTransit: debit && debit.count === 1 ? unwritten : 0 };
}

// ------------------------------------------------------------------------------------------
// Transfers and top-ups

/** Transfers: one debit, one equal credit; a debit alone is in transit, then stuck. */
export function checkTransfers(facts: MoneyFacts, clock: ReconcileClock): { mismatches: Mismatch[]; inTransit: Fen } {
  const out: Mismatch[] = [];
  let inTransit = 0;
  for (const [id, t] of facts.transfers) {
    const { debit, credit } = t;
    // Only a debit with no credit at all is in transit; a wrong credit is a mismatch and its
    // difference shows in conservation.
    if (debit && !credit) inTransit -= debit.amount;
    if (!debit)
      out.push({ kind: 'transfer_unmatched', id, detail: `credited ${credit!.amount} at ${credit!.at} with no debit` });
    else if (!credit) {
      if (clock.nowMs - Date.parse(debit.at) > clock.graceMs)
        out.push({ kind: 'transfer_stuck', id, detail: `debited ${-debit.amount} at ${debit.at}, never credited` });
    } else if (debit.count !== 1 || credit.count !== 1 || credit.amount !== -debit.amount) {
      out.push({
        kind: 'transfer_unmatched',
        id,
        detail: `debited ${debit.count}× ${debit.amount}, credited ${credit.count}× ${credit.amount}`,
      });
    }
  }
  return { mismatches: out, inTransit };
}

/**
 * Top-ups: each credit belongs to a top-up record of the same account and amount that was not
 * canceled, and lands once; each completed record dated ≤ T has its credit (the only way to
 * notice a deleted newest ledger entry, which leaves every chain intact). Returns the money that
 * came in as of T, by the records where they exist (what the provider was paid), else by the
 * credits.
 */
export function checkTopups(facts: MoneyFacts, clock: ReconcileClock): { mismatches: Mismatch[]; total: Fen } {
  const out: Mismatch[] = [];
  let total = 0;
  for (const [id, t] of facts.topups) {
    const { credit, record } = t;
    if (!credit) {
      if (record && record.state === 'done' && record.at <= clock.cutoffIso) {
        // Paid by the provider (the record says so), so it counts as money in — and a wallet
        // lacks it, which conservation shows as well.
        total += record.amount;
        out.push({
          kind: 'topup_uncredited',
          id,
          detail: `top-up of ${record.amount} to ${record.userId} done, no wallet credit`,
        });
      }
      continue;
    }
    total += record && record.state !== 'canceled' ? record.amount : credit.amount;
    if (credit.count !== 1) out.push({ kind: 'topup_wrong', id, detail: `credited ${credit.count} times` });
    if (!record)
      out.push({
        kind: 'topup_wrong',
        id,
        detail: `credit of ${credit.amount} to ${credit.userId} without a top-up record`,
      });
    else if (record.userId !== credit.userId || record.amount * credit.count !== credit.amount) {
      out.push({
        kind: 'topup_wrong',
        id,
        detail: `record ${record.amount} for ${record.userId}, credit ${credit.amount} to ${credit.userId}`,
      });
    } else if (record.state === 'canceled' && clock.nowMs - Date.parse(credit.at) > clock.graceMs) {
      out.push({ kind: 'topup_wrong', id, detail: `credited ${credit.amount} but the top-up is canceled` });
    }
  }
  return { mismatches: out, total };
}

// ------------------------------------------------------------------------------------------
// Withdrawals

/** A withdrawal record as stored (WD#<id>). */
export interface WithdrawalFact {
  userId: string;
  amount: Fen;
  fee: Fen;
  state: string;
  returned: boolean;
  finishedAt?: string;
}

/** A withdrawal's ledger entries dated ≤ T: the hold, its return, the fee kept on success. */
export interface WithdrawalMoney {
  hold?: Side & { userId: string };
  ret?: Side;
  fee?: Side;
  record?: WithdrawalFact;
}

/**
 * Withdrawals: a hold of amount + fee from the record's account, at most one return of exactly
 * the hold (only for failed or canceled ones), at most one fee credit (success only). A hold
 * neither returned nor paid out is money in transit to WeChat Pay; a success (by its record) is
 * paid out — the money left the platform. Only holds dated ≤ T count, so the totals stay
 * as-of-T whatever the record says now: in transit = held − returned − fee − paid out.
 */
export function checkWithdrawals(
  facts: MoneyFacts,
  clock: ReconcileClock,
): { mismatches: Mismatch[]; inTransit: Fen; paidOut: Fen } {
  const out: Mismatch[] = [];
  let inTransit = 0;
  let paidOut = 0;
  for (const [id, m] of facts.withdrawals) {
    const { hold, ret, fee, record } = m;
    const wrong = (detail: string) => out.push({ kind: 'withdrawal_wrong', id, detail });
    if (!hold) {
      if (ret) wrong(`returned ${ret.amount} at ${ret.at} without a hold`);
      if (fee) wrong(`fee ${fee.amount} kept without a hold`);
      continue;
    }
    const held = -hold.amount;
    if (!record) wrong(`hold of ${held} from ${hold.userId} without a withdrawal record`);
    if (hold.count !== 1 || (ret && ret.count !== 1) || (fee && fee.count !== 1))
      wrong(`applied more than once (holds ${hold.count}, returns ${ret?.count ?? 0}, fees ${fee?.count ?? 0})`);
    else if (record && (record.userId !== hold.userId || held !== record.amount + record.fee))
      wrong(`held ${held} from ${hold.userId}, record ${record.amount} + fee ${record.fee} for ${record.userId}`);
    else if (ret && ret.amount !== held) wrong(`returned ${ret.amount} of a hold of ${held}`);
    if (ret && record && record.state !== 'failed' && record.state !== 'canceled')
      wrong(`returned but ${record.state}`);
    if (fee && record && record.state !== 'success') wrong(`fee kept but ${record.state}`);
    const out_ = record?.state === 'success' ? record.amount : 0;
    paidOut += out_;
    const transit = held - (ret?.amount ?? 0) - (fee?.amount ?? 0) - out_;
    inTransit += transit;
    if (
      record &&
      !ret &&
      (record.state === 'failed' || record.state === 'canceled') &&
      record.finishedAt &&
      clock.nowMs - Date.parse(record.finishedAt) > clock.graceMs
    ) {
      out.push({
        kind: 'withdrawal_stuck',
        id,
        detail: `${record.state} at ${record.finishedAt}, hold of ${held} never returned`,
      });
    }
  }
  return { mismatches: out, inTransit, paidOut };
}

// ------------------------------------------------------------------------------------------
// Conservation

/** The platform's money as of T: where every fen that came in by a top-up is now. */
export interface Conservation {
  /** Σ ledger amounts dated ≤ T (every wallet and every fee ledger shard). */
  balances: Fen;
  /** Σ over funded packets of total − granted − refunded. */
  escrow: Fen;
  /** Shares recorded not credited, transfers debited not credited, fees debited not credited. */
  inTransit: { shares: Fen; transfers: Fen; fees: Fen; campaigns: Fen; withdrawals?: Fen; refunds?: Fen };
  topups: Fen;
  /** Withdrawals WeChat Pay paid out and refunds it paid back (they left the platform). */
  paidOut?: Fen;
}

/** Conservation (docs/rules.md): Σ balances + escrow + in transit = Σ top-ups, to the fen. */
export function checkConservation(c: Conservation): Mismatch[] {
  const transit =
    c.inTransit.shares +
    c.inTransit.transfers +
    c.inTransit.fees +
    c.inTransit.campaigns +
    (c.inTransit.withdrawals ?? 0) +
    (c.inTransit.refunds ?? 0);
  const held = c.balances + c.escrow + transit;
  // Money in, less what left through withdrawals.
  const kept = c.topups - (c.paidOut ?? 0);
  return held === kept
    ? []
    : [
        {
          kind: 'conservation',
          id: 'platform',
          detail: `balances ${c.balances} + escrow ${c.escrow} + in transit ${transit} = ${held} ≠ top-ups ${c.topups} − paid out ${c.paidOut ?? 0} (off by ${held - kept})`,
        },
      ];
}
