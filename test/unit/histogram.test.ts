import fc from 'fast-check';
import {
  BUCKETS,
  LATENCY_BOUNDS_MS,
  bucketOf,
  emptyHistogram,
  mergeHistograms,
  quantile,
} from '../../functions/src/domain/histogram';

const histogramOf = (xs: number[]) => {
  const h = emptyHistogram();
  for (const x of xs) h[bucketOf(x)]!++;
  return h;
};

describe('latency histogram', () => {
  test('buckets: bounds are inclusive; beyond the last bound is the overflow bucket', () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(1)).toBe(0);
    expect(bucketOf(1.5)).toBe(1);
    expect(bucketOf(100)).toBe(LATENCY_BOUNDS_MS.indexOf(100));
    expect(bucketOf(10_001)).toBe(BUCKETS - 1);
    expect(bucketOf(Number.NaN)).toBe(0);
    expect(quantile(emptyHistogram(), 0.5)).toBeNull();
  });

  test('a quantile lies in the bucket of the exact quantile (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 12_000 }), { minLength: 1, maxLength: 300 }),
        fc.constantFrom(0.5, 0.9, 0.99),
        (xs, q) => {
          const sorted = [...xs].sort((a, b) => a - b);
          const exact = sorted[Math.max(0, Math.ceil(q * xs.length) - 1)]!;
          const got = quantile(histogramOf(xs), q)!;
          const b = Math.min(bucketOf(exact), LATENCY_BOUNDS_MS.length - 1);
          expect(got).toBe(LATENCY_BOUNDS_MS[b]);
          if (exact <= LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]!) expect(got).toBeGreaterThanOrEqual(exact);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  test('buckets are monotone and each bound is within its bucket (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 20_000, noNaN: true }),
        fc.double({ min: 0, max: 20_000, noNaN: true }),
        (x, y) => {
          const [lo, hi] = x <= y ? [x, y] : [y, x];
          expect(bucketOf(lo)).toBeLessThanOrEqual(bucketOf(hi));
          const b = bucketOf(lo);
          if (b < LATENCY_BOUNDS_MS.length) {
            expect(lo).toBeLessThanOrEqual(LATENCY_BOUNDS_MS[b]!);
            if (b > 0) expect(lo).toBeGreaterThan(LATENCY_BOUNDS_MS[b - 1]!);
          }
        },
      ),
    );
  });

  test('quantiles of merged per-instance histograms: within one bucket of the exact quantile of all latencies, p50 ≤ p99 (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 3_000 }), { maxLength: 60 }), { minLength: 1, maxLength: 6 }),
        (perInstance) => {
          const all = perInstance.flat();
          const merged = perInstance.map(histogramOf).reduce(mergeHistograms, emptyHistogram());
          if (all.length === 0) return expect(quantile(merged, 0.5)).toBeNull();
          const sorted = [...all].sort((a, b) => a - b);
          for (const q of [0.5, 0.99]) {
            const exact = sorted[Math.ceil(q * all.length) - 1]!;
            const got = quantile(merged, q)!;
            // got is the upper bound of the exact value's bucket: exact ≤ got, and exact > the bound below it.
            expect(got).toBeGreaterThanOrEqual(exact);
            const i = LATENCY_BOUNDS_MS.indexOf(got as (typeof LATENCY_BOUNDS_MS)[number]);
            if (i > 0) expect(exact).toBeGreaterThan(LATENCY_BOUNDS_MS[i - 1]!);
          }
          expect(quantile(merged, 0.5)!).toBeLessThanOrEqual(quantile(merged, 0.99)!);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  test('merging histograms equals the histogram of the union (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(20_000)), fc.array(fc.nat(20_000)), (a, b) => {
        expect(mergeHistograms(histogramOf(a), histogramOf(b))).toEqual(histogramOf([...a, ...b]));
      }),
    );
  });
});
