/**
 * Share counters of hot packets (docs/capacity.md): how a packet's share indexes are spread over counter
 * items so that claims are not bound to one partition's 1,000 write units per second.
 *
 * A packet of up to {@link SHARES_PER_COUNTER} shares has one counter: the packet item itself
 * (`claimed`), and its slots under one partition. A bigger packet (enterprise up to 1,000 shares,
 * provider up to 10,000) has ⌈count / 100⌉ counters, each owning a contiguous range of share
 * indexes, and the slots of each range under their own partition. A claim takes the next index
 * of one counter with room, so each claim writes 1 WCU to one counter partition and 1 WCU to one
 * slot partition, and a packet of n counters takes up to n × 1,000 claims per second.
 *
 * Pure module: no I/O. The store (store/packets.ts) keeps the counters; this decides the layout.
 */

/** Shares per counter item; also the largest packet that keeps the single-counter layout. */
export const SHARES_PER_COUNTER = 100;

/** The most counters a packet can have (provider packets of 10,000 shares): one BatchGetItem. */
export const MAX_COUNTERS = 100;

/** One counter's range of share indexes: [start, start + size). */
export interface CounterRange {
  counter: number;
  start: number;
  size: number;
}

/** How many counters a packet of `count` shares has (1: the packet item is its counter). */
export function counterCount(count: number): number {
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError('count must be an integer ≥ 1');
  return Math.ceil(count / SHARES_PER_COUNTER);
}

/** Whether a packet of `count` shares spreads them over several counter items. */
export function isSharded(count: number): boolean {
  return counterCount(count) > 1;
}

/** The counter that owns share `index` (whatever the packet's size: ranges are fixed-width). */
export function counterOf(index: number): number {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError('index must be an integer ≥ 0');
  return Math.floor(index / SHARES_PER_COUNTER);
}

/** Counter `k`'s range in a packet of `count` shares. */
export function counterRange(count: number, k: number): CounterRange {
  const n = counterCount(count);
  if (!Number.isSafeInteger(k) || k < 0 || k >= n) throw new RangeError(`counter ${k} out of range [0, ${n})`);
  const start = k * SHARES_PER_COUNTER;
  return { counter: k, start, size: Math.min(SHARES_PER_COUNTER, count - start) };
}

/** Every counter's range, in order; together they partition [0, count). */
export function counterRanges(count: number): CounterRange[] {
  return Array.from({ length: counterCount(count) }, (_, k) => counterRange(count, k));
}

/** How many shares a counter has handed out, as read (its `claimed`, capped at its size). */
export interface CounterState extends CounterRange {
  claimed: number;
  /** Closed by settlement: no claim can take from it any more, so `claimed` is final. */
  closed: boolean;
}

/** Shares taken across counters (each capped at its size). */
export function takenAcross(counters: readonly CounterState[]): number {
  return counters.reduce((a, c) => a + Math.min(c.claimed, c.size), 0);
}

/** Whether share `index` was handed out by its counter (it may or may not have a slot yet). */
export function isTaken(counters: readonly CounterState[], index: number): boolean {
  const c = counters[counterOf(index)];
  return c !== undefined && index >= c.start && index < c.start + Math.min(c.claimed, c.size);
}

/**
 * The counter a claim tries next: uniformly at random among those not known to be full, so that
 * concurrent claims spread over partitions and the counters fill evenly. `draw(n)` returns a
 * uniform integer in [0, n). Undefined when every counter is known to be full.
 */
export function pickCounter(
  n: number,
  knownFull: ReadonlySet<number>,
  draw: (n: number) => number,
): number | undefined {
  const open: number[] = [];
  for (let k = 0; k < n; k++) if (!knownFull.has(k)) open.push(k);
  if (open.length === 0) return undefined;
  return open[draw(open.length)];
}
