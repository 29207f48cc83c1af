/** The breaker (熔断) of a receive code: same-amount streaks, trips and payer freezes. */
import type { Fen } from '../money';
import {
  allow,
  ALLOW,
  iso,
  refuse,
  type RiskContext,
  type RiskDecision,
  type RiskEvent,
  riskEventId,
} from './decision';
import { RiskRules, type TierRiskRules } from './rules';

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
  if (s.frozenUntilMs !== undefined && s.frozenUntilMs > p.nowMs)
    return s.tripOp === p.opId ? 'already_tripped' : 'frozen';
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
export function breakerApply(
  s: BreakerState,
  p: PaymentInput,
  rules: TierRiskRules['breaker'],
): { step: BreakerStep; state: BreakerState } {
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
      return {
        step,
        state: {
          ...s,
          ops: [...s.ops, p.opId],
          payers: s.payers.includes(p.payerId) ? s.payers : [...s.payers, p.payerId],
          lastAtMs: p.nowMs,
        },
      };
    case 'trip': {
      const { lastAmount: _a, ...rest } = s;
      return {
        step,
        state: {
          ...rest,
          ops: [],
          payers: [],
          lastAtMs: p.nowMs,
          frozenUntilMs: p.nowMs + rules.freezeMs,
          tripOp: p.opId,
          trips: s.trips + 1,
        },
      };
    }
    case 'trip_payer': {
      const { lastAmount: _a, ...rest } = s;
      const ended = new Set(endedPayerFreezes(s, p.nowMs));
      const kept = Object.fromEntries(Object.entries(s.payerFreezes).filter(([id]) => !ended.has(id)));
      return {
        step,
        state: {
          ...rest,
          ops: [],
          payers: [],
          lastAtMs: p.nowMs,
          payerFreezes: { ...kept, [p.payerId]: { untilMs: p.nowMs + rules.freezeMs, tripOp: p.opId } },
        },
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
    : refuse('CODE_FROZEN', '你向该收款码连续支付相同金额的次数过多，暂时无法向其付款，请稍后再试', {
        until: iso(untilMs),
      });
}

/**
 * The breaker's decision: a counted (or ignored) payment is allowed; the one that trips the
 * breaker is allowed and fires (one event per trip: its id derives from the code — and the payer,
 * for a payer's freeze — and the freeze's end); a payment into a frozen code, or from a payer
 * frozen out of it, is refused with `423 CODE_FROZEN`.
 */
export function decideBreaker(
  o: BreakerOutcome,
  ctx: RiskContext,
  codeId: string,
  amount: Fen,
  rules: TierRiskRules['breaker'],
): RiskDecision {
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
