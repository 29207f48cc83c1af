import { mapLimited } from '../concurrency';
import type { Fen } from '../domain/money';
import { counterCount, homeCounter, isSharded, ShareLayouts } from '../domain/share-counters';
import { Keys } from './keys';
import { queryAll, type Db, type Item } from './db';
import type { PacketRef } from './packets';
import { recordOf, recordsOf } from './recorded';

/** A share recorded to an account (the claim's slot put), or an untaken index the sweeper voided. */
export interface SlotRecord {
  index: number;
  userId: string;
  name: string;
  amount: Fen;
  at: string;
  seqHint: number;
  /** Sealed by the sweeper: the share was taken by a claim that never recorded it. */
  void?: boolean;
  /** The forward whose share code the claim came through (code `ref`), if any. */
  via?: string;
}

/** An account's claim on a packet, written first (put-if-absent: one share per account). */
export interface MarkerRecord {
  packetId: string;
  userId: string;
  at: string;
  atMs: number;
  attempt: number;
  seqHint: number;
  /**
   * Sharded packets, markers of older claims only: the share index the claim recorded. Claims
   * now carry it on their ledger credit instead (app/slots.ts), which they write anyway.
   */
  index?: number;
}

/**
 * How {@link ClaimStore.slotOf} looks for an account's slot on a sharded packet whose marker
 * lacks the index: `locate` (given the marker's ledger hint) may name the index from elsewhere —
 * the claim credit carries it — before, unless `thorough` is false, every counter's slots are read.
 */
export interface SlotLookup {
  thorough?: boolean;
  locate?: (seqHint: number) => Promise<number | undefined>;
}

/**
 * The store port of claims: who holds which share of a packet. Slots layout: one marker per
 * account and packet, one slot per share index (a partition of slots per share counter); the
 * share itself is taken on the packet's counter (PacketStore.takeShare) and these items record
 * who took it. Recorded layout: the counter's take records its taker itself
 * (PacketStore.takeRecorded, store/recorded.ts), and the reads here return those records as
 * slots; a marker is written only by a claim whose home counter is full.
 */
export interface ClaimStore {
  putMarker(m: MarkerRecord): Promise<boolean>;
  marker(packetId: string, userId: string): Promise<MarkerRecord | undefined>;
  takeOverMarker(m: MarkerRecord, at: string, atMs: number): Promise<boolean>;
  /** Records the claim's share if its slot is free; false: the slot holds another write (see {@link slotAt}). */
  putSlot(packetId: string, s: SlotRecord): Promise<boolean>;
  /** Slots layout: share `index`'s slot as stored (consistent read), if any: what a refused slot put found. */
  slotAt(packetId: string, index: number): Promise<SlotRecord | undefined>;
  voidSlot(packetId: string, index: number, at: string): Promise<boolean>;
  /** Every slot of the packet (every counter's partition), by index. */
  slots(p: PacketRef): Promise<SlotRecord[]>;
  /** The slots of counter `k` (one partition, one Query page: ≤ 100 small items). */
  counterSlots(p: PacketRef, k: number): Promise<SlotRecord[]>;
  /**
   * The account's slot on a packet, if it recorded one. Sharded packets find it through the
   * account's marker; a marker without its index (claim in flight, or crashed between slot and
   * note) is looked up in every counter's slots unless `thorough` is false.
   */
  slotOf(p: PacketRef, userId: string, opts?: SlotLookup): Promise<SlotRecord | undefined>;
  /**
   * Whether the account may hold a share of the packet, told without reading its shares: slots
   * layout, it has a claim marker; recorded layout, its home counter records it or it has a
   * marker (a claim whose home was full). False: it holds none.
   */
  mayHold(p: PacketRef, userId: string): Promise<boolean>;
}

/** Counters' slot partitions read at once (whole-packet reads; not the claim path). */
const SLOT_PARTITION_CONCURRENCY = 10;

function toSlot(it: Item): SlotRecord {
  const s: SlotRecord = {
    index: Number.parseInt(it.sk, 10),
    userId: it.userId as string,
    name: it.name as string,
    amount: it.amount as number,
    at: it.at as string,
    seqHint: it.seqHint as number,
  };
  if (it.void === true) s.void = true;
  if (typeof it.via === 'string') s.via = it.via;
  return s;
}

/** The DynamoDB adapter of {@link ClaimStore}. */
export class DynamoClaimStore implements ClaimStore {
  constructor(private readonly db: Db) {}

  /** Recorded layout: every counter item of the packet (consistent; one BatchGetItem per 100). */
  private async counterItems(p: PacketRef): Promise<Item[]> {
    const keys = Array.from({ length: p.counters ?? 1 }, (_, k) => Keys.shareCounter(p.id, k));
    return this.db.batchGet(keys, true);
  }

  async putMarker(m: MarkerRecord) {
    return this.db.put({ ...Keys.claimMarker(m.packetId, m.userId), ...m }, { condition: 'attribute_not_exists(pk)' });
  }

  async marker(packetId: string, userId: string): Promise<MarkerRecord | undefined> {
    const it = await this.db.get(Keys.claimMarker(packetId, userId));
    if (!it) return undefined;
    return {
      packetId,
      userId,
      at: it.at as string,
      atMs: it.atMs as number,
      attempt: it.attempt as number,
      seqHint: it.seqHint as number,
      ...(typeof it.index === 'number' ? { index: it.index } : {}),
    };
  }

  async takeOverMarker(m: MarkerRecord, at: string, atMs: number) {
    return (
      (await this.db.update(Keys.claimMarker(m.packetId, m.userId), 'SET attempt = :next, #at = :at, atMs = :atMs', {
        condition: 'attempt = :seen',
        names: { '#at': 'at' },
        values: { ':next': m.attempt + 1, ':seen': m.attempt, ':at': at, ':atMs': atMs },
      })) !== undefined
    );
  }

  async putSlot(packetId: string, s: SlotRecord) {
    const { index, ...attrs } = s;
    return this.db.put({ ...Keys.slot(packetId, index), ...attrs }, { condition: 'attribute_not_exists(pk)' });
  }

  async slotAt(packetId: string, index: number) {
    const it = await this.db.get(Keys.slot(packetId, index), true);
    return it ? toSlot(it) : undefined;
  }

  async voidSlot(packetId: string, index: number, at: string) {
    return this.db.put(
      { ...Keys.slot(packetId, index), void: true, userId: '', name: '', amount: 0, at, seqHint: 0 },
      { condition: 'attribute_not_exists(pk)' },
    );
  }

  async slots(p: PacketRef) {
    // BatchGetItem answers in no particular order: the records are put in index order here.
    if (p.layout === ShareLayouts.recorded)
      return (await this.counterItems(p)).flatMap(recordsOf).sort((a, b) => a.index - b.index);
    const parts = await mapLimited(
      Array.from({ length: counterCount(p.count) }, (_, k) => k),
      SLOT_PARTITION_CONCURRENCY,
      (k) =>
        queryAll(this.db, { keyCondition: 'pk = :pk', values: { ':pk': Keys.slotsPk(p.id, k) }, consistent: true }),
    );
    return parts.flat().map(toSlot);
  }

  async counterSlots(p: PacketRef, k: number): Promise<SlotRecord[]> {
    if (p.layout === ShareLayouts.recorded) {
      const it = await this.db.get(Keys.shareCounter(p.id, k), true);
      return it ? recordsOf(it) : [];
    }
    const items = await queryAll(this.db, {
      keyCondition: 'pk = :pk',
      values: { ':pk': Keys.slotsPk(p.id, k) },
      consistent: true,
    });
    return items.map(toSlot);
  }

  async mayHold(p: PacketRef, userId: string): Promise<boolean> {
    if (p.layout === ShareLayouts.recorded) {
      const home = await this.db.get(Keys.shareCounter(p.id, homeCounter(p.id, userId, p.counters ?? 1)), false);
      if (home && recordOf(home, userId)) return true;
    }
    return (await this.marker(p.id, userId)) !== undefined;
  }

  async slotOf(p: PacketRef, userId: string, opts: SlotLookup = {}) {
    if (p.layout === ShareLayouts.recorded) {
      // The home counter first: where every claim but an overflowing one takes. Then all of
      // them (one read per 100 counters), even when not `thorough`: a record is final once
      // written, so this is never a wait on a claim in flight.
      const n = p.counters ?? 1;
      const home = await this.db.get(Keys.shareCounter(p.id, homeCounter(p.id, userId, n)), true);
      const mine = home ? recordOf(home, userId) : undefined;
      if (mine || n === 1) return mine;
      for (const it of await this.counterItems(p)) {
        const found = recordOf(it, userId);
        if (found) return found;
      }
      return undefined;
    }
    if (isSharded(p.count)) {
      const m = await this.marker(p.id, userId);
      if (!m) return undefined;
      const index = m.index ?? (opts.locate ? await opts.locate(m.seqHint) : undefined);
      if (index !== undefined) {
        const it = await this.db.get(Keys.slot(p.id, index));
        if (it && it.userId === userId) return toSlot(it);
        if (m.index !== undefined) return undefined;
      }
      if (opts.thorough === false) return undefined;
    }
    const parts = await mapLimited(
      Array.from({ length: counterCount(p.count) }, (_, k) => k),
      SLOT_PARTITION_CONCURRENCY,
      (k) =>
        queryAll(this.db, {
          keyCondition: 'pk = :pk',
          filter: 'userId = :u',
          values: { ':pk': Keys.slotsPk(p.id, k), ':u': userId },
          consistent: true,
        }),
    );
    const mine = parts.flat();
    return mine[0] ? toSlot(mine[0]) : undefined;
  }
}
