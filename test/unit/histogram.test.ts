import fc from 'fast-check';
import { BUCKETS, LATENCY_BOUNDS_MS, bucketOf, emptyHistogram, mergeHistograms, quantile } from '../../functions/src/domain/histogram';

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
      fc.property(fc.array(fc.integer({ min: 0, max: 12_000 }), { minLength: 1, maxLength: 300 }), fc.constantFrom(0.5, 0.9, 0.99), (xs, q) => {
        const sorted = [...xs].sort((a, b) => a - b);
        const exact = sorted[Math.max(0, Math.ceil(q * xs.length) - 1)]!;
        const got = quantile(histogramOf(xs), q)!;
        const b = Math.min(bucketOf(exact), LATENCY_BOUNDS_MS.length - 1);
        expect(got).toBe(LATENCY_BOUNDS_MS[b]);
        if (exact <= LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]!) expect(got).toBeGreaterThanOrEqual(exact);
      }),
      { numRuns: 2_000 },
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
