import fc from 'fast-check';
import {
  counterCount,
  counterOf,
  counterRange,
  counterRanges,
  homeCounter,
  isSharded,
  packetLayout,
  RECORDED_SHARES_PER_COUNTER,
  isTaken,
  MAX_COUNTERS,
  pickCounter,
  SHARES_PER_COUNTER,
  takenAcross,
  type CounterState,
} from '../../functions/src/domain/share-counters';
import { RECORD_NAME_BYTES, recordedName } from '../../functions/src/store/recorded';

describe('share counters: the layout of a packet over counter items', () => {
  test('up to 100 shares keep one counter (the packet item); more spread over ⌈count/100⌉', () => {
    expect(counterCount(1)).toBe(1);
    expect(counterCount(100)).toBe(1);
    expect(isSharded(100)).toBe(false);
    expect(counterCount(101)).toBe(2);
    expect(isSharded(101)).toBe(true);
    expect(counterCount(1_000)).toBe(10);
    expect(counterCount(10_000)).toBe(MAX_COUNTERS);
    expect(counterRanges(250)).toEqual([
      { counter: 0, start: 0, size: 100 },
      { counter: 1, start: 100, size: 100 },
      { counter: 2, start: 200, size: 50 },
    ]);
  });

  test('bad arguments throw', () => {
    expect(() => counterCount(0)).toThrow(RangeError);
    expect(() => counterCount(1.5)).toThrow(RangeError);
    expect(() => counterOf(-1)).toThrow(RangeError);
    expect(() => counterRange(250, 3)).toThrow(RangeError);
  });

  test('property: the ranges partition [0, count), each index owned by counterOf(index)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), (count) => {
        const ranges = counterRanges(count);
        let next = 0;
        for (const r of ranges) {
          expect(r.start).toBe(next);
          expect(r.size).toBeGreaterThanOrEqual(1);
          expect(r.size).toBeLessThanOrEqual(SHARES_PER_COUNTER);
          expect(counterOf(r.start)).toBe(r.counter);
          expect(counterOf(r.start + r.size - 1)).toBe(r.counter);
          next += r.size;
        }
        expect(next).toBe(count);
        expect(ranges.length).toBeLessThanOrEqual(MAX_COUNTERS);
      }),
    );
  });

  test('property: taken indexes are exactly each counter’s first `claimed`, and their number is Σ claimed', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 1_000 })
          .chain((count) =>
            fc.tuple(
              fc.constant(count),
              fc.array(fc.nat(120), { minLength: counterCount(count), maxLength: counterCount(count) }),
            ),
          ),
        ([count, claims]) => {
          const counters: CounterState[] = counterRanges(count).map((r, k) => ({
            ...r,
            claimed: claims[k]!,
            closed: false,
          }));
          let n = 0;
          for (let i = 0; i < count; i++) {
            const c = counters[counterOf(i)]!;
            const want = i - c.start < Math.min(c.claimed, c.size);
            expect(isTaken(counters, i)).toBe(want);
            if (want) n++;
          }
          expect(takenAcross(counters)).toBe(n);
          expect(isTaken(counters, count + 100)).toBe(false);
        },
      ),
    );
  });

  test('pickCounter: uniform over the counters not known full, none when all are', () => {
    const draws: number[] = [];
    const counts = new Map<number, number>();
    let x = 0;
    const roundRobin = (n: number) => {
      draws.push(n);
      return x++ % n;
    };
    for (let i = 0; i < 700; i++) {
      const k = pickCounter(10, new Set([0, 3, 9]), roundRobin)!;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([1, 2, 4, 5, 6, 7, 8]);
    for (const v of counts.values()) expect(v).toBe(100);
    expect(new Set(draws)).toEqual(new Set([7]));
    expect(pickCounter(3, new Set([0, 1, 2]), roundRobin)).toBeUndefined();
  });
});

describe('the recorded layout: counters of ten that record their takers', () => {
  test('every packet has counters of at most ten shares, named on the packet item', () => {
    expect(RECORDED_SHARES_PER_COUNTER).toBe(10);
    expect(packetLayout(1, 'recorded')).toEqual({ layout: 'recorded', counters: 1 });
    expect(packetLayout(10, 'recorded')).toEqual({ layout: 'recorded', counters: 1 });
    expect(packetLayout(11, 'recorded')).toEqual({ layout: 'recorded', counters: 2 });
    expect(packetLayout(10_000, 'recorded')).toEqual({ layout: 'recorded', counters: 1_000 });
    expect(packetLayout(100, 'slots')).toEqual({});
    expect(packetLayout(101, 'slots')).toEqual({ counters: 2 });
    expect(counterRanges(25, 'recorded')).toEqual([
      { counter: 0, start: 0, size: 10 },
      { counter: 1, start: 10, size: 10 },
      { counter: 2, start: 20, size: 5 },
    ]);
    expect(counterOf(19, 'recorded')).toBe(1);
  });

  test('property: the recorded ranges partition [0, count), each index owned by counterOf(index)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), (count) => {
        const ranges = counterRanges(count, 'recorded');
        let next = 0;
        for (const r of ranges) {
          expect(r.start).toBe(next);
          expect(r.size).toBeGreaterThan(0);
          expect(r.size).toBeLessThanOrEqual(RECORDED_SHARES_PER_COUNTER);
          expect(counterOf(r.start, 'recorded')).toBe(r.counter);
          expect(counterOf(r.start + r.size - 1, 'recorded')).toBe(r.counter);
          next += r.size;
        }
        expect(next).toBe(count);
      }),
      { numRuns: 30 },
    );
  });

  test('property: a home counter is fixed by the two ids and in range', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.integer({ min: 1, max: 1_000 }), (p, u, n) => {
        const k = homeCounter(p, u, n);
        expect(Number.isInteger(k) && k >= 0 && k < n).toBe(true);
        expect(homeCounter(p, u, n)).toBe(k);
      }),
    );
    expect(() => homeCounter('p', 'u', 0)).toThrow(RangeError);
  });

  test("homes spread a packet's claimers evenly over its counters", () => {
    const n = 10;
    const per = new Array<number>(n).fill(0);
    for (let i = 0; i < 10_000; i++) per[homeCounter('pktA', `u${i}`, n)]!++;
    // 1,000 expected each; a binomial's 5 standard deviations is ±150.
    for (const c of per) expect(Math.abs(c - 1_000)).toBeLessThan(150);
    // The same account has different homes on different packets.
    const homes = new Set(Array.from({ length: 50 }, (_, i) => homeCounter(`pkt${i}`, 'u1', n)));
    expect(homes.size).toBeGreaterThan(5);
  });

  test('names kept in a record are cut at a character boundary to 12 UTF-8 bytes', () => {
    expect(recordedName('小明')).toBe('小明');
    expect(recordedName('一二三四五六七八九十')).toBe('一二三四');
    expect(recordedName('a'.repeat(30))).toBe('a'.repeat(12));
    expect(recordedName('😀😀😀😀😀😀😀')).toBe('😀😀😀');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (name) => {
        const cut = recordedName(name);
        expect(Buffer.byteLength(cut, 'utf8')).toBeLessThanOrEqual(RECORD_NAME_BYTES);
        expect(name.startsWith(cut)).toBe(true);
      }),
    );
  });
});
