import type { Fen } from '../domain/money';
import { Keys, parseSeqKey, seqKey } from './keys';
import { LEDGER_GENESIS, LedgerTypes, ledgerEntryHash, type LedgerType } from '../domain/ledger-chain';
import { queryAll, type Db, type Item } from './db';
import { pageCursorOf, startKeyOf } from './page-cursor';

export { LedgerTypes, type LedgerType };

/** Ledger entries one read of the received list evaluates per Query page, and pages per call. */
const RECEIVED_PAGE = 100;
const RECEIVED_MAX_PAGES = 5;

/** The state of a wallet after an entry: the ledger's newest entry *is* the wallet. */
export interface WalletState {
  seq: number;
  balance: Fen;
  /**
   * The latest UTC+8 day any debit was counted into, and that day's total. Never moves
   * backwards along the ledger: a debit dated an earlier day leaves both unchanged (it carries
   * its own day's figure in `lateDay` / `lateSent` instead).
   */
  sentDay: string;
  sentToday: Fen;
  /** UTC+8 day of `wdToday`; absent until the account's first withdrawal. */
  wdDay?: string;
  /** Withdrawn (held for withdrawals, less those returned) in `wdDay`. */
  wdToday?: Fen;
  /** Hash of the newest entry: the next entry links to it (see domain/ledger-chain). */
  hash: string;
  /**
   * The per-minute claim count (the claim rate limit), carried like `sentToday`: the clock
   * minute (its start, epoch ms) the latest claim credited by a claim request was counted into,
   * and how many were counted into it. Absent until the account's first such claim.
   */
  claimMin?: number;
  claimN?: number;
}

export interface LedgerEntry extends WalletState {
  prevHash: string;
  userId: string;
  /** The money operation this entry belongs to; at most one entry per (account, opId). */
  opId: string;
  type: LedgerType;
  /** Signed change of the balance, fee included. */
  amount: Fen;
  /** Part of a packet_debit that is the platform fee (shown as its own line). */
  fee?: Fen;
  ref: string;
  at: string;
  packetId?: string;
  /**
   * Only on a late debit (dated before `sentDay`): the earlier day it was counted into, and that
   * day's total including it. {@link DynamoWalletStore.append} reads these back for the next
   * late debit of the same day.
   */
  lateDay?: string;
  lateSent?: Fen;
  /** See {@link AppendRequest.slotIndex}. */
  slotIndex?: number;
}

export interface AppendRequest {
  opId: string;
  type: LedgerType;
  /** Signed change of the balance. Debits may not take the balance below zero. */
  amount: Fen;
  fee?: Fen;
  ref: string;
  at: string;
  packetId?: string;
  /**
   * Counts `amount` into the sender's UTC+8 `day` (the day the operation started, which may be
   * before the day of the ledger's newest debit) and refuses if that day's total would pass `limit`.
   */
  daily?: { amount: Fen; limit: Fen; day: string };
  /**
   * Counts `amount` (positive: a hold; negative: a return) into the account's withdrawals of the
   * UTC+8 `day` and refuses a hold past `limit`. A return counted on another day than the
   * counter's changes nothing (that day is over).
   */
  withdrawal?: { amount: Fen; limit: Fen; day: string };
  /**
   * Counts this credit into the account's claims of the clock minute starting at `claimMinute`
   * (epoch ms): the claim rate limit's count rides on the entry the claim writes anyway.
   */
  claimMinute?: number;
  /**
   * Claim credits (sharded packets): the share index the claim's slot holds, so the account's
   * slot is found from its credit (see app/claims.ts). A locator only: not part of the hash.
   */
  slotIndex?: number;
}

export type AppendResult =
  | { kind: 'applied'; entry: LedgerEntry }
  | { kind: 'already'; entry: LedgerEntry }
  | { kind: 'insufficient'; balance: Fen }
  | { kind: 'daily_limit'; sentToday: Fen }
  | { kind: 'withdrawal_limit'; withdrawnToday: Fen };

export const EMPTY_WALLET: WalletState = { seq: 0, balance: 0, sentDay: '', sentToday: 0, hash: LEDGER_GENESIS };

/** The store port of the wallet aggregate (balances and ledger entries). */
export interface WalletStore {
  /** The newest state of the wallet (consistent read). */
  state(userId: string): Promise<WalletState>;
  /**
   * Applies one operation exactly once; see {@link DynamoWalletStore.append}. `freshTail`: the
   * wallet state read before the operation's record was created, when the caller knows no
   * attempt of the operation can exist yet (saves the first query).
   */
  append(userId: string, seqHint: number, req: AppendRequest, freshTail?: WalletState): Promise<AppendResult>;
  /**
   * Finds an operation's entry, if applied, among entries after `seqHint` — among the first
   * `within` of them only, when given (one Query page: a cheap look where the entry is expected).
   */
  find(userId: string, seqHint: number, opId: string, within?: number): Promise<LedgerEntry | undefined>;
  /**
   * One page of the account's entries, newest first: from the newest, after the cursor `after`
   * (the last page's `next`; another account's is VALIDATION_FAILED), or after the entry
   * `afterSeq` (older ones only). `next` is absent on the last page.
   */
  page(
    userId: string,
    limit: number,
    from?: { after?: string | undefined; afterSeq?: number },
  ): Promise<{ entries: LedgerEntry[]; next?: string }>;
  entry(userId: string, seq: number): Promise<LedgerEntry | undefined>;
  /**
   * The entries at these places (account and seq) that exist, in no particular order; a missing
   * one is simply absent. Consistent reads, one BatchGetItem per 100 places.
   */
  entriesAt(refs: ReadonlyArray<{ userId: string; seq: number }>): Promise<LedgerEntry[]>;
  /**
   * Claim credits of a user, newest first (the received-packets list), read from the ledger: at
   * most `limit`, fewer (with a cursor) when a bounded read found fewer among other entries.
   * `after`: the last page's `next` (another account's is VALIDATION_FAILED).
   */
  received(userId: string, limit: number, after?: string): Promise<{ entries: LedgerEntry[]; next?: string }>;
}

/** A stored ledger item as an entry (also read by reconciliation's adapter). */
export function toEntry(it: Item): LedgerEntry {
  const e: LedgerEntry = {
    userId: it.userId as string,
    seq: parseSeqKey(it.sk),
    opId: it.opId as string,
    type: it.type as LedgerType,
    amount: it.amount as number,
    balance: it.balance as number,
    sentDay: (it.sentDay as string) ?? '',
    sentToday: (it.sentToday as number) ?? 0,
    ref: it.ref as string,
    at: it.at as string,
    prevHash: it.prevHash as string,
    hash: it.hash as string,
  };
  if (typeof it.fee === 'number') e.fee = it.fee;
  if (typeof it.packetId === 'string') e.packetId = it.packetId;
  if (typeof it.lateDay === 'string') e.lateDay = it.lateDay;
  if (typeof it.lateSent === 'number') e.lateSent = it.lateSent;
  if (typeof it.wdDay === 'string') e.wdDay = it.wdDay;
  if (typeof it.wdToday === 'number') e.wdToday = it.wdToday;
  if (typeof it.claimMin === 'number') e.claimMin = it.claimMin;
  if (typeof it.claimN === 'number') e.claimN = it.claimN;
  if (typeof it.slotIndex === 'number') e.slotIndex = it.slotIndex;
  return e;
}

function stateOf(e: LedgerEntry | undefined): WalletState {
  if (!e) return EMPTY_WALLET;
  const s: WalletState = { seq: e.seq, balance: e.balance, sentDay: e.sentDay, sentToday: e.sentToday, hash: e.hash };
  if (e.wdDay !== undefined) s.wdDay = e.wdDay;
  if (e.wdToday !== undefined) s.wdToday = e.wdToday;
  if (e.claimMin !== undefined) s.claimMin = e.claimMin;
  if (e.claimN !== undefined) s.claimN = e.claimN;
  return s;
}

/**
 * The wallet as an append-only ledger in one partition per account (`LEDGER#<user>`), keyed by
 * a dense sequence number. The newest entry carries the balance and the day's sent total, so
 * appending entry n+1 with `attribute_not_exists` is the wallet's compare-and-swap: one write,
 * atomic, no separate balance item that a crash could leave behind the log.
 */
export class DynamoWalletStore implements WalletStore {
  constructor(private readonly db: Db) {}

  async state(userId: string): Promise<WalletState> {
    const page = await this.db.query({
      keyCondition: 'pk = :pk',
      values: { ':pk': Keys.ledgerPk(userId) },
      forward: false,
      limit: 1,
      consistent: true,
    });
    return stateOf(page.items[0] ? toEntry(page.items[0]) : undefined);
  }

  async entry(userId: string, seq: number): Promise<LedgerEntry | undefined> {
    const it = await this.db.get(Keys.ledgerEntry(userId, seq));
    return it ? toEntry(it) : undefined;
  }

  /**
   * The door chunks the keys by 100 and retries unprocessed ones. A place asked twice is read
   * once (BatchGetItem refuses a request that names one key twice).
   */
  async entriesAt(refs: ReadonlyArray<{ userId: string; seq: number }>): Promise<LedgerEntry[]> {
    const keys = new Map(refs.map((r) => [`${r.userId}#${r.seq}`, Keys.ledgerEntry(r.userId, r.seq)]));
    if (keys.size === 0) return [];
    return (await this.db.batchGet([...keys.values()], true)).map(toEntry);
  }

  /** The whole ledger, oldest first (verification and reconciliation; pages through the partition). */
  async chain(userId: string): Promise<LedgerEntry[]> {
    return this.from(userId, 0);
  }

  /** Entries with seq >= from, oldest first. */
  private async from(userId: string, from: number): Promise<LedgerEntry[]> {
    const items = await queryAll(this.db, {
      keyCondition: 'pk = :pk AND sk >= :from',
      values: { ':pk': Keys.ledgerPk(userId), ':from': seqKey(from) },
      consistent: true,
    });
    return items.map(toEntry);
  }

  /**
   * The wallet's newest state, reading entries from `cursor` on — or the operation's own entry
   * (as `already`) if one after `seqHint` carries its opId.
   */
  private async newest(
    userId: string,
    seqHint: number,
    cursor: number,
    opId: string,
  ): Promise<WalletState | AppendResult> {
    const entries = await this.from(userId, cursor);
    const twin = entries.find((e) => e.seq > seqHint && e.opId === opId);
    if (twin) return { kind: 'already', entry: twin };
    const newest = entries.at(-1);
    // Entries are never deleted, so the entry at a non-zero hint always exists.
    if (!newest && cursor > 0) throw new Error(`ledger: hint ${cursor} is beyond the end of the ledger`);
    return stateOf(newest);
  }

  async find(userId: string, seqHint: number, opId: string, within?: number): Promise<LedgerEntry | undefined> {
    if (within === undefined) return (await this.from(userId, seqHint + 1)).find((e) => e.opId === opId);
    const page = await this.db.query({
      keyCondition: 'pk = :pk AND sk >= :from',
      values: { ':pk': Keys.ledgerPk(userId), ':from': seqKey(seqHint + 1) },
      limit: within,
      consistent: true,
    });
    return page.items.map(toEntry).find((e) => e.opId === opId);
  }

  /**
   * Applies `req` to the wallet exactly once, whatever the retries, crashes and concurrent
   * writers.
   *
   * `seqHint` is a sequence number read before the operation's own record (claim marker,
   * packet, transfer…) was first written, so no entry of this operation can sit at or below it.
   *
   * Timeline of one attempt:
   *   1. Query entries with seq >= cursor (first cursor = seqHint): if one has this opId, the
   *      operation was applied earlier (a retry, or a concurrent twin) → `already`.
   *   2. From the newest entry n, compute the new state; refuse without writing if funds or the
   *      daily limit fall short. The day counter (`sentDay`, `sentToday`) only moves forwards:
   *      - a debit of day >= sentDay counts into it (a new day starts from 0), as always;
   *      - a late debit of an earlier day X (an operation started before midnight that lands
   *        after a debit of the next day, e.g. a retry) is checked against X's own total, read
   *        from entries 1..n (see {@link dayTotal}), and writes X's new total on itself as
   *        `lateDay`/`lateSent`; `sentDay`/`sentToday` are copied from n unchanged, so it can
   *        neither reset nor fill today's total. Entries 1..n never change and step 3 commits
   *        only if n is still the newest, so the figure read for X is the one the write follows.
   *        Costs a backwards read through the entries written since X's last debit, on this
   *        rare path only.
   *   3. Put entry n+1 only if it does not exist. Success is the commit point: balance and
   *      ledger change in that one write, so a crash before it changed nothing and a crash
   *      after it left a complete entry.
   *   4. If entry n+1 appeared meanwhile (another writer), go back to 1 from cursor n: every
   *      entry a twin could have written is at a seq we either read in 1 or fail to write in 3,
   *      so two writers of one operation can never both commit.
   */
  async append(userId: string, seqHint: number, req: AppendRequest, freshTail?: WalletState): Promise<AppendResult> {
    let cursor = seqHint;
    for (let attempt = 0; attempt < 200; attempt++) {
      const last =
        attempt === 0 && freshTail && freshTail.seq === seqHint
          ? freshTail
          : await this.newest(userId, seqHint, cursor, req.opId);
      if ('kind' in last) return last;
      const balance = last.balance + req.amount;
      if (balance < 0) return { kind: 'insufficient', balance: last.balance };
      let sentDay = last.sentDay;
      let sentToday = last.sentToday;
      let late: { lateDay: string; lateSent: Fen } | undefined;
      if (req.daily) {
        const { day, amount, limit } = req.daily;
        if (day < last.sentDay) {
          const base = await this.dayTotal(userId, day, last.seq);
          if (base + amount > limit) return { kind: 'daily_limit', sentToday: base };
          late = { lateDay: day, lateSent: base + amount };
        } else {
          const base = last.sentDay === day ? last.sentToday : 0;
          if (base + amount > limit) return { kind: 'daily_limit', sentToday: base };
          sentDay = day;
          sentToday = base + amount;
        }
      }
      let wdDay = last.wdDay;
      let wdToday = last.wdToday;
      if (req.withdrawal) {
        const w = req.withdrawal;
        // Like the send counter, the withdrawal counter never moves backwards: a hold dated an
        // earlier day that lands late counts into the newer day (stricter, never a reset).
        const day = last.wdDay !== undefined && w.day < last.wdDay ? last.wdDay : w.day;
        const base = last.wdDay === day ? (last.wdToday ?? 0) : 0;
        if (w.amount > 0) {
          if (base + w.amount > w.limit) return { kind: 'withdrawal_limit', withdrawnToday: base };
          wdDay = day;
          wdToday = base + w.amount;
        } else if (last.wdDay === w.day) wdToday = Math.max(0, base + w.amount);
      }
      // The claim count never moves backwards either: a credit of an earlier minute landing late
      // (a retry) counts into nothing (that minute is over).
      let claimMin = last.claimMin;
      let claimN = last.claimN;
      if (req.claimMinute !== undefined && (claimMin === undefined || req.claimMinute >= claimMin)) {
        claimN = (claimMin === req.claimMinute ? (claimN ?? 0) : 0) + 1;
        claimMin = req.claimMinute;
      }
      const unsealed = {
        userId,
        seq: last.seq + 1,
        opId: req.opId,
        type: req.type,
        amount: req.amount,
        balance,
        sentDay,
        sentToday,
        ref: req.ref,
        at: req.at,
        ...(req.fee !== undefined ? { fee: req.fee } : {}),
        ...(req.packetId !== undefined ? { packetId: req.packetId } : {}),
        ...late,
        ...(wdDay !== undefined ? { wdDay, wdToday: wdToday ?? 0 } : {}),
        prevHash: last.hash,
      };
      // Not hashed (domain/ledger-chain hashes the money fields): a rate count and a locator.
      const entry: LedgerEntry = {
        ...unsealed,
        hash: ledgerEntryHash(unsealed),
        ...(claimMin !== undefined ? { claimMin, claimN: claimN ?? 0 } : {}),
        ...(req.slotIndex !== undefined ? { slotIndex: req.slotIndex } : {}),
      };
      const { seq: _seq, ...attrs } = entry;
      const written = await this.db.put(
        {
          ...Keys.ledgerEntry(userId, entry.seq),
          ...attrs,
        },
        { condition: 'attribute_not_exists(pk)' },
      );
      if (written) return { kind: 'applied', entry };
      cursor = last.seq;
      if (attempt > 2) await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 5 * attempt)));
    }
    throw new Error('ledger: too much contention on one wallet');
  }

  /**
   * The total counted into UTC+8 `day` by entries 1..`uptoSeq`, read newest first: the first
   * entry that carries a figure for the day (`lateDay`, or `sentDay` equal to it) holds the
   * total; an entry whose `sentDay` is before the day means nothing was counted into it yet
   * (`sentDay` never decreases, so no older entry can hold it either).
   */
  private async dayTotal(userId: string, day: string, uptoSeq: number): Promise<Fen> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.query({
        keyCondition: 'pk = :pk AND sk <= :upto',
        values: { ':pk': Keys.ledgerPk(userId), ':upto': seqKey(uptoSeq) },
        forward: false,
        limit: 100,
        consistent: true,
        ...(startKey ? { startKey } : {}),
      });
      for (const e of page.items.map(toEntry)) {
        if (e.lateDay === day) return e.lateSent ?? 0;
        if (e.sentDay === day) return e.sentToday;
        if (e.sentDay < day) return 0;
      }
      startKey = page.lastKey;
    } while (startKey);
    return 0;
  }

  async page(userId: string, limit: number, from: { after?: string | undefined; afterSeq?: number } = {}) {
    const startKey =
      from.afterSeq !== undefined
        ? Keys.ledgerEntry(userId, from.afterSeq)
        : startKeyOf(from.after, { pk: Keys.ledgerPk(userId) });
    const page = await this.db.query({
      keyCondition: 'pk = :pk',
      values: { ':pk': Keys.ledgerPk(userId) },
      forward: false,
      limit,
      consistent: true,
      ...(startKey ? { startKey } : {}),
    });
    const next = pageCursorOf(page.lastKey);
    return { entries: page.items.map(toEntry), ...(next ? { next } : {}) };
  }

  async received(userId: string, limit: number, after?: string) {
    // The ledger itself, filtered: claim credits carry no index entry (the claim path writes
    // none), so the list costs its reads instead — bounded per call, each a page of entries.
    const entries: LedgerEntry[] = [];
    let cursor: Record<string, unknown> | undefined = startKeyOf(after, { pk: Keys.ledgerPk(userId) });
    for (let pages = 0; pages < RECEIVED_MAX_PAGES; pages++) {
      const page = await this.db.query({
        keyCondition: 'pk = :pk',
        filter: '#type = :credit',
        names: { '#type': 'type' },
        values: { ':pk': Keys.ledgerPk(userId), ':credit': LedgerTypes.claim_credit },
        forward: false,
        limit: RECEIVED_PAGE,
        consistent: false,
        ...(cursor ? { startKey: cursor } : {}),
      });
      for (const it of page.items) {
        entries.push(toEntry(it));
        if (entries.length === limit) {
          const more = it !== page.items.at(-1) || page.lastKey !== undefined;
          return { entries, ...(more ? { next: pageCursorOf({ pk: it.pk, sk: it.sk })! } : {}) };
        }
      }
      if (!page.lastKey) return { entries };
      cursor = page.lastKey;
    }
    const next = pageCursorOf(cursor);
    return { entries, ...(next ? { next } : {}) };
  }
}
