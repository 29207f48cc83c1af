/** The risk rules' names and thresholds per tier, and the per-account overrides of providers. */
import type { Fen, Tier } from '../money';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../time';
import { foldText } from './marketing';

/** The rule names, as written into risk events. */
export const RiskRules = {
  breaker: 'breaker',
  device_binding: 'device_binding',
  night_velocity: 'night_velocity',
  large_transaction: 'large_transaction',
  blacklist: 'blacklist',
  marketing_words: 'marketing_words',
  rate_limit: 'rate_limit',
  /** A well-signed WeChat Pay notification that does not match our order (amount, merchant, app, number): reported, never credited. */
  payment_mismatch: 'payment_mismatch',
} as const;
export type RiskRule = (typeof RiskRules)[keyof typeof RiskRules];

/** The thresholds of every rule for one tier. */
export interface TierRiskRules {
  /** The tier's risk level: 3 lenient (personal), 2 strict (enterprise), 1 custom (provider). */
  readonly level: 1 | 2 | 3;
  readonly breaker: {
    /** Consecutive same-amount payments into one receive code that trip the breaker (≥ 2). */
    readonly streak: number;
    /** Payments strictly below this amount (fen) are left out of streaks: they neither count
     * nor break one (so nobody can freeze a code, or hide a streak, for a few fen). */
    readonly minAmount: Fen;
    /** How long a tripped code stays frozen. */
    readonly freezeMs: number;
    /** A streak whose last payment is older than this starts afresh. */
    readonly streakTtlMs: number;
  };
  readonly device: {
    /** Most accounts one device may serve within the window; the next one is refused. */
    readonly maxAccounts: number;
    /** The rolling window, by each account's last use of the device. */
    readonly windowMs: number;
    /** How long the device and its accounts may not pay after a refusal. */
    readonly restrictMs: number;
  };
  readonly night: {
    /** UTC+8 hours [fromHour, toHour) that count as night. */
    readonly fromHour: number;
    readonly toHour: number;
    /** Movements strictly below this amount (fen) count. */
    readonly smallBelow: Fen;
    /** Most small movements per account per UTC+8 clock hour; the next one fires. */
    readonly maxCount: number;
    /** How long the account's outgoing money is frozen after a firing. */
    readonly freezeMs: number;
  };
  readonly large: {
    /** Movements strictly over this amount (fen) are reported. */
    readonly over: Fen;
  };
  readonly rate: {
    /** Most claims one account may attempt per clock minute; the next gets 429 RATE_LIMITED. */
    readonly claimsPerMinute: number;
    /** Most code refreshes (packet codes, receive code) per account per clock minute. */
    readonly codeRefreshesPerMinute: number;
    /**
     * The expensive reads, per account per clock minute: packet views (`GET /v1/packets/{id}`:
     * an insider's view reads every slot), code opens (`GET /v1/codes/{code}`), campaign
     * statistics (every packet's slots) and campaign code exports (a code signed per packet).
     */
    readonly packetViewsPerMinute: number;
    readonly codeOpensPerMinute: number;
    readonly campaignStatsPerMinute: number;
    readonly campaignExportsPerMinute: number;
    /** Avatar uploads per account per clock minute (each stores up to 256 KB in the bucket). */
    readonly avatarUploadsPerMinute: number;
  };
  /**
   * Forwards one account may make of one packet (each distinct source code it forwards through
   * is one; asking again through the same code is the same forward). Bounds the forwarding
   * tree: a chain of forwards of one's own forwards cannot grow without end.
   */
  readonly forwardsPerPacket: number;
  readonly marketing: {
    /** Whether greetings of this tier are checked (enterprise and provider). */
    readonly enabled: boolean;
    readonly words: readonly string[];
  };
}

/** The base inducement (marketing) words; configuration adds to them, never removes. */
export const BASE_MARKETING_WORDS = ['免单', '全额返现'] as const;

export const SPEC_RULES = {
  breaker: { streak: 5, minAmount: 100, freezeMs: HOUR_MS, streakTtlMs: 30 * DAY_MS },
  device: { maxAccounts: 3, windowMs: 7 * DAY_MS, restrictMs: 7 * DAY_MS },
  night: { fromHour: 0, toHour: 6, smallBelow: 1_000, maxCount: 10, freezeMs: HOUR_MS },
  large: { over: 5_000_000 },
} as const;

/**
 * The risk rules per tier. The thresholds are the same in every tier (the product gives one value each);
 * what differs is the marketing check and that provider rules may be overridden per account
 * ("custom rules", {@link riskRulesFor}).
 */
export const DEFAULT_RISK_RULES = {
  // A person claims a handful of packets a minute at most, and a packet page refreshes its code
  // once a minute; businesses run many packets (campaigns) from one account. Reads: the packet
  // page polls its view every 3 s (20 a minute) and the open page every 5 s (12), so 60 leaves
  // room for both and a few reloads; the campaign page refreshes its statistics every 30 s.
  personal: {
    level: 3,
    ...SPEC_RULES,
    rate: {
      claimsPerMinute: 20,
      codeRefreshesPerMinute: 30,
      packetViewsPerMinute: 60,
      codeOpensPerMinute: 30,
      campaignStatsPerMinute: 6,
      campaignExportsPerMinute: 2,
      avatarUploadsPerMinute: 10,
    },
    forwardsPerPacket: 10,
    marketing: { enabled: false, words: BASE_MARKETING_WORDS },
  },
  enterprise: {
    level: 2,
    ...SPEC_RULES,
    rate: {
      claimsPerMinute: 60,
      codeRefreshesPerMinute: 300,
      packetViewsPerMinute: 300,
      codeOpensPerMinute: 120,
      campaignStatsPerMinute: 12,
      campaignExportsPerMinute: 4,
      avatarUploadsPerMinute: 10,
    },
    forwardsPerPacket: 10,
    marketing: { enabled: true, words: BASE_MARKETING_WORDS },
  },
  provider: {
    level: 1,
    ...SPEC_RULES,
    // Reads stay modest even here: a view of a 10,000-share packet by its sender reads every
    // slot (~370 read units), a campaign's statistics every slot of its packets.
    rate: {
      claimsPerMinute: 600,
      codeRefreshesPerMinute: 3_000,
      packetViewsPerMinute: 600,
      codeOpensPerMinute: 120,
      campaignStatsPerMinute: 20,
      campaignExportsPerMinute: 6,
      avatarUploadsPerMinute: 10,
    },
    forwardsPerPacket: 10,
    marketing: { enabled: true, words: BASE_MARKETING_WORDS },
  },
} as const satisfies { readonly [T in Tier]: TierRiskRules };

/** Per-account or deployment overrides (untrusted: invalid values are ignored). */
export interface RiskOverrides {
  breaker?: Partial<Record<keyof TierRiskRules['breaker'], unknown>>;
  device?: Partial<Record<keyof TierRiskRules['device'], unknown>>;
  night?: Partial<Record<keyof TierRiskRules['night'], unknown>>;
  large?: Partial<Record<keyof TierRiskRules['large'], unknown>>;
  rate?: Partial<Record<keyof TierRiskRules['rate'], unknown>>;
  forwardsPerPacket?: unknown;
  /** Words added to the tier's list (the base words always stay). */
  extraWords?: unknown;
}

function int(value: unknown, fallback: number, min: number, max: number): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max ? value : fallback;
}

/**
 * The rules for an account of `tier`, with `overrides` applied field by field. An override that
 * is not an integer in its field's sane range is ignored (the tier default stays), as
 * `policyFor` does with account settings. Extra words: strings of 1–32 characters, at most 200.
 * Returns a fresh object.
 */
export function riskRulesFor(tier: Tier, overrides: RiskOverrides = {}): TierRiskRules {
  const base = DEFAULT_RISK_RULES[tier] as TierRiskRules | undefined;
  if (!base) throw new RangeError(`unknown tier: ${String(tier)}`);
  const b = overrides.breaker ?? {};
  const d = overrides.device ?? {};
  const n = overrides.night ?? {};
  const l = overrides.large ?? {};
  const r = overrides.rate ?? {};
  const extra = Array.isArray(overrides.extraWords)
    ? overrides.extraWords
        .filter((w): w is string => typeof w === 'string' && foldText(w).length > 0 && w.length <= 32)
        .slice(0, 200)
    : [];
  const fromHour = int(n.fromHour, base.night.fromHour, 0, 23);
  const toHour = int(n.toHour, base.night.toHour, 0, 24);
  return {
    level: base.level,
    breaker: {
      streak: int(b.streak, base.breaker.streak, 2, 1_000),
      minAmount: int(b.minAmount, base.breaker.minAmount, 1, Number.MAX_SAFE_INTEGER),
      freezeMs: int(b.freezeMs, base.breaker.freezeMs, MINUTE_MS, 30 * DAY_MS),
      streakTtlMs: int(b.streakTtlMs, base.breaker.streakTtlMs, MINUTE_MS, 365 * DAY_MS),
    },
    device: {
      maxAccounts: int(d.maxAccounts, base.device.maxAccounts, 1, 100),
      windowMs: int(d.windowMs, base.device.windowMs, HOUR_MS, 365 * DAY_MS),
      restrictMs: int(d.restrictMs, base.device.restrictMs, MINUTE_MS, 365 * DAY_MS),
    },
    night: {
      fromHour: fromHour === toHour ? base.night.fromHour : fromHour,
      toHour: fromHour === toHour ? base.night.toHour : toHour,
      smallBelow: int(n.smallBelow, base.night.smallBelow, 1, Number.MAX_SAFE_INTEGER),
      maxCount: int(n.maxCount, base.night.maxCount, 1, 900),
      freezeMs: int(n.freezeMs, base.night.freezeMs, HOUR_MS, 30 * DAY_MS),
    },
    large: { over: int(l.over, base.large.over, 1, Number.MAX_SAFE_INTEGER) },
    rate: {
      claimsPerMinute: int(r.claimsPerMinute, base.rate.claimsPerMinute, 1, 100_000),
      codeRefreshesPerMinute: int(r.codeRefreshesPerMinute, base.rate.codeRefreshesPerMinute, 1, 100_000),
      packetViewsPerMinute: int(r.packetViewsPerMinute, base.rate.packetViewsPerMinute, 1, 100_000),
      codeOpensPerMinute: int(r.codeOpensPerMinute, base.rate.codeOpensPerMinute, 1, 100_000),
      campaignStatsPerMinute: int(r.campaignStatsPerMinute, base.rate.campaignStatsPerMinute, 1, 10_000),
      campaignExportsPerMinute: int(r.campaignExportsPerMinute, base.rate.campaignExportsPerMinute, 1, 10_000),
      avatarUploadsPerMinute: int(r.avatarUploadsPerMinute, base.rate.avatarUploadsPerMinute, 1, 1_000),
    },
    forwardsPerPacket: int(overrides.forwardsPerPacket, base.forwardsPerPacket, 1, 1_000),
    marketing: { enabled: base.marketing.enabled, words: [...new Set([...base.marketing.words, ...extra])] },
  };
}
