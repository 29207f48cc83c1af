/** What a rule decides: allow or refuse, and the effects to write (events, freezes, reports). */
import { DomainError, type ErrorCode } from '../errors';
import { derivedId } from '../ids';
import type { Fen, Tier } from '../money';
import type { RiskRule } from './rules';

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

export function allow(effects: Partial<RiskEffects> = {}): RiskDecision {
  return {
    kind: 'allow',
    events: effects.events ?? [],
    freezes: effects.freezes ?? [],
    reports: effects.reports ?? [],
  };
}

/** A refusal with `code` and the effects of its firing. */
export function refuse(
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
  effects: Partial<RiskEffects> = {},
): RiskDecision {
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

export const iso = (ms: number) => new Date(ms).toISOString();

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
  if (first?.kind !== 'refuse') return allow(effects);
  return refuse(first.code, first.message, first.details, effects);
}

/** The error to throw for a refusal (the HTTP wrapper maps it). */
export function refusalError(d: RiskDecision): DomainError | undefined {
  return d.kind === 'refuse' ? new DomainError(d.code, d.message, d.details) : undefined;
}
