import type { Fen, Tier } from '../domain/money';
import {
  checkCode,
  checkStanding,
  combine,
  CLEAR,
  decideBreaker,
  decideDevice,
  decideLarge,
  decideNight,
  decideRate,
  freezeSubject,
  rateWindow,
  type RateAction,
  nightApplies,
  refusalError,
  riskRulesFor,
  type MovementKind,
  type RiskContext,
  type RiskDecision,
  type TierRiskRules,
  type Standing,
} from '../domain/risk';
import type { DeviceStanding } from '../store/risk';
import type { Deps } from './deps';
import { observeRiskFirings } from './observability';
import type { Principal } from './context';

/** One money movement as the risk rules see it (docs/rules.md, Risk rules). */
export interface Movement {
  kind: MovementKind;
  amount: Fen;
  /** Stable across retries of one request (derived from the Idempotency-Key). */
  opId: string;
  deviceId?: string | undefined;
  /** Transfers: the receive code's owner (a receive code is identified by its payee). */
  payee?: { userId: string; tier: Tier } | undefined;
}

/**
 * A read-only rule of one use case only, passed in by that use case (the greeting check of
 * packets and campaigns, domain/greeting.ts), so that its code and data are bundled only into
 * the functions that need it.
 */
export type ExtraCheck = (ctx: RiskContext, rules: TierRiskRules) => RiskDecision;

const direction = (kind: MovementKind) => (kind === 'claim' || kind === 'topup' ? 'in' : 'out');

function contextOf(d: Deps, who: Principal, tier: Tier, m: Movement): RiskContext {
  return { userId: who.userId, tier, opId: m.opId, nowMs: d.now(), deviceId: m.deviceId };
}

/** Writes a decision's effects; a refusal is audited and thrown as its API error. */
async function enforce(d: Deps, ctx: RiskContext, decision: RiskDecision): Promise<void> {
  await d.risk.record(decision);
  observeRiskFirings(decision.events.map((e) => e.rule));
  // Freezes are security events of the account they freeze (a receive code: its owner; a payer
  // frozen out of one code: that payer).
  await Promise.all(
    decision.events
      .filter((e) => e.action === 'freeze')
      .map((e) =>
        d.audit.append(freezeSubject(e) ?? ctx.userId, {
          type: 'freeze',
          atMs: ctx.nowMs,
          details: { rule: e.rule, eventId: e.id, ...(e.deviceId ? { deviceId: e.deviceId } : {}) },
        }),
      ),
  );
  const err = refusalError(decision);
  if (err) {
    await d.audit.append(ctx.userId, {
      type: 'refusal',
      atMs: ctx.nowMs,
      details: { code: err.code, op: ctx.opId, ...(ctx.deviceId ? { deviceId: ctx.deviceId } : {}) },
    });
    throw err;
  }
}

/**
 * The standings a movement is checked against. Incoming money is refused only by a blacklist, so
 * it reads the blacklist entries and the device binding by key, in one request; outgoing money
 * also needs every freeze, so it reads the account's and the device's standing partitions.
 */
async function standingsFor(
  d: Deps,
  userId: string,
  m: Movement,
): Promise<{ account: Standing; device?: DeviceStanding | undefined }> {
  if (direction(m.kind) === 'in') return d.risk.inboundStanding(userId, m.deviceId);
  const [account, device] = await Promise.all([
    d.risk.accountStanding(userId),
    m.deviceId ? d.risk.deviceStanding(m.deviceId) : undefined,
  ]);
  return { account, device };
}

/**
 * Read-only rules, run first (before limits and funds): blacklist, freezes of the account and the
 * device, a frozen receive code, then the caller's `extra` rules (marketing words in a business
 * greeting). Writes only on refusal.
 */
export async function riskCheck(
  d: Deps,
  who: Principal,
  tier: Tier,
  m: Movement,
  extra: readonly ExtraCheck[] = [],
): Promise<{ device?: DeviceStanding }> {
  const ctx = contextOf(d, who, tier, m);
  const rules = riskRulesFor(tier);
  const { account, device } = await standingsFor(d, who.userId, m);
  let decision = checkStanding(ctx, direction(m.kind), account, device ?? CLEAR);
  if (m.kind === 'transfer' && m.payee) {
    decision = combine(decision, checkCode(await d.risk.breaker(m.payee.userId), who.userId, ctx.nowMs));
  }
  for (const check of extra) decision = combine(decision, check(ctx, rules));
  await enforce(d, ctx, decision);
  return device ? { device } : {};
}

/**
 * How long a device binding's last use may lag before a claim writes it again. The binding
 * counts an account on its device for a rolling window (7 days) from its last use; refreshing it
 * on every claim costs a write per claim, so a claim whose account the device standing (read
 * anyway) shows bound and seen within this lag leaves it be. The price: a binding may end up
 * to this much earlier than its true last use (an hour of a 7-day window).
 */
export const DEVICE_SEEN_REFRESH_MS = 60 * 60 * 1000;

/**
 * Counting rules, run after limits and funds passed (so refusals for other reasons do not
 * count): device binding, the receive code's breaker, night velocity. Counting is keyed by the
 * operation, so a retry of the same request is not counted twice.
 */
export async function riskCount(
  d: Deps,
  who: Principal,
  tier: Tier,
  m: Movement,
  seen?: DeviceStanding,
): Promise<void> {
  const ctx = contextOf(d, who, tier, m);
  const rules = riskRulesFor(tier);
  const decisions: RiskDecision[] = [];
  // Already bound and seen lately (per the standing read just before): binding again changes
  // nothing but the last-use time (see DEVICE_SEEN_REFRESH_MS).
  const fresh =
    seen?.accounts.some(
      (a) => a.id === who.userId && ctx.nowMs - a.lastSeenMs < DEVICE_SEEN_REFRESH_MS && a.lastSeenMs <= ctx.nowMs,
    ) ?? false;
  if (m.deviceId && !fresh) {
    decisions.push(
      decideDevice(
        await d.risk.bindDevice(m.deviceId, who.userId, ctx.nowMs, rules.device),
        { ...ctx, deviceId: m.deviceId },
        rules.device,
      ),
    );
  }
  if (m.kind === 'transfer' && m.payee) {
    const payeeRules = riskRulesFor(m.payee.tier).breaker;
    const outcome = await d.risk.countBreaker(
      m.payee.userId,
      { amount: m.amount, opId: m.opId, payerId: who.userId, nowMs: ctx.nowMs },
      payeeRules,
    );
    decisions.push(decideBreaker(outcome, ctx, m.payee.userId, m.amount, payeeRules));
  }
  if ((m.kind === 'transfer' || m.kind === 'packet') && nightApplies(m.amount, ctx.nowMs, rules.night)) {
    decisions.push(decideNight(await d.risk.countNight(who.userId, m.opId, ctx.nowMs), ctx, m.amount, rules.night));
  }
  if (decisions.length) await enforce(d, ctx, combine(...decisions));
}

/** After the money moved: the large-transaction report (allowed within limits; docs/rules.md). */
export async function riskAfter(d: Deps, who: Principal, tier: Tier, m: Movement): Promise<void> {
  const large = decideLarge(m.kind, m.amount, contextOf(d, who, tier, m), riskRulesFor(tier).large);
  await d.risk.record(large);
  observeRiskFirings(large.events.map((e) => e.rule));
}

/**
 * The per-account rate limit of claims and code refreshes (one atomic counter write per call,
 * abuse control): over the tier's per-minute limit → `429 RATE_LIMITED` with
 * `retryAfter`. Only the first refusal of a window is written (risk event + audit record).
 */
export async function rateLimit(d: Deps, who: Principal, action: RateAction, deviceId?: string): Promise<void> {
  const nowMs = d.now();
  const w = rateWindow(nowMs);
  await refuseOverRate(d, who, action, await d.risk.countRate(who.userId, action, w.startMs), nowMs, deviceId);
}

/**
 * The rate limit for an attempt whose place in its clock minute (`count`, 1-based) the caller
 * counted itself — claims count on their ledger entry (app/claims.ts). Over the limit →
 * `429 RATE_LIMITED`; only the first refusal of a window is written.
 */
export async function refuseOverRate(
  d: Deps,
  who: Principal,
  action: RateAction,
  count: number,
  nowMs: number,
  deviceId?: string,
): Promise<void> {
  const w = rateWindow(nowMs);
  const ctx: RiskContext = { userId: who.userId, tier: who.tier, opId: `rate:${action}:${w.startMs}`, nowMs, deviceId };
  const decision = decideRate(ctx, action, count, riskRulesFor(who.tier));
  if (decision.kind === 'allow') return;
  if (decision.events.length > 0) await enforce(d, ctx, decision);
  throw refusalError(decision)!;
}
