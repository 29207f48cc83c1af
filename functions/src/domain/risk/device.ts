/** Device binding: at most a few accounts per device in a rolling window. */
import {
  ALLOW,
  type Freeze,
  iso,
  refuse,
  type RiskContext,
  type RiskDecision,
  type RiskEvent,
  riskEventId,
} from './decision';
import { RiskRules, type TierRiskRules } from './rules';

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
export function decideDevice(
  o: DeviceOutcome,
  ctx: RiskContext & { deviceId: string },
  rules: TierRiskRules['device'],
): RiskDecision {
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
