import fc from 'fast-check';
import { feeFor, formatFen, formatYuan, parseYuan, spokenYuan } from '../src/lib/money';

const fen = (s: string) => {
  const r = parseYuan(s);
  if (!r.ok) throw new Error(`${s}: ${r.error}`);
  return r.fen;
};

describe('yuan → fen parser (string math, never floats)', () => {
  test.each([
    ['12.3', 1230],
    ['12.30', 1230],
    ['12', 1200],
    ['12.', 1200],
    ['0.05', 5],
    ['.5', 50],
    ['0.29', 29], // 0.29 * 100 = 28.999999999999996 as a float
    ['1.15', 115], // 114.99999999999999
    ['4.35', 435], // 434.99999999999994
    ['1,000.5', 100050],
    [' 200 ', 20000],
    ['００７.１', 710], // full-width digits from a Chinese IME
    ['99999999999.99', 9999999999999],
  ])('%j → %d fen', (input, expected) => {
    expect(fen(input)).toBe(expected);
  });

  test.each([
    ['', '请输入金额'],
    ['   ', '请输入金额'],
    ['12.345', '金额最多两位小数'],
    ['0.001', '金额最多两位小数'],
    ['.', '金额格式不正确'],
    ['1.2.3', '金额格式不正确'],
    ['-1', '金额格式不正确'],
    ['1e3', '金额格式不正确'],
    ['¥5', '金额格式不正确'],
    ['NaN', '金额格式不正确'],
    ['123456789012', '金额太大'],
  ])('%j is refused: %s', (input, error) => {
    expect(parseYuan(input)).toEqual({ ok: false, error });
  });

  test('round trip: parse(format(fen)) = fen for every amount', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9_999_999_999_999 }), (n) => {
        expect(fen(formatFen(n))).toBe(n);
      }),
      { numRuns: 2000 },
    );
  });

  test('any typed yuan with ≤ 2 decimals is exactly yuan × 100 + cents (checked with BigInt), always an integer', () => {
    const digits = (min: number, max: number) =>
      fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
    fc.assert(
      fc.property(digits(0, 11), digits(0, 2), fc.boolean(), (intPart, frac, dot) => {
        fc.pre(intPart !== '' || frac !== '');
        const typed = frac !== '' || dot ? `${intPart}.${frac}` : intPart;
        const got = fen(typed);
        const expected = BigInt(intPart || '0') * 100n + BigInt(`${frac}00`.slice(0, 2));
        expect(Number.isSafeInteger(got)).toBe(true);
        expect(BigInt(got)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  test('more than two decimals is always refused, never rounded', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 1_000_000 }),
        fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 3, maxLength: 8 }),
        (yuan, frac) => {
          expect(parseYuan(`${yuan}.${frac}`)).toEqual({ ok: false, error: '金额最多两位小数' });
        },
      ),
    );
  });

  test('formatting', () => {
    expect(formatFen(0)).toBe('0.00');
    expect(formatFen(5)).toBe('0.05');
    expect(formatFen(1230)).toBe('12.30');
    expect(formatFen(-5)).toBe('-0.05');
    expect(formatYuan(20000)).toBe('¥200.00');
    expect(formatYuan(-150)).toBe('-¥1.50');
    expect(formatFen(0.5)).toBe('--');
    expect(spokenYuan(1230)).toBe('12元3角');
    expect(spokenYuan(1205)).toBe('12元零5分');
    expect(spokenYuan(5)).toBe('5分');
  });

  test('fee = ceil(total × bps / 10000), exact for every amount', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000_000_000 }), fc.integer({ min: 0, max: 100 }), (total, bps) => {
        const exact = (BigInt(total) * BigInt(bps) + 9999n) / 10000n;
        expect(BigInt(feeFor(total, bps))).toBe(exact);
      }),
    );
    expect(feeFor(999, 60)).toBe(6); // 5.994 → 6
    expect(feeFor(100, 0)).toBe(0);
  });
});
