/** Rate limits: fixed one-minute windows per account and action. */
import { MINUTE_MS } from '../time';
import { ALLOW, iso, refuse, type RiskContext, type RiskDecision, type RiskEvent, riskEventId } from './decision';
import { RiskRules, type TierRiskRules } from './rules';

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
  return refuse('RATE_LIMITED', RATE_MESSAGES[action], { retryAfter: w.retryAfterSeconds, limit }, { events });
}
