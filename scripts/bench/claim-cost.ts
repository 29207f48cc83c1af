/**
 * What one claim costs the table and the function, claim by claim, through the real claim
 * handler (httpHandler + buildDeps) against dynalite:
 *
 *   - write units: the door's ReturnConsumedCapacity (INDEXES) per write, attributed to the
 *     partition written; a refused conditional write is billed 1 WCU by AWS and counted so.
 *     dynalite never reports index capacity, so index writes are counted from the index keys a
 *     write adds or moves (scripts/bench/capacity.ts, KEYS_ONLY indexes: 1 WCU each);
 *   - read units: the door's ReturnConsumedCapacity of every read;
 *   - store requests: calls through the door (`Db`), each one DynamoDB request;
 *   - sequential round trips on the critical path: every door call's start and end time, and the
 *     longest chain of calls each starting after the previous one ended (calls in parallel
 *     count once);
 *   - the handler's CPU milliseconds (process.cpuUsage around the claim, claims run one at a
 *     time; meaningful only when the store runs in another process, as the bench arranges).
 *
 * Each claim runs in its own AsyncLocalStorage scope, so nothing else is attributed to it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import type { Deps } from '../../functions/src/app/deps';
import type {
  DynamoDb,
  Db,
  Expr,
  Item,
  Key,
  QueryInput,
  QueryPage,
  ReadInfo,
  ScanInput,
  ScanPage,
} from '../../functions/src/store/db';
import { CapacityMeter, CountingDb, newClaimCapacity, type ClaimCapacity } from './capacity';
import { now } from './util';

/** One call through the door while a claim was measured. */
export interface DoorCall {
  op: 'get' | 'put' | 'update' | 'query' | 'batchGet' | 'batchPut';
  pk: string;
  startMs: number;
  endMs: number;
}

interface Scope {
  calls: DoorCall[];
  rcu: number;
}

/** The read units in a ConsumedCapacity object. */
function rcuOf(c: ConsumedCapacity | undefined): number {
  if (!c) return 0;
  return c.CapacityUnits ?? c.Table?.CapacityUnits ?? c.ReadCapacityUnits ?? c.Table?.ReadCapacityUnits ?? 0;
}

/**
 * The most door calls of one claim that ran one after another: the longest chain of calls each
 * starting no earlier than the previous one ended (greedy by end time: optimal for intervals).
 */
export function sequentialRoundTrips(calls: readonly DoorCall[]): number {
  const byEnd = [...calls].sort((a, b) => a.endMs - b.endMs);
  let n = 0;
  let last = -Infinity;
  for (const c of byEnd) {
    if (c.startMs >= last) {
      n++;
      last = c.endMs;
    }
  }
  return n;
}

/** A Db that times every call of the scope it runs in (outside any scope it only forwards). */
class TracingDb implements Db {
  constructor(
    private readonly inner: Db,
    private readonly als: AsyncLocalStorage<Scope>,
  ) {}
  private async timed<T>(op: DoorCall['op'], pk: string, run: () => Promise<T>): Promise<T> {
    const s = this.als.getStore();
    if (!s) return run();
    const startMs = now();
    try {
      return await run();
    } finally {
      s.calls.push({ op, pk, startMs, endMs: now() });
    }
  }
  get(key: Key, consistent?: boolean) {
    return this.timed('get', key.pk, () => this.inner.get(key, consistent));
  }
  put(item: Item, expr?: Expr) {
    return this.timed('put', item.pk, () => this.inner.put(item, expr));
  }
  update(key: Key, update: string, expr?: Expr) {
    return this.timed('update', key.pk, () => this.inner.update(key, update, expr));
  }
  query(q: QueryInput): Promise<QueryPage> {
    return this.timed('query', String(q.values[':pk'] ?? ''), () => this.inner.query(q));
  }
  batchGet(keys: readonly Key[], consistent?: boolean) {
    return this.timed('batchGet', keys[0]?.pk ?? '', () => this.inner.batchGet(keys, consistent));
  }
  batchPut(items: Item[]) {
    return this.timed('batchPut', items[0]?.pk ?? '', () => this.inner.batchPut(items));
  }
  scan(q: ScanInput): Promise<ScanPage> {
    return this.inner.scan(q);
  }
}

/** What one claim cost. */
export interface ClaimCost {
  status: number;
  /** Write units in all: base table (consumed capacity) + index writes. */
  wcu: number;
  indexWcu: number;
  /** The most write units one partition (base or index) took from this claim. */
  maxPartitionWcu: number;
  rcu: number;
  requests: number;
  sequential: number;
  cpuMs: number;
  /** Partitions written, shaped (<packet>, <user>), with their units: what the claim wrote. */
  writes: Record<string, number>;
  /** The door calls in the order they started: `op pk +start..end` (ms from the first). */
  calls: string[];
}

/**
 * A measuring store for `base` (a DynamoDb on the table to measure): deps built on it route
 * every door call of a measured claim into that claim's figures.
 */
export class ClaimCostMeter {
  private readonly scope = new AsyncLocalStorage<Scope>();
  private readonly meter = new CapacityMeter();
  readonly db: Db;

  constructor(base: DynamoDb) {
    const hooked = base.withHooks({
      returnCapacity: true,
      afterWrite: this.meter.afterWrite,
      afterRead: (info: ReadInfo) => {
        const s = this.scope.getStore();
        if (s) s.rcu += rcuOf(info.capacity);
      },
    });
    this.db = new TracingDb(new CountingDb(hooked, base, this.meter), this.scope);
  }

  /** Runs `claim` (one request through the handler) and returns what it cost. */
  async measure(claim: () => Promise<number>, shape: (pk: string) => string = (pk) => pk): Promise<ClaimCost> {
    const cap: ClaimCapacity = newClaimCapacity();
    const s: Scope = { calls: [], rcu: 0 };
    const cpu0 = process.cpuUsage();
    const status = await this.meter.als.run(cap, () => this.scope.run(s, claim));
    const cpu = process.cpuUsage(cpu0);
    const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    const writes: Record<string, number> = {};
    for (const [k, v] of cap.base) writes[shape(k)] = (writes[shape(k)] ?? 0) + v;
    for (const [k, v] of cap.index) writes[`index ${shape(k)}`] = (writes[`index ${shape(k)}`] ?? 0) + v;
    return {
      status,
      wcu: sum(cap.base) + sum(cap.index),
      indexWcu: sum(cap.index),
      maxPartitionWcu: Math.max(0, ...cap.base.values(), ...cap.index.values()),
      rcu: Math.round(s.rcu * 100) / 100,
      requests: s.calls.length,
      sequential: sequentialRoundTrips(s.calls),
      cpuMs: (cpu.user + cpu.system) / 1000,
      writes,
      calls: [...s.calls]
        .sort((a, b) => a.startMs - b.startMs)
        .map(
          (c) =>
            `${c.op} ${shape(c.pk)} ${(c.startMs - (s.calls[0]?.startMs ?? 0)).toFixed(1)}..${(c.endMs - (s.calls[0]?.startMs ?? 0)).toFixed(1)}`,
        ),
    };
  }
}

/** Summary of many claims' costs: mean and max of each figure. */
export interface ClaimCostSummary {
  claims: number;
  wcu: { mean: number; max: number };
  indexWcu: { mean: number; max: number };
  maxPartitionWcu: number;
  rcu: { mean: number; max: number };
  requests: { mean: number; max: number };
  sequential: { mean: number; max: number };
  cpuMs: { mean: number; p50: number };
  /** A typical claim's writes (the first measured). */
  typical: Record<string, number>;
}

export function summarizeCosts(list: ClaimCost[]): ClaimCostSummary {
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const mm = (xs: number[]) => ({
    mean: r2(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)),
    max: Math.max(0, ...xs),
  });
  const cpu = list.map((c) => c.cpuMs).sort((a, b) => a - b);
  return {
    claims: list.length,
    wcu: mm(list.map((c) => c.wcu)),
    indexWcu: mm(list.map((c) => c.indexWcu)),
    maxPartitionWcu: Math.max(0, ...list.map((c) => c.maxPartitionWcu)),
    rcu: mm(list.map((c) => c.rcu)),
    requests: mm(list.map((c) => c.requests)),
    sequential: mm(list.map((c) => c.sequential)),
    cpuMs: {
      mean: r2(cpu.reduce((a, b) => a + b, 0) / Math.max(1, cpu.length)),
      p50: r2(cpu[cpu.length >> 1] ?? Number.NaN),
    },
    typical: list[0]?.writes ?? {},
  };
}

/** Normalizes partition keys for display: <packet> and <user>. */
export function shaper(packetId: string): (pk: string) => string {
  return (k) => k.replace(packetId, '<packet>').replace(/u[A-Za-z0-9_-]{10,}/g, '<user>');
}

/** Re-exported for callers that build deps on the meter's store. */
export type { Deps };
