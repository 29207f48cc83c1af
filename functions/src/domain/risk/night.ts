/** Night velocity: small movements per account and UTC+8 clock hour at night. */
import type { Fen } from '../money';
import { hourBucketUtc8, hourUtc8 } from '../time';
import { ALLOW, iso, refuse, type RiskContext, type RiskDecision, riskEventId } from './decision';
import { RiskRules, SPEC_RULES, type TierRiskRules } from './rules';
import { FREEZE_MESSAGES } from './standing';

/**
 * True when `nowMs` falls in the night of `rules` (default 00:00:00.000 ≤ t < 06:00:00.000
 * UTC+8). A window may wrap midnight (fromHour > toHour).
 */
export function isNight(
  nowMs: number,
  rules: Pick<TierRiskRules['night'], 'fromHour' | 'toHour'> = SPEC_RULES.night,
): boolean {
  if (!Number.isFinite(nowMs)) throw new RangeError('nowMs must be finite');
  const h = hourUtc8(nowMs);
  return rules.fromHour < rules.toHour
    ? h >= rules.fromHour && h < rules.toHour
    : h >= rules.fromHour || h < rules.toHour;
}

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
export function decideNight(
  o: NightOutcome,
  ctx: RiskContext,
  amount: Fen,
  rules: TierRiskRules['night'],
): RiskDecision {
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
