/**
 * Splitting a packet's total into shares (docs/rules.md, The random split).
 *
 * The split is computed once, when the packet is created, shuffled, and stored; claims take the
 * next stored share. So this module decides every share of a packet up front, and the fairness
 * of 手气最佳 across claim positions comes from the shuffle here, not from claim-time logic.
 *
 * Pure module apart from {@link cryptoRandom}, which reads the OS CSPRNG.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { isFen, MAX_LUCKY_SHARE, type Fen } from './money';

/** A source of uniformly distributed integers. Injected so tests can use a seeded generator. */
export interface RandomSource {
  /** A uniform integer in [minInclusive, maxInclusive]; both bounds are safe integers, min ≤ max. */
  int(minInclusive: number, maxInclusive: number): number;
}

/** `crypto.randomInt` refuses ranges of 2^48 or more. */
const RANDOM_INT_MAX_SPAN = 2 ** 48;
const TWO_POW_64 = 1n << 64n;

/**
 * The production random source: the OS CSPRNG through `node:crypto`, so that a claimer cannot
 * predict a share from earlier ones. `randomInt` is unbiased; for spans it cannot take
 * (≥ 2^48, never reached by real packets) it falls back to unbiased rejection sampling over
 * 64 random bits. Throws RangeError on bounds that are not safe integers or out of order.
 */
export const cryptoRandom: RandomSource = {
  int(minInclusive: number, maxInclusive: number): number {
    if (!Number.isSafeInteger(minInclusive) || !Number.isSafeInteger(maxInclusive)) {
      throw new RangeError('random bounds must be safe integers');
    }
    if (minInclusive > maxInclusive) throw new RangeError('random range is empty');
    // Inexact only beyond 2^53, far above the threshold, so the comparison is still right.
    const span = maxInclusive - minInclusive + 1;
    // Offsetting from 0 rather than calling randomInt(min, max + 1) keeps max + 1 from leaving
    // the safe range when maxInclusive is Number.MAX_SAFE_INTEGER.
    if (span < RANDOM_INT_MAX_SPAN) return minInclusive + randomInt(span);
    const bigSpan = BigInt(maxInclusive) - BigInt(minInclusive) + 1n;
    // Largest multiple of bigSpan below 2^64: draws at or above it would bias the low values.
    const limit = TWO_POW_64 - (TWO_POW_64 % bigSpan);
    for (;;) {
      const draw = randomBytes(8).readBigUInt64BE(0);
      if (draw < limit) return Number(BigInt(minInclusive) + (draw % bigSpan));
    }
  },
};

/** The two split modes: 拼手气 (lucky, random) and 普通 (equal). */
export const SplitModes = { lucky: 'lucky', equal: 'equal' } as const;

/** One of {@link SplitModes}. */
export type SplitMode = (typeof SplitModes)[keyof typeof SplitModes];

/**
 * Why a split is impossible. These are user-facing outcomes (the API maps them to 422 errors), as
 * opposed to malformed arguments, which throw RangeError.
 * - `EQUAL_SPLIT_UNEVEN`: equal mode and the total is not a multiple of the count.
 * - `TOO_FEW_FEN`: fewer fen than shares (every share needs at least 1 fen).
 * - `SHARE_CAP`: lucky mode and even count × maxShare cannot hold the total.
 */
export type SplitRefusal = 'EQUAL_SPLIT_UNEVEN' | 'TOO_FEW_FEN' | 'SHARE_CAP';

/** The shares of a packet (in the order claims will take them), or why there are none. */
export type SplitResult = { ok: true; shares: Fen[] } | { ok: false; reason: SplitRefusal };

/**
 * How many whole lucky splits are drawn before falling back when a σ cap keeps rejecting them.
 * For personal packets (total ≤ 20 000 fen, σ cap 4 500 fen) the worst acceptance rate is about
 * 45 % (two shares of 200 yuan), so 1 000 attempts all fail with probability below 10^-250: the
 * fallback exists only to bound the work for parameters outside the personal tier.
 */
export const SIGMA_MAX_ATTEMPTS = 1_000;

function assertArgs(total: Fen, count: number, mode: SplitMode, maxShare: Fen | undefined): void {
  if (!isFen(total)) throw new RangeError('total must be a non-negative safe integer (fen)');
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError('count must be an integer ≥ 1');
  if (mode !== SplitModes.lucky && mode !== SplitModes.equal) {
    throw new RangeError(`unknown split mode: ${String(mode)}`);
  }
  if (maxShare !== undefined && (!isFen(maxShare) || maxShare < 1)) {
    throw new RangeError('maxShare must be an integer ≥ 1 (fen)');
  }
}

/**
 * Whether `total` fen can be split into `count` shares in `mode`, without drawing any random
 * number: null if it can, else the refusal {@link split} would return. Handlers call it to
 * refuse a packet before touching the store.
 *
 * Checks in this order: TOO_FEW_FEN (total < count), then EQUAL_SPLIT_UNEVEN (equal mode,
 * total % count ≠ 0), then SHARE_CAP (lucky mode, total > count × maxShare, maxShare defaulting
 * to {@link MAX_LUCKY_SHARE}). Equal shares have no cap: the per-packet limit bounds them.
 *
 * Throws RangeError for malformed arguments (non-integer total or count, count < 1,
 * maxShare < 1): those are caller bugs, the API validates input shape first.
 */
export function checkSplit(total: Fen, count: number, mode: SplitMode, opts?: { maxShare?: Fen }): SplitRefusal | null {
  const maxShare = opts?.maxShare;
  assertArgs(total, count, mode, maxShare);
  if (total < count) return 'TOO_FEW_FEN';
  if (mode === SplitModes.equal) return total % count === 0 ? null : 'EQUAL_SPLIT_UNEVEN';
  // count × maxShare may round above 2^53, but rounding is monotonic and total ≤ 2^53, so the
  // comparison still gives the exact answer.
  return total > count * (maxShare ?? MAX_LUCKY_SHARE) ? 'SHARE_CAP' : null;
}

/** floor(a / b) for non-negative safe integers, exact even where a / b as a float would round. */
function floorDiv(a: number, b: number): number {
  return (a - (a % b)) / b;
}

/**
 * One double-mean (二倍均值法) draw of all shares, in draw order (not yet shuffled).
 *
 * Each share but the last is uniform over [lo, hi]:
 *   hi = min(maxShare, max(1, floor(2 × remaining / remainingCount) − 1), remaining − (remainingCount − 1))
 *   lo = max(1, remaining − (remainingCount − 1) × maxShare)
 * The third term of hi leaves at least 1 fen for every later share; lo leaves no more than
 * maxShare for each of them. With the invariant remainingCount ≤ remaining ≤
 * remainingCount × maxShare (true at the start after checkSplit, and kept by every draw) one can
 * show lo ≤ hi, and the last share, the rest, lies in [1, maxShare].
 */
function doubleMean(total: Fen, count: number, maxShare: Fen, random: RandomSource): Fen[] {
  const shares: Fen[] = new Array<Fen>(count);
  let remaining = total;
  for (let i = 0; i < count - 1; i++) {
    const left = count - i; // shares still to draw, this one included
    const twiceMean = 2 * floorDiv(remaining, left) + floorDiv(2 * (remaining % left), left);
    const hi = Math.min(maxShare, Math.max(1, twiceMean - 1), remaining - (left - 1));
    const lo = Math.max(1, remaining - (left - 1) * maxShare);
    if (lo > hi) throw new Error(`split invariant broken: [${lo}, ${hi}]`); // unreachable, see above
    const share = random.int(lo, hi);
    shares[i] = share;
    remaining -= share;
  }
  shares[count - 1] = remaining;
  return shares;
}

/**
 * Fisher–Yates shuffle in place. Plain double-mean favours the last claimers for 手气最佳 (about
 * 12 % against 9 % for 10 shares); a uniform permutation makes every position equally
 * likely to hold the best share.
 */
function shuffle<T>(items: T[], random: RandomSource): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    const a = items[i] as T;
    items[i] = items[j] as T;
    items[j] = a;
  }
  return items;
}

/**
 * The most equal split: every share floor(total / count), and the remainder spread as +1 fen on
 * as many shares, shuffled so the +1 fen shares are not always the first claimers'. Its σ is at
 * most 0.5 fen, so it meets any σ cap ≥ 1 fen, and its largest share ceil(total / count) is within
 * maxShare whenever total ≤ count × maxShare.
 */
function nearEqual(total: Fen, count: number, random: RandomSource): Fen[] {
  const base = floorDiv(total, count);
  const extra = total % count;
  const shares: Fen[] = [];
  for (let i = 0; i < count; i++) shares.push(i < extra ? base + 1 : base);
  return shuffle(shares, random);
}

/**
 * Splits `total` fen into `count` shares, in claim order.
 *
 * - Equal mode: every share total / count (refused with EQUAL_SPLIT_UNEVEN when uneven).
 * - Lucky mode: double-mean draws (each ≥ 1 fen, ≤ maxShare, default {@link MAX_LUCKY_SHARE}),
 *   then a Fisher–Yates shuffle with the same random source, so every claim position is equally
 *   likely to hold 手气最佳.
 * - `sigmaCap` (personal packets): the whole split is redrawn until the population σ of
 *   its shares is within the cap (rejection sampling). σ does not depend on the order of the
 *   shares, so rejecting on it keeps the shuffled split exchangeable: every position stays equally
 *   likely to be best, and the result is exactly the double-mean distribution conditioned on the
 *   cap. After {@link SIGMA_MAX_ATTEMPTS} rejections it falls back to the near-equal split
 *   (shares differ by at most 1 fen, the +1 fen shares shuffled). That fallback is fair enough:
 *   every claimer gets the same amount to within 1 fen and each is equally likely to get the extra
 *   fen, and for personal-tier parameters it is never reached in practice (see
 *   SIGMA_MAX_ATTEMPTS). Ignored in equal mode (σ = 0 there).
 *
 * Guarantees when ok: every share is an integer ≥ 1, the shares sum to `total` exactly, lucky
 * shares are ≤ maxShare, and σ ≤ sigmaCap when a cap is given.
 *
 * Throws RangeError for malformed arguments (see {@link checkSplit}; also sigmaCap < 1, which
 * no split of an uneven total could meet).
 */
export function split(
  total: Fen,
  count: number,
  mode: SplitMode,
  opts?: { maxShare?: Fen; sigmaCap?: Fen | null; random?: RandomSource },
): SplitResult {
  const sigmaCap = opts?.sigmaCap ?? null;
  if (sigmaCap !== null && (!isFen(sigmaCap) || sigmaCap < 1)) {
    throw new RangeError('sigmaCap must be an integer ≥ 1 (fen) or null');
  }
  const refusal = checkSplit(total, count, mode, opts);
  if (refusal !== null) return { ok: false, reason: refusal };

  if (mode === SplitModes.equal) {
    return { ok: true, shares: new Array<Fen>(count).fill(total / count) };
  }

  const random = opts?.random ?? cryptoRandom;
  const maxShare = opts?.maxShare ?? MAX_LUCKY_SHARE;
  if (sigmaCap === null) {
    return { ok: true, shares: shuffle(doubleMean(total, count, maxShare, random), random) };
  }
  for (let attempt = 0; attempt < SIGMA_MAX_ATTEMPTS; attempt++) {
    const shares = doubleMean(total, count, maxShare, random);
    // Test before shuffling: σ is order-independent, and a rejected draw need not be shuffled.
    if (stdDevWithin(shares, sigmaCap)) return { ok: true, shares: shuffle(shares, random) };
  }
  return { ok: true, shares: nearEqual(total, count, random) };
}

/**
 * Whether the population standard deviation of `shares` is at most `cap`, decided exactly with
 * integers: σ ≤ cap ⟺ N·Σx² − (Σx)² ≤ N²·cap² (both sides of σ² ≤ cap² multiplied by N²). No
 * square root and no float: a σ just above the cap must not pass by rounding.
 *
 * Uses plain numbers when every intermediate is provably below 2^53 (the common case, e.g. 100
 * shares of ≤ 20 000 fen), since this runs inside a rejection loop; BigInt otherwise.
 * An empty list has σ = 0. Throws RangeError for non-integer shares or a cap that is not fen.
 */
export function stdDevWithin(shares: Fen[], cap: Fen): boolean {
  if (!isFen(cap)) throw new RangeError('cap must be a non-negative safe integer (fen)');
  const n = shares.length;
  let sum = 0;
  let sumSq = 0;
  for (const x of shares) {
    if (!Number.isSafeInteger(x)) throw new RangeError('shares must be safe integers');
    sum += x;
    sumSq += x * x;
  }
  // Every term is non-negative and float rounding is monotonic, so if a (rounded) total is still
  // ≤ MAX_SAFE_INTEGER then every partial result was exact. Negative shares skip this path.
  const max = Number.MAX_SAFE_INTEGER;
  const allNonNegative = shares.every((x) => x >= 0);
  const nSumSq = n * sumSq;
  const sumSquared = sum * sum;
  const capTerm = n * n * cap * cap;
  if (allNonNegative && sumSq <= max && nSumSq <= max && sumSquared <= max && capTerm <= max) {
    return nSumSq - sumSquared <= capTerm;
  }
  let bigSum = 0n;
  let bigSumSq = 0n;
  for (const x of shares) {
    const b = BigInt(x);
    bigSum += b;
    bigSumSq += b * b;
  }
  const bn = BigInt(n);
  const bcap = BigInt(cap);
  return bn * bigSumSq - bigSum * bigSum <= bn * bn * bcap * bcap;
}

/**
 * The index of the largest amount in claim order — the 手气最佳 claim — with ties going to the
 * earliest claim. Returns -1 for an empty list (no claim yet), like indexOf.
 */
export function bestShareIndex(amountsInClaimOrder: Fen[]): number {
  let best = -1;
  for (let i = 0; i < amountsInClaimOrder.length; i++) {
    // Strictly greater, so an equal later amount never takes the title from an earlier claim.
    if (best === -1 || (amountsInClaimOrder[i] as Fen) > (amountsInClaimOrder[best] as Fen)) best = i;
  }
  return best;
}
