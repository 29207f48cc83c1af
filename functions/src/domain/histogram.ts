/**
 * A fixed-bucket latency histogram: counts per bucket add up across Lambda instances and
 * minutes (a sum of histograms is the histogram of the union), so p50/p99 of a whole window can
 * be read from per-instance, per-minute counters. Pure.
 */

/** Upper bounds (ms, inclusive) of the buckets; one more bucket holds everything slower. */
export const LATENCY_BOUNDS_MS = [
  1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700, 1_000, 1_500, 2_000, 3_000, 5_000, 10_000,
] as const;

/** Number of buckets (the bounds plus the overflow bucket). */
export const BUCKETS = LATENCY_BOUNDS_MS.length + 1;

/** The bucket of a latency: the first bound ≥ ms (negative or NaN count as 0 ms). */
export function bucketOf(ms: number): number {
  const v = Number.isFinite(ms) && ms > 0 ? ms : 0;
  for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) if (v <= LATENCY_BOUNDS_MS[i]!) return i;
  return LATENCY_BOUNDS_MS.length;
}

/** An empty histogram. */
export const emptyHistogram = (): number[] => new Array<number>(BUCKETS).fill(0);

/** a + b, bucket by bucket (lengths may differ: missing buckets count 0). */
export function mergeHistograms(a: readonly number[], b: readonly number[]): number[] {
  return Array.from({ length: BUCKETS }, (_, i) => (a[i] ?? 0) + (b[i] ?? 0));
}

/**
 * The q-quantile (0 < q ≤ 1) as the upper bound of the bucket holding it, so the true value is
 * at most that and above the previous bound; the overflow bucket reports the last bound.
 * null for an empty histogram.
 */
export function quantile(h: readonly number[], q: number): number | null {
  const total = h.reduce((a, x) => a + x, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < BUCKETS; i++) {
    seen += h[i] ?? 0;
    if (seen >= rank) return LATENCY_BOUNDS_MS[Math.min(i, LATENCY_BOUNDS_MS.length - 1)]!;
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]!;
}
