/**
 * The risk engine's state in the single table (keys: store/keys.ts `RiskKeys`).
 *
 * Every counter is changed by one conditional UpdateItem whose condition states exactly what the
 * new value depends on, so concurrent requests serialize on the item and count exactly — no
 * read-modify-write. Where a read comes first (breaker, device pruning) it only chooses which
 * conditional update to try; a stale read makes the condition fail and the loop reads again.
 *
 * Windows and freezes carry `expiresAt` (epoch seconds) for the table's TTL, but every check
 * compares its own times (freeze ends, last-seen, hour buckets), so a late or early TTL deletion
 * never changes a decision. Blacklist entries carry no expiry.
 */
import { shardOf } from '../domain/shard';
import { dayKeyUtc8, type Tier } from '../domain/money';
import {
  DAY_MS,
  EMPTY_BREAKER,
  MINUTE_MS,
  breakerStep,
  endedPayerFreezes,
  hourBucketEndMs,
  hourBucketUtc8,
  type BreakerOutcome,
  type BreakerState,
  type DeviceOutcome,
  type Freeze,
  type LargeReport,
  type NightOutcome,
  type PayerFreeze,
  type PaymentInput,
  type RiskEffects,
  type RiskEvent,
  type RiskRule,
  type Standing,
  type TierRiskRules,
  type RateAction,
} from '../domain/risk';
import { queryAll, type Db, type Item } from './db';
import { RiskKeys, blacklistedOf, freezeReasonOf, parseTimeKey } from './keys';

/** Risk events and reports are compliance records: kept as long as the audit log. */
export const RISK_RECORD_RETENTION_MS = 1_096 * DAY_MS;
/** Most op ids one night-counter item holds (an hour far past any threshold). */
const NIGHT_CAP = 1_000;
/** Longest range one events query may span. */
export const MAX_EVENT_RANGE_DAYS = 31;

const epochS = (ms: number) => Math.ceil(ms / 1000);
const iso = (ms: number) => new Date(ms).toISOString();

export type BlacklistKind = 'account' | 'device';

export interface BlacklistEntry {
  kind: BlacklistKind;
  id: string;
}

export interface DeviceStanding extends Standing {
  /** Accounts bound to the device and their last use (ms), stale ones included. */
  accounts: Array<{ id: string; lastSeenMs: number }>;
}

/** {@link RiskStore.inboundStanding}: blacklists and the device binding, no freezes. */
export interface InboundStanding {
  account: Standing;
  device?: DeviceStanding;
}

export interface StoredRiskEvent extends RiskEvent {
  /** The sort key: pass it back as `after` for the next page. */
  cursor: string;
}

export interface EventsQuery {
  fromMs: number;
  /** Inclusive. */
  toMs: number;
  /** 1–500 (default 100). */
  limit?: number;
  /** `cursor` of the last event of the previous page. */
  after?: string;
}

/** The store port of the risk engine. */
export interface RiskStore {
  /** Blacklist entry and freezes of an account (one Query). */
  accountStanding(userId: string): Promise<Standing>;
  /** Blacklist entry, freezes and bound accounts of a device (one Query). */
  deviceStanding(deviceId: string): Promise<DeviceStanding>;
  /**
   * What incoming money (claims, top-ups) is checked against: the account's and the device's
   * blacklist entries and the device's bound accounts, read by key in one request. Freezes are
   * left out: they stop only outgoing money, so the standings come back without them.
   */
  inboundStanding(userId: string, deviceId?: string): Promise<InboundStanding>;
  /** The breaker of a receive code (identified by its payee's account id). */
  breaker(codeId: string): Promise<BreakerState>;

  /** Counts a payment into a receive code; trips the breaker atomically at the threshold. */
  countBreaker(codeId: string, payment: PaymentInput, rules: TierRiskRules['breaker']): Promise<BreakerOutcome>;
  /** Binds an account to a device unless the device serves `maxAccounts` others in the window. */
  bindDevice(deviceId: string, userId: string, nowMs: number, rules: TierRiskRules['device']): Promise<DeviceOutcome>;
  /** Counts a small night movement of an account in the UTC+8 hour of `nowMs` (once per op). */
  countNight(userId: string, opId: string, nowMs: number): Promise<NightOutcome>;

  /**
   * Counts one attempt of `action` by an account in the clock minute starting at `windowStartMs`
   * (one atomic ADD; concurrent attempts get distinct counts) and returns this attempt's count.
   */
  countRate(userId: string, action: RateAction, windowStartMs: number): Promise<number>;

  /** Writes a decision's effects: freezes (only ever extended), events and reports (once each). */
  record(effects: RiskEffects): Promise<void>;
  applyFreezes(freezes: readonly Freeze[]): Promise<void>;
  putEvents(events: readonly RiskEvent[]): Promise<void>;
  putReports(reports: readonly LargeReport[]): Promise<void>;

  blacklistAdd(kind: BlacklistKind, id: string, meta: { reason: string; by: string; nowMs: number }): Promise<void>;
  /** true when an active entry was removed. */
  blacklistRemove(kind: BlacklistKind, id: string, meta: { by: string; nowMs: number }): Promise<boolean>;
  /** Active entries (through an index, never a scan). */
  blacklist(): Promise<BlacklistEntry[]>;

  /** Events with from ≤ at ≤ to, oldest first, paged (Queries by UTC+8 day and shard). */
  events(q: EventsQuery): Promise<{ events: StoredRiskEvent[]; next?: string }>;
  /** Large-transaction reports of the UTC+8 days touching [from, to], oldest first. */
  reports(fromMs: number, toMs: number): Promise<LargeReport[]>;
}

function setOf(v: unknown): string[] {
  if (v instanceof Set) return [...v].map(String);
  if (Array.isArray(v)) return v.map(String);
  return [];
}
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

function standingOf(items: Item[]): Standing {
  let blacklisted = false;
  const freezes: Array<{ reason: string; untilMs: number }> = [];
  for (const it of items) {
    if (it.sk === RiskKeys.blacklistSk) blacklisted = it.active === true;
    else {
      const reason = freezeReasonOf(it.sk);
      if (reason !== undefined && typeof it.untilMs === 'number') freezes.push({ reason, untilMs: it.untilMs });
    }
  }
  return { blacklisted, freezes };
}

/** The attribute of the breaker item holding a payer's freeze on that code: `{ untilMs, tripOp }`. */
const PAYER_FREEZE_PREFIX = 'pf_';
const payerFreezeAttr = (payerId: string) => `${PAYER_FREEZE_PREFIX}${payerId}`;

function payerFreezesOf(it: Item): Record<string, PayerFreeze> {
  const out: Record<string, PayerFreeze> = {};
  for (const [name, v] of Object.entries(it)) {
    if (!name.startsWith(PAYER_FREEZE_PREFIX) || typeof v !== 'object' || v === null) continue;
    const f = v as Record<string, unknown>;
    if (typeof f.untilMs === 'number' && typeof f.tripOp === 'string')
      out[name.slice(PAYER_FREEZE_PREFIX.length)] = { untilMs: f.untilMs, tripOp: f.tripOp };
  }
  return out;
}

function breakerOf(it: Item | undefined): BreakerState {
  if (!it) return { ...EMPTY_BREAKER };
  const s: BreakerState = {
    ops: setOf(it.ops),
    payers: setOf(it.payers),
    trips: num(it.trips) ?? 0,
    payerFreezes: payerFreezesOf(it),
  };
  if (typeof it.lastAmount === 'number') s.lastAmount = it.lastAmount;
  if (typeof it.lastAtMs === 'number') s.lastAtMs = it.lastAtMs;
  if (typeof it.frozenUntilMs === 'number') s.frozenUntilMs = it.frozenUntilMs;
  if (typeof it.tripOp === 'string') s.tripOp = it.tripOp;
  return s;
}

const seenAttr = (userId: string) => `seen_${userId}`;

function deviceStandingOf(items: Item[]): DeviceStanding {
  const bind = items.find((i) => i.sk === RiskKeys.bindSk);
  const accounts = setOf(bind?.accts).map((id) => ({ id, lastSeenMs: num(bind?.[seenAttr(id)]) ?? 0 }));
  return { ...standingOf(items), accounts };
}

/** The named ones of an expression's attribute names (DynamoDB refuses unused names). */
function pick<K extends string>(names: Record<K, string>, ...keys: K[]): Record<string, string> {
  return Object.fromEntries(keys.map((k) => [k, names[k]]));
}

function eventOf(it: Item): StoredRiskEvent {
  const e: StoredRiskEvent = {
    id: it.id as string,
    rule: it.rule as RiskRule,
    action: it.action as RiskEvent['action'],
    atMs: Date.parse(it.at as string),
    details: (it.details as RiskEvent['details']) ?? {},
    cursor: it.sk,
  };
  if (typeof it.tier === 'string') e.tier = it.tier as Tier;
  if (typeof it.accountId === 'string') e.accountId = it.accountId;
  if (typeof it.deviceId === 'string') e.deviceId = it.deviceId;
  if (typeof it.codeId === 'string') e.codeId = it.codeId;
  if (typeof it.amount === 'number') e.amount = it.amount;
  return e;
}

/** UTC+8 days from the day of `fromMs` to the day of `toMs`, inclusive. */
function daysBetween(fromMs: number, toMs: number): string[] {
  const days: string[] = [];
  const last = dayKeyUtc8(toMs);
  for (let t = fromMs; ; t += DAY_MS) {
    const d = dayKeyUtc8(t);
    if (d > last) break;
    if (days.at(-1) !== d) days.push(d);
    if (d === last) break;
  }
  return days;
}

const backoff = (attempt: number) =>
  attempt > 2 ? new Promise((r) => setTimeout(r, Math.floor(Math.random() * 4 * attempt))) : Promise.resolve();

/** The DynamoDB adapter of {@link RiskStore}. */
export class DynamoRiskStore implements RiskStore {
  /** `eventShards`: partitions per UTC+8 day for risk events (spreads a burst of firings). */
  constructor(
    private readonly db: Db,
    private readonly eventShards = 4,
  ) {}

  async accountStanding(userId: string): Promise<Standing> {
    const items = await queryAll(this.db, { keyCondition: 'pk = :pk', values: { ':pk': RiskKeys.accountPk(userId) } });
    return standingOf(items);
  }

  async deviceStanding(deviceId: string): Promise<DeviceStanding> {
    const items = await queryAll(this.db, { keyCondition: 'pk = :pk', values: { ':pk': RiskKeys.devicePk(deviceId) } });
    return deviceStandingOf(items);
  }

  /**
   * One BatchGetItem of up to three keys, consistent like the standing Queries (an entry added
   * a moment ago refuses at once): the account's blacklist entry, and with a device its blacklist
   * entry and binding.
   */
  async inboundStanding(userId: string, deviceId?: string): Promise<InboundStanding> {
    const account = { pk: RiskKeys.accountPk(userId), sk: RiskKeys.blacklistSk };
    const device = deviceId
      ? [
          { pk: RiskKeys.devicePk(deviceId), sk: RiskKeys.blacklistSk },
          { pk: RiskKeys.devicePk(deviceId), sk: RiskKeys.bindSk },
        ]
      : [];
    const items = await this.db.batchGet([account, ...device], true);
    const of = (pk: string) => items.filter((it) => it.pk === pk);
    const out: InboundStanding = { account: standingOf(of(account.pk)) };
    if (deviceId) out.device = deviceStandingOf(of(RiskKeys.devicePk(deviceId)));
    return out;
  }

  async breaker(codeId: string): Promise<BreakerState> {
    return breakerOf(await this.db.get(RiskKeys.breaker(codeId)));
  }

  /**
   * The breaker as a state machine (domain `breakerStep`), each transition one conditional
   * update that re-checks its premises (the code not frozen, this payer not frozen out of it):
   * - ignored (under `minAmount`), frozen, already counted: no write;
   * - restart: no live streak of this amount → streak = {op}, payers = {payer};
   * - extend: live streak of this amount without this op, fewer than streak−1 ops → ADD op and
   *   payer (the returned op set's size is this payment's place in the streak);
   * - trip: same, with streak−1 ops and payers other than just this one → frozenUntil = now +
   *   freeze, streak cleared, tripOp = op;
   * - trip_payer: same, but the streak's payers are exactly {this payer} → `pf_<payer>` =
   *   { untilMs, tripOp }, streak cleared; ended payer freezes are removed in the same update,
   *   each on the condition that it has still ended.
   * Concurrent same-amount payments therefore get places 1, 2, 3, … in the order DynamoDB
   * applies them, and exactly the one at place `streak` trips the breaker. The freeze and the
   * streak's end are one write: no crash can leave a streak cleared without its freeze.
   */
  async countBreaker(codeId: string, p: PaymentInput, rules: TierRiskRules['breaker']): Promise<BreakerOutcome> {
    const key = RiskKeys.breaker(codeId);
    const names = {
      '#amt': 'lastAmount',
      '#ops': 'ops',
      '#payers': 'payers',
      '#last': 'lastAtMs',
      '#fu': 'frozenUntilMs',
      '#pf': payerFreezeAttr(p.payerId),
      '#pu': 'untilMs',
      '#exp': 'expiresAt',
    };
    const open = '(attribute_not_exists(#fu) OR #fu <= :now) AND (attribute_not_exists(#pf) OR #pf.#pu <= :now)';
    const liveSame = '#amt = :amt AND #last > :cutoff';
    const nextPlace = `${liveSame} AND NOT contains(#ops, :op)`;
    const solo = 'size(#payers) = :one AND contains(#payers, :payer)';
    const base = { ':now': p.nowMs, ':amt': p.amount, ':cutoff': p.nowMs - rules.streakTtlMs };
    for (let attempt = 0; attempt < 100; attempt++) {
      const state = breakerOf(await this.db.get(key));
      const step = breakerStep(state, p, rules);
      const own = state.payerFreezes[p.payerId];
      switch (step) {
        case 'frozen':
          return { kind: 'frozen', scope: 'code', untilMs: state.frozenUntilMs! };
        case 'already_tripped':
          return { kind: 'already_tripped', scope: 'code', untilMs: state.frozenUntilMs! };
        case 'payer_frozen':
          return { kind: 'frozen', scope: 'payer', untilMs: own!.untilMs };
        case 'payer_already_tripped':
          return { kind: 'already_tripped', scope: 'payer', untilMs: own!.untilMs };
        case 'ignored':
          return { kind: 'ignored' };
        case 'already':
          return { kind: 'already', streak: state.ops.length };
      }
      // The item lives as long as its longest freeze (a payer's may outlast a fresh streak's TTL).
      const frozenEnds = Object.values(state.payerFreezes).map((f) => f.untilMs);
      const expiry = (ms: number) => ({ ':exp': epochS(Math.max(ms, ...frozenEnds)) });
      if (step === 'restart') {
        const r = await this.db.update(
          key,
          'SET #amt = :amt, #ops = :ops, #payers = :payers, #last = :now, #exp = :exp',
          {
            condition: `${open} AND NOT (${liveSame})`,
            names: pick(names, '#amt', '#ops', '#payers', '#last', '#fu', '#pf', '#pu', '#exp'),
            values: {
              ...base,
              ':ops': new Set([p.opId]),
              ':payers': new Set([p.payerId]),
              ...expiry(p.nowMs + rules.streakTtlMs),
            },
          },
        );
        if (r) return { kind: 'counted', streak: 1 };
      } else if (step === 'extend') {
        const r = await this.db.update(key, 'ADD #ops :ops, #payers :payers SET #last = :now, #exp = :exp', {
          condition: `${open} AND ${nextPlace} AND size(#ops) < :t1`,
          names: pick(names, '#amt', '#ops', '#payers', '#last', '#fu', '#pf', '#pu', '#exp'),
          values: {
            ...base,
            ':ops': new Set([p.opId]),
            ':payers': new Set([p.payerId]),
            ':op': p.opId,
            ':t1': rules.streak - 1,
            ...expiry(p.nowMs + rules.streakTtlMs),
          },
        });
        if (r) return { kind: 'counted', streak: setOf(r.ops).length };
      } else if (step === 'trip') {
        const untilMs = p.nowMs + rules.freezeMs;
        const r = await this.db.update(
          key,
          'SET #fu = :until, #trip = :op, #last = :now, #trips = if_not_exists(#trips, :zero) + :one, #exp = :exp REMOVE #ops, #amt, #payers',
          {
            condition: `${open} AND ${nextPlace} AND size(#ops) >= :t1 AND (attribute_not_exists(#payers) OR NOT (${solo}))`,
            names: { ...names, '#trip': 'tripOp', '#trips': 'trips' },
            values: {
              ...base,
              ':until': untilMs,
              ':op': p.opId,
              ':payer': p.payerId,
              ':t1': rules.streak - 1,
              ':zero': 0,
              ':one': 1,
              ...expiry(untilMs + rules.streakTtlMs),
            },
          },
        );
        if (r) return { kind: 'tripped', scope: 'code', untilMs };
      } else {
        const untilMs = p.nowMs + rules.freezeMs;
        const ended = endedPayerFreezes(state, p.nowMs).filter((id) => id !== p.payerId);
        const endedNames = Object.fromEntries(ended.map((id, i) => [`#e${i}`, payerFreezeAttr(id)]));
        const r = await this.db.update(
          key,
          `SET #pf = :pf, #last = :now, #exp = :exp REMOVE #ops, #amt, #payers${ended.map((_, i) => `, #e${i}`).join('')}`,
          {
            condition: [
              `${open} AND ${nextPlace} AND size(#ops) >= :t1 AND ${solo}`,
              ...ended.map((_, i) => `#e${i}.#pu <= :now`),
            ].join(' AND '),
            names: { ...names, ...endedNames },
            values: {
              ...base,
              ':pf': { untilMs, tripOp: p.opId },
              ':op': p.opId,
              ':payer': p.payerId,
              ':t1': rules.streak - 1,
              ':one': 1,
              ...expiry(untilMs + rules.streakTtlMs),
            },
          },
        );
        if (r) return { kind: 'tripped', scope: 'payer', untilMs };
      }
      await backoff(attempt);
    }
    throw new Error('risk: too much contention on a breaker');
  }

  /**
   * Device binding as a conditional ADD to the device's string set of accounts: admitted when the
   * account is already in the set or the set has fewer than `maxAccounts` members — one atomic
   * step, so 20 concurrent new accounts admit exactly `maxAccounts`. The set holds accounts with
   * a per-account last-seen time (`seen_<id>`); when the set is full, members whose last use is
   * outside the rolling window are removed one by one (each removal conditional on that member
   * still being stale, so a concurrent use keeps it) and the ADD is tried again.
   */
  async bindDevice(
    deviceId: string,
    userId: string,
    nowMs: number,
    rules: TierRiskRules['device'],
  ): Promise<DeviceOutcome> {
    const key = { pk: RiskKeys.devicePk(deviceId), sk: RiskKeys.bindSk };
    const cutoff = nowMs - rules.windowMs;
    for (let attempt = 0; attempt < 50; attempt++) {
      const r = await this.db.update(key, 'ADD #accts :u SET #seen = :now, #exp = :exp', {
        condition: 'attribute_not_exists(#accts) OR contains(#accts, :uid) OR size(#accts) < :max',
        names: { '#accts': 'accts', '#seen': seenAttr(userId), '#exp': 'expiresAt' },
        values: {
          ':u': new Set([userId]),
          ':uid': userId,
          ':now': nowMs,
          ':max': rules.maxAccounts,
          ':exp': epochS(nowMs + rules.windowMs + DAY_MS),
        },
      });
      if (r) {
        const active = setOf(r.accts).filter((id) => (num(r[seenAttr(id)]) ?? 0) > cutoff);
        return { kind: 'bound', accounts: active.sort() };
      }
      const it = await this.db.get(key);
      const members = setOf(it?.accts);
      if (members.includes(userId) || members.length < rules.maxAccounts) continue; // changed meanwhile
      const stale = members.filter((id) => (num(it?.[seenAttr(id)]) ?? 0) <= cutoff);
      if (stale.length === 0) return { kind: 'limit', accounts: members.sort() };
      await Promise.all(
        stale.map((id) =>
          this.db.update(key, 'DELETE #accts :u REMOVE #seen', {
            condition: 'contains(#accts, :uid) AND (attribute_not_exists(#seen) OR #seen <= :cutoff)',
            names: { '#accts': 'accts', '#seen': seenAttr(id) },
            values: { ':u': new Set([id]), ':uid': id, ':cutoff': cutoff },
          }),
        ),
      );
      await backoff(attempt);
    }
    throw new Error('risk: too much contention on a device');
  }

  /**
   * One item per (account, UTC+8 hour) holding the set of counted op ids: a conditional ADD of
   * this op (refused if already there) returns the set, whose size is this op's place. A retry
   * of an op is not counted twice.
   */
  async countNight(userId: string, opId: string, nowMs: number): Promise<NightOutcome> {
    const key = RiskKeys.night(userId, hourBucketUtc8(nowMs));
    const r = await this.db.update(key, 'ADD #ops :ops SET #exp = :exp', {
      condition: 'attribute_not_exists(#ops) OR (NOT contains(#ops, :op) AND size(#ops) < :cap)',
      names: { '#ops': 'ops', '#exp': 'expiresAt' },
      values: {
        ':ops': new Set([opId]),
        ':op': opId,
        ':cap': NIGHT_CAP,
        ':exp': epochS(hourBucketEndMs(nowMs) + DAY_MS),
      },
    });
    if (r) return { kind: 'counted', count: setOf(r.ops).length };
    const it = await this.db.get(key);
    const ops = setOf(it?.ops);
    if (ops.includes(opId)) return { kind: 'already' };
    return { kind: 'counted', count: ops.length + 1 }; // the hour is past its cap: over any threshold
  }

  async countRate(userId: string, action: RateAction, windowStartMs: number): Promise<number> {
    const r = await this.db.update(
      RiskKeys.rate(userId, action, windowStartMs),
      'ADD #n :one SET #exp = if_not_exists(#exp, :exp)',
      {
        names: { '#n': 'n', '#exp': 'expiresAt' },
        values: { ':one': 1, ':exp': epochS(windowStartMs + 2 * MINUTE_MS) },
      },
    );
    return Number(r?.n ?? 1);
  }

  async record(effects: RiskEffects): Promise<void> {
    await Promise.all([
      this.applyFreezes(effects.freezes),
      this.putEvents(effects.events),
      this.putReports(effects.reports),
    ]);
  }

  /** Each freeze only ever moves its end later (concurrent firings keep the latest end). */
  async applyFreezes(freezes: readonly Freeze[]): Promise<void> {
    await Promise.all(
      freezes.map((f) =>
        this.db.update(
          {
            pk: f.scope === 'account' ? RiskKeys.accountPk(f.id) : RiskKeys.devicePk(f.id),
            sk: RiskKeys.freezeSk(f.reason),
          },
          'SET #u = :u, #exp = :exp',
          {
            condition: 'attribute_not_exists(#u) OR #u < :u',
            names: { '#u': 'untilMs', '#exp': 'expiresAt' },
            values: { ':u': f.untilMs, ':exp': epochS(f.untilMs + DAY_MS) },
          },
        ),
      ),
    );
  }

  /**
   * Writes each event once per id: a marker item (`RISKEV#id`) is put first, if absent, and
   * fixes the event's time; the event item is then put at that time. A retry, a concurrent twin
   * or a crash between the two writes all converge on one event item.
   */
  async putEvents(events: readonly RiskEvent[]): Promise<void> {
    await Promise.all(events.map((e) => this.putEvent(e)));
  }

  private async once(markerId: string, atMs: number): Promise<number> {
    const key = RiskKeys.onceMarker(markerId);
    const fresh = await this.db.put(
      { ...key, atMs, expiresAt: epochS(atMs + RISK_RECORD_RETENTION_MS) },
      { condition: 'attribute_not_exists(pk)' },
    );
    if (fresh) return atMs;
    return num((await this.db.get(key))?.atMs) ?? atMs;
  }

  private async putEvent(e: RiskEvent): Promise<void> {
    const atMs = await this.once(e.id, e.atMs);
    const at = iso(atMs);
    await this.db.put({
      pk: RiskKeys.eventPk(dayKeyUtc8(atMs), shardOf(e.id, this.eventShards)),
      sk: RiskKeys.eventSk(at, e.id),
      id: e.id,
      rule: e.rule,
      action: e.action,
      at,
      ...(e.tier ? { tier: e.tier } : {}),
      ...(e.accountId ? { accountId: e.accountId } : {}),
      ...(e.deviceId ? { deviceId: e.deviceId } : {}),
      ...(e.codeId ? { codeId: e.codeId } : {}),
      ...(e.amount !== undefined ? { amount: e.amount } : {}),
      details: e.details,
      expiresAt: epochS(atMs + RISK_RECORD_RETENTION_MS),
    });
  }

  async putReports(reports: readonly LargeReport[]): Promise<void> {
    await Promise.all(
      reports.map(async (r) => {
        const atMs = await this.once(`rpt${r.opId}`, r.atMs);
        await this.db.put({
          pk: RiskKeys.reportPk(dayKeyUtc8(atMs)),
          sk: RiskKeys.reportSk(iso(atMs), r.opId),
          opId: r.opId,
          accountId: r.accountId,
          kind: r.kind,
          amount: r.amount,
          at: iso(atMs),
          ...(r.tier ? { tier: r.tier } : {}),
          expiresAt: epochS(atMs + RISK_RECORD_RETENTION_MS),
        });
      }),
    );
  }

  async blacklistAdd(
    kind: BlacklistKind,
    id: string,
    meta: { reason: string; by: string; nowMs: number },
  ): Promise<void> {
    await this.db.put({
      pk: kind === 'account' ? RiskKeys.accountPk(id) : RiskKeys.devicePk(id),
      sk: RiskKeys.blacklistSk,
      kind,
      id,
      active: true,
      reason: meta.reason,
      by: meta.by,
      at: iso(meta.nowMs),
      ...RiskKeys.blacklisted(kind, id),
    });
  }

  async blacklistRemove(kind: BlacklistKind, id: string, meta: { by: string; nowMs: number }): Promise<boolean> {
    // No DeleteItem (the store door has none): the entry is deactivated and leaves the index.
    const r = await this.db.update(
      { pk: kind === 'account' ? RiskKeys.accountPk(id) : RiskKeys.devicePk(id), sk: RiskKeys.blacklistSk },
      'SET #active = :f, removedBy = :by, removedAt = :at REMOVE gsi2pk, gsi2sk',
      {
        condition: '#active = :t',
        names: { '#active': 'active' },
        values: { ':f': false, ':t': true, ':by': meta.by, ':at': iso(meta.nowMs) },
      },
    );
    return r !== undefined;
  }

  async blacklist(): Promise<BlacklistEntry[]> {
    const items = await queryAll(this.db, {
      index: 'gsi2',
      keyCondition: 'gsi2pk = :pk',
      values: { ':pk': RiskKeys.blacklistPk },
    });
    return items.map((it) => blacklistedOf(it.gsi2sk as string));
  }

  async events(q: EventsQuery): Promise<{ events: StoredRiskEvent[]; next?: string }> {
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 500);
    if (!(q.toMs >= q.fromMs)) throw new RangeError('events: to must not be before from');
    if (daysBetween(q.fromMs, q.toMs).length > MAX_EVENT_RANGE_DAYS)
      throw new RangeError(`events: at most ${MAX_EVENT_RANGE_DAYS} days per query`);
    const afterMs = q.after !== undefined ? Date.parse(parseTimeKey(q.after).at) : Number.NaN;
    const resume = Number.isFinite(afterMs) && afterMs >= q.fromMs;
    const lo = resume ? q.after! : iso(q.fromMs);
    const days = afterMs > q.toMs ? [] : daysBetween(resume ? afterMs : q.fromMs, q.toMs);
    const hi = `${iso(q.toMs)}#\uffff`;
    const out: StoredRiskEvent[] = [];
    for (const day of days) {
      if (hi < lo) break;
      const shards = await Promise.all(
        Array.from({ length: this.eventShards }, (_, s) =>
          this.db.query({
            keyCondition: 'pk = :pk AND sk BETWEEN :lo AND :hi',
            values: { ':pk': RiskKeys.eventPk(day, s), ':lo': lo, ':hi': hi },
            limit: limit + 1,
          }),
        ),
      );
      const page = shards
        .flatMap((p) => p.items)
        .filter((it) => it.sk !== q.after)
        .sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0));
      for (const it of page) {
        out.push(eventOf(it));
        if (out.length === limit) return { events: out, next: it.sk };
      }
    }
    return { events: out };
  }

  async reports(fromMs: number, toMs: number): Promise<LargeReport[]> {
    const days = daysBetween(fromMs, toMs);
    if (days.length > MAX_EVENT_RANGE_DAYS)
      throw new RangeError(`reports: at most ${MAX_EVENT_RANGE_DAYS} days per query`);
    const all = await Promise.all(
      days.map((day) =>
        queryAll(this.db, {
          keyCondition: 'pk = :pk AND sk BETWEEN :lo AND :hi',
          values: { ':pk': RiskKeys.reportPk(day), ':lo': iso(fromMs), ':hi': `${iso(toMs)}#\uffff` },
        }),
      ),
    );
    return all.flat().map((it) => ({
      opId: it.opId as string,
      accountId: it.accountId as string,
      kind: it.kind as LargeReport['kind'],
      amount: it.amount as number,
      atMs: Date.parse(it.at as string),
      ...(typeof it.tier === 'string' ? { tier: it.tier as Tier } : {}),
    }));
  }
}
