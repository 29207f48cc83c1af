import { randomBytes, randomInt } from 'node:crypto';
import { mapLimited } from '../concurrency';
import type { Fen } from '../domain/money';
import { counterRanges, pickCounter, ShareLayouts, takenAcross, type CounterState } from '../domain/share-counters';
import type { SplitMode } from '../domain/split';
import { Indexes, Keys, refOfPk } from './keys';
import { WriteOutcomeUnknown, type Db, type Item } from './db';
import { pageCursorOf, startKeyOf } from './page-cursor';
import type { SlotRecord } from './claims';
import { EMPTY_RECORDS, recordOf, recordsOf, takeExpression, type Taker } from './recorded';

/**
 * Stored packet states. `funding`: created, sender not yet (known to be) debited — never
 * claimable. `active`: funded and claimable until expiry. `settling`: closed by the sweeper
 * (no share can be taken any more), refund under way. `settled`: refund done (maybe 0).
 * `canceled`: funding abandoned with no money moved (a late retry may still fund it).
 */
export const PacketStates = {
  funding: 'funding',
  active: 'active',
  settling: 'settling',
  settled: 'settled',
  canceled: 'canceled',
} as const;
export type PacketState = (typeof PacketStates)[keyof typeof PacketStates];

/**
 * The packet item: small (< 1 KB). A packet of ≤ 100 shares counts its claims on it (`claimed`);
 * a bigger one on its share counters (`counters` of them, see domain/share-counters.ts), and
 * every read through {@link PacketStore.get} fills `claimed` with their sum.
 */
export interface PacketRecord {
  id: string;
  senderId: string;
  senderName: string;
  total: Fen;
  count: number;
  mode: SplitMode;
  greeting: string;
  scene: string;
  fee: Fen;
  state: PacketState;
  /**
   * Shares taken so far. Single counter: the next claim takes index `claimed`. Sharded: the sum
   * over the counters as read (0 on the stored item, which no claim writes).
   */
  claimed: number;
  /**
   * How many counter items hold the packet's claims: every packet of the recorded layout, and
   * packets of > 100 shares of the slots layout.
   */
  counters?: number;
  /**
   * `recorded`: each counter records its takers (domain/share-counters.ts). Absent: the slots
   * layout of packets stored before it.
   */
  layout?: typeof ShareLayouts.recorded;
  createdAt: string;
  expiresAt: string;
  expiresAtMs: number;
  /** Validity of live codes for this packet (the sender's tier), seconds. */
  codeValidity: number;
  /** Ledger hints (see WalletStore.append) for the debit, the fee and the refund. */
  senderHint: number;
  feeHint: number;
  /** The fee ledger (a shard of the fee account, fixed at creation); absent on older packets. */
  feeAccount?: string;
  refundHint?: number;
  /**
   * Settlement's progress while `settling` (see PacketStore.advanceSettle): counters whose
   * shares are all verified credited (or void), and the sum of the granted shares among them.
   */
  settleCursor?: number;
  settleGranted?: Fen;
  refundedAmount?: Fen;
  /** Where the refund went: absent on older packets (the balance). */
  refundedTo?: 'balance' | 'wechatpay';
  settledAt?: string;
  /** 专属红包: the only account that may claim. */
  recipientId?: string;
  recipientName?: string;
  /** Funded by this campaign's single debit (no debit of its own). */
  campaignId?: string;
  /** `wechatpay`: paid directly through this payment (its money is credited, then debited as usual). Absent: the balance. */
  funding?: 'wechatpay';
  paymentId?: string;
  /**
   * 仅限本群: only the group it is bound to may claim (fixed at creation). The binding itself is
   * its own item ({@link PacketStore.bindGroup}).
   */
  groupOnly?: true;
}

export interface SharesRecord {
  amounts: Fen[];
}

/**
 * `taken`: the claim owns share `index`; `last`: it took the packet's last share as far as one
 * read tells (then 手气最佳 may be decided); `amount`: the share, when the counter carries its
 * range's amounts (sharded packets), so the claim need not read the share list. `refused`: the packet as read now, to say why.
 */
export type TakeShareResult =
  | { kind: 'taken'; index: number; packet: PacketRecord; last: boolean; amount?: Fen }
  | { kind: 'refused'; packet: PacketRecord | undefined };

/**
 * A take of the recorded layout (see store/recorded.ts). `taken`: the claim took share
 * `slot.index` and the counter recorded it; `filled`: it took the counter's last share (then
 * {@link PacketStore.allFull} tells whether it was the packet's last). `held`: the account already
 * holds a share of this counter (a repeat, or its own earlier take). `full`: this counter has no
 * share left (it never will again). `refused`: closed or expired — the packet as read now.
 */
export type RecordedTake =
  | { kind: 'taken'; slot: SlotRecord; filled: boolean }
  | { kind: 'held'; slot: SlotRecord }
  | { kind: 'full' }
  | { kind: 'refused'; packet: PacketRecord | undefined };

/** A counter as settlement closed it; recorded layout: with its records (who took each share). */
export interface ClosedCounter extends CounterState {
  records?: SlotRecord[];
}

/** Settlement's progress: counters [0, counter) verified, `granted` the Σ of their granted shares. */
export interface SettleCursor {
  counter: number;
  granted: Fen;
}

/** What locates a packet's counters and slots: its id, share count and layout (fixed at creation). */
export type PacketRef = Pick<PacketRecord, 'id' | 'count' | 'layout' | 'counters'>;

/**
 * The store port of the packet aggregate: the packet item, its share list and share counters,
 * its lifecycle (create, fund, cancel, settle), the sender's list and its group binding. Who
 * holds which share is the claim store's (store/claims.ts), the packet's forwards the forward
 * store's (store/forwards.ts).
 */
export interface PacketStore {
  /**
   * The packet, with `claimed` summed over its counters if it has several (read with
   * `countersConsistent`, by default as the packet item).
   */
  get(id: string, consistent?: boolean, countersConsistent?: boolean): Promise<PacketRecord | undefined>;
  /**
   * The packet item alone (consistent read), its counters not read: `claimed` is what the item
   * holds (0 on a packet with counters, which no claim writes). For the sweeper and settlement,
   * which need its state and settlement fields, not the claims' progress — a 10,000-share packet
   * of the recorded layout has 1,000 counters, ten BatchGetItems on every read through `get`.
   */
  item(id: string): Promise<PacketRecord | undefined>;
  /**
   * A packet as this process last saw it: exact in its fixed fields (sender, total, count,
   * expiry, code validity), possibly behind in `claimed` and `state`. For checks whose answer
   * only ever moves one way (finished, expired); anything else must read again.
   */
  recent(id: string): Promise<PacketRecord | undefined>;
  putShares(id: string, amounts: Fen[]): Promise<SharesRecord>;
  shares(id: string): Promise<SharesRecord | undefined>;
  /** `shares`: the stored split; a sharded packet's counters carry their range of it. */
  create(p: PacketRecord, due: { shard: number; at: string }, shares: readonly Fen[]): Promise<PacketRecord>;
  activate(id: string, due: { shard: number; at: string }): Promise<PacketRecord | undefined>;
  cancel(id: string): Promise<boolean>;
  /**
   * Opens a packet paid by WeChat Pay: active, its lifetime counted from now (`expiresAtMs`),
   * due at its expiry. Like {@link activate}, only from `funding` or `canceled`.
   */
  activatePaid(id: string, expiresAtMs: number, due: { shard: number; at: string }): Promise<PacketRecord | undefined>;
  /** Slots layout: takes the next share index (the claim records it in a slot after). */
  takeShare(id: string, nowMs: number): Promise<TakeShareResult>;
  /**
   * Recorded layout: takes a share of counter `k` and records it to `taker`, in one write that
   * is also the account's gate on that counter.
   */
  takeRecorded(p: PacketRecord, k: number, taker: Taker, nowMs: number): Promise<RecordedTake>;
  /**
   * Recorded layout, when the account's home counter is full: takes from another counter with
   * room, at random (the caller's claim marker is the gate across counters).
   */
  takeRecordedElsewhere(p: PacketRecord, home: number, taker: Taker, nowMs: number): Promise<RecordedTake>;
  /** Whether this process saw counter `k` of the packet full (counters only ever fill). */
  seenFull(id: string, k: number): boolean;
  /** Whether this process saw every counter of the packet full: it is finished. */
  seenAllFull(p: PacketRecord): boolean;
  /**
   * Recorded layout, after a take filled a counter: whether every counter of the packet is full
   * (the take got the packet's last share), reading only those not known full.
   */
  allFull(p: PacketRecord): Promise<boolean>;
  /** The packet's counters as read now (one for a packet of ≤ 100 shares: its own item). */
  counters(p: PacketRecord, consistent?: boolean): Promise<CounterState[]>;
  /**
   * Closes counter `k` of a packet in `settling` so no claim can take a share from it any more
   * (re-closing is harmless) and returns its final state. A single-counter packet of the slots
   * layout is closed by `beginSettle`: its state comes from `p` as `beginSettle` returned it.
   * Recorded layout: with the counter's records as the close wrote them — final, since every
   * take is conditioned on the counter being open — so settlement need not read them again.
   */
  closeCounter(p: PacketRecord, k: number): Promise<ClosedCounter>;
  /**
   * Recorded layout: counters `ks` as they are now (consistent), each with its records. A full
   * or closed counter's records are final (no take can land on it); settlement closes the rest.
   */
  recordedCounters(p: PacketRecord, ks: readonly number[]): Promise<ClosedCounter[]>;
  /**
   * Writes packets with their shares in batches (BatchWriteItem, unconditional): for campaigns,
   * whose packets are deterministic so a re-write is identical. Only for packets not yet
   * claimable by anyone else: the caller writes the missing ones only (see `existing`).
   */
  createMany(
    items: Array<{ packet: PacketRecord; shares: number[]; due: { shard: number; at: string } }>,
  ): Promise<void>;
  /** Which of these packet ids exist (GetItem each). */
  existing(ids: readonly string[]): Promise<Set<string>>;
  /**
   * The packet as a summary shows it, reading no slot: its item, the claimed count (a big
   * packet's counters read eventually consistent) and the amount of the shares taken so far
   * (from the counters' amounts, or the cached share list).
   */
  summaryOf(id: string, nowMs: number): Promise<{ packet: PacketRecord; takenAmount: Fen } | undefined>;
  beginSettle(id: string, nowMs: number, refundHint: number): Promise<PacketRecord | undefined>;
  /**
   * Moves settlement's cursor from `from` to `to` if the packet is still `settling` with its
   * cursor at `from.counter` (so concurrent sweepers add each counter's shares once). The
   * packet item as written, or undefined when another writer moved it first.
   */
  advanceSettle(id: string, from: SettleCursor, to: SettleCursor): Promise<PacketRecord | undefined>;
  finishSettle(
    id: string,
    refunded: Fen,
    at: string,
    refundedTo?: 'balance' | 'wechatpay',
  ): Promise<PacketRecord | undefined>;
  /** A settled packet's refund went elsewhere than settlement chose (WeChat could not refund it). */
  setRefundedTo(id: string, to: 'balance' | 'wechatpay'): Promise<void>;
  /**
   * The ids of the packets a user sent, newest first: after the cursor `after` (the last page's
   * `next`; another user's is VALIDATION_FAILED). `next` is absent on the last page.
   */
  listSent(userId: string, limit: number, after?: string): Promise<{ ids: string[]; next?: string }>;
  /**
   * The group a group-only packet is bound to (domain/group.ts `groupBinding`: a salted hash,
   * never the group id), or undefined while unbound. A binding never changes, so a warm
   * function keeps the ones it has seen.
   */
  boundGroup(id: string): Promise<string | undefined>;
  /**
   * Binds a packet to `group` unless it is bound already: one put-if-absent of its binding item,
   * so of two groups racing exactly one binds. Returns the group the packet is bound to now:
   * `group`, or the one that won (read back).
   */
  bindGroup(id: string, group: string): Promise<string>;
}

const PACKET_FIELDS = [
  'id',
  'senderId',
  'senderName',
  'total',
  'count',
  'mode',
  'greeting',
  'scene',
  'fee',
  'state',
  'claimed',
  'createdAt',
  'expiresAt',
  'expiresAtMs',
  'codeValidity',
  'senderHint',
  'feeHint',
  'feeAccount',
  'refundHint',
  'settleCursor',
  'settleGranted',
  'refundedAmount',
  'refundedTo',
  'settledAt',
  'recipientId',
  'recipientName',
  'campaignId',
  'counters',
  'layout',
  'funding',
  'paymentId',
  'groupOnly',
] as const;

function toPacket(it: Item | undefined): PacketRecord | undefined {
  if (!it) return undefined;
  const p: Record<string, unknown> = {};
  for (const f of PACKET_FIELDS) if (it[f] !== undefined) p[f] = it[f];
  return p as unknown as PacketRecord;
}

/** The sum of the first `n` amounts of a share range. */
function sumFirst(amounts: readonly Fen[] | undefined, n: number): Fen {
  let sum = 0;
  for (let i = 0; i < Math.min(n, amounts?.length ?? 0); i++) sum += amounts![i]!;
  return sum;
}

const recentPackets = new Map<string, PacketRecord>();
function remember(p: PacketRecord): PacketRecord {
  if (recentPackets.size >= SHARES_CACHE_MAX) {
    recentPackets.clear();
    fullCounters.clear();
    fullRefreshedAt.clear();
  }
  recentPackets.set(p.id, p);
  return p;
}

/**
 * Counters this process saw full, per packet: a claim does not try them again (counters only
 * ever fill). Cleared with the packet cache.
 */
const fullCounters = new Map<string, Set<number>>();

/** How long a big packet's cached progress (the counters' sum on the packet item) serves views. */
export const PROGRESS_FRESH_MS = 5_000;
/**
 * Packets of more counters than this show a cached progress; fewer are read exactly (one
 * BatchGetItem of ≤ 10 small items, as cheap as the cache's own write), so a packet of up to
 * 100 shares shows "finished" the moment its last share is taken.
 */
const PROGRESS_CACHED_ABOVE = 10;

/**
 * Lanes on a share counter. A take whose answer was lost and whose SDK retry was overtaken by
 * another take cannot learn its index from the door's write token (the other take replaced it).
 * Worse, the retry then passes the door's guard and takes a second index. So each take also
 * writes, under a lane picked at random, its own mark and the index it took (`lt<k>`, `lx<k>`:
 * top-level attributes, so counters written before the lanes existed take them too), and its
 * condition refuses the take while its lane holds its mark: the retry is refused, the door reads
 * the counter back, and the lane says which index was ours. Only if a take in between picked
 * the same lane (1 in 8 for one take in between) is the first index held by nobody, voided and
 * refunded at expiry. Eight lanes add under 200 bytes: a counter of 100 seven-digit amounts stays < 1 KB.
 */
const TAKE_LANES = 8;

/** Takes of unknown outcome a single-counter claim tries again before it fails (see takeShare). */
const UNKNOWN_TAKE_RETRIES = 3;

/** When a process last refreshed which counters of a packet are full (real clock, ms). */
const fullRefreshedAt = new Map<string, number>();
/** How often, at most, overflowing claims of one process refresh which counters are full. */
const FULL_REFRESH_MS = 1_000;

/** Counters the last-share check reads first: one with room among them settles it. */
const ALL_FULL_PROBE = 10;

/** Counter items written at once (creation; not the claim path). */
const COUNTER_WRITE_CONCURRENCY = 10;

/** A stored counter item's state (also read by reconciliation's adapter). */
export function toCounter(it: Item): CounterState {
  return {
    counter: it.counter as number,
    start: it.start as number,
    size: it.size as number,
    claimed: it.claimed as number,
    closed: it.closed === true,
  };
}

/**
 * The counter items of a new sharded packet (claimed 0, open until its expiry). Each carries its
 * range's share amounts (≤ 100 numbers: the item stays < 1 KB, so a claim's update is still
 * 1 WCU) and the update returns them: a claim learns its amount from its own write, and no cold
 * function has to read the packet's whole share list (tens of KB for 10,000 shares) from the
 * packet's partition at once.
 */
function counterItems(p: PacketRecord, shares: readonly Fen[]): Item[] {
  if (shares.length !== p.count) throw new Error(`packets: ${p.id} has ${shares.length} shares for ${p.count}`);
  const recorded = p.layout === ShareLayouts.recorded;
  return counterRanges(p.count, p.layout).map((r) => ({
    ...Keys.shareCounter(p.id, r.counter),
    packetId: p.id,
    ...r,
    claimed: 0,
    expiresAtMs: p.expiresAtMs,
    amounts: shares.slice(r.start, r.start + r.size),
    ...(recorded ? EMPTY_RECORDS : {}),
  }));
}

/** Group bindings this process has seen (they never change once written). */
const boundGroups = new Map<string, string>();
function rememberGroup(id: string, group: string): string {
  if (boundGroups.size >= SHARES_CACHE_MAX) boundGroups.clear();
  boundGroups.set(id, group);
  return group;
}

/** Share lists never change after creation, so a warm function keeps them. */
const sharesCache = new Map<string, SharesRecord>();
const SHARES_CACHE_MAX = 5000;

/** The DynamoDB adapter of {@link PacketStore}. */
export class DynamoPacketStore implements PacketStore {
  constructor(private readonly db: Db) {}

  async get(id: string, consistent = true, countersConsistent = consistent) {
    const p = toPacket(await this.db.get(Keys.packet(id), consistent));
    if (p?.counters && p.state !== 'funding' && p.state !== 'canceled')
      p.claimed = takenAcross(await this.counters(p, countersConsistent));
    return p && p.state !== 'funding' ? remember(p) : p;
  }

  async item(id: string) {
    return toPacket(await this.db.get(Keys.packet(id), true));
  }

  async counters(p: PacketRecord, consistent = true): Promise<CounterState[]> {
    if (!p.counters) return [{ counter: 0, start: 0, size: p.count, claimed: p.claimed, closed: p.state !== 'active' }];
    const keys = Array.from({ length: p.counters }, (_, k) => Keys.shareCounter(p.id, k));
    const found = (await this.db.batchGet(keys, consistent)).map(toCounter).sort((a, b) => a.counter - b.counter);
    if (found.length !== p.counters) throw new Error(`packets: ${p.id} has ${found.length} of ${p.counters} counters`);
    return found;
  }

  async closeCounter(p: PacketRecord, k: number): Promise<ClosedCounter> {
    if (!p.counters) {
      if (p.state === 'active') throw new Error(`packets: ${p.id} is still active`);
      return { counter: 0, start: 0, size: p.count, claimed: p.claimed, closed: true };
    }
    const it = await this.db.update(Keys.shareCounter(p.id, k), 'SET closed = :t', {
      condition: 'attribute_exists(pk)',
      values: { ':t': true },
    });
    if (!it) throw new Error(`packets: counter ${k} of ${p.id} missing`);
    return p.layout === ShareLayouts.recorded ? { ...toCounter(it), records: recordsOf(it) } : toCounter(it);
  }

  async recordedCounters(p: PacketRecord, ks: readonly number[]): Promise<ClosedCounter[]> {
    const items = await this.db.batchGet(
      ks.map((k) => Keys.shareCounter(p.id, k)),
      true,
    );
    const byCounter = new Map(items.map((it) => [it.counter as number, it]));
    return ks.map((k) => {
      const it = byCounter.get(k);
      if (!it) throw new Error(`packets: counter ${k} of ${p.id} missing`);
      return { ...toCounter(it), records: recordsOf(it) };
    });
  }

  async recent(id: string) {
    return recentPackets.get(id) ?? this.get(id);
  }

  /** Put-if-absent, then the stored list: a retried create keeps the first split. */
  async putShares(id: string, amounts: Fen[]): Promise<SharesRecord> {
    const written = await this.db.put({ ...Keys.shares(id), amounts }, { condition: 'attribute_not_exists(pk)' });
    if (written) return { amounts };
    const stored = await this.shares(id);
    if (!stored) throw new Error('packets: shares vanished');
    return stored;
  }

  async shares(id: string): Promise<SharesRecord | undefined> {
    const hit = sharesCache.get(id);
    if (hit) return hit;
    const it = await this.db.get(Keys.shares(id), false);
    if (!it) return undefined;
    const rec = { amounts: it.amounts as number[] };
    if (sharesCache.size >= SHARES_CACHE_MAX) sharesCache.clear();
    sharesCache.set(id, rec);
    return rec;
  }

  /**
   * Timeline: counters (sharded packets; put-if-absent, so a retry never resets one that counts)
   * → packet item. A crash between them leaves counters of a packet that does not exist: the
   * retry finds them and writes the packet. Nothing claims before the packet is active.
   */
  async create(p: PacketRecord, due: { shard: number; at: string }, shares: readonly Fen[]): Promise<PacketRecord> {
    if (p.counters) {
      await mapLimited(counterItems(p, shares), COUNTER_WRITE_CONCURRENCY, (c) =>
        this.db.put(c, { condition: 'attribute_not_exists(pk)' }),
      );
    }
    const item: Item = {
      ...Keys.packet(p.id),
      ...p,
      ...Keys.due(due.shard, due.at, p.id),
      ...Keys.sent(p.senderId, `${p.createdAt}#${p.id}`),
    };
    if (await this.db.put(item, { condition: 'attribute_not_exists(pk)' })) return p;
    const stored = await this.get(p.id);
    if (!stored) throw new Error('packets: packet vanished');
    return stored;
  }

  async activate(id: string, due: { shard: number; at: string }) {
    const k = Keys.due(due.shard, due.at, id);
    return toPacket(
      await this.db.update(Keys.packet(id), 'SET #s = :active, gsi1pk = :g1pk, gsi1sk = :g1sk', {
        condition: '#s IN (:funding, :canceled)',
        names: { '#s': 'state' },
        values: {
          ':active': 'active',
          ':funding': 'funding',
          ':canceled': 'canceled',
          ':g1pk': k.gsi1pk,
          ':g1sk': k.gsi1sk,
        },
      }),
    );
  }

  async activatePaid(id: string, expiresAtMs: number, due: { shard: number; at: string }) {
    const k = Keys.due(due.shard, due.at, id);
    return toPacket(
      await this.db.update(
        Keys.packet(id),
        'SET #s = :active, expiresAt = :exp, expiresAtMs = :expMs, gsi1pk = :g1pk, gsi1sk = :g1sk',
        {
          condition: '#s IN (:funding, :canceled)',
          names: { '#s': 'state' },
          values: {
            ':active': 'active',
            ':funding': 'funding',
            ':canceled': 'canceled',
            ':exp': new Date(expiresAtMs).toISOString(),
            ':expMs': expiresAtMs,
            ':g1pk': k.gsi1pk,
            ':g1sk': k.gsi1sk,
          },
        },
      ),
    );
  }

  async cancel(id: string) {
    return (
      (await this.db.update(Keys.packet(id), 'SET #s = :canceled REMOVE gsi1pk, gsi1sk', {
        condition: '#s = :funding',
        names: { '#s': 'state' },
        values: { ':funding': 'funding', ':canceled': 'canceled' },
      })) !== undefined
    );
  }

  /**
   * The claim's one write on a hot item: take the next share index of a counter with room.
   * `refused` means the store refused the take, for the reason the packet as read tells; a take
   * whose outcome the store cannot know ({@link WriteOutcomeUnknown}: its answer was lost and
   * another claim wrote the counter since) is taken again — if the lost attempt did land, its
   * index is held by nobody, exactly as after a crash between the take and the slot put: it
   * stays in the packet's remaining money and the sweeper voids and refunds it at expiry.
   */
  async takeShare(id: string, nowMs: number): Promise<TakeShareResult> {
    const known = await this.recent(id);
    if (known?.layout === ShareLayouts.recorded) throw new Error(`packets: ${id} records its takes (takeRecorded)`);
    if (known?.counters) return this.takeFromCounters(known, nowMs);
    for (let attempt = 0; ; attempt++) {
      let it: Item | undefined;
      try {
        it = await this.db.update(Keys.packet(id), 'SET claimed = claimed + :one', {
          condition: '#s = :active AND claimed < #count AND expiresAtMs > :now',
          names: { '#s': 'state', '#count': 'count' },
          values: { ':one': 1, ':active': 'active', ':now': nowMs },
        });
      } catch (err) {
        if (err instanceof WriteOutcomeUnknown && attempt < UNKNOWN_TAKE_RETRIES) continue;
        throw err;
      }
      if (!it) return { kind: 'refused', packet: await this.get(id) };
      const packet = remember(toPacket(it)!);
      return { kind: 'taken', index: packet.claimed - 1, packet, last: packet.claimed >= packet.count };
    }
  }

  /**
   * Sharded packets: one conditional update of a random counter not known to be full (open,
   * not full, not expired). A refusal is read back to tell why: closed or expired ends the
   * claim; full marks the counter and — the first time — refreshes which counters are full with
   * one BatchGetItem, so a claim on a nearly drained packet does not probe full counters one by
   * one. Counters only ever fill, so every refusal shrinks the candidates and the loop ends;
   * when none is left, a consistent read decides between "finished" and a stale picture. A
   * take of unknown outcome (see {@link takeShare}) is not a refusal: the loop goes on.
   */
  private async takeFromCounters(p: PacketRecord, nowMs: number): Promise<TakeShareResult> {
    const n = p.counters!;
    let full = fullCounters.get(p.id);
    if (!full) fullCounters.set(p.id, (full = new Set()));
    let refreshed = 0;
    for (let attempt = 0; attempt <= 4 * n + 4; attempt++) {
      const k = pickCounter(n, full, randomInt);
      if (k === undefined) {
        if (refreshed >= 2) break;
        const now = await this.counters(p, true);
        refreshed = 2;
        if (now.some((c) => c.closed)) break;
        for (const c of now) if (c.claimed >= c.size) full.add(c.counter);
        continue;
      }
      // The take marks a random lane with its own token and the index it takes (`claimed` before
      // the update): see TAKE_LANES for why.
      const lane = randomInt(TAKE_LANES);
      const mark = randomBytes(6).toString('base64url');
      let it: Item | undefined;
      let taken: number | undefined;
      try {
        it = await this.db.update(
          Keys.shareCounter(p.id, k),
          'SET claimed = claimed + :one, #lt = :mark, #lx = claimed',
          {
            // The last clause refuses this take's own SDK retry while its lane still holds its mark.
            condition:
              'attribute_exists(pk) AND attribute_not_exists(closed) AND claimed < #size AND expiresAtMs > :now AND (attribute_not_exists(#lt) OR #lt <> :mark)',
            names: { '#size': 'size', '#lt': `lt${lane}`, '#lx': `lx${lane}` },
            values: { ':one': 1, ':now': nowMs, ':mark': mark },
          },
        );
        if (it) taken = (it.claimed as number) - 1;
      } catch (err) {
        if (!(err instanceof WriteOutcomeUnknown)) throw err;
        // Our lost attempt landed and another take wrote since: if no take has reused our lane
        // meanwhile, it still says which index was ours.
        if (err.item?.[`lt${lane}`] !== mark) continue;
        it = err.item;
        taken = err.item[`lx${lane}`] as number;
      }
      if (it && taken !== undefined) {
        const c = toCounter(it);
        let last = false;
        if (c.claimed >= c.size) {
          full.add(k);
          // The counter is full: the packet is finished if every other one is full too.
          last = full.size === n || takenAcross(await this.counters(p, true)) >= p.count;
        }
        const amount = (it.amounts as Fen[] | undefined)?.[taken];
        return { kind: 'taken', index: c.start + taken, packet: p, last, ...(amount !== undefined ? { amount } : {}) };
      }
      const c = await this.db.get(Keys.shareCounter(p.id, k));
      if (!c || c.closed === true || (c.expiresAtMs as number) <= nowMs) break;
      full.add(k);
      if (refreshed === 0) {
        refreshed = 1;
        for (const s of await this.counters(p, false)) if (s.claimed >= s.size) full.add(s.counter);
      }
    }
    return { kind: 'refused', packet: await this.get(p.id) };
  }

  /**
   * One conditional update of counter `k` (store/recorded.ts): the share and its record, or a
   * refusal read back to say why. A take whose answer was lost tells itself apart by its own
   * record — the account is in the counter's map exactly when a take of its landed, since only
   * its takes write its entry — so such a take is never taken twice nor lost: read back, ours
   * if recorded, otherwise it never landed and is tried again.
   */
  async takeRecorded(p: PacketRecord, k: number, taker: Taker, nowMs: number): Promise<RecordedTake> {
    const key = Keys.shareCounter(p.id, k);
    const { update, expr } = takeExpression(taker, nowMs);
    // A counter this process saw full can only refuse: read it instead (the account may hold
    // one of its shares — a repeat — which only the counter itself tells).
    const knownFull = this.seenFull(p.id, k);
    for (let attempt = 0; ; attempt++) {
      let it: Item | undefined;
      try {
        if (!knownFull || attempt > 0) it = await this.db.update(key, update, expr);
      } catch (err) {
        if (!(err instanceof WriteOutcomeUnknown) || attempt >= UNKNOWN_TAKE_RETRIES) throw err;
        const mine = err.item ? recordOf(err.item, taker.userId) : undefined;
        if (mine) return { kind: 'taken', slot: mine, filled: this.filled(p, k, err.item!) };
        continue;
      }
      if (it) {
        const mine = recordOf(it, taker.userId);
        if (!mine) throw new Error(`packets: counter ${k} of ${p.id} took without recording`);
        return { kind: 'taken', slot: mine, filled: this.filled(p, k, it) };
      }
      const now = await this.db.get(key, true);
      const mine = now ? recordOf(now, taker.userId) : undefined;
      if (mine) return { kind: 'held', slot: mine };
      if (!now || now.closed === true || (now.expiresAtMs as number) <= nowMs)
        return { kind: 'refused', packet: await this.get(p.id) };
      if ((now.claimed as number) >= (now.size as number)) {
        this.knownFull(p.id).add(k);
        return { kind: 'full' };
      }
      // Open, with room, not ours: refused only by the door's write guard racing another take.
      if (attempt >= UNKNOWN_TAKE_RETRIES) throw new Error(`packets: counter ${k} of ${p.id} refused a take it allows`);
    }
  }

  /**
   * Counters other than `home` at random among those not known to be full. A full one is noted,
   * and which counters are full is refreshed from one read of them all — at most once a second
   * per packet in a process, so that the claims overflowing together near a big packet's end
   * share one read of its counters instead of each making its own. None left → a consistent
   * read decides: all full is "finished" (and the process knows it from then on), a closed one
   * sends the packet's own reason.
   */
  async takeRecordedElsewhere(p: PacketRecord, home: number, taker: Taker, nowMs: number): Promise<RecordedTake> {
    const n = p.counters ?? 1;
    const full = this.knownFull(p.id);
    full.add(home);
    for (let attempt = 0, decided = false; attempt <= 4 * n + 4; attempt++) {
      const k = pickCounter(n, full, randomInt);
      if (k === undefined) {
        if (decided) break;
        decided = true;
        const now = await this.counters(p, true);
        if (now.some((c) => c.closed)) return { kind: 'refused', packet: await this.get(p.id) };
        for (const c of now) if (c.claimed >= c.size) full.add(c.counter);
        continue;
      }
      const r = await this.takeRecorded(p, k, taker, nowMs);
      if (r.kind !== 'full') return r;
      const last = fullRefreshedAt.get(p.id) ?? 0;
      if (Date.now() - last >= FULL_REFRESH_MS) {
        fullRefreshedAt.set(p.id, Date.now());
        for (const c of await this.counters(p, false)) if (c.claimed >= c.size) full.add(c.counter);
      }
    }
    // Every counter full, as read consistently: finished.
    return full.size >= n
      ? { kind: 'refused', packet: { ...p, claimed: p.count } }
      : { kind: 'refused', packet: await this.get(p.id) };
  }

  /** Whether this process saw every counter of the packet full: it is finished (counters only fill). */
  seenAllFull(p: PacketRecord): boolean {
    return (fullCounters.get(p.id)?.size ?? 0) >= (p.counters ?? 1);
  }

  /** Whether the take that left counter `k` as `it` took its last share (noted as full). */
  private filled(p: PacketRecord, k: number, it: Item): boolean {
    if ((it.claimed as number) < (it.size as number)) return false;
    this.knownFull(p.id).add(k);
    return true;
  }

  /**
   * Reads the counters not known full, a few at a time in random order, until one has room (the
   * packet is not finished: usually the first read of 10 small items) or none is left (it is).
   * Those found full are noted. A single counter's packet needs no read.
   */
  async allFull(p: PacketRecord): Promise<boolean> {
    const n = p.counters ?? 1;
    const full = this.knownFull(p.id);
    const open = Array.from({ length: n }, (_, k) => k).filter((k) => !full.has(k));
    for (let i = open.length - 1; i > 0; i--) {
      const j = randomInt(i + 1);
      [open[i], open[j]] = [open[j]!, open[i]!];
    }
    for (let at = 0, size = ALL_FULL_PROBE; at < open.length; at += size, size = 100) {
      const keys = open.slice(at, at + size).map((k) => Keys.shareCounter(p.id, k));
      let room = false;
      for (const it of await this.db.batchGet(keys, true)) {
        if ((it.claimed as number) >= (it.size as number)) full.add(it.counter as number);
        else room = true;
      }
      if (room) return false;
    }
    return true;
  }

  seenFull(id: string, k: number): boolean {
    return fullCounters.get(id)?.has(k) ?? false;
  }

  private knownFull(id: string): Set<number> {
    let full = fullCounters.get(id);
    if (!full) fullCounters.set(id, (full = new Set()));
    return full;
  }

  /**
   * Two passes: share lists and counters first, packet items after, so a crash between batches
   * never leaves a packet item without its counters (`existing` sees only packet items, and a
   * packet that does not exist yet has nothing to claim, so re-writing its counters is safe).
   */
  async createMany(
    items: Array<{ packet: PacketRecord; shares: number[]; due: { shard: number; at: string } }>,
  ): Promise<void> {
    await this.db.batchPut(
      items.flatMap(({ packet: p, shares }) => [
        { ...Keys.shares(p.id), amounts: shares },
        ...(p.counters ? counterItems(p, shares) : []),
      ]),
    );
    await this.db.batchPut(
      items.map(({ packet: p, due }) => ({
        ...Keys.packet(p.id),
        ...p,
        ...Keys.due(due.shard, due.at, p.id),
        ...Keys.sent(p.senderId, `${p.createdAt}#${p.id}`),
      })),
    );
  }

  async existing(ids: readonly string[]): Promise<Set<string>> {
    const found = await Promise.all(ids.map((id) => this.db.get(Keys.packet(id), true)));
    return new Set(ids.filter((_, i) => found[i] !== undefined));
  }

  async summaryOf(id: string, nowMs: number): Promise<{ packet: PacketRecord; takenAmount: Fen } | undefined> {
    const it = await this.db.get(Keys.packet(id), true);
    const p = toPacket(it);
    if (!p) return undefined;
    if (p.state === 'funding' || p.state === 'canceled') return { packet: p, takenAmount: 0 };
    // Settled: the refund made the recorded total exact (a share taken but never recorded was voided).
    if (p.state === 'settled') return { packet: p, takenAmount: p.total - (p.refundedAmount ?? 0) };
    if (!p.counters)
      return { packet: p, takenAmount: sumFirst((await this.shares(id))?.amounts, Math.min(p.claimed, p.count)) };
    // A big packet's progress is the sum over its counters (up to 1,000 items). Whoever reads
    // them leaves the sum on the packet item, and views within PROGRESS_FRESH_MS use it: however
    // many accounts and functions look, the counters are read about once per window per packet,
    // and a view costs the packet item. The sum only ever grows, so a cached one is a lower
    // bound at most a few seconds old; the claim itself always decides on the counters. A packet
    // of a few counters is read exactly (consistent), as a single-counter packet's item is.
    const big = p.counters > PROGRESS_CACHED_ABOVE;
    const cached = it!.progress as { claimed: number; taken: Fen; atMs: number } | undefined;
    if (big && cached && nowMs - cached.atMs < PROGRESS_FRESH_MS && nowMs >= cached.atMs) {
      p.claimed = cached.claimed;
      return { packet: p, takenAmount: cached.taken };
    }
    // Each counter carries its range's amounts, taken from the front.
    const keys = Array.from({ length: p.counters }, (_, k) => Keys.shareCounter(p.id, k));
    const items = await this.db.batchGet(keys, !big);
    p.claimed = items.reduce((a, c) => a + (c.claimed as number), 0);
    const taken = items.reduce((a, c) => a + sumFirst(c.amounts as Fen[] | undefined, c.claimed as number), 0);
    // Unconditional: a cache, not state (no condition, so nothing a refusal could be misread from).
    if (big)
      await this.db.update(Keys.packet(id), 'SET progress = :p', {
        values: { ':p': { claimed: p.claimed, taken, atMs: nowMs } },
      });
    return { packet: p, takenAmount: taken };
  }

  /**
   * Closes an expired packet to claims; re-entrant so a crashed sweeper's work is resumed. The
   * first call starts the settle cursor at 0; later ones keep it where it is.
   */
  async beginSettle(id: string, nowMs: number, refundHint: number) {
    return toPacket(
      await this.db.update(
        Keys.packet(id),
        'SET #s = :settling, refundHint = if_not_exists(refundHint, :hint), settleCursor = if_not_exists(settleCursor, :zero), settleGranted = if_not_exists(settleGranted, :zero)',
        {
          condition: '#s IN (:active, :settling) AND expiresAtMs <= :now',
          names: { '#s': 'state' },
          values: { ':settling': 'settling', ':active': 'active', ':hint': refundHint, ':now': nowMs, ':zero': 0 },
        },
      ),
    );
  }

  async advanceSettle(id: string, from: SettleCursor, to: SettleCursor) {
    return toPacket(
      await this.db.update(Keys.packet(id), 'SET settleCursor = :to, settleGranted = :granted', {
        condition: '#s = :settling AND settleCursor = :from AND settleGranted = :fromGranted',
        names: { '#s': 'state' },
        values: {
          ':settling': 'settling',
          ':from': from.counter,
          ':fromGranted': from.granted,
          ':to': to.counter,
          ':granted': to.granted,
        },
      }),
    );
  }

  async finishSettle(id: string, refunded: Fen, at: string, refundedTo?: 'balance' | 'wechatpay') {
    return toPacket(
      await this.db.update(
        Keys.packet(id),
        `SET #s = :settled, refundedAmount = :r, settledAt = :at${refundedTo ? ', refundedTo = :to' : ''} REMOVE gsi1pk, gsi1sk`,
        {
          condition: '#s = :settling',
          names: { '#s': 'state' },
          values: {
            ':settled': 'settled',
            ':settling': 'settling',
            ':r': refunded,
            ':at': at,
            ...(refundedTo ? { ':to': refundedTo } : {}),
          },
        },
      ),
    );
  }

  async setRefundedTo(id: string, to: 'balance' | 'wechatpay') {
    await this.db.update(Keys.packet(id), 'SET refundedTo = :to', {
      condition: '#s = :settled',
      names: { '#s': 'state' },
      values: { ':to': to, ':settled': 'settled' },
    });
  }

  async boundGroup(id: string): Promise<string | undefined> {
    const hit = boundGroups.get(id);
    if (hit) return hit;
    // Eventually consistent: a binding just written and not seen yet is settled by bindGroup's
    // own condition (the caller binds when this says unbound).
    const it = await this.db.get(Keys.groupBinding(id), false);
    return typeof it?.group === 'string' ? rememberGroup(id, it.group) : undefined;
  }

  async bindGroup(id: string, group: string): Promise<string> {
    if (await this.db.put({ ...Keys.groupBinding(id), packetId: id, group }, { condition: 'attribute_not_exists(pk)' }))
      return rememberGroup(id, group);
    // Another group won the race (or bound earlier): read which.
    const it = await this.db.get(Keys.groupBinding(id), true);
    if (typeof it?.group !== 'string') throw new Error(`packets: group binding of ${id} vanished`);
    return rememberGroup(id, it.group);
  }

  async listSent(userId: string, limit: number, after?: string) {
    const startKey = startKeyOf(after, { gsi2pk: Keys.sentPk(userId) });
    const page = await this.db.query({
      index: Indexes.byUser,
      keyCondition: 'gsi2pk = :pk',
      values: { ':pk': Keys.sentPk(userId) },
      forward: false,
      limit,
      ...(startKey ? { startKey } : {}),
    });
    const next = pageCursorOf(page.lastKey);
    return { ids: page.items.map((it) => refOfPk(it.pk)?.id ?? ''), ...(next ? { next } : {}) };
  }
}
