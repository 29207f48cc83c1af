/** Blacklist and freezes: what the store knows about an account or a device, and its refusal. */
import { ALLOW, iso, refuse, type RiskContext, type RiskDecision, type RiskEvent, riskEventId } from './decision';
import { RiskRules } from './rules';

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
    return refuse('RISK_BLOCKED', FREEZE_MESSAGES[f.reason] ?? '账户付款功能已被临时限制', {
      reason: f.reason,
      until: iso(f.untilMs),
    });
  }
  return ALLOW;
}

export const FREEZE_MESSAGES: Record<string, string> = {
  night_velocity: '夜间小额交易过于频繁，付款功能已临时冻结 1 小时',
  device_binding: '该设备登录账号过多，相关账号付款功能已限制 7 天',
};
