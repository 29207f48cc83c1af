import fc from 'fast-check';
import { MAX_LUCKY_SHARE, PERSONAL_SIGMA_CAP, type Fen } from '../../functions/src/domain/money';
import {
  bestShareIndex,
  checkSplit,
  cryptoRandom,
  SIGMA_MAX_ATTEMPTS,
  split,
  SplitModes,
  stdDevWithin,
  type RandomSource,
  type SplitMode,
  type SplitRefusal,
} from '../../functions/src/domain/split';

/**
 * A small seeded generator (mulberry32) so property tests are fast and reproducible; the
 * production source is tested separately below.
 */
function seeded(seed: number): RandomSource {
  let state = seed >>> 0;
  const next32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    int(min: number, max: number): number {
      if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min > max) {
        throw new RangeError(`bad range [${min}, ${max}]`);
      }
      const span = max - min + 1;
      if (span <= 2 ** 32) {
        const limit = 2 ** 32 - (2 ** 32 % span); // rejection keeps it unbiased
        for (;;) {
          const r = next32();
          if (r < limit) return min + (r % span);
        }
      }
      const bigSpan = BigInt(span);
      const limit = (1n << 64n) - ((1n << 64n) % bigSpan);
      for (;;) {
        const r = (BigInt(next32()) << 32n) | BigInt(next32());
        if (r < limit) return Number(BigInt(min) + (r % bigSpan));
      }
    },
  };
}

/** Draws take the lowest value; the shuffle swaps nothing (its calls are the ones with min 0). */
const lowDrawsNoShuffle: RandomSource = { int: (min, max) => (min === 0 ? max : min) };
/** Draws take the highest value; the shuffle swaps nothing. */
const highDrawsNoShuffle: RandomSource = { int: (_min, max) => max };

/** Independent oracle for the split's refusal rules (docs/rules.md). */
function expectedRefusal(total: number, count: number, mode: SplitMode, maxShare: number): SplitRefusal | null {
  if (total < count) return 'TOO_FEW_FEN';
  if (mode === 'equal') return total % count === 0 ? null : 'EQUAL_SPLIT_UNEVEN';
  return BigInt(total) > BigInt(count) * BigInt(maxShare) ? 'SHARE_CAP' : null;
}

/** Reference σ ≤ cap with BigInt only. */
function sigmaWithinRef(shares: number[], cap: number): boolean {
  const n = BigInt(shares.length);
  let s = 0n;
  let q = 0n;
  for (const x of shares) {
    s += BigInt(x);
    q += BigInt(x) * BigInt(x);
  }
  return n * q - s * s <= n * n * BigInt(cap) * BigInt(cap);
}

function expectValidShares(shares: Fen[], total: number, count: number, maxShare?: number): void {
  expect(shares).toHaveLength(count);
  let sum = 0;
  for (const s of shares) {
    if (!Number.isSafeInteger(s) || s < 1) throw new Error(`bad share ${s} in ${JSON.stringify(shares)}`);
    if (maxShare !== undefined && s > maxShare) throw new Error(`share ${s} > maxShare ${maxShare}`);
    sum += s;
  }
  expect(sum).toBe(total);
}

/** (count, maxShare, total) with totals around every refusal boundary. */
const luckyCase = fc
  .record({
    count: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 300 })),
    maxShare: fc.option(fc.oneof(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 30_000 })), {
      nil: undefined,
    }),
    seed: fc.integer(),
  })
  .chain(({ count, maxShare, seed }) => {
    const cap = count * (maxShare ?? MAX_LUCKY_SHARE);
    return fc
      .oneof(
        fc.integer({ min: 0, max: count + 3 }), // around TOO_FEW_FEN
        fc.integer({ min: Math.max(0, cap - 3), max: cap + 3 }), // around SHARE_CAP
        fc.integer({ min: 0, max: cap + 1_000 }), // anywhere
      )
      .map((total) => ({ count, maxShare, seed, total }));
  });

describe('cryptoRandom', () => {
  it.each([
    [0, 0],
    [5, 5],
    [0, 1],
    [1, 6],
    [-10, 10],
    [-3, -1],
    [0, 2 ** 48 - 2], // largest span randomInt takes
    [0, 2 ** 48], // beyond it: the 64-bit fallback
    [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    [Number.MAX_SAFE_INTEGER - 3, Number.MAX_SAFE_INTEGER],
  ])('stays within [%p, %p]', (min, max) => {
    for (let i = 0; i < 2_000; i++) {
      const r = cryptoRandom.int(min, max);
      if (!Number.isSafeInteger(r) || r < min || r > max) throw new Error(`out of range: ${r}`);
    }
  });

  it('reaches every value of a small range, both bounds included', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 2_000; i++) seen.add(cryptoRandom.int(3, 9));
    expect([...seen].sort((a, b) => a - b)).toEqual([3, 4, 5, 6, 7, 8, 9]);
  });

  it('is roughly uniform above 2^48 too (fallback path)', () => {
    // Top bit of a range of 2^50 values: half the draws should land in the upper half.
    let upper = 0;
    const n = 4_000;
    for (let i = 0; i < n; i++) if (cryptoRandom.int(0, 2 ** 50 - 1) >= 2 ** 49) upper++;
    expect(Math.abs(upper / n - 0.5)).toBeLessThan(0.05);
  });

  it.each([
    [2, 1],
    [0.5, 1],
    [0, Number.MAX_SAFE_INTEGER + 1],
    [Number.NaN, 1],
  ])('refuses bounds [%p, %p]', (min, max) => {
    expect(() => cryptoRandom.int(min, max)).toThrow(RangeError);
  });
});

describe('checkSplit', () => {
  it.each([
    [0, 1, 'lucky', undefined, 'TOO_FEW_FEN'],
    [9, 10, 'lucky', undefined, 'TOO_FEW_FEN'],
    [9, 10, 'equal', undefined, 'TOO_FEW_FEN'],
    [10, 10, 'lucky', undefined, null],
    [10, 10, 'equal', undefined, null],
    [10_001, 10, 'equal', undefined, 'EQUAL_SPLIT_UNEVEN'],
    [10_000, 10, 'equal', undefined, null],
    [5_000_000, 10, 'equal', undefined, null], // no share cap for equal packets
    [200_000, 10, 'lucky', undefined, null], // exactly 10 × 200 yuan
    [200_001, 10, 'lucky', undefined, 'SHARE_CAP'],
    [31, 3, 'lucky', 10, 'SHARE_CAP'],
    [30, 3, 'lucky', 10, null],
    [31, 3, 'equal', 10, 'EQUAL_SPLIT_UNEVEN'], // maxShare does not apply to equal
  ] as const)('checkSplit(%p, %p, %p, maxShare %p) = %p', (total, count, mode, maxShare, expected) => {
    expect(checkSplit(total, count, mode, maxShare === undefined ? undefined : { maxShare })).toBe(expected);
    const result = split(total, count, mode, { maxShare, random: seeded(1) });
    expect(result.ok ? null : result.reason).toBe(expected);
  });

  it.each([
    [-1, 1, 'lucky', undefined],
    [1.5, 1, 'lucky', undefined],
    [10, 0, 'lucky', undefined],
    [10, 1.5, 'equal', undefined],
    [10, 1, 'weird', undefined],
    [10, 1, 'lucky', 0],
    [10, 1, 'lucky', 2.5],
  ])('throws RangeError on malformed arguments (%p, %p, %p, %p)', (total, count, mode, maxShare) => {
    const opts = maxShare === undefined ? undefined : { maxShare };
    expect(() => checkSplit(total, count, mode as SplitMode, opts)).toThrow(RangeError);
    expect(() => split(total, count, mode as SplitMode, opts)).toThrow(RangeError);
  });

  it('split refuses a sigmaCap below 1 fen', () => {
    expect(() => split(100, 2, 'lucky', { sigmaCap: 0 })).toThrow(RangeError);
    expect(() => split(100, 2, 'lucky', { sigmaCap: -1 })).toThrow(RangeError);
  });
});

describe('split, lucky mode', () => {
  it('keeps every invariant and refuses exactly when it should (10 000 runs)', () => {
    fc.assert(
      fc.property(luckyCase, ({ count, maxShare, seed, total }) => {
        const expected = expectedRefusal(total, count, 'lucky', maxShare ?? MAX_LUCKY_SHARE);
        expect(checkSplit(total, count, 'lucky', maxShare === undefined ? undefined : { maxShare })).toBe(expected);
        const result = split(total, count, 'lucky', { maxShare, random: seeded(seed) });
        if (expected !== null) {
          expect(result).toEqual({ ok: false, reason: expected });
          return;
        }
        if (!result.ok) throw new Error(`refused ${result.reason}`);
        expectValidShares(result.shares, total, count, maxShare ?? MAX_LUCKY_SHARE);
      }),
      { numRuns: 10_000 },
    );
  });

  it('keeps σ within the cap when one is given (10 000 runs)', () => {
    const sigmaCase = fc.record({
      count: fc.integer({ min: 1, max: 100 }),
      extra: fc.integer({ min: 0, max: 20_000 }),
      cap: fc.oneof(
        { weight: 4, arbitrary: fc.constant(PERSONAL_SIGMA_CAP) },
        // Caps far below the personal one make rejection slow (the fallback path is covered by
        // the next test); keep them ≥ 300 fen here so 10 000 runs stay quick.
        { weight: 1, arbitrary: fc.integer({ min: 300, max: 6_000 }) },
      ),
      seed: fc.integer(),
    });
    fc.assert(
      fc.property(sigmaCase, ({ count, extra, cap, seed }) => {
        const total = count + (extra % (20_001 - count)); // personal packets: count ≤ total ≤ 200 yuan
        const result = split(total, count, 'lucky', { sigmaCap: cap, random: seeded(seed) });
        if (!result.ok) throw new Error(`refused ${result.reason}`);
        expectValidShares(result.shares, total, count, MAX_LUCKY_SHARE);
        if (!sigmaWithinRef(result.shares, cap)) throw new Error(`σ above ${cap}: ${JSON.stringify(result.shares)}`);
      }),
      { numRuns: 10_000 },
    );
  });

  it('keeps σ within tiny caps too, through the fallback (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 5_000 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer(),
        (count, extra, cap, seed) => {
          const total = count + extra;
          const result = split(total, count, 'lucky', { sigmaCap: cap, random: seeded(seed) });
          if (!result.ok) throw new Error(`refused ${result.reason}`);
          expectValidShares(result.shares, total, count, MAX_LUCKY_SHARE);
          if (!sigmaWithinRef(result.shares, cap)) throw new Error(`σ above ${cap}: ${JSON.stringify(result.shares)}`);
        },
      ),
      { numRuns: 300 }, // each fallback costs SIGMA_MAX_ATTEMPTS whole draws
    );
  });

  it('actually rejects draws over the cap (without the cap, two 200-yuan shares often exceed 45 yuan σ)', () => {
    const random = seeded(7);
    let overWithout = 0;
    for (let i = 0; i < 1_000; i++) {
      const free = split(20_000, 2, 'lucky', { random });
      if (free.ok && !stdDevWithin(free.shares, PERSONAL_SIGMA_CAP)) overWithout++;
      const capped = split(20_000, 2, 'lucky', { sigmaCap: PERSONAL_SIGMA_CAP, random });
      if (!capped.ok || !stdDevWithin(capped.shares, PERSONAL_SIGMA_CAP)) throw new Error('cap broken');
    }
    expect(overWithout).toBeGreaterThan(400); // about 55 % of free draws break the cap
  });

  it('capped personal splits stay random, not the fallback', () => {
    const random = seeded(11);
    const firsts = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const r = split(20_000, 2, 'lucky', { sigmaCap: PERSONAL_SIGMA_CAP, random });
      if (r.ok) firsts.add(r.shares[0] as number);
    }
    expect(firsts.size).toBeGreaterThan(150);
  });

  it('falls back to a near-equal split within the cap after a bounded number of attempts', () => {
    // σ ≤ 1 fen for 10 random shares of ~100 fen is practically impossible: forces the fallback.
    let calls = 0;
    const inner = seeded(3);
    const counting: RandomSource = {
      int(min, max) {
        calls++;
        return inner.int(min, max);
      },
    };
    const result = split(1_005, 10, 'lucky', { sigmaCap: 1, random: counting });
    if (!result.ok) throw new Error('refused');
    expectValidShares(result.shares, 1_005, 10);
    expect([...result.shares].sort((a, b) => a - b)).toEqual([100, 100, 100, 100, 100, 101, 101, 101, 101, 101]);
    expect(stdDevWithin(result.shares, 1)).toBe(true);
    // 9 draws per attempt, then one 9-step shuffle for the fallback.
    expect(calls).toBe(SIGMA_MAX_ATTEMPTS * 9 + 9);
  });

  it('the fallback spreads the extra fen over every position', () => {
    const random = seeded(5);
    const extraAt = new Array<number>(4).fill(0);
    for (let i = 0; i < 400; i++) {
      const r = split(401, 4, 'lucky', { sigmaCap: 1, maxShare: 101, random }); // shares 100/101 only
      if (!r.ok) throw new Error('refused');
      r.shares.forEach((s, j) => {
        if (s === 101) extraAt[j] = (extraAt[j] as number) + 1;
      });
    }
    for (const n of extraAt) expect(n).toBeGreaterThan(50); // 100 expected at each position
  });

  it('draws each share within the double-mean bounds [1, 2 × mean − 1] (lowest and highest draws)', () => {
    // highest: 2×25−1 = 49; then floor(2×51/3)−1 = 33; then 2×18/2−1 = 17; the rest 1
    expect(split(100, 4, 'lucky', { random: highDrawsNoShuffle })).toEqual({ ok: true, shares: [49, 33, 17, 1] });
    expect(split(100, 4, 'lucky', { random: lowDrawsNoShuffle })).toEqual({ ok: true, shares: [1, 1, 1, 97] });
    // maxShare binds both ways: lo leaves no more than maxShare for each later share
    expect(split(100, 4, 'lucky', { maxShare: 30, random: highDrawsNoShuffle })).toEqual({
      ok: true,
      shares: [30, 30, 30, 10],
    });
    expect(split(100, 4, 'lucky', { maxShare: 30, random: lowDrawsNoShuffle })).toEqual({
      ok: true,
      shares: [10, 30, 30, 30],
    });
    // small remainders still leave 1 fen for each later share
    expect(split(3, 3, 'lucky', { random: highDrawsNoShuffle })).toEqual({ ok: true, shares: [1, 1, 1] });
    expect(split(5, 3, 'lucky', { random: highDrawsNoShuffle })).toEqual({ ok: true, shares: [2, 2, 1] });
    expect(split(7, 1, 'lucky', { random: highDrawsNoShuffle })).toEqual({ ok: true, shares: [7] });
  });

  it('only ever asks for non-empty ranges', () => {
    fc.assert(
      fc.property(luckyCase, ({ count, maxShare, seed, total }) => {
        const inner = seeded(seed);
        const strict: RandomSource = {
          int(min, max) {
            if (min > max) throw new Error(`empty range [${min}, ${max}]`);
            return inner.int(min, max);
          },
        };
        split(total, count, 'lucky', { maxShare, random: strict });
      }),
      { numRuns: 2_000 },
    );
  });

  it('uses the crypto source by default', () => {
    const result = split(10_000, 10, 'lucky');
    if (!result.ok) throw new Error('refused');
    expectValidShares(result.shares, 10_000, 10, MAX_LUCKY_SHARE);
  });

  it('handles the largest packets (10 000 shares, provider amounts)', () => {
    const r = split(50_000_000, 10_000, 'lucky', { random: seeded(9) });
    if (!r.ok) throw new Error('refused');
    expectValidShares(r.shares, 50_000_000, 10_000, MAX_LUCKY_SHARE);
    const full = split(10_000 * MAX_LUCKY_SHARE, 10_000, 'lucky', { random: seeded(9) });
    expect(full.ok && full.shares.every((s) => s === MAX_LUCKY_SHARE)).toBe(true);
  });
});

describe('split, equal mode', () => {
  it('splits evenly or refuses exactly when it should (10 000 runs)', () => {
    const equalCase = fc
      .record({
        count: fc.integer({ min: 1, max: 2_000 }),
        per: fc.integer({ min: 0, max: 1_000_000 }),
        seed: fc.integer(),
      })
      .chain(({ count, per, seed }) =>
        fc
          .oneof(fc.constant(count * per), fc.integer({ min: 0, max: count * per + count }))
          .map((total) => ({ count, seed, total })),
      );
    fc.assert(
      fc.property(
        equalCase,
        fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
        ({ count, seed, total }, maxShare) => {
          const expected = expectedRefusal(total, count, 'equal', Infinity);
          expect(checkSplit(total, count, 'equal', { maxShare })).toBe(expected);
          const result = split(total, count, 'equal', { maxShare, random: seeded(seed) });
          if (expected !== null) {
            expect(result).toEqual({ ok: false, reason: expected });
            return;
          }
          if (!result.ok) throw new Error(`refused ${result.reason}`);
          expectValidShares(result.shares, total, count);
          const first = result.shares[0];
          if (!result.shares.every((s) => s === first)) throw new Error('unequal shares');
        },
      ),
      { numRuns: 10_000 },
    );
  });

  it('refuses an uneven total', () => {
    expect(split(10_001, 10, 'equal')).toEqual({ ok: false, reason: 'EQUAL_SPLIT_UNEVEN' });
    expect(split(100, 3, SplitModes.equal)).toEqual({ ok: false, reason: 'EQUAL_SPLIT_UNEVEN' });
    expect(split(99, 3, SplitModes.equal)).toEqual({ ok: true, shares: [33, 33, 33] });
  });

  it('ignores a σ cap (equal shares have σ = 0)', () => {
    expect(split(300, 3, 'equal', { sigmaCap: 1 })).toEqual({ ok: true, shares: [100, 100, 100] });
  });
});

describe('手气最佳 odds per claim position', () => {
  const SHARES = 10;
  const TOTAL = 10_000;

  function bestCounts(trials: number, random: RandomSource): number[] {
    const counts = new Array<number>(SHARES).fill(0);
    for (let t = 0; t < trials; t++) {
      const r = split(TOTAL, SHARES, 'lucky', { random });
      if (!r.ok) throw new Error('refused');
      const i = bestShareIndex(r.shares);
      counts[i] = (counts[i] as number) + 1;
    }
    return counts;
  }

  it('every position is within ±0.5 percentage points of 10 % (200 000 packets, crypto source)', () => {
    // Standard error of each share of trials: sqrt(0.1 × 0.9 / 200 000) ≈ 0.067 pp, so ±0.5 pp is
    // more than 7 standard errors: a fair split essentially never fails, an unfair one always does.
    const trials = 200_000;
    const counts = bestCounts(trials, cryptoRandom);
    const odds = counts.map((c) => c / trials);
    for (const p of odds) expect(Math.abs(p - 0.1)).toBeLessThanOrEqual(0.005);
  });

  it('the same double-mean without the shuffle would fail: it favours the last claimer', () => {
    const inner = seeded(2024);
    const noShuffle: RandomSource = { int: (min, max) => (min === 0 ? max : inner.int(min, max)) };
    const trials = 50_000;
    const odds = bestCounts(trials, noShuffle).map((c) => c / trials);
    expect(odds[SHARES - 1]).toBeGreaterThan(0.11); // about 12 % (docs/rules.md)
    expect(Math.max(...odds.map((p) => Math.abs(p - 0.1)))).toBeGreaterThan(0.005);
  });
});

describe('stdDevWithin', () => {
  it('is exact at the boundary', () => {
    // shares 1 and 1 + 2c have σ = c exactly
    expect(stdDevWithin([1, 9_001], 4_500)).toBe(true);
    expect(stdDevWithin([1, 9_003], 4_500)).toBe(false); // σ = 4 501
    expect(stdDevWithin([1, 9_002], 4_500)).toBe(false); // σ = 4 500.5
    expect(stdDevWithin([5, 5, 5], 0)).toBe(true);
    expect(stdDevWithin([5, 5, 6], 0)).toBe(false);
    expect(stdDevWithin([], 0)).toBe(true);
    expect(stdDevWithin([7], 0)).toBe(true);
    // 3·Σx² − (Σx)² = 2 for [0, 0, 1]: σ² = 2/9, so σ ≤ 1 but not ≤ 0
    expect(stdDevWithin([0, 0, 1], 1)).toBe(true);
  });

  it('agrees with a BigInt reference, small and huge values (property)', () => {
    const shares = fc.oneof(
      fc.array(fc.integer({ min: 1, max: 20_000 }), { maxLength: 100 }),
      fc.array(fc.maxSafeNat(), { maxLength: 20 }), // forces the BigInt path
    );
    fc.assert(
      fc.property(shares, fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.maxSafeNat()), (xs, cap) => {
        expect(stdDevWithin(xs, cap)).toBe(sigmaWithinRef(xs, cap));
      }),
      { numRuns: 5_000 },
    );
  });

  it('agrees with the reference right at the boundary (property)', () => {
    // Two shares a, a + 2c have σ = c: check c − 1, c and c + 1 as caps.
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), fc.integer({ min: 1, max: 2 ** 40 }), (a, c) => {
        const xs = [a, a + 2 * c];
        expect(stdDevWithin(xs, c)).toBe(true);
        expect(stdDevWithin(xs, c - 1)).toBe(false);
        expect(stdDevWithin(xs, c + 1)).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it('refuses non-integer input', () => {
    expect(() => stdDevWithin([1.5], 1)).toThrow(RangeError);
    expect(() => stdDevWithin([1], -1)).toThrow(RangeError);
  });
});

describe('bestShareIndex', () => {
  it.each([
    [[], -1],
    [[5], 0],
    [[1, 3, 2], 1],
    [[3, 1, 3], 0], // tie: earliest claim wins
    [[1, 2, 2, 2], 1],
    [[4, 4, 4, 4], 0],
    [[1, 2, 3], 2],
  ])('bestShareIndex(%p) = %p', (amounts, index) => {
    expect(bestShareIndex(amounts)).toBe(index);
  });

  it('is the first index of the maximum (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 50 }), (xs) => {
        expect(bestShareIndex(xs)).toBe(xs.indexOf(Math.max(...xs)));
      }),
      { numRuns: 2_000 },
    );
  });
});
