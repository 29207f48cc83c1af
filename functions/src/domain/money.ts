/**
 * Money and tier policy (docs/rules.md, Tiers and limits).
 *
 * All amounts are integer fen (分; 100 fen = 1 yuan). Nothing in this module turns money into a
 * float: fees use BigInt so that large amounts × basis points cannot lose precision, and yuan
 * strings are built from digits, not from division.
 *
 * Pure module: no I/O, no clock, no randomness.
 */

/** An amount of money in integer fen (分). Always a non-negative safe integer; see {@link isFen}. */
export type Fen = number;

/** The account tiers. */
export const Tiers = {
  personal: 'personal',
  enterprise: 'enterprise',
  provider: 'provider',
} as const;

/** One of {@link Tiers}. */
export type Tier = (typeof Tiers)[keyof typeof Tiers];

/** The largest single lucky share, in fen (200 yuan), the same in every tier. */
export const MAX_LUCKY_SHARE: Fen = 20_000;

/**
 * The cap on the population standard deviation of a personal lucky packet's shares, in fen
 * (45 yuan; the seed's "离散度控制"). Enterprise and provider packets have no cap.
 */
export const PERSONAL_SIGMA_CAP: Fen = 4_500;

/**
 * Per-account overrides, as stored on the account. Every field is optional and untrusted: values
 * that the tier does not allow are clamped or ignored by {@link policyFor} (see there).
 */
export interface AccountSettings {
  /** Fee in basis points (1 bp = 0.01 %). */
  feeBps?: number;
  /** Per-packet/per-transfer limit in fen; only providers negotiate it. */
  perPacketLimit?: Fen;
  /** Daily (UTC+8 calendar day) sending limit in fen; only providers negotiate it. */
  dailyLimit?: Fen;
  /** Live-code validity in seconds; only providers choose it. */
  codeValiditySeconds?: number;
}

/** The effective rules for one account: the tier table with the account's settings applied. */
export interface Policy {
  /** The tier this policy was derived from. */
  tier: Tier;
  /** Largest amount of one packet or transfer, in fen. */
  perPacketLimit: Fen;
  /** Largest total sent per UTC+8 calendar day, in fen. */
  dailyLimit: Fen;
  /** Fee in basis points, paid by the sender on top of the amount. */
  feeBps: number;
  /** How long a live code stays valid after it is issued, in seconds. */
  codeValiditySeconds: number;
  /** Largest number of shares in one packet (the smallest is always 1). */
  maxShares: number;
  /** Cap on the standard deviation of lucky shares in fen, or null for no cap. */
  sigmaCap: Fen | null;
  /** Withdrawals (提现) to the user's WeChat balance. */
  withdrawal: WithdrawalPolicy;
}

/** The rules of a withdrawal for one account. */
export interface WithdrawalPolicy {
  /** Smallest withdrawal, fen (1 yuan; WeChat's own minimum, 0.1 yuan, is below it). */
  min: Fen;
  /** Largest withdrawal, fen. */
  max: Fen;
  /** Largest total withdrawn per UTC+8 calendar day, fen. */
  dailyLimit: Fen;
  /** Fee in basis points, held on top of the amount and kept by the platform on success. */
  feeBps: number;
}

/** The withdrawal limits every tier shares (the fee is per tier, in the tier table). */
export const WITHDRAWAL_LIMITS = { min: 100, max: 20_000, dailyLimit: 200_000 } as const;

/** An inclusive integer range with the value used when the account sets nothing. */
interface Range {
  readonly min: number;
  readonly max: number;
  readonly fallback: number;
}

/** One row of the tier table. */
interface TierRow {
  readonly perPacketLimit: Fen;
  readonly dailyLimit: Fen;
  /** Whether perPacketLimit/dailyLimit come from the account ("per agreement"). */
  readonly negotiatedLimits: boolean;
  readonly feeBps: Range;
  readonly codeValiditySeconds: Range;
  readonly maxShares: number;
  readonly sigmaCap: Fen | null;
  /** Withdrawal fee in basis points; no fee by default (change it here, per tier). */
  readonly withdrawalFeeBps: number;
}

/**
 * The tier table as data. A fixed value is written as a range with min = max, so that one clamping rule
 * serves every tier and a personal account cannot be given a fee or an enterprise account a
 * custom validity by a stray setting.
 */
const TIER_TABLE: { readonly [T in Tier]: TierRow } = {
  personal: {
    perPacketLimit: 20_000,
    dailyLimit: 100_000,
    negotiatedLimits: false,
    feeBps: { min: 0, max: 0, fallback: 0 },
    codeValiditySeconds: { min: 120, max: 120, fallback: 120 },
    maxShares: 100,
    sigmaCap: PERSONAL_SIGMA_CAP,
    withdrawalFeeBps: 0,
  },
  enterprise: {
    perPacketLimit: 200_000,
    dailyLimit: 5_000_000,
    negotiatedLimits: false,
    feeBps: { min: 60, max: 100, fallback: 60 },
    codeValiditySeconds: { min: 180, max: 180, fallback: 180 },
    maxShares: 1_000,
    sigmaCap: null,
    withdrawalFeeBps: 0,
  },
  provider: {
    // Defaults for a provider whose agreement has not been entered yet.
    perPacketLimit: 2_000_000,
    dailyLimit: 50_000_000,
    negotiatedLimits: true,
    feeBps: { min: 35, max: 80, fallback: 35 },
    codeValiditySeconds: { min: 30, max: 600, fallback: 180 },
    maxShares: 10_000,
    sigmaCap: null,
    withdrawalFeeBps: 0,
  },
};

/**
 * A setting clamped into its range. A value that is not a finite integer (undefined, NaN, 0.5,
 * a string smuggled in from JSON) is ignored rather than rounded: rounding would invent a value
 * nobody set.
 */
function clampSetting(value: unknown, range: Range): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) return range.fallback;
  return Math.min(range.max, Math.max(range.min, value));
}

/**
 * The effective policy for an account of `tier` with optional `settings`.
 *
 * How settings are treated (they come from an admin screen or an API, so they are not trusted):
 * - `feeBps`: an integer is **clamped** into the tier's range (personal 0, enterprise 60–100,
 *   provider 35–80), so a mistyped 120 bps charges the tier's maximum, never more; a
 *   non-integer is **ignored** (tier default).
 * - `codeValiditySeconds`: providers only; an integer is **clamped** to 30–600 s, a non-integer
 *   ignored. Personal (120 s) and enterprise (180 s) validity is fixed by the tier, so the
 *   setting is **ignored** there.
 * - `perPacketLimit` / `dailyLimit`: providers only ("per agreement"); a positive safe integer
 *   replaces the default, anything else is **ignored**. For personal and enterprise accounts the
 *   limits are fixed by the tier and the settings are **ignored**.
 *
 * Returns a fresh object each call, so a caller mutating it cannot corrupt the tier table.
 */
export function policyFor(tier: Tier, settings?: AccountSettings): Policy {
  const row = TIER_TABLE[tier];
  if (row === undefined) throw new RangeError(`unknown tier: ${String(tier)}`);
  const s: AccountSettings = settings ?? {};
  const negotiated = (value: unknown, fallback: Fen): Fen =>
    row.negotiatedLimits && isFen(value) && value > 0 ? value : fallback;
  return {
    tier,
    perPacketLimit: negotiated(s.perPacketLimit, row.perPacketLimit),
    dailyLimit: negotiated(s.dailyLimit, row.dailyLimit),
    feeBps: clampSetting(s.feeBps, row.feeBps),
    codeValiditySeconds: clampSetting(s.codeValiditySeconds, row.codeValiditySeconds),
    maxShares: row.maxShares,
    sigmaCap: row.sigmaCap,
    withdrawal: { ...WITHDRAWAL_LIMITS, feeBps: row.withdrawalFeeBps },
  };
}

/** 10 000 basis points = 100 %. */
const BPS_PER_UNIT = 10_000n;

/**
 * The fee on `amount` at `feeBps` basis points, rounded up to the whole fen:
 * ceil(amount × feeBps / 10 000).
 *
 * BigInt inside because amount × feeBps can exceed 2^53 for large provider amounts, where a
 * float product would silently round. Throws RangeError if `amount` is not fen or `feeBps` is
 * not an integer in 0–10 000 (a caller bug, never user input: the policy clamps fees).
 */
export function feeFor(amount: Fen, feeBps: number): Fen {
  if (!isFen(amount)) throw new RangeError('amount must be a non-negative safe integer (fen)');
  if (!Number.isSafeInteger(feeBps) || feeBps < 0 || feeBps > 10_000) {
    throw new RangeError('feeBps must be an integer in 0..10000');
  }
  const numerator = BigInt(amount) * BigInt(feeBps);
  // Ceiling division of non-negative integers.
  return Number((numerator + BPS_PER_UNIT - 1n) / BPS_PER_UNIT);
}

/** True when `n` is a valid amount of money: a safe integer ≥ 0 (fen). */
export function isFen(n: unknown): n is Fen {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/** The UTC+8 calendar day of an instant (domain/time.ts); re-exported for its many importers. */
export { dayKeyUtc8 } from './time';

/**
 * `amount` fen as a yuan string with exactly two decimals: 12345 → '123.45', 5 → '0.05'.
 * Built from the decimal digits, never by dividing by 100, so no float rounding can creep in.
 * Negative integers are accepted (ledger deltas) and get a leading '-'. Throws RangeError for a
 * non-integer.
 */
export function formatYuan(amount: Fen): string {
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount)) {
    throw new RangeError('amount must be a safe integer (fen)');
  }
  const negative = amount < 0;
  const digits = String(Math.abs(amount)).padStart(3, '0');
  const text = `${digits.slice(0, -2)}.${digits.slice(-2)}`;
  return negative ? `-${text}` : text;
}

/**
 * Why `settings` cannot be stored for an account of `tier` as given, or undefined when every
 * field would take effect unchanged. {@link policyFor} clamps or ignores what a tier does not
 * allow (defence for stored data); an admin setting them gets told instead of silently clamped.
 */
export function settingsProblem(tier: Tier, settings: AccountSettings): string | undefined {
  const p = policyFor(tier, settings);
  const row = TIER_TABLE[tier];
  if (settings.feeBps !== undefined && p.feeBps !== settings.feeBps) {
    return `feeBps must be ${row.feeBps.min}–${row.feeBps.max} for ${tier}`;
  }
  if (
    settings.codeValiditySeconds !== undefined &&
    (p.codeValiditySeconds !== settings.codeValiditySeconds ||
      row.codeValiditySeconds.min === row.codeValiditySeconds.max)
  ) {
    return row.codeValiditySeconds.min === row.codeValiditySeconds.max
      ? `code validity is fixed for ${tier}`
      : `codeValiditySeconds must be ${row.codeValiditySeconds.min}–${row.codeValiditySeconds.max}`;
  }
  for (const k of ['perPacketLimit', 'dailyLimit'] as const) {
    if (settings[k] !== undefined && (!row.negotiatedLimits || p[k] !== settings[k]))
      return `${k} can only be negotiated by providers`;
  }
  return undefined;
}
