import fc from 'fast-check';
import {
  dayKeyUtc8,
  feeFor,
  formatYuan,
  isFen,
  MAX_LUCKY_SHARE,
  PERSONAL_SIGMA_CAP,
  policyFor,
  Tiers,
  type Policy,
} from '../../functions/src/domain/money';

describe('feeFor', () => {
  it.each([
    [10_000, 60, 60],
    [10_001, 60, 61], // 60.006 rounds up
    [9_999, 60, 60], // 59.994 rounds up
    [1, 35, 1], // 0.0035 fen is still a whole fen
    [0, 60, 0],
    [0, 100, 0],
    [12_345, 0, 0], // personal: no fee
    [200_000, 100, 2_000], // enterprise maximum on the enterprise per-packet limit
    [200_000, 60, 1_200],
    [2_000_000, 35, 7_000],
    [2_000_001, 35, 7_001],
    [10_000, 10_000, 10_000], // 100 %
  ])('%i fen at %i bps = %i fen', (amount, bps, fee) => {
    expect(feeFor(amount, bps)).toBe(fee);
  });

  it('is exact beyond 2^53 intermediate products', () => {
    const amount = Number.MAX_SAFE_INTEGER; // × 80 overflows the float mantissa
    const expected = (BigInt(amount) * 80n + 9_999n) / 10_000n;
    expect(feeFor(amount, 80)).toBe(Number(expected));
  });

  it('equals the BigInt ceiling for any fen amount and bps (property)', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.integer({ min: 0, max: 10_000 }), (amount, bps) => {
        const fee = feeFor(amount, bps);
        const exact = BigInt(amount) * BigInt(bps);
        // ceil: fee × 10 000 ≥ exact and (fee − 1) × 10 000 < exact
        expect(BigInt(fee) * 10_000n >= exact).toBe(true);
        expect(fee === 0 || BigInt(fee - 1) * 10_000n < exact).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it.each([
    [-1, 60],
    [1.5, 60],
    [Number.NaN, 60],
    [100, -1],
    [100, 10_001],
    [100, 0.5],
  ])('refuses amount %p at %p bps', (amount, bps) => {
    expect(() => feeFor(amount, bps)).toThrow(RangeError);
  });
});

describe('isFen', () => {
  it.each([0, 1, 20_000, Number.MAX_SAFE_INTEGER])('accepts %p', (n) => expect(isFen(n)).toBe(true));
  it.each([-1, 0.5, 1.0000001, Number.NaN, Infinity, Number.MAX_SAFE_INTEGER + 1, '1', null, undefined, 1n])(
    'rejects %p',
    (n) => expect(isFen(n)).toBe(false),
  );
});

describe('policyFor', () => {
  it('personal tier', () => {
    expect(policyFor(Tiers.personal)).toEqual<Policy>({
      tier: 'personal',
      perPacketLimit: 20_000,
      dailyLimit: 100_000,
      feeBps: 0,
      codeValiditySeconds: 120,
      maxShares: 100,
      sigmaCap: 4_500,
      withdrawal: { min: 100, max: 20_000, dailyLimit: 200_000, feeBps: 0 },
    });
  });

  it('enterprise tier', () => {
    expect(policyFor(Tiers.enterprise)).toEqual<Policy>({
      tier: 'enterprise',
      perPacketLimit: 200_000,
      dailyLimit: 5_000_000,
      feeBps: 60,
      codeValiditySeconds: 180,
      maxShares: 1_000,
      sigmaCap: null,
      withdrawal: { min: 100, max: 20_000, dailyLimit: 200_000, feeBps: 0 },
    });
  });

  it('provider tier defaults', () => {
    expect(policyFor(Tiers.provider)).toEqual<Policy>({
      tier: 'provider',
      perPacketLimit: 2_000_000,
      dailyLimit: 50_000_000,
      feeBps: 35,
      codeValiditySeconds: 180,
      maxShares: 10_000,
      sigmaCap: null,
      withdrawal: { min: 100, max: 20_000, dailyLimit: 200_000, feeBps: 0 },
    });
  });

  it('constants match the tier table', () => {
    expect(MAX_LUCKY_SHARE).toBe(20_000);
    expect(PERSONAL_SIGMA_CAP).toBe(4_500);
    expect(policyFor(Tiers.personal).sigmaCap).toBe(PERSONAL_SIGMA_CAP);
  });

  it('provider takes its negotiated limits, fee and validity from settings', () => {
    const p = policyFor('provider', {
      perPacketLimit: 5_000_000,
      dailyLimit: 90_000_000,
      feeBps: 50,
      codeValiditySeconds: 45,
    });
    expect(p).toMatchObject({ perPacketLimit: 5_000_000, dailyLimit: 90_000_000, feeBps: 50, codeValiditySeconds: 45 });
  });

  it.each([
    // [tier, feeBps setting, effective]
    ['personal', 50, 0],
    ['enterprise', 59, 60],
    ['enterprise', 60, 60],
    ['enterprise', 85, 85],
    ['enterprise', 100, 100],
    ['enterprise', 120, 100],
    ['enterprise', -5, 60],
    ['provider', 10, 35],
    ['provider', 80, 80],
    ['provider', 81, 80],
    ['provider', 0, 35],
  ] as const)('%s: feeBps %p is clamped to %p', (tier, bps, effective) => {
    expect(policyFor(tier, { feeBps: bps }).feeBps).toBe(effective);
  });

  it.each([0.7, Number.NaN, Infinity])('a non-integer feeBps %p is ignored (tier default)', (bps) => {
    expect(policyFor('enterprise', { feeBps: bps }).feeBps).toBe(60);
    expect(policyFor('provider', { feeBps: bps }).feeBps).toBe(35);
  });

  it.each([
    [29, 30],
    [30, 30],
    [300, 300],
    [600, 600],
    [601, 600],
    [-10, 30],
  ])('provider validity %p s is clamped to %p s', (setting, effective) => {
    expect(policyFor('provider', { codeValiditySeconds: setting }).codeValiditySeconds).toBe(effective);
  });

  it('provider validity that is not an integer is ignored', () => {
    expect(policyFor('provider', { codeValiditySeconds: 90.5 }).codeValiditySeconds).toBe(180);
  });

  it('personal and enterprise validity and limits are fixed by the tier (settings ignored)', () => {
    const settings = { perPacketLimit: 9_999_999, dailyLimit: 99_999_999, codeValiditySeconds: 300 };
    expect(policyFor('personal', settings)).toEqual(policyFor('personal'));
    expect(policyFor('enterprise', settings)).toEqual(policyFor('enterprise'));
  });

  it.each([0, -1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 2])('an invalid provider limit %p is ignored', (v) => {
    const p = policyFor('provider', { perPacketLimit: v, dailyLimit: v });
    expect(p.perPacketLimit).toBe(2_000_000);
    expect(p.dailyLimit).toBe(50_000_000);
  });

  it('returns a fresh object each time', () => {
    const a = policyFor('personal');
    a.perPacketLimit = 1;
    expect(policyFor('personal').perPacketLimit).toBe(20_000);
  });

  it('refuses an unknown tier', () => {
    expect(() => policyFor('gold' as never)).toThrow(RangeError);
  });
});

describe('dayKeyUtc8', () => {
  it.each([
    ['2026-11-27T15:59:59.999Z', '2026-11-27'],
    ['2026-11-27T16:00:00.000Z', '2026-11-28'],
    ['2026-11-27T00:00:00.000Z', '2026-11-27'],
    ['2026-12-31T16:00:00.000Z', '2027-01-01'], // year boundary
    ['2026-12-31T15:59:59.999Z', '2026-12-31'],
    ['2028-02-28T16:00:00.000Z', '2028-02-29'], // leap day
    ['1970-01-01T00:00:00.000Z', '1970-01-01'],
  ])('%s is %s in UTC+8', (iso, day) => {
    expect(dayKeyUtc8(Date.parse(iso))).toBe(day);
  });

  it('agrees with the Asia/Shanghai calendar (property)', () => {
    const fmt = new Intl.DateTimeFormat('en-CA', {
      timeZone: 'Asia/Shanghai',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    fc.assert(
      fc.property(fc.integer({ min: Date.parse('1995-01-01'), max: Date.parse('2100-01-01') }), (ms) => {
        expect(dayKeyUtc8(ms)).toBe(fmt.format(ms));
      }),
      { numRuns: 2_000 },
    );
  });

  it.each([Number.NaN, Infinity, -Infinity])('refuses %p', (ms) => {
    expect(() => dayKeyUtc8(ms)).toThrow(RangeError);
  });
});

describe('formatYuan', () => {
  it.each([
    [12_345, '123.45'],
    [0, '0.00'],
    [1, '0.01'],
    [10, '0.10'],
    [99, '0.99'],
    [100, '1.00'],
    [20_000, '200.00'],
    [5_000_000, '50000.00'],
    [-1, '-0.01'],
    [-12_345, '-123.45'],
    [-0, '0.00'],
    [Number.MAX_SAFE_INTEGER, '90071992547409.91'],
  ])('%p fen → %p', (fen, text) => {
    expect(formatYuan(fen)).toBe(text);
  });

  it('round-trips through the digits (property)', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (fen) => {
        const text = formatYuan(fen);
        expect(text).toMatch(/^-?\d+\.\d\d$/);
        expect(BigInt(text.replace('.', ''))).toBe(BigInt(fen));
      }),
      { numRuns: 2_000 },
    );
  });

  it.each([1.5, Number.NaN, Infinity])('refuses %p', (v) => {
    expect(() => formatYuan(v)).toThrow(RangeError);
  });
});
