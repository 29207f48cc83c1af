import fc from 'fast-check';
import {
  ALLOW,
  CLEAR,
  DAY_MS,
  DEFAULT_RISK_RULES,
  EMPTY_BREAKER,
  HOUR_MS,
  breakerApply,
  breakerStep,
  checkCode,
  checkStanding,
  combine,
  decideBreaker,
  decideDevice,
  decideLarge,
  decideNight,
  freezeSubject,
  hourBucketEndMs,
  hourBucketUtc8,
  isDeviceId,
  isNight,
  nightApplies,
  refusalError,
  riskRulesFor,
  type BreakerState,
  type RiskContext,
  type RiskDecision,
} from '../../functions/src/domain/risk';
import { checkGreeting, findMarketingWord } from '../../functions/src/domain/greeting';
import { DomainError, ErrorCodes } from '../../functions/src/domain/errors';

const at8 = (local: string) => Date.parse(`${local}+08:00`);
const NIGHT = at8('2026-03-01T02:30:00');
const DAYTIME = at8('2026-03-01T14:30:00');
const personal = riskRulesFor('personal');
const enterprise = riskRulesFor('enterprise');
const ctx = (over: Partial<RiskContext> = {}): RiskContext => ({
  userId: 'u_alice_0001',
  tier: 'personal',
  opId: 'op1',
  nowMs: NIGHT,
  ...over,
});

function refusal(d: RiskDecision) {
  if (d.kind !== 'refuse') throw new Error(`expected a refusal, got ${JSON.stringify(d)}`);
  return d;
}

describe('configuration', () => {
  test('the default table holds the product thresholds for every tier', () => {
    for (const tier of ['personal', 'enterprise', 'provider'] as const) {
      const r = DEFAULT_RISK_RULES[tier];
      expect(r.breaker).toEqual({ streak: 5, minAmount: 100, freezeMs: HOUR_MS, streakTtlMs: 30 * DAY_MS });
      expect(r.device).toEqual({ maxAccounts: 3, windowMs: 7 * DAY_MS, restrictMs: 7 * DAY_MS });
      expect(r.night).toEqual({ fromHour: 0, toHour: 6, smallBelow: 1_000, maxCount: 10, freezeMs: HOUR_MS });
      expect(r.large).toEqual({ over: 5_000_000 });
      expect(r.marketing.words).toEqual(['免单', '全额返现']);
    }
    expect(DEFAULT_RISK_RULES.personal.marketing.enabled).toBe(false);
    expect(DEFAULT_RISK_RULES.enterprise.marketing.enabled).toBe(true);
    expect(DEFAULT_RISK_RULES.provider.marketing.enabled).toBe(true);
    expect([
      DEFAULT_RISK_RULES.personal.level,
      DEFAULT_RISK_RULES.enterprise.level,
      DEFAULT_RISK_RULES.provider.level,
    ]).toEqual([3, 2, 1]);
  });

  test('valid overrides apply, invalid ones are ignored, the base words always stay', () => {
    const r = riskRulesFor('provider', {
      breaker: { streak: 3, freezeMs: 'x' },
      device: { maxAccounts: 0 },
      night: { maxCount: 20, smallBelow: 0.5, fromHour: 1, toHour: 1 },
      large: { over: 1_000_000 },
      extraWords: ['包赚', '', 42, 'x'.repeat(33)],
    });
    expect(r.breaker.streak).toBe(3);
    expect(r.breaker.freezeMs).toBe(HOUR_MS);
    expect(r.device.maxAccounts).toBe(3);
    expect(r.night.maxCount).toBe(20);
    expect(r.night.smallBelow).toBe(1_000);
    expect([r.night.fromHour, r.night.toHour]).toEqual([0, 6]); // an empty night is ignored
    expect(r.large.over).toBe(1_000_000);
    expect(r.marketing.words).toEqual(['免单', '全额返现', '包赚']);
    // The default table is not mutated.
    expect(riskRulesFor('provider').breaker.streak).toBe(5);
    expect(() => riskRulesFor('vip' as never)).toThrow(RangeError);
  });
});

describe('night (UTC+8)', () => {
  test.each([
    ['2026-03-01T23:59:59.999', false],
    ['2026-03-02T00:00:00.000', true],
    ['2026-03-02T03:00:00.000', true],
    ['2026-03-02T05:59:59.000', true],
    ['2026-03-02T05:59:59.999', true],
    ['2026-03-02T06:00:00.000', false],
    ['2026-03-02T12:00:00.000', false],
  ])('%s is night: %s', (local, night) => {
    expect(isNight(at8(local))).toBe(night);
  });

  test('the server time zone plays no part: 00:00 UTC+8 is 16:00 UTC the day before', () => {
    expect(isNight(Date.parse('2026-03-01T16:00:00Z'))).toBe(true);
    expect(isNight(Date.parse('2026-03-01T15:59:59Z'))).toBe(false);
    expect(isNight(Date.parse('2026-03-01T22:00:00Z'))).toBe(false);
  });

  test('a night window may wrap midnight', () => {
    const w = { fromHour: 22, toHour: 2 };
    expect(isNight(at8('2026-03-01T21:59:59'), w)).toBe(false);
    expect(isNight(at8('2026-03-01T22:00:00'), w)).toBe(true);
    expect(isNight(at8('2026-03-02T01:59:59'), w)).toBe(true);
    expect(isNight(at8('2026-03-02T02:00:00'), w)).toBe(false);
  });

  test('hour buckets are UTC+8 clock hours', () => {
    expect(hourBucketUtc8(at8('2026-03-02T00:00:00'))).toBe('2026-03-02T00');
    expect(hourBucketUtc8(at8('2026-03-02T00:59:59.999'))).toBe('2026-03-02T00');
    expect(hourBucketUtc8(at8('2026-03-02T01:00:00'))).toBe('2026-03-02T01');
    expect(hourBucketEndMs(at8('2026-03-02T00:17:00'))).toBe(at8('2026-03-02T01:00:00'));
    expect(hourBucketEndMs(at8('2026-03-02T00:00:00'))).toBe(at8('2026-03-02T01:00:00'));
  });
});

describe('breaker', () => {
  const rules = personal.breaker;
  // Unless a test says otherwise, every payment comes from a payer of its own (a retry of an op
  // from the same one): streaks of several payers, which freeze the whole code.
  const pay = (s: BreakerState, amount: number, opId: string, nowMs = NIGHT, payerId = `payer-${opId}`) =>
    breakerApply(s, { amount, opId, payerId, nowMs }, rules);

  test('the 5th consecutive same-amount payment trips, not the 4th', () => {
    let s = EMPTY_BREAKER;
    const steps: string[] = [];
    for (let i = 1; i <= 6; i++) {
      const r = pay(s, 888, `op${i}`, NIGHT + i);
      steps.push(r.step);
      s = r.state;
    }
    expect(steps).toEqual(['restart', 'extend', 'extend', 'extend', 'trip', 'frozen']);
    expect(s.frozenUntilMs).toBe(NIGHT + 5 + HOUR_MS);
    expect(s.trips).toBe(1);
  });

  test('another amount breaks the streak', () => {
    let s = EMPTY_BREAKER;
    for (const [i, amount] of [888, 888, 888, 888, 999, 888, 888, 888, 888].entries())
      s = pay(s, amount, `op${i}`).state;
    expect(s.frozenUntilMs).toBeUndefined();
    expect(s.ops).toHaveLength(4);
    expect(pay(s, 888, 'op-last').step).toBe('trip');
  });

  test('a retried payment is not counted twice; a retry of the tripping payment is still allowed', () => {
    let s = EMPTY_BREAKER;
    for (let i = 1; i <= 4; i++) s = pay(s, 500, `op${i}`).state;
    expect(pay(s, 500, 'op4').step).toBe('already');
    const tripped = pay(s, 500, 'op5');
    expect(tripped.step).toBe('trip');
    expect(pay(tripped.state, 500, 'op5').step).toBe('already_tripped');
    expect(pay(tripped.state, 500, 'op6').step).toBe('frozen');
  });

  test('the freeze ends at exactly frozenUntil, and the streak starts afresh', () => {
    let s = EMPTY_BREAKER;
    for (let i = 1; i <= 5; i++) s = pay(s, 500, `op${i}`, NIGHT).state;
    const until = NIGHT + HOUR_MS;
    expect(pay(s, 500, 'x', until - 1).step).toBe('frozen');
    const after = pay(s, 500, 'x', until);
    expect(after.step).toBe('restart');
    expect(after.state.ops).toEqual(['x']);
    expect(checkCode(s, 'anyone', until - 1).kind).toBe('refuse');
    expect(checkCode(s, 'anyone', until)).toEqual(ALLOW);
    expect(checkCode(EMPTY_BREAKER, 'anyone', until)).toEqual(ALLOW);
  });

  test('a streak idle for streakTtlMs starts afresh', () => {
    let s = EMPTY_BREAKER;
    for (let i = 1; i <= 4; i++) s = pay(s, 500, `op${i}`, NIGHT).state;
    expect(pay(s, 500, 'late', NIGHT + rules.streakTtlMs - 1).step).toBe('trip');
    expect(pay(s, 500, 'late', NIGHT + rules.streakTtlMs).step).toBe('restart');
  });

  test('for any threshold, n same-amount payments trip exactly at the threshold (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 30 }), fc.integer({ min: 100, max: 10_000 }), (streak, amount) => {
        const r = riskRulesFor('provider', { breaker: { streak } }).breaker;
        let s = EMPTY_BREAKER;
        const trips: number[] = [];
        for (let i = 1; i <= streak + 2; i++) {
          const next = breakerApply(s, { amount, opId: `o${i}`, payerId: `p${i}`, nowMs: NIGHT + i }, r);
          if (next.step === 'trip') trips.push(i);
          s = next.state;
        }
        expect(trips).toEqual([streak]);
      }),
    );
  });

  test('payments under 1 yuan neither count nor break a streak: five 1-fen payments by one payer freeze nothing', () => {
    let s = EMPTY_BREAKER;
    const steps: string[] = [];
    for (let i = 1; i <= 10; i++) {
      const r = pay(s, 1, `g${i}`, NIGHT + i, 'griefer');
      steps.push(r.step);
      s = r.state;
    }
    expect(steps).toEqual(Array(10).fill('ignored'));
    expect(s).toEqual(EMPTY_BREAKER);
    expect(checkCode(s, 'griefer', NIGHT + 11)).toEqual(ALLOW);
    expect(checkCode(s, 'someone-else', NIGHT + 11)).toEqual(ALLOW);
    // 99 fen is under the line, 100 fen (1 yuan) counts.
    expect(pay(s, 99, 'a', NIGHT, 'griefer').step).toBe('ignored');
    expect(pay(s, 100, 'b', NIGHT, 'griefer').step).toBe('restart');
    // Small payments slipped between same-amount ones do not hide a streak either.
    let t = EMPTY_BREAKER;
    for (let i = 1; i <= 4; i++) {
      t = pay(t, 888, `big${i}`).state;
      t = pay(t, 1, `small${i}`).state;
    }
    expect(pay(t, 888, 'big5').step).toBe('trip');
  });

  test("a streak made by one payer freezes only that payer's payments to the code; another payer still pays", () => {
    let s = EMPTY_BREAKER;
    const steps: string[] = [];
    for (let i = 1; i <= 5; i++) {
      const r = pay(s, 500, `op${i}`, NIGHT + i, 'griefer');
      steps.push(r.step);
      s = r.state;
    }
    expect(steps).toEqual(['restart', 'extend', 'extend', 'extend', 'trip_payer']);
    expect(s.frozenUntilMs).toBeUndefined();
    expect(s.trips).toBe(0);
    expect(s.payerFreezes).toEqual({ griefer: { untilMs: NIGHT + 5 + HOUR_MS, tripOp: 'op5' } });
    expect(s.ops).toEqual([]);
    // The payer: refused (any amount, even under 1 yuan); the retry of the tripping payment passes.
    expect(pay(s, 500, 'op6', NIGHT + 6, 'griefer').step).toBe('payer_frozen');
    expect(pay(s, 1, 'op7', NIGHT + 6, 'griefer').step).toBe('payer_frozen');
    expect(pay(s, 500, 'op5', NIGHT + 6, 'griefer').step).toBe('payer_already_tripped');
    expect(refusal(checkCode(s, 'griefer', NIGHT + 6)).code).toBe('CODE_FROZEN');
    // Everyone else: the code is open, and the streak starts afresh.
    expect(checkCode(s, 'customer', NIGHT + 6)).toEqual(ALLOW);
    expect(pay(s, 500, 'c1', NIGHT + 6, 'customer').step).toBe('restart');
    // The payer's freeze ends after exactly freezeMs.
    expect(pay(s, 500, 'op8', NIGHT + 5 + HOUR_MS - 1, 'griefer').step).toBe('payer_frozen');
    expect(pay(s, 500, 'op8', NIGHT + 5 + HOUR_MS, 'griefer').step).toBe('restart');
    expect(checkCode(s, 'griefer', NIGHT + 5 + HOUR_MS)).toEqual(ALLOW);
  });

  test('a streak of several payers freezes the code for everyone (one of them paying four times is enough company)', () => {
    let s = EMPTY_BREAKER;
    for (const [i, payer] of ['a', 'a', 'a', 'a'].entries()) s = pay(s, 500, `op${i}`, NIGHT, payer).state;
    const tripped = pay(s, 500, 'op-b', NIGHT, 'b');
    expect(tripped.step).toBe('trip');
    expect(tripped.state.frozenUntilMs).toBe(NIGHT + HOUR_MS);
    for (const who of ['a', 'b', 'c'])
      expect(refusal(checkCode(tripped.state, who, NIGHT + 1)).code).toBe('CODE_FROZEN');
    // And the other way round: the streak is several payers' even if the last one paid before.
    let t = EMPTY_BREAKER;
    for (const [i, payer] of ['b', 'a', 'a', 'a'].entries()) t = pay(t, 500, `op${i}`, NIGHT, payer).state;
    expect(pay(t, 500, 'op4', NIGHT, 'a').step).toBe('trip');
  });

  test('a payer trip prunes payer freezes that have ended, keeps those in force', () => {
    let s = EMPTY_BREAKER;
    for (let i = 1; i <= 5; i++) s = pay(s, 500, `x${i}`, NIGHT, 'x').state;
    for (let i = 1; i <= 5; i++) s = pay(s, 500, `y${i}`, NIGHT + HOUR_MS / 2, 'y').state;
    for (let i = 1; i <= 5; i++) s = pay(s, 500, `z${i}`, NIGHT + HOUR_MS, 'z').state;
    expect(Object.keys(s.payerFreezes).sort()).toEqual(['y', 'z']);
  });

  test('no sequence of payments by one payer ever freezes the code for anyone else; under 1 yuan nothing ever changes (property)', () => {
    fc.assert(
      fc.property(
        // Runs of equal amounts (so streaks and trips happen), with retries and time passing.
        fc.array(
          fc.record({
            amount: fc.constantFrom(1, 50, 99, 100, 888),
            times: fc.integer({ min: 1, max: 8 }),
            dt: fc.constantFrom(1, 60_000, HOUR_MS),
            retry: fc.boolean(),
          }),
          { maxLength: 12 },
        ),
        (runs) => {
          const payments = runs.flatMap((r) => Array.from({ length: r.times }, () => r));
          let s = EMPTY_BREAKER;
          let now = NIGHT;
          let last: string | undefined;
          payments.forEach((p, i) => {
            now += p.dt;
            const opId = p.retry && last ? last : `o${i}`;
            const next = breakerApply(s, { amount: p.amount, opId, payerId: 'solo', nowMs: now }, rules);
            if (p.amount < rules.minAmount && !['payer_frozen', 'payer_already_tripped'].includes(next.step))
              expect(next.step).toBe('ignored');
            if (next.step === 'ignored') expect(next.state).toBe(s);
            expect(next.step).not.toBe('trip');
            expect(next.state.frozenUntilMs).toBeUndefined();
            expect(checkCode(next.state, 'other', now)).toEqual(ALLOW);
            s = next.state;
            last = opId;
          });
        },
      ),
    );
  });

  test('payer-scope decisions: the trip allows and fires one event on the payer; frozen refuses that payer 423', () => {
    const trip = decideBreaker(
      { kind: 'tripped', scope: 'payer', untilMs: NIGHT + HOUR_MS },
      ctx({ userId: 'griefer' }),
      'payee1',
      500,
      rules,
    );
    expect(trip.kind).toBe('allow');
    expect(trip.events).toHaveLength(1);
    expect(trip.events[0]).toMatchObject({
      rule: 'breaker',
      action: 'freeze',
      accountId: 'griefer',
      codeId: 'payee1',
      amount: 500,
      details: { scope: 'payer' },
    });
    expect(freezeSubject(trip.events[0]!)).toBe('griefer');
    const codeTrip = decideBreaker(
      { kind: 'tripped', scope: 'code', untilMs: NIGHT + HOUR_MS },
      ctx({ userId: 'last-payer' }),
      'payee1',
      500,
      rules,
    );
    expect(freezeSubject(codeTrip.events[0]!)).toBe('payee1');
    expect(codeTrip.events[0]!.id).not.toBe(trip.events[0]!.id);
    const retry = decideBreaker(
      { kind: 'already_tripped', scope: 'payer', untilMs: NIGHT + HOUR_MS },
      ctx({ userId: 'griefer', nowMs: NIGHT + 9 }),
      'payee1',
      500,
      rules,
    );
    expect(retry.events[0]!.id).toBe(trip.events[0]!.id);
    const frozen = refusal(
      decideBreaker(
        { kind: 'frozen', scope: 'payer', untilMs: NIGHT + HOUR_MS },
        ctx({ userId: 'griefer' }),
        'payee1',
        500,
        rules,
      ),
    );
    expect(ErrorCodes[frozen.code]).toBe(423);
    expect(frozen.code).toBe('CODE_FROZEN');
    expect(decideBreaker({ kind: 'ignored' }, ctx(), 'payee1', 1, rules)).toEqual(ALLOW);
  });

  test('decisions: counted allows, the trip allows and fires one event, frozen refuses 423', () => {
    expect(decideBreaker({ kind: 'counted', streak: 4 }, ctx(), 'payee1', 888, rules)).toEqual(ALLOW);
    const trip = decideBreaker(
      { kind: 'tripped', scope: 'code', untilMs: NIGHT + HOUR_MS },
      ctx(),
      'payee1',
      888,
      rules,
    );
    expect(trip.kind).toBe('allow');
    expect(trip.events).toHaveLength(1);
    expect(trip.events[0]).toMatchObject({
      rule: 'breaker',
      action: 'freeze',
      codeId: 'payee1',
      amount: 888,
      atMs: NIGHT,
    });
    const retry = decideBreaker(
      { kind: 'already_tripped', scope: 'code', untilMs: NIGHT + HOUR_MS },
      ctx({ nowMs: NIGHT + 5 }),
      'payee1',
      888,
      rules,
    );
    expect(retry.events[0]!.id).toBe(trip.events[0]!.id);
    const frozen = refusal(
      decideBreaker({ kind: 'frozen', scope: 'code', untilMs: NIGHT + HOUR_MS }, ctx(), 'payee1', 888, rules),
    );
    expect(frozen.code).toBe('CODE_FROZEN');
    expect(ErrorCodes[frozen.code]).toBe(423);
    expect(frozen.events).toEqual([]);
  });
});

describe('device binding', () => {
  const rules = personal.device;
  const dctx = ctx({ deviceId: 'dev-123456', userId: 'u4' }) as RiskContext & { deviceId: string };

  test('bound allows; the limit refuses the 4th with 403 DEVICE_LIMIT and restricts the device and its accounts 7 days', () => {
    expect(decideDevice({ kind: 'bound', accounts: ['u1', 'u2', 'u3'] }, dctx, rules)).toEqual(ALLOW);
    const d = refusal(decideDevice({ kind: 'limit', accounts: ['u1', 'u2', 'u3'] }, dctx, rules));
    expect(d.code).toBe('DEVICE_LIMIT');
    expect(ErrorCodes[d.code]).toBe(403);
    const until = NIGHT + 7 * DAY_MS;
    expect(d.freezes).toEqual([
      { scope: 'device', id: 'dev-123456', reason: 'device_binding', untilMs: until },
      { scope: 'account', id: 'u1', reason: 'device_binding', untilMs: until },
      { scope: 'account', id: 'u2', reason: 'device_binding', untilMs: until },
      { scope: 'account', id: 'u3', reason: 'device_binding', untilMs: until },
    ]);
    expect(d.events).toHaveLength(1);
    expect(d.events[0]).toMatchObject({
      rule: 'device_binding',
      action: 'refuse',
      accountId: 'u4',
      deviceId: 'dev-123456',
    });
  });

  test('device ids: a safe charset, 1–128 characters', () => {
    expect(isDeviceId('ab12-CD.34:ef_5')).toBe(true);
    expect(isDeviceId('x'.repeat(128))).toBe(true);
    expect(isDeviceId('x'.repeat(129))).toBe(false);
    expect(isDeviceId('')).toBe(false);
    expect(isDeviceId('a#b')).toBe(false);
    expect(isDeviceId(7)).toBe(false);
  });
});

describe('night velocity', () => {
  const rules = personal.night;

  test('counts movements strictly under 10 yuan, at night only', () => {
    expect(nightApplies(999, NIGHT, rules)).toBe(true);
    expect(nightApplies(1_000, NIGHT, rules)).toBe(false);
    expect(nightApplies(1, DAYTIME, rules)).toBe(false);
    expect(nightApplies(999, at8('2026-03-02T00:00:00'), rules)).toBe(true);
    expect(nightApplies(999, at8('2026-03-02T06:00:00'), rules)).toBe(false);
  });

  test('the 10th in an hour is allowed; the 11th is refused, freezes outgoing money 1 h and reports', () => {
    expect(decideNight({ kind: 'counted', count: 10 }, ctx(), 500, rules)).toEqual(ALLOW);
    const d = refusal(decideNight({ kind: 'counted', count: 11 }, ctx(), 500, rules));
    expect(d.code).toBe('RISK_BLOCKED');
    expect(ErrorCodes[d.code]).toBe(403);
    expect(d.freezes).toEqual([
      { scope: 'account', id: 'u_alice_0001', reason: 'night_velocity', untilMs: NIGHT + HOUR_MS },
    ]);
    expect(d.events).toHaveLength(1);
    expect(d.events[0]).toMatchObject({ rule: 'night_velocity', action: 'freeze', accountId: 'u_alice_0001' });
    // Beyond the 11th (concurrent requests): refused too, with the same event id (one event per hour).
    const beyond = refusal(
      decideNight({ kind: 'counted', count: 12 }, ctx({ opId: 'op2', nowMs: NIGHT + 1 }), 500, rules),
    );
    expect(beyond.events[0]!.id).toBe(d.events[0]!.id);
    // A retry of a counted op is left to the freeze check.
    expect(decideNight({ kind: 'already' }, ctx(), 500, rules)).toEqual(ALLOW);
  });

  test('the freeze outlasts the counting hour whatever the minute', () => {
    for (const local of ['2026-03-02T00:00:00', '2026-03-02T05:59:59']) {
      const now = at8(local);
      const d = refusal(decideNight({ kind: 'counted', count: 11 }, ctx({ nowMs: now }), 1, rules));
      expect(d.freezes[0]!.untilMs).toBeGreaterThanOrEqual(hourBucketEndMs(now));
    }
  });
});

describe('large transaction', () => {
  test('over 50,000 yuan is allowed with a report; exactly 50,000 yuan is not reported', () => {
    expect(decideLarge('transfer', 5_000_000, ctx(), personal.large)).toEqual(ALLOW);
    const d = decideLarge('packet', 5_000_001, ctx({ opId: 'big1' }), personal.large);
    expect(d.kind).toBe('allow');
    expect(d.reports).toEqual([
      { opId: 'big1', accountId: 'u_alice_0001', kind: 'packet', amount: 5_000_001, atMs: NIGHT, tier: 'personal' },
    ]);
    expect(d.events).toHaveLength(1);
    expect(d.events[0]).toMatchObject({ rule: 'large_transaction', action: 'report', amount: 5_000_001 });
  });
});

describe('blacklist and freezes', () => {
  const bl = { blacklisted: true, freezes: [] };

  test('a blacklisted account or device is refused every movement, in or out, with an event', () => {
    for (const direction of ['in', 'out'] as const) {
      const a = refusal(checkStanding(ctx(), direction, bl));
      expect(a.code).toBe('RISK_BLOCKED');
      expect(a.events[0]).toMatchObject({ rule: 'blacklist', action: 'refuse', details: { on: 'account', direction } });
      const d = refusal(checkStanding(ctx({ deviceId: 'dev-9' }), direction, CLEAR, bl));
      expect(d.events[0]).toMatchObject({ rule: 'blacklist', deviceId: 'dev-9', details: { on: 'device' } });
    }
    // A device entry needs the request's device.
    expect(checkStanding(ctx(), 'out', CLEAR, bl)).toEqual(ALLOW);
    expect(checkStanding(ctx(), 'out', CLEAR, CLEAR)).toEqual(ALLOW);
  });

  test('a freeze stops outgoing money until exactly its end, and no incoming money', () => {
    const until = NIGHT + HOUR_MS;
    const frozen = {
      blacklisted: false,
      freezes: [
        { reason: 'night_velocity', untilMs: until },
        { reason: 'device_binding', untilMs: NIGHT - 1 },
      ],
    };
    const d = refusal(checkStanding(ctx({ nowMs: until - 1 }), 'out', frozen));
    expect(d.code).toBe('RISK_BLOCKED');
    expect(d.details).toEqual({ reason: 'night_velocity', until: new Date(until).toISOString() });
    expect(d.events).toEqual([]);
    expect(checkStanding(ctx({ nowMs: until }), 'out', frozen)).toEqual(ALLOW);
    expect(checkStanding(ctx({ nowMs: until - 1 }), 'in', frozen)).toEqual(ALLOW);
    // A restricted device blocks payments from it.
    const dev = refusal(
      checkStanding(ctx({ deviceId: 'dev-9' }), 'out', CLEAR, {
        blacklisted: false,
        freezes: [{ reason: 'device_binding', untilMs: NIGHT + 1 }],
      }),
    );
    expect(dev.details).toMatchObject({ reason: 'device_binding' });
  });
});

describe('marketing words', () => {
  const check = (
    greeting: string,
    tier: 'personal' | 'enterprise' | 'provider' = 'enterprise',
    extraWords?: string[],
  ) => checkGreeting(greeting, ctx({ tier }), riskRulesFor(tier, { extraWords }).marketing);

  test.each(['本店今日免单', '消费全额返现！', '免 单', '全额·返现', '全额\u200b返现', '免\u3000单'])(
    'enterprise "%s" is refused 422',
    (g) => {
      const d = refusal(check(g));
      expect(d.code).toBe('GREETING_REJECTED');
      expect(ErrorCodes[d.code]).toBe(422);
      expect(d.events[0]).toMatchObject({ rule: 'marketing_words', action: 'refuse' });
    },
  );

  test('providers are checked, personal greetings are not; ordinary greetings pass', () => {
    expect(refusal(check('免单', 'provider')).code).toBe('GREETING_REJECTED');
    expect(check('免单', 'personal')).toEqual(ALLOW);
    expect(check('恭喜发财，大吉大利')).toEqual(ALLOW);
    expect(check('免费的祝福，全额心意')).toEqual(ALLOW); // neither word as a whole
    expect(checkGreeting(undefined, ctx({ tier: 'enterprise' }), enterprise.marketing)).toEqual(ALLOW);
  });

  test('the configurable list adds words (normalised too)', () => {
    expect(check('稳赚不赔')).toEqual(ALLOW);
    expect(refusal(check('稳赚 不赔', 'enterprise', ['稳赚不赔'])).details).toEqual({ word: '稳赚不赔' });
    expect(findMarketingWord('ＦＲＥＥ ORDER', ['free order'])).toBe('free order');
  });
});

describe('combining decisions', () => {
  test("the first refusal wins and keeps every refusal's effects; all-allow keeps every effect", () => {
    const large = decideLarge('transfer', 6_000_000, ctx(), personal.large);
    const blocked = checkStanding(ctx(), 'out', { blacklisted: true, freezes: [] });
    const greeting = checkGreeting('免单', ctx({ tier: 'enterprise' }), enterprise.marketing);
    const c = refusal(combine(large, blocked, greeting));
    expect(c.code).toBe('RISK_BLOCKED');
    expect(c.events.map((e) => e.rule)).toEqual(['blacklist', 'marketing_words']);
    expect(c.reports).toEqual([]); // a refused movement is not reported as large
    const ok = combine(ALLOW, large);
    expect(ok.kind).toBe('allow');
    expect(ok.reports).toHaveLength(1);
    const err = refusalError(c);
    expect(err).toBeInstanceOf(DomainError);
    expect(err!.status).toBe(403);
    expect(refusalError(ok)).toBeUndefined();
  });

  test('breakerStep never trips below the threshold for mixed amounts (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(100, 200), { minLength: 1, maxLength: 40 }), (amounts) => {
        let s = EMPTY_BREAKER;
        let run = 0;
        let last: number | undefined;
        amounts.forEach((amount, i) => {
          const step = breakerStep(s, { amount, opId: `o${i}`, payerId: `p${i}`, nowMs: NIGHT + i }, personal.breaker);
          if (step === 'frozen') return;
          run = amount === last ? run + 1 : 1;
          last = amount;
          expect(step === 'trip').toBe(run === 5);
          s = breakerApply(s, { amount, opId: `o${i}`, payerId: `p${i}`, nowMs: NIGHT + i }, personal.breaker).state;
          if (step === 'trip') {
            run = 0;
            last = undefined;
          }
        });
      }),
    );
  });
});
