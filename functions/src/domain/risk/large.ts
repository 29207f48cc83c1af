/** Large transactions: allowed, with a report and an event. */
import type { Fen } from '../money';
import { allow, ALLOW, type MovementKind, type RiskContext, type RiskDecision, riskEventId } from './decision';
import { RiskRules, type TierRiskRules } from './rules';

/** Large transaction: strictly over `over` fen is allowed with a report and an event. */
export function decideLarge(
  kind: MovementKind,
  amount: Fen,
  ctx: RiskContext,
  rules: TierRiskRules['large'],
): RiskDecision {
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
