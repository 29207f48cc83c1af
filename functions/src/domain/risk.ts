/**
 * The risk engine's rules (docs/rules.md, Risk rules), as pure functions.
 *
 * No I/O, no SDK, no clock: every function takes the time (`nowMs`) and the counters or state
 * the risk store returned, and answers with a {@link RiskDecision}: allow, or refuse with an API
 * error code — plus the effects to write (risk events, freezes, large-transaction reports).
 * The store (store/risk.ts) owns the atomic counting; this module owns what the counts mean.
 *
 * The six rules and where each one's state lives:
 *
 * | rule              | counted by the store                         | decided here            |
 * |-------------------|----------------------------------------------|-------------------------|
 * | breaker 熔断       | streak per receive code (trip is atomic)     | {@link decideBreaker}   |
 * | device binding    | string set of accounts per device            | {@link decideDevice}    |
 * | night velocity    | set of op ids per account per UTC+8 hour     | {@link decideNight}     |
 * | large transaction | —                                            | {@link decideLarge}     |
 * | blacklist         | entries per account / device                 | {@link checkStanding}   |
 * | marketing words   | —                                            | greeting.ts             |
 *
 * Choices made where the product rules leave room (docs/rules.md lists them too):
 * - A receive code is identified by its payee's account id: the code itself rotates every 60 s,
 *   so "one receive code" is the payee's 收款码, whatever its current rendering.
 * - Breaker: the 5th consecutive same-amount payment is **allowed** and trips the breaker; the
 *   code is then frozen for 1 h (`423 CODE_FROZEN`) and the streak starts afresh after the
 *   freeze. A streak older than `streakTtlMs` (30 days) since its last payment restarts too.
 *   The breaker is about many payers paying one code the same amount, and it must not be a
 *   weapon against the code's owner: payments under 1 yuan (`minAmount`) neither count nor
 *   break a streak, and a streak made by one payer alone freezes only that payer's payments to
 *   that code (`423 CODE_FROZEN` for them, everyone else still pays).
 * - Device binding: an account "uses" a device when it logged in or moved money with that
 *   `x-device-id` within the rolling window (7 days, by last-seen time). The 4th account is
 *   refused (`403 DEVICE_LIMIT`); the device and its (up to 3) bound accounts are then
 *   restricted from paying for 7 days (`403 RISK_BLOCKED`).
 * - Night velocity: "within 1 h" is one UTC+8 clock hour (00:00–00:59, …, 05:00–05:59), so the
 *   night is exactly six counting windows. The 11th small movement in one such hour is
 *   **refused** and freezes the account's outgoing money for 1 h from that moment (which always
 *   outlasts the hour), with one risk event per (account, hour).
 * - Large transaction: strictly over 50,000 yuan; allowed, with a report and an event.
 * - Blacklist: refuses every money movement, incoming (claims, top-ups) as well as outgoing.
 *   Freezes (breaker, device, night) only stop outgoing money.
 * - Marketing words: matched after folding (compatibility forms, marks, invisible characters,
 *   spaces, punctuation and symbols: {@link foldText}) and mapping traditional to simplified
 *   characters (domain/greeting.ts), so "免 单", "全额·返现", "免\u034F单" and "免單" are caught.
 *   Personal greetings are exempt.
 * - Every firing writes a risk event; a refusal caused by an earlier freeze writes none (the
 *   freeze's own event recorded it; the audit log records each refusal).
 */
import { derivedId } from './ids';
import { type ErrorCode, DomainError } from './errors';
import type { Fen, Tier } from './money';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
const UTC8_OFFSET_MS = 8 * HOUR_MS;

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

const SPEC_RULES = {
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
    rate: { claimsPerMinute: 20, codeRefreshesPerMinute: 30, packetViewsPerMinute: 60, codeOpensPerMinute: 30, campaignStatsPerMinute: 6, campaignExportsPerMinute: 2, avatarUploadsPerMinute: 10 },
    forwardsPerPacket: 10,
    marketing: { enabled: false, words: BASE_MARKETING_WORDS },
  },
  enterprise: {
    level: 2,
    ...SPEC_RULES,
    rate: { claimsPerMinute: 60, codeRefreshesPerMinute: 300, packetViewsPerMinute: 300, codeOpensPerMinute: 120, campaignStatsPerMinute: 12, campaignExportsPerMinute: 4, avatarUploadsPerMinute: 10 },
    forwardsPerPacket: 10,
    marketing: { enabled: true, words: BASE_MARKETING_WORDS },
  },
  provider: {
    level: 1,
    ...SPEC_RULES,
    // Reads stay modest even here: a view of a 10,000-share packet by its sender reads every
    // slot (~370 read units), a campaign's statistics every slot of its packets.
    rate: { claimsPerMinute: 600, codeRefreshesPerMinute: 3_000, packetViewsPerMinute: 600, codeOpensPerMinute: 120, campaignStatsPerMinute: 20, campaignExportsPerMinute: 6, avatarUploadsPerMinute: 10 },
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
    ? overrides.extraWords.filter((w): w is string => typeof w === 'string' && foldText(w).length > 0 && w.length <= 32).slice(0, 200)
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

// ───────────────────────────── time ─────────────────────────────

/** The UTC+8 wall-clock hour (0–23) of an instant. */
export function hourUtc8(nowMs: number): number {
  return new Date(nowMs + UTC8_OFFSET_MS).getUTCHours();
}

/**
 * True when `nowMs` falls in the night of `rules` (default 00:00:00.000 ≤ t < 06:00:00.000
 * UTC+8). A window may wrap midnight (fromHour > toHour).
 */
export function isNight(nowMs: number, rules: Pick<TierRiskRules['night'], 'fromHour' | 'toHour'> = SPEC_RULES.night): boolean {
  if (!Number.isFinite(nowMs)) throw new RangeError('nowMs must be finite');
  const h = hourUtc8(nowMs);
  return rules.fromHour < rules.toHour ? h >= rules.fromHour && h < rules.toHour : h >= rules.fromHour || h < rules.toHour;
}

/** The UTC+8 clock hour of an instant as 'YYYY-MM-DDTHH' (the night counter's window). */
export function hourBucketUtc8(nowMs: number): string {
  return new Date(nowMs + UTC8_OFFSET_MS).toISOString().slice(0, 13);
}

/** The first instant after the UTC+8 clock hour containing `nowMs`. */
export function hourBucketEndMs(nowMs: number): number {
  return Math.floor(nowMs / HOUR_MS) * HOUR_MS + HOUR_MS; // UTC+8 is a whole number of hours
}

// ─────────────────────────── decisions ───────────────────────────

/** A risk event to write (store/risk.ts keeps them by UTC+8 day for `GET /v1/risk/events`). */
export interface RiskEvent {
  /** Deterministic: a retried request or a concurrent twin of one firing yields the same id. */
  id: string;
  rule: RiskRule;
  action: 'freeze' | 'refuse' | 'report';
  atMs: number;
  tier?: Tier;
  accountId?: string;
  deviceId?: string;
  /** A receive code: its payee's account id. */
  codeId?: string;
  amount?: Fen;
  details: Record<string, string | number | boolean>;
}

/** A freeze to record: outgoing money of an account, or payments from a device, until a time. */
export interface Freeze {
  scope: 'account' | 'device';
  id: string;
  reason: RiskRule;
  untilMs: number;
}

/** A large-transaction report. */
export interface LargeReport {
  opId: string;
  accountId: string;
  kind: MovementKind;
  amount: Fen;
  atMs: number;
  tier?: Tier;
}

export interface RiskEffects {
  events: RiskEvent[];
  freezes: Freeze[];
  reports: LargeReport[];
}

export type RiskDecision =
  | ({ kind: 'allow' } & RiskEffects)
  | ({ kind: 'refuse'; code: ErrorCode; message: string; details?: Record<string, unknown> } & RiskEffects);

export type MovementKind = 'transfer' | 'packet' | 'claim' | 'topup';

/** Who is moving money, and how: the context every decision takes. */
export interface RiskContext {
  userId: string;
  tier: Tier;
  /** Unique per request, stable across retries of one request (e.g. the op id derived from the
   * Idempotency-Key; for logins the request id). Event ids derive from it. */
  opId: string;
  nowMs: number;
  deviceId?: string | undefined;
}

const NONE: RiskEffects = { events: [], freezes: [], reports: [] };

export const ALLOW: RiskDecision = { kind: 'allow', ...NONE };

function allow(effects: Partial<RiskEffects> = {}): RiskDecision {
  return { kind: 'allow', events: effects.events ?? [], freezes: effects.freezes ?? [], reports: effects.reports ?? [] };
}

/** A refusal with `code` and the effects of its firing. */
export function refuse(code: ErrorCode, message: string, details?: Record<string, unknown>, effects: Partial<RiskEffects> = {}): RiskDecision {
  return {
    kind: 'refuse',
    code,
    message,
    ...(details ? { details } : {}),
    events: effects.events ?? [],
    freezes: effects.freezes ?? [],
    reports: effects.reports ?? [],
  };
}

/** A stable event id from the rule and the parts that identify one firing. */
export function riskEventId(rule: RiskRule, ...parts: string[]): string {
  return derivedId('ev', rule, ...parts);
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * All decisions together: the first refusal wins (its code and message), and the effects of every
 * refusing decision are kept (each is a firing); when all allow, every effect is kept.
 */
export function combine(...decisions: RiskDecision[]): RiskDecision {
  const refusals = decisions.filter((d) => d.kind === 'refuse');
  const chosen = refusals.length > 0 ? refusals : decisions;
  const effects: RiskEffects = {
    events: chosen.flatMap((d) => d.events),
    freezes: chosen.flatMap((d) => d.freezes),
    reports: chosen.flatMap((d) => d.reports),
  };
  const first = refusals[0];
  if (!first || first.kind !== 'refuse') return allow(effects);
  return refuse(first.code, first.message, first.details, effects);
}

/** The error to throw for a refusal (the HTTP wrapper maps it). */
export function refusalError(d: RiskDecision): DomainError | undefined {
  return d.kind === 'refuse' ? new DomainError(d.code, d.message, d.details) : undefined;
}

// ── blacklist and freezes ──

/** What the store knows about an account or a device: blacklist entry and recorded freezes. */
export interface Standing {
  blacklisted: boolean;
  freezes: ReadonlyArray<{ reason: string; untilMs: number }>;
}

export const CLEAR: Standing = { blacklisted: false, freezes: [] };

/** The freeze that lasts longest among those still in force at `nowMs`. */
export function activeFreeze(s: Standing, nowMs: number): { reason: string; untilMs: number } | undefined {
  let best: { reason: string; untilMs: number } | undefined;
  for (const f of s.freezes) if (f.untilMs > nowMs && (!best || f.untilMs > best.untilMs)) best = f;
  return best;
}

/**
 * The read-only gate before a money movement: blacklist (account, then device) refuses every
 * movement and fires a blacklist event; an active freeze of the account or the device refuses
 * outgoing money (`direction: 'out'`) without a new event.
 */
export function checkStanding(
  ctx: RiskContext,
  direction: 'in' | 'out',
  account: Standing,
  device: Standing = CLEAR,
): RiskDecision {
  const blocked = account.blacklisted ? 'account' : device.blacklisted && ctx.deviceId ? 'device' : undefined;
  if (blocked) {
    const event: RiskEvent = {
      id: riskEventId(RiskRules.blacklist, ctx.userId, ctx.opId),
      rule: RiskRules.blacklist,
      action: 'refuse',
      atMs: ctx.nowMs,
      tier: ctx.tier,
      accountId: ctx.userId,
      ...(ctx.deviceId ? { deviceId: ctx.deviceId } : {}),
      details: { on: blocked, direction },
    };
    return refuse('RISK_BLOCKED', '账户存在安全风险，暂时无法进行资金操作，请联系客服', undefined, { events: [event] });
  }
  if (direction === 'in') return ALLOW;
  const own = activeFreeze(account, ctx.nowMs);
  const dev = ctx.deviceId ? activeFreeze(device, ctx.nowMs) : undefined;
  const f = own && dev ? (own.untilMs >= dev.untilMs ? own : dev) : (own ?? dev);
  if (f) {
    return refuse('RISK_BLOCKED', FREEZE_MESSAGES[f.reason] ?? '账户付款功能已被临时限制', { reason: f.reason, until: iso(f.untilMs) });
  }
  return ALLOW;
}

const FREEZE_MESSAGES: Record<string, string> = {
  night_velocity: '夜间小额交易过于频繁，付款功能已临时冻结 1 小时',
  device_binding: '该设备登录账号过多，相关账号付款功能已限制 7 天',
};

// ── breaker ──

/** A freeze of one payer's payments into one receive code. */
export interface PayerFreeze {
  untilMs: number;
  /** The payment that tripped it (its retries are still allowed). */
  tripOp: string;
}

/** The breaker of one receive code, as stored. */
export interface BreakerState {
  /** Amount of the current streak (absent after a trip: the next payment starts afresh). */
  lastAmount?: Fen;
  /** Op ids of the current streak, oldest first is not guaranteed (a set). */
  ops: readonly string[];
  /** The payers of the current streak (a set; empty on a streak stored before payers were). */
  payers: readonly string[];
  /** Time of the streak's last payment. */
  lastAtMs?: number;
  /** The whole code is frozen until then (a streak of several payers). */
  frozenUntilMs?: number;
  /** The payment that tripped the code's freeze (its retries are still allowed). */
  tripOp?: string;
  /** Code freezes so far. */
  trips: number;
  /** Payers frozen out of this code by a streak of their own, by payer id (ended ones may stay
   * until the next payer trip prunes them). */
  payerFreezes: Readonly<Record<string, PayerFreeze>>;
}

export const EMPTY_BREAKER: BreakerState = { ops: [], payers: [], trips: 0, payerFreezes: {} };

export interface PaymentInput {
  amount: Fen;
  opId: string;
  /** Who pays: a streak of one payer freezes only them. */
  payerId: string;
  nowMs: number;
}

/**
 * Which transition a payment makes on a breaker. The store performs exactly this transition with
 * a conditional update whose condition re-checks what this function relied on, so the choice
 * made from a (possibly stale) read can never be applied to another state.
 * - `frozen` / `already_tripped`: the code is frozen (for everyone; the tripping op's retry passes);
 * - `payer_frozen` / `payer_already_tripped`: the same for this payer's own freeze on this code;
 * - `ignored`: under `minAmount` — no write, the streak is untouched;
 * - `restart` / `extend` / `already`: counted as a new streak, the next of this streak, or again;
 * - `trip`: the streak's last payment, payers several → the code is frozen;
 * - `trip_payer`: the same, but every payment of the streak was this payer's → only they are.
 */
export type BreakerStep =
  | 'frozen'
  | 'already_tripped'
  | 'payer_frozen'
  | 'payer_already_tripped'
  | 'ignored'
  | 'already'
  | 'restart'
  | 'extend'
  | 'trip'
  | 'trip_payer';

/** The payer's freeze on this code, if in force at `nowMs`. */
export function payerFreezeOf(s: BreakerState, payerId: string, nowMs: number): PayerFreeze | undefined {
  const f = Object.hasOwn(s.payerFreezes, payerId) ? s.payerFreezes[payerId] : undefined;
  return f && f.untilMs > nowMs ? f : undefined;
}

/** True when the live streak so far is this payer's alone (then its trip freezes only them). */
export function soloStreak(s: BreakerState, payerId: string): boolean {
  return s.payers.length === 1 && s.payers[0] === payerId;
}

export function breakerStep(s: BreakerState, p: PaymentInput, rules: TierRiskRules['breaker']): BreakerStep {
  if (s.frozenUntilMs !== undefined && s.frozenUntilMs > p.nowMs) return s.tripOp === p.opId ? 'already_tripped' : 'frozen';
  const own = payerFreezeOf(s, p.payerId, p.nowMs);
  if (own) return own.tripOp === p.opId ? 'payer_already_tripped' : 'payer_frozen';
  if (p.amount < rules.minAmount) return 'ignored';
  const live = s.lastAmount !== undefined && s.lastAtMs !== undefined && s.lastAtMs > p.nowMs - rules.streakTtlMs;
  if (!live || s.lastAmount !== p.amount) return 'restart';
  if (s.ops.includes(p.opId)) return 'already';
  if (s.ops.length < rules.streak - 1) return 'extend';
  return soloStreak(s, p.payerId) ? 'trip_payer' : 'trip';
}

/** Payer freezes that have ended by `nowMs` (a payer trip removes them, at most `max`). */
export function endedPayerFreezes(s: BreakerState, nowMs: number, max = 50): string[] {
  return Object.keys(s.payerFreezes)
    .filter((id) => s.payerFreezes[id]!.untilMs <= nowMs)
    .sort()
    .slice(0, max);
}

/** The pure model of the stored breaker: the state after a payment (tests compare the store to it). */
export function breakerApply(s: BreakerState, p: PaymentInput, rules: TierRiskRules['breaker']): { step: BreakerStep; state: BreakerState } {
  const step = breakerStep(s, p, rules);
  switch (step) {
    case 'frozen':
    case 'already_tripped':
    case 'payer_frozen':
    case 'payer_already_tripped':
    case 'ignored':
    case 'already':
      return { step, state: s };
    case 'restart':
      return { step, state: { ...s, lastAmount: p.amount, ops: [p.opId], payers: [p.payerId], lastAtMs: p.nowMs } };
    case 'extend':
      return { step, state: { ...s, ops: [...s.ops, p.opId], payers: s.payers.includes(p.payerId) ? s.payers : [...s.payers, p.payerId], lastAtMs: p.nowMs } };
    case 'trip': {
      const { lastAmount: _a, ...rest } = s;
      return {
        step,
        state: { ...rest, ops: [], payers: [], lastAtMs: p.nowMs, frozenUntilMs: p.nowMs + rules.freezeMs, tripOp: p.opId, trips: s.trips + 1 },
      };
    }
    case 'trip_payer': {
      const { lastAmount: _a, ...rest } = s;
      const ended = new Set(endedPayerFreezes(s, p.nowMs));
      const kept = Object.fromEntries(Object.entries(s.payerFreezes).filter(([id]) => !ended.has(id)));
      return {
        step,
        state: { ...rest, ops: [], payers: [], lastAtMs: p.nowMs, payerFreezes: { ...kept, [p.payerId]: { untilMs: p.nowMs + rules.freezeMs, tripOp: p.opId } } },
      };
    }
  }
}

/** Whom a breaker freeze stops: the code (every payer) or one payer of it. */
export type BreakerScope = 'code' | 'payer';

/** What counting a payment into a receive code did (store/risk.ts `countBreaker`). */
export type BreakerOutcome =
  | { kind: 'counted'; streak: number }
  | { kind: 'already'; streak: number }
  /** Under `minAmount`: not counted, nothing written. */
  | { kind: 'ignored' }
  | { kind: 'tripped'; scope: BreakerScope; untilMs: number }
  | { kind: 'already_tripped'; scope: BreakerScope; untilMs: number }
  | { kind: 'frozen'; scope: BreakerScope; untilMs: number };

/**
 * Refuses a payment into a frozen code, or from a payer frozen out of it (read-only check,
 * before counting).
 */
export function checkCode(s: BreakerState, payerId: string, nowMs: number): RiskDecision {
  if (s.frozenUntilMs !== undefined && s.frozenUntilMs > nowMs) return codeFrozen('code', s.frozenUntilMs);
  const own = payerFreezeOf(s, payerId, nowMs);
  if (own) return codeFrozen('payer', own.untilMs);
  return ALLOW;
}

function codeFrozen(scope: BreakerScope, untilMs: number): RiskDecision {
  return scope === 'code'
    ? refuse('CODE_FROZEN', '该收款码因连续相同金额收款已被临时冻结，请稍后再试', { until: iso(untilMs) })
    : refuse('CODE_FROZEN', '你向该收款码连续支付相同金额的次数过多，暂时无法向其付款，请稍后再试', { until: iso(untilMs) });
}

/**
 * The breaker's decision: a counted (or ignored) payment is allowed; the one that trips the
 * breaker is allowed and fires (one event per trip: its id derives from the code — and the payer,
 * for a payer's freeze — and the freeze's end); a payment into a frozen code, or from a payer
 * frozen out of it, is refused with `423 CODE_FROZEN`.
 */
export function decideBreaker(o: BreakerOutcome, ctx: RiskContext, codeId: string, amount: Fen, rules: TierRiskRules['breaker']): RiskDecision {
  switch (o.kind) {
    case 'counted':
    case 'already':
    case 'ignored':
      return ALLOW;
    case 'frozen':
      return codeFrozen(o.scope, o.untilMs);
    case 'tripped':
    case 'already_tripped':
      return allow({
        events: [
          o.scope === 'code'
            ? {
                id: riskEventId(RiskRules.breaker, codeId, String(o.untilMs)),
                rule: RiskRules.breaker,
                action: 'freeze',
                atMs: o.untilMs - rules.freezeMs,
                tier: ctx.tier,
                accountId: ctx.userId,
                codeId,
                amount,
                details: { streak: rules.streak, until: iso(o.untilMs) },
              }
            : {
                id: riskEventId(RiskRules.breaker, codeId, ctx.userId, String(o.untilMs)),
                rule: RiskRules.breaker,
                action: 'freeze',
                atMs: o.untilMs - rules.freezeMs,
                tier: ctx.tier,
                accountId: ctx.userId,
                codeId,
                amount,
                details: { streak: rules.streak, until: iso(o.untilMs), scope: 'payer' },
              },
        ],
      });
  }
}

/**
 * Whose audit chain a freeze event belongs to: a frozen receive code's owner; a payer frozen out
 * of one code, or a frozen account, otherwise.
 */
export function freezeSubject(e: RiskEvent): string | undefined {
  return e.details.scope === 'payer' ? e.accountId : (e.codeId ?? e.accountId);
}

// ── device binding ──

/** What binding an account to a device did (store/risk.ts `bindDevice`). */
export type DeviceOutcome =
  /** The account is (now) one of the device's accounts in the window. */
  | { kind: 'bound'; accounts: string[] }
  /** The device already serves `maxAccounts` other accounts in the window. */
  | { kind: 'limit'; accounts: string[] };

/**
 * Device binding: `bound` allows; `limit` refuses the account (`403 DEVICE_LIMIT`), fires an
 * event, and restricts payments of the device and of each of its accounts for `restrictMs`.
 */
export function decideDevice(o: DeviceOutcome, ctx: RiskContext & { deviceId: string }, rules: TierRiskRules['device']): RiskDecision {
  if (o.kind === 'bound') return ALLOW;
  const untilMs = ctx.nowMs + rules.restrictMs;
  const freezes: Freeze[] = [
    { scope: 'device', id: ctx.deviceId, reason: RiskRules.device_binding, untilMs },
    ...o.accounts.map((id): Freeze => ({ scope: 'account', id, reason: RiskRules.device_binding, untilMs })),
  ];
  const event: RiskEvent = {
    id: riskEventId(RiskRules.device_binding, ctx.deviceId, ctx.userId, ctx.opId),
    rule: RiskRules.device_binding,
    action: 'refuse',
    atMs: ctx.nowMs,
    tier: ctx.tier,
    accountId: ctx.userId,
    deviceId: ctx.deviceId,
    details: { boundAccounts: o.accounts.length, maxAccounts: rules.maxAccounts, restrictedUntil: iso(untilMs) },
  };
  return refuse(
    'DEVICE_LIMIT',
    `该设备 7 天内已登录 ${rules.maxAccounts} 个账号，无法再使用新账号`,
    { maxAccounts: rules.maxAccounts },
    { events: [event], freezes },
  );
}

/** A device id as sent in `x-device-id`: 1–128 of [A-Za-z0-9._:-]. */
export function isDeviceId(v: unknown): v is string {
  return typeof v === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(v);
}

// ── night velocity ──

/** Whether a movement counts toward night velocity (at night, strictly below `smallBelow`). */
export function nightApplies(amount: Fen, nowMs: number, rules: TierRiskRules['night']): boolean {
  return amount < rules.smallBelow && isNight(nowMs, rules);
}

/** What counting a small night movement did (store/risk.ts `countNight`). */
export type NightOutcome =
  /** This op is the `count`-th small night movement of the account in this UTC+8 hour. */
  | { kind: 'counted'; count: number }
  /** This op was counted before (a retry): decided by the freeze check, not again here. */
  | { kind: 'already' };

/**
 * Night velocity: up to `maxCount` small movements per UTC+8 hour are allowed; the next one and
 * any beyond are refused (`403 RISK_BLOCKED`), freeze the account's outgoing money for
 * `freezeMs`, and fire one event per (account, hour).
 */
export function decideNight(o: NightOutcome, ctx: RiskContext, amount: Fen, rules: TierRiskRules['night']): RiskDecision {
  if (o.kind === 'already' || o.count <= rules.maxCount) return ALLOW;
  const untilMs = ctx.nowMs + rules.freezeMs;
  const bucket = hourBucketUtc8(ctx.nowMs);
  return refuse(
    'RISK_BLOCKED',
    FREEZE_MESSAGES.night_velocity!,
    { reason: RiskRules.night_velocity, until: iso(untilMs) },
    {
      freezes: [{ scope: 'account', id: ctx.userId, reason: RiskRules.night_velocity, untilMs }],
      events: [
        {
          id: riskEventId(RiskRules.night_velocity, ctx.userId, bucket),
          rule: RiskRules.night_velocity,
          action: 'freeze',
          atMs: ctx.nowMs,
          tier: ctx.tier,
          accountId: ctx.userId,
          ...(ctx.deviceId ? { deviceId: ctx.deviceId } : {}),
          amount,
          details: { hour: bucket, maxCount: rules.maxCount, smallBelow: rules.smallBelow, until: iso(untilMs) },
        },
      ],
    },
  );
}

// ── large transaction ──

/** Large transaction: strictly over `over` fen is allowed with a report and an event. */
export function decideLarge(kind: MovementKind, amount: Fen, ctx: RiskContext, rules: TierRiskRules['large']): RiskDecision {
  if (!(amount > rules.over)) return ALLOW;
  return allow({
    reports: [{ opId: ctx.opId, accountId: ctx.userId, kind, amount, atMs: ctx.nowMs, tier: ctx.tier }],
    events: [
      {
        id: riskEventId(RiskRules.large_transaction, ctx.userId, ctx.opId),
        rule: RiskRules.large_transaction,
        action: 'report',
        atMs: ctx.nowMs,
        tier: ctx.tier,
        accountId: ctx.userId,
        amount,
        details: { kind, over: rules.over },
      },
    ],
  });
}

// ── marketing words (the matcher: domain/greeting.ts) ──

/**
 * Everything a reader does not see as a letter of its own: combining marks (accents, the
 * combining grapheme joiner U+034F, variation selectors U+FE00–FE0F and U+E0100–E01EF), other
 * default-ignorable code points (zero-width characters, the Hangul fillers U+115F, U+1160,
 * U+3164, U+FFA0, tags), controls and unassigned or private code points, separators and
 * whitespace, punctuation and symbols (emoji included).
 */
const NOT_A_LETTER = /[\p{M}\p{C}\p{Z}\s\p{P}\p{S}\p{Default_Ignorable_Code_Point}]/gu;

/**
 * A text folded for matching, without the traditional → simplified step (that step's
 * dictionaries live in domain/greeting.ts, so only the functions that check greetings carry
 * them): compatibility decomposition (NFKD: full-width and other compatibility forms become
 * their plain letters, accented letters become letter + mark), then every character of
 * {@link NOT_A_LETTER} dropped, then canonical composition (Hangul) and lower case.
 *
 * Decomposing before dropping is what makes "é" fold to "e" and "単\u0301" to "単": NFKC alone
 * would compose an accent into its letter and keep it.
 */
export function foldText(s: string): string {
  return s.normalize('NFKD').replace(NOT_A_LETTER, '').normalize('NFC').toLowerCase();
}

// ── rate limits (fixed one-minute windows per account) ──

/** What a rate limit counts. */
export const RateActions = {
  claim: 'claim',
  code_refresh: 'code_refresh',
  packet_view: 'packet_view',
  code_open: 'code_open',
  campaign_stats: 'campaign_stats',
  campaign_export: 'campaign_export',
  avatar_upload: 'avatar_upload',
} as const;
export type RateAction = (typeof RateActions)[keyof typeof RateActions];

/** The clock minute of `nowMs`: its start, and whole seconds until the next one (≥ 1). */
export function rateWindow(nowMs: number): { startMs: number; retryAfterSeconds: number } {
  const startMs = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
  return { startMs, retryAfterSeconds: Math.max(1, Math.ceil((startMs + MINUTE_MS - nowMs) / 1000)) };
}

/** The per-minute limit of `action` under `rules`. */
export function rateLimitOf(rules: TierRiskRules, action: RateAction): number {
  return rules.rate[RATE_FIELDS[action]];
}

const RATE_FIELDS = {
  claim: 'claimsPerMinute',
  code_refresh: 'codeRefreshesPerMinute',
  packet_view: 'packetViewsPerMinute',
  code_open: 'codeOpensPerMinute',
  campaign_stats: 'campaignStatsPerMinute',
  campaign_export: 'campaignExportsPerMinute',
  avatar_upload: 'avatarUploadsPerMinute',
} as const satisfies Record<RateAction, keyof TierRiskRules['rate']>;

/** What the refusal says, per action (the app shows its own copy; this is the API's). */
const RATE_MESSAGES = {
  claim: '领取过于频繁，请稍后再试',
  code_refresh: '刷新过于频繁，请稍后再试',
  packet_view: '查看红包过于频繁，请稍后再试',
  code_open: '打开二维码过于频繁，请稍后再试',
  campaign_stats: '查看活动数据过于频繁，请稍后再试',
  campaign_export: '导出活动红包码过于频繁，请稍后再试',
  avatar_upload: '上传头像过于频繁，请稍后再试',
} as const satisfies Record<RateAction, string>;

/**
 * The decision for the `count`-th attempt (1-based, counted atomically by the store) of `action`
 * in the window of `ctx.nowMs`. Up to the limit: allow. Beyond: `429 RATE_LIMITED` with
 * `retryAfter` (seconds to the next minute); only the first refusal of a window writes an event,
 * so a client hammering the API cannot turn each of its calls into a write of ours.
 *
 * A fixed window lets a client do up to 2× the limit across a minute boundary; that is the price
 * of one atomic counter write per call and is fine for abuse control (it is not a money limit).
 */
export function decideRate(ctx: RiskContext, action: RateAction, count: number, rules: TierRiskRules): RiskDecision {
  const limit = rateLimitOf(rules, action);
  if (count <= limit) return ALLOW;
  const w = rateWindow(ctx.nowMs);
  const events: RiskEvent[] =
    count === limit + 1
      ? [
          {
            id: riskEventId(RiskRules.rate_limit, ctx.userId, action, String(w.startMs)),
            rule: RiskRules.rate_limit,
            action: 'refuse',
            atMs: ctx.nowMs,
            tier: ctx.tier,
            accountId: ctx.userId,
            ...(ctx.deviceId ? { deviceId: ctx.deviceId } : {}),
            details: { action, limit, windowStart: iso(w.startMs) },
          },
        ]
      : [];
  return refuse(
    'RATE_LIMITED',
    RATE_MESSAGES[action],
    { retryAfter: w.retryAfterSeconds, limit },
    { events },
  );
}
