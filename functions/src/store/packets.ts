import type { Fen } from '../domain/money';
import type { SplitMode } from '../domain/split';
import { Indexes, Keys, refOfPk } from './keys';
import { queryAll, type Db, type Item } from './db';

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

/** The packet item: small (< 1 KB), the only item every claim updates. */
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
  /** Shares taken so far: the next claim takes index `claimed`. */
  claimed: number;
  createdAt: string;
  expiresAt: string;
  expiresAtMs: number;
  /** Validity of live codes for this packet (the sender's tier), seconds. */
  codeValidity: number;
  /** Ledger hints (see WalletStore.append) for the debit, the fee and the refund. */
  senderHint: number;
  feeHint: number;
  refundHint?: number;
  refundedAmount?: Fen;
  settledAt?: string;
  /** 专属红包: the only account that may claim. */
  recipientId?: string;
  recipientName?: string;
  /** Funded by this campaign's single debit (no debit of its own). */
  campaignId?: string;
}

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

/** A forward: a share code minted for a packet by someone (SPEC: forwarding tree). */
export interface ForwardRecord {
  id: string;
  packetId: string;
  by: string;
  byName: string;
  parent?: string;
  at: string;
}

export interface MarkerRecord {
  packetId: string;
  userId: string;
  at: string;
  atMs: number;
  attempt: number;
  seqHint: number;
}

export interface SharesRecord {
  amounts: Fen[];
}

export type TakeShareResult = { kind: 'taken'; index: number; packet: PacketRecord } | { kind: 'refused'; packet: PacketRecord | undefined };

/** The store port of the packet aggregate: packet, shares, claim markers and slots. */
export interface PacketStore {
  get(id: string, consistent?: boolean): Promise<PacketRecord | undefined>;
  /**
   * A packet as this process last saw it: exact in its fixed fields (sender, total, count,
   * expiry, code validity), possibly behind in `claimed` and `state`. For checks whose answer
   * only ever moves one way (finished, expired); anything else must read again.
   */
  recent(id: string): Promise<PacketRecord | undefined>;
  putShares(id: string, amounts: Fen[]): Promise<SharesRecord>;
  shares(id: string): Promise<SharesRecord | undefined>;
  create(p: PacketRecord, due: { shard: number; at: string }): Promise<PacketRecord>;
  activate(id: string, due: { shard: number; at: string }): Promise<PacketRecord | undefined>;
  cancel(id: string): Promise<boolean>;
  takeShare(id: string, nowMs: number): Promise<TakeShareResult>;
  putMarker(m: MarkerRecord): Promise<boolean>;
  marker(packetId: string, userId: string): Promise<MarkerRecord | undefined>;
  takeOverMarker(m: MarkerRecord, at: string, atMs: number): Promise<boolean>;
  putSlot(packetId: string, s: SlotRecord): Promise<boolean>;
  voidSlot(packetId: string, index: number, at: string): Promise<boolean>;
  slots(packetId: string): Promise<SlotRecord[]>;
  /**
   * Writes packets with their shares in batches (BatchWriteItem, unconditional): for campaigns,
   * whose packets are deterministic so a re-write is identical. Only for packets not yet
   * claimable by anyone else: the caller writes the missing ones only (see `existing`).
   */
  createMany(items: Array<{ packet: PacketRecord; shares: number[]; due: { shard: number; at: string } }>): Promise<void>;
  /** Which of these packet ids exist (GetItem each). */
  existing(ids: readonly string[]): Promise<Set<string>>;
  /** Records a forward unless its id exists; returns the stored one (the first `at` stays). */
  putForward(f: ForwardRecord): Promise<ForwardRecord>;
  /** A packet's forwards, oldest first. */
  forwards(packetId: string): Promise<ForwardRecord[]>;
  slotOf(packetId: string, userId: string): Promise<SlotRecord | undefined>;
  beginSettle(id: string, nowMs: number, refundHint: number): Promise<PacketRecord | undefined>;
  finishSettle(id: string, refunded: Fen, at: string): Promise<PacketRecord | undefined>;
  listSent(userId: string, limit: number, startKey?: Record<string, unknown>): Promise<{ ids: string[]; lastKey?: Record<string, unknown> }>;
}

const PACKET_FIELDS = [
  'id', 'senderId', 'senderName', 'total', 'count', 'mode', 'greeting', 'scene', 'fee', 'state', 'claimed',
  'createdAt', 'expiresAt', 'expiresAtMs', 'codeValidity', 'senderHint', 'feeHint', 'refundHint', 'refundedAmount', 'settledAt',
  'recipientId', 'recipientName', 'campaignId',
] as const;

function toPacket(it: Item | undefined): PacketRecord | undefined {
  if (!it) return undefined;
  const p: Record<string, unknown> = {};
  for (const f of PACKET_FIELDS) if (it[f] !== undefined) p[f] = it[f];
  return p as unknown as PacketRecord;
}

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

/** Packets seen by this process (see PacketStore.recent), refreshed by every claim's update. */
const recentPackets = new Map<string, PacketRecord>();
function remember(p: PacketRecord): PacketRecord {
  if (recentPackets.size >= SHARES_CACHE_MAX) recentPackets.clear();
  recentPackets.set(p.id, p);
  return p;
}

/** Share lists never change after creation, so a warm function keeps them. */
const sharesCache = new Map<string, SharesRecord>();
const SHARES_CACHE_MAX = 5000;

/** The DynamoDB adapter of {@link PacketStore}. */
export class DynamoPacketStore implements PacketStore {
  constructor(private readonly db: Db) {}

  async get(id: string, consistent = true) {
    const p = toPacket(await this.db.get(Keys.packet(id), consistent));
    return p && p.state !== 'funding' ? remember(p) : p;
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

  async create(p: PacketRecord, due: { shard: number; at: string }): Promise<PacketRecord> {
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
        values: { ':active': 'active', ':funding': 'funding', ':canceled': 'canceled', ':g1pk': k.gsi1pk, ':g1sk': k.gsi1sk },
      }),
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

  /** The claim's one write on the hot item: take the next share index. */
  async takeShare(id: string, nowMs: number): Promise<TakeShareResult> {
    const it = await this.db.update(Keys.packet(id), 'SET claimed = claimed + :one', {
      condition: '#s = :active AND claimed < #count AND expiresAtMs > :now',
      names: { '#s': 'state', '#count': 'count' },
      values: { ':one': 1, ':active': 'active', ':now': nowMs },
    });
    if (!it) return { kind: 'refused', packet: await this.get(id) };
    const packet = remember(toPacket(it)!);
    return { kind: 'taken', index: packet.claimed - 1, packet };
  }

  async putMarker(m: MarkerRecord) {
    return this.db.put({ ...Keys.claimMarker(m.packetId, m.userId), ...m }, { condition: 'attribute_not_exists(pk)' });
  }

  async marker(packetId: string, userId: string) {
    const it = await this.db.get(Keys.claimMarker(packetId, userId));
    if (!it) return undefined;
    return {
      packetId,
      userId,
      at: it.at as string,
      atMs: it.atMs as number,
      attempt: it.attempt as number,
      seqHint: it.seqHint as number,
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

  async createMany(items: Array<{ packet: PacketRecord; shares: number[]; due: { shard: number; at: string } }>): Promise<void> {
    await this.db.batchPut(
      items.flatMap(({ packet: p, shares, due }) => [
        { ...Keys.shares(p.id), amounts: shares },
        { ...Keys.packet(p.id), ...p, ...Keys.due(due.shard, due.at, p.id), ...Keys.sent(p.senderId, `${p.createdAt}#${p.id}`) },
      ]),
    );
  }

  async existing(ids: readonly string[]): Promise<Set<string>> {
    const found = await Promise.all(ids.map((id) => this.db.get(Keys.packet(id), true)));
    return new Set(ids.filter((_, i) => found[i] !== undefined));
  }

  async putForward(f: ForwardRecord): Promise<ForwardRecord> {
    if (await this.db.put({ ...Keys.forward(f.packetId, f.id), ...f }, { condition: 'attribute_not_exists(pk)' })) return f;
    return (await this.forwards(f.packetId)).find((x) => x.id === f.id) ?? f;
  }

  async forwards(packetId: string): Promise<ForwardRecord[]> {
    const items = await queryAll(this.db, { keyCondition: 'pk = :pk', values: { ':pk': Keys.forwardsPk(packetId) }, consistent: true });
    // Sorted by id in the table; oldest first for the tree.
    items.sort((a, b) => (String(a.at) < String(b.at) ? -1 : String(a.at) > String(b.at) ? 1 : 0));
    return items.map((it) => ({
      id: it.id as string,
      packetId,
      by: it.by as string,
      byName: it.byName as string,
      at: it.at as string,
      ...(typeof it.parent === 'string' ? { parent: it.parent } : {}),
    }));
  }

  async putSlot(packetId: string, s: SlotRecord) {
    const { index, ...attrs } = s;
    return this.db.put({ ...Keys.slot(packetId, index), ...attrs }, { condition: 'attribute_not_exists(pk)' });
  }

  async voidSlot(packetId: string, index: number, at: string) {
    return this.db.put(
      { ...Keys.slot(packetId, index), void: true, userId: '', name: '', amount: 0, at, seqHint: 0 },
      { condition: 'attribute_not_exists(pk)' },
    );
  }

  async slots(packetId: string) {
    const items = await queryAll(this.db, {
      keyCondition: 'pk = :pk',
      values: { ':pk': Keys.slotsPk(packetId) },
      consistent: true,
    });
    return items.map(toSlot);
  }

  async slotOf(packetId: string, userId: string) {
    const items = await queryAll(this.db, {
      keyCondition: 'pk = :pk',
      filter: 'userId = :u',
      values: { ':pk': Keys.slotsPk(packetId), ':u': userId },
      consistent: true,
    });
    return items[0] ? toSlot(items[0]) : undefined;
  }

  /** Closes an expired packet to claims; re-entrant so a crashed sweeper's work is resumed. */
  async beginSettle(id: string, nowMs: number, refundHint: number) {
    return toPacket(
      await this.db.update(Keys.packet(id), 'SET #s = :settling, refundHint = if_not_exists(refundHint, :hint)', {
        condition: '#s IN (:active, :settling) AND expiresAtMs <= :now',
        names: { '#s': 'state' },
        values: { ':settling': 'settling', ':active': 'active', ':hint': refundHint, ':now': nowMs },
      }),
    );
  }

  async finishSettle(id: string, refunded: Fen, at: string) {
    return toPacket(
      await this.db.update(Keys.packet(id), 'SET #s = :settled, refundedAmount = :r, settledAt = :at REMOVE gsi1pk, gsi1sk', {
        condition: '#s = :settling',
        names: { '#s': 'state' },
        values: { ':settled': 'settled', ':settling': 'settling', ':r': refunded, ':at': at },
      }),
    );
  }

  async listSent(userId: string, limit: number, startKey?: Record<string, unknown>) {
    const page = await this.db.query({
      index: Indexes.byUser,
      keyCondition: 'gsi2pk = :pk',
      values: { ':pk': Keys.sentPk(userId) },
      forward: false,
      limit,
      ...(startKey ? { startKey } : {}),
    });
    return {
      ids: page.items.map((it) => refOfPk(it.pk)?.id ?? ''),
      ...(page.lastKey ? { lastKey: page.lastKey } : {}),
    };
  }
}
