/**
 * Share counters of packets (docs/capacity.md): how a packet's share indexes are spread over
 * counter items, so that claims are not bound to one partition's 1,000 write units per second,
 * and — in the recorded layout — so that one write takes a share and records who took it.
 *
 * Two layouts, fixed per packet at creation:
 * - `recorded` (new packets): ⌈count / 10⌉ counter items, each owning a contiguous range of at
 *   most {@link RECORDED_SHARES_PER_COUNTER} share indexes and recording its takers (the account
 *   and the index each took). A claim takes on its account's home counter ({@link homeCounter}),
 *   so one conditional write is the one-per-account gate, the take and the record. Ten shares of
 *   records keep a counter under 1 KB, so the write stays 1 WCU.
 * - `slots` (packets stored before): up to {@link SHARES_PER_COUNTER} shares count on the packet
 *   item itself, a bigger packet on ⌈count / 100⌉ counter items; who took each index is a slot
 *   item of its own.
 *
 * Pure module: no I/O. The store (store/packets.ts) keeps the counters; this decides the layout.
 */

/** How a packet records who took its shares (see the module comment). */
export const ShareLayouts = { slots: 'slots', recorded: 'recorded' } as const;
export type ShareLayout = (typeof ShareLayouts)[keyof typeof ShareLayouts];

/** Shares per counter item (slots layout); also the largest packet that counts on its own item. */
export const SHARES_PER_COUNTER = 100;

/** Shares per counter item in the recorded layout: ten records with the amounts stay < 1 KB. */
export const RECORDED_SHARES_PER_COUNTER = 10;

/** The most counters a packet of the slots layout can have (provider packets of 10,000 shares). */
export const MAX_COUNTERS = 100;

/** Share indexes per counter in a layout. */
export function counterWidth(layout: ShareLayout = ShareLayouts.slots): number {
  return layout === ShareLayouts.recorded ? RECORDED_SHARES_PER_COUNTER : SHARES_PER_COUNTER;
}

/** One counter's range of share indexes: [start, start + size). */
export interface CounterRange {
  counter: number;
  start: number;
  size: number;
}

/**
 * How many counters a packet of `count` shares has (slots layout, 1: the packet item is its
 * counter; recorded layout: always counter items, one at least).
 */
export function counterCount(count: number, layout: ShareLayout = ShareLayouts.slots): number {
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError('count must be an integer ≥ 1');
  return Math.ceil(count / counterWidth(layout));
}

/** Whether a packet of the slots layout spreads its shares over several counter items. */
export function isSharded(count: number): boolean {
  return counterCount(count) > 1;
}

/** The counter that owns share `index` (whatever the packet's size: ranges are fixed-width). */
export function counterOf(index: number, layout: ShareLayout = ShareLayouts.slots): number {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError('index must be an integer ≥ 0');
  return Math.floor(index / counterWidth(layout));
}

/** Counter `k`'s range in a packet of `count` shares. */
export function counterRange(count: number, k: number, layout: ShareLayout = ShareLayouts.slots): CounterRange {
  const n = counterCount(count, layout);
  if (!Number.isSafeInteger(k) || k < 0 || k >= n) throw new RangeError(`counter ${k} out of range [0, ${n})`);
  const width = counterWidth(layout);
  const start = k * width;
  return { counter: k, start, size: Math.min(width, count - start) };
}

/** Every counter's range, in order; together they partition [0, count). */
export function counterRanges(count: number, layout: ShareLayout = ShareLayouts.slots): CounterRange[] {
  return Array.from({ length: counterCount(count, layout) }, (_, k) => counterRange(count, k, layout));
}

/**
 * An account's home counter on a packet of `n` counters (recorded layout): where its claim takes
 * first, so that the one write is also its gate. Fixed by a hash of both ids (FNV-1a, 32 bits),
 * so an account's homes differ from packet to packet and a packet's claimers spread evenly.
 */
export function homeCounter(packetId: string, userId: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError('n must be an integer ≥ 1');
  let h = 0x811c9dc5;
  const text = `${packetId}\u0000${userId}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % n;
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
  const c = counters.find((r) => index >= r.start && index < r.start + r.size);
  return c !== undefined && index < c.start + Math.min(c.claimed, c.size);
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

/**
 * The packet item's layout fields for a new packet of `count` shares: the recorded layout names
 * itself and its counters; the slots layout names its counters only when it has several.
 */
export function packetLayout(
  count: number,
  layout: ShareLayout,
): { layout?: typeof ShareLayouts.recorded; counters?: number } {
  if (layout === ShareLayouts.recorded)
    return { layout: ShareLayouts.recorded, counters: counterCount(count, ShareLayouts.recorded) };
  return isSharded(count) ? { counters: counterCount(count) } : {};
}
