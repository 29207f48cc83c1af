/**
 * Write capacity of the claim path, attributed to partitions.
 *
 * Base table: the DynamoDb adapter's `afterWrite` hook with `returnCapacity: true`
 * (ReturnConsumedCapacity=INDEXES); the WCUs are read from the object dynalite returns.
 * A write whose condition fails returns no capacity; AWS still bills it (1 WCU for a small
 * item), so it is counted as 1 WCU and reported separately.
 *
 * Indexes: dynalite never reports index capacity, so index writes are counted here from the
 * attributes a write sets (both indexes are KEYS_ONLY: only a change of an index's key pair
 * writes to it — 1 write on the new key's partition for a new entry, 1 on the old one for a
 * removed entry, both for a moved entry). Each index write of a KEYS_ONLY entry is ≤ 1 KB: 1 WCU.
 *
 * Each claim runs inside an AsyncLocalStorage scope, so concurrent claims are told apart.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import type {
  DynamoDb,
  Db,
  Expr,
  Item,
  Key,
  QueryInput,
  QueryPage,
  ScanInput,
  ScanPage,
  WriteInfo,
} from '../../functions/src/store/db';

export interface ClaimCapacity {
  /** WCU per base-table partition key. */
  base: Map<string, number>;
  /** Index writes per `<index>:<index partition key>`. */
  index: Map<string, number>;
  writes: number;
  failedConditional: number;
  gets: number;
  batchGets: number;
  queries: number;
}

export const newClaimCapacity = (): ClaimCapacity => ({
  base: new Map(),
  index: new Map(),
  writes: 0,
  failedConditional: 0,
  gets: 0,
  batchGets: 0,
  queries: 0,
});

const INDEXES = [
  { name: 'gsi1', pk: 'gsi1pk', sk: 'gsi1sk' },
  { name: 'gsi2', pk: 'gsi2pk', sk: 'gsi2sk' },
] as const;
const INDEX_ATTR = /\bgsi[12](pk|sk)\b/;

const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

/** The WCUs in a ConsumedCapacity object (dynalite: CapacityUnits, and Table.CapacityUnits with INDEXES). */
export function wcuOf(c: ConsumedCapacity | undefined): number | undefined {
  if (!c) return undefined;
  return c.CapacityUnits ?? c.Table?.CapacityUnits ?? c.WriteCapacityUnits ?? c.Table?.WriteCapacityUnits;
}

export class CapacityMeter {
  readonly als = new AsyncLocalStorage<ClaimCapacity>();
  /** The first ConsumedCapacity object seen, as returned (for the report). */
  sample: ConsumedCapacity | undefined;
  /** Writes seen outside any claim scope (should be 0 during the measured claims). */
  unattributed = 0;

  /** The hooks for DynamoDb: WCU per partition key of the base table. */
  readonly afterWrite = (info: WriteInfo) => {
    const c = this.als.getStore();
    if (!c) {
      this.unattributed++;
      return;
    }
    if (info.op === 'batchWrite') return; // counted by CountingDb (no capacity returned)
    c.writes++;
    const wcu = wcuOf(info.capacity);
    if (info.capacity && !this.sample) this.sample = info.capacity;
    if (wcu === undefined) {
      // Condition failed (or a delete, which the adapter sends without ReturnConsumedCapacity).
      c.failedConditional++;
      add(c.base, info.pk, 1);
    } else add(c.base, info.pk, wcu);
  };

  indexWrite(indexName: string, partition: string) {
    const c = this.als.getStore();
    if (c) add(c.index, `${indexName}:${partition}`, 1);
  }
  read(kind: 'get' | 'batchGet' | 'query') {
    const c = this.als.getStore();
    if (c) c[kind === 'get' ? 'gets' : kind === 'batchGet' ? 'batchGets' : 'queries']++;
  }
}

function indexKeysOf(
  item: Record<string, unknown> | undefined,
  idx: (typeof INDEXES)[number],
): { pk: string; sk: string } | undefined {
  if (!item) return undefined;
  const pk = item[idx.pk];
  const sk = item[idx.sk];
  return typeof pk === 'string' && typeof sk === 'string' ? { pk, sk } : undefined;
}

/**
 * A Db that forwards to a DynamoDb (with the meter's hooks) and counts index writes and reads.
 * Where it cannot know the old item from the write itself, it reads it first with `raw`
 * (a Db without hooks) — only in the capacity phase, which is not timed.
 */
export class CountingDb implements Db {
  constructor(
    private readonly inner: DynamoDb,
    private readonly raw: Db,
    private readonly meter: CapacityMeter,
  ) {}

  private indexDiff(oldItem: Record<string, unknown> | undefined, newItem: Record<string, unknown> | undefined) {
    for (const idx of INDEXES) {
      const o = indexKeysOf(oldItem, idx);
      const n = indexKeysOf(newItem, idx);
      if (o && n && o.pk === n.pk && o.sk === n.sk) continue; // KEYS_ONLY: unchanged keys, no index write
      if (o) this.meter.indexWrite(idx.name, o.pk);
      if (n) this.meter.indexWrite(idx.name, n.pk);
    }
  }

  get(key: Key, consistent?: boolean) {
    this.meter.read('get');
    return this.inner.get(key, consistent);
  }
  batchGet(keys: readonly Key[], consistent?: boolean) {
    this.meter.read('batchGet');
    return this.inner.batchGet(keys, consistent);
  }
  query(q: QueryInput): Promise<QueryPage> {
    this.meter.read('query');
    return this.inner.query(q);
  }
  scan(q: ScanInput): Promise<ScanPage> {
    return this.inner.scan(q); // reconciliation only: not on the claim path being measured
  }

  async put(item: Item, expr: Expr = {}) {
    const absentOnly = /attribute_not_exists\(\s*pk\s*\)/.test(expr.condition ?? '');
    const old = absentOnly ? undefined : await this.raw.get({ pk: item.pk, sk: item.sk });
    const ok = await this.inner.put(item, expr);
    if (ok) this.indexDiff(old, item);
    return ok;
  }

  async update(key: Key, update: string, expr: Expr = {}) {
    const touchesIndex = INDEX_ATTR.test(update);
    const old = touchesIndex ? await this.raw.get(key) : undefined;
    const out = await this.inner.update(key, update, expr);
    if (out && touchesIndex) this.indexDiff(old, out);
    return out;
  }

  async batchPut(items: Item[]) {
    const olds = await Promise.all(items.map((it) => this.raw.get({ pk: it.pk, sk: it.sk })));
    await this.inner.batchPut(items);
    const c = this.meter.als.getStore();
    items.forEach((it, i) => {
      this.indexDiff(olds[i], it);
      if (c) {
        c.writes++;
        // BatchWriteItem returns no per-item capacity: estimate from the item's size (1 KB units).
        add(c.base, it.pk, Math.max(1, Math.ceil(Buffer.byteLength(JSON.stringify(it)) / 1024)));
      }
    });
  }
}

export interface CapacityReport {
  claims: number;
  wcuPerClaim: { mean: number; max: number };
  baseWcuPerClaim: { mean: number; max: number };
  indexWritesPerClaim: { mean: number; max: number };
  maxWcuOnOnePartitionPerClaim: { base: number; index: number; any: number; partition: string };
  writesPerClaim: { mean: number; max: number };
  failedConditionalWrites: number;
  readsPerClaim: { gets: number; queries: number };
  /** Partitions of one claim (a typical one: the first non-final claim), with their WCU. */
  typicalClaim: Record<string, number>;
  /** Over the whole packet: the partitions that took the most writes. */
  hottestPartitionsOverPacket: Array<{ partition: string; wcu: number }>;
  rawConsumedCapacitySample: unknown;
  unattributedWrites: number;
}

/** Normalizes a partition key for display: the packet/user ids become <packet>/<user>. */
function shape(k: string, packetId: string): string {
  return k.replace(packetId, '<packet>').replace(/u[A-Za-z0-9_-]{10,}/g, '<user>');
}

export function reportCapacity(list: ClaimCapacity[], meter: CapacityMeter, packetId: string): CapacityReport {
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const base = list.map((c) => sum(c.base));
  const idx = list.map((c) => sum(c.index));
  const tot = list.map((_, i) => base[i]! + idx[i]!);
  let maxBase = 0;
  let maxIdx = 0;
  let maxPart = '';
  for (const c of list) {
    for (const v of c.base.values()) maxBase = Math.max(maxBase, v);
    for (const v of c.index.values()) maxIdx = Math.max(maxIdx, v);
  }
  // The partition that holds the overall per-claim max (first one found).
  const anyMax = Math.max(maxBase, maxIdx);
  outer: for (const c of list) {
    for (const [k, v] of [...c.base, ...c.index]) {
      if (v === anyMax) {
        maxPart = shape(k, packetId);
        break outer;
      }
    }
  }
  const over = new Map<string, number>();
  for (const c of list) {
    for (const [k, v] of c.base) add(over, k, v);
    for (const [k, v] of c.index) add(over, `index ${k}`, v);
  }
  const typical = list[0] ?? newClaimCapacity();
  const typicalClaim: Record<string, number> = {};
  for (const [k, v] of typical.base) typicalClaim[shape(k, packetId)] = v;
  for (const [k, v] of typical.index) typicalClaim[`index ${shape(k, packetId)}`] = v;
  return {
    claims: list.length,
    wcuPerClaim: { mean: round2(mean(tot)), max: Math.max(0, ...tot) },
    baseWcuPerClaim: { mean: round2(mean(base)), max: Math.max(0, ...base) },
    indexWritesPerClaim: { mean: round2(mean(idx)), max: Math.max(0, ...idx) },
    maxWcuOnOnePartitionPerClaim: { base: maxBase, index: maxIdx, any: anyMax, partition: maxPart },
    writesPerClaim: { mean: round2(mean(list.map((c) => c.writes))), max: Math.max(0, ...list.map((c) => c.writes)) },
    failedConditionalWrites: list.reduce((a, c) => a + c.failedConditional, 0),
    readsPerClaim: { gets: round2(mean(list.map((c) => c.gets))), queries: round2(mean(list.map((c) => c.queries))) },
    typicalClaim,
    hottestPartitionsOverPacket: [...over.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([partition, wcu]) => ({ partition: shape(partition, packetId), wcu })),
    rawConsumedCapacitySample: meter.sample,
    unattributedWrites: meter.unattributed,
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;
