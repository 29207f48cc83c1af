import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import {
  DAY_MS,
  EMPTY_BREAKER,
  HOUR_MS,
  breakerApply,
  checkStanding,
  decideBreaker,
  decideDevice,
  decideNight,
  riskEventId,
  riskRulesFor,
  type BreakerOutcome,
  type BreakerState,
  type RiskContext,
  type RiskEvent,
} from '../../functions/src/domain/risk';
import { DynamoRiskStore } from '../../functions/src/store/risk';
import { RiskKeys } from '../../functions/src/store/keys';
import { baseDb } from '../helpers/app';

const db = baseDb();
const risk = new DynamoRiskStore(db);
const rules = riskRulesFor('personal');
const id = (p: string) => `${p}${randomBytes(6).toString('hex')}`;
const at8 = (local: string) => Date.parse(`${local}+08:00`);
const T0 = at8('2026-03-02T02:10:00');
const ctx = (userId: string, opId: string, nowMs = T0, deviceId?: string): RiskContext => ({
  userId,
  tier: 'personal',
  opId,
  nowMs,
  ...(deviceId ? { deviceId } : {}),
});

describe('breaker (receive code streaks)', () => {
  test('20 parallel same-amount payments into one code: exactly the 5th in streak order trips it', async () => {
    const code = id('payee');
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        risk.countBreaker(code, { amount: 6_66, opId: `op${i}`, payerId: `payer${i}`, nowMs: T0 + i }, rules.breaker),
      ),
    );
    const counted = outcomes.filter((o): o is Extract<BreakerOutcome, { kind: 'counted' }> => o.kind === 'counted');
    expect(counted.map((o) => o.streak).sort()).toEqual([1, 2, 3, 4]);
    expect(outcomes.filter((o) => o.kind === 'tripped')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'frozen')).toHaveLength(15);
    // Decided: five payments go through, fifteen are refused 423 CODE_FROZEN, one breaker event.
    const decisions = outcomes.map((o, i) => decideBreaker(o, ctx('payer', `op${i}`), code, 6_66, rules.breaker));
    expect(decisions.filter((d) => d.kind === 'allow')).toHaveLength(5);
    expect(decisions.filter((d) => d.kind === 'refuse' && d.code === 'CODE_FROZEN')).toHaveLength(15);
    expect(new Set(decisions.flatMap((d) => d.events.map((e) => e.id))).size).toBe(1);
    const state = await risk.breaker(code);
    expect(state.trips).toBe(1);
    const tripped = outcomes.find((o) => o.kind === 'tripped') as { untilMs: number };
    expect(state.frozenUntilMs).toBe(tripped.untilMs);
    expect(state.ops).toEqual([]);
  });

  test('10 payments each sent twice at once (retries racing): exactly 5 distinct payments pass, one trip', async () => {
    const code = id('payee');
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const opId = `op${i % 10}`;
        return risk
          .countBreaker(code, { amount: 5_20, opId, payerId: `payer-${opId}`, nowMs: T0 + i }, rules.breaker)
          .then((o) => ({ opId, o }));
      }),
    );
    const counted = outcomes.filter((x) => x.o.kind === 'counted');
    expect(counted.map((x) => (x.o as { streak: number }).streak).sort()).toEqual([1, 2, 3, 4]);
    expect(new Set(counted.map((x) => x.opId)).size).toBe(4);
    expect(outcomes.filter((x) => x.o.kind === 'tripped')).toHaveLength(1);
    const passed = new Set(outcomes.filter((x) => x.o.kind !== 'frozen').map((x) => x.opId));
    expect(passed.size).toBe(5);
    expect((await risk.breaker(code)).trips).toBe(1);
  });

  test('the stored breaker follows the pure model step by step (property, sequential)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            amount: fc.constantFrom(1, 100, 200),
            payer: fc.constantFrom('a', 'b'),
            dt: fc.constantFrom(1, 1_000, 20 * 60_000),
            retry: fc.boolean(),
          }),
          { minLength: 1, maxLength: 14 },
        ),
        async (payments) => {
          const code = id('payee');
          let model: BreakerState = EMPTY_BREAKER;
          let now = T0;
          let last: { opId: string; payerId: string } | undefined;
          for (const [i, p] of payments.entries()) {
            now += p.dt;
            // A retry is the same op of the same payer.
            const { opId, payerId } = p.retry && last ? last : { opId: `op${i}`, payerId: p.payer };
            const expected = breakerApply(model, { amount: p.amount, opId, payerId, nowMs: now }, rules.breaker);
            const got = await risk.countBreaker(code, { amount: p.amount, opId, payerId, nowMs: now }, rules.breaker);
            const kind = {
              restart: 'counted',
              extend: 'counted',
              trip: 'tripped/code',
              trip_payer: 'tripped/payer',
              frozen: 'frozen/code',
              payer_frozen: 'frozen/payer',
              already: 'already',
              already_tripped: 'already_tripped/code',
              payer_already_tripped: 'already_tripped/payer',
              ignored: 'ignored',
            }[expected.step];
            expect('scope' in got ? `${got.kind}/${got.scope}` : got.kind).toBe(kind);
            if (got.kind === 'counted') expect(got.streak).toBe(expected.state.ops.length);
            model = expected.state;
            last = { opId, payerId };
          }
          // The stored state is the model's.
          const stored = await risk.breaker(code);
          expect({ ...stored, ops: [...stored.ops].sort(), payers: [...stored.payers].sort() }).toEqual({
            ...model,
            ops: [...model.ops].sort(),
            payers: [...model.payers].sort(),
          });
        },
      ),
      { numRuns: 12 },
    );
  });

  test('20 parallel same-amount payments by one payer: that payer is frozen out after the 5th, the code stays open to others', async () => {
    const code = id('payee');
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        risk.countBreaker(code, { amount: 1_00, opId: `op${i}`, payerId: 'griefer', nowMs: T0 + i }, rules.breaker),
      ),
    );
    const counted = outcomes.filter((o): o is Extract<BreakerOutcome, { kind: 'counted' }> => o.kind === 'counted');
    expect(counted.map((o) => o.streak).sort()).toEqual([1, 2, 3, 4]);
    expect(outcomes.filter((o) => o.kind === 'tripped').map((o) => 'scope' in o && o.scope)).toEqual(['payer']);
    expect(outcomes.filter((o) => o.kind === 'frozen' && o.scope === 'payer')).toHaveLength(15);
    const decisions = outcomes.map((o, i) => decideBreaker(o, ctx('griefer', `op${i}`), code, 1_00, rules.breaker));
    expect(decisions.filter((d) => d.kind === 'refuse' && d.code === 'CODE_FROZEN')).toHaveLength(15);
    expect(new Set(decisions.flatMap((d) => d.events.map((e) => e.id))).size).toBe(1);
    const state = await risk.breaker(code);
    expect(state.frozenUntilMs).toBeUndefined();
    expect(state.trips).toBe(0);
    expect(Object.keys(state.payerFreezes)).toEqual(['griefer']);
    // Another payer pays the same amount: counted, a fresh streak.
    expect(
      await risk.countBreaker(code, { amount: 1_00, opId: 'c1', payerId: 'customer', nowMs: T0 + 30 }, rules.breaker),
    ).toEqual({ kind: 'counted', streak: 1 });
    expect(
      await risk.countBreaker(code, { amount: 1_00, opId: 'g21', payerId: 'griefer', nowMs: T0 + 31 }, rules.breaker),
    ).toMatchObject({ kind: 'frozen', scope: 'payer' });
  });

  test('payments under 1 yuan are not counted and write nothing', async () => {
    const code = id('payee');
    for (let i = 0; i < 6; i++) {
      expect(
        await risk.countBreaker(code, { amount: 1, opId: `op${i}`, payerId: 'griefer', nowMs: T0 + i }, rules.breaker),
      ).toEqual({ kind: 'ignored' });
    }
    expect(await db.get(RiskKeys.breaker(code))).toBeUndefined();
  });

  test('a payer trip removes payer freezes that have ended, in the same write', async () => {
    const code = id('payee');
    const streak = async (payerId: string, nowMs: number) => {
      for (let i = 0; i < 5; i++)
        await risk.countBreaker(code, { amount: 2_00, opId: `${payerId}${i}`, payerId, nowMs }, rules.breaker);
    };
    await streak('x', T0);
    await streak('y', T0 + HOUR_MS / 2);
    await streak('z', T0 + HOUR_MS);
    const state = await risk.breaker(code);
    expect(Object.keys(state.payerFreezes).sort()).toEqual(['y', 'z']);
    const item = await db.get(RiskKeys.breaker(code));
    expect(item!.expiresAt).toBeGreaterThanOrEqual(Math.ceil((T0 + HOUR_MS + HOUR_MS) / 1000));
  });

  test('a retried payment counts once; the freeze ends after exactly 1 h and the streak restarts', async () => {
    const code = id('payee');
    const pay = (opId: string, nowMs: number) =>
      risk.countBreaker(code, { amount: 1_000, opId, payerId: `payer-${opId}`, nowMs }, rules.breaker);
    for (let i = 1; i <= 4; i++) expect(await pay(`op${i}`, T0 + i)).toEqual({ kind: 'counted', streak: i });
    expect(await pay('op4', T0 + 10)).toEqual({ kind: 'already', streak: 4 });
    expect(await pay('op5', T0 + 20)).toEqual({ kind: 'tripped', scope: 'code', untilMs: T0 + 20 + HOUR_MS });
    expect(await pay('op5', T0 + 30)).toEqual({ kind: 'already_tripped', scope: 'code', untilMs: T0 + 20 + HOUR_MS });
    expect(await pay('op6', T0 + 20 + HOUR_MS - 1)).toEqual({
      kind: 'frozen',
      scope: 'code',
      untilMs: T0 + 20 + HOUR_MS,
    });
    expect(await pay('op7', T0 + 20 + HOUR_MS)).toEqual({ kind: 'counted', streak: 1 });
    const item = await db.get(RiskKeys.breaker(code));
    expect(item!.expiresAt).toBeGreaterThan((T0 + 20 + HOUR_MS) / 1000);
  });
});

describe('device binding', () => {
  test('3 accounts bind, the 4th is refused; the restriction reaches the device and its accounts', async () => {
    const device = id('dev');
    const users = ['a', 'b', 'c', 'd'].map((u) => id(u));
    for (const [i, u] of users.slice(0, 3).entries()) {
      const o = await risk.bindDevice(device, u, T0 + i, rules.device);
      expect(o.kind).toBe('bound');
      expect(o.accounts).toHaveLength(i + 1);
    }
    // A bound account comes back: still fine.
    expect((await risk.bindDevice(device, users[0]!, T0 + 10, rules.device)).kind).toBe('bound');
    const fourth = await risk.bindDevice(device, users[3]!, T0 + 20, rules.device);
    expect(fourth).toEqual({ kind: 'limit', accounts: users.slice(0, 3).sort() });
    const decision = decideDevice(fourth, { ...ctx(users[3]!, 'login1', T0 + 20), deviceId: device }, rules.device);
    expect(decision.kind === 'refuse' && decision.code).toBe('DEVICE_LIMIT');
    await risk.record(decision);
    for (const u of users.slice(0, 3)) {
      const standing = await risk.accountStanding(u);
      expect(standing.freezes).toEqual([{ reason: 'device_binding', untilMs: T0 + 20 + 7 * DAY_MS }]);
      const pay = checkStanding(ctx(u, 'p1', T0 + 7 * DAY_MS), 'out', standing);
      expect(pay.kind === 'refuse' && pay.code).toBe('RISK_BLOCKED');
      expect(checkStanding(ctx(u, 'p2', T0 + 20 + 7 * DAY_MS), 'out', standing).kind).toBe('allow');
    }
    const dev = await risk.deviceStanding(device);
    expect(dev.freezes).toEqual([{ reason: 'device_binding', untilMs: T0 + 20 + 7 * DAY_MS }]);
    expect(dev.accounts.map((a) => a.id).sort()).toEqual(users.slice(0, 3).sort());
    const fromDevice = checkStanding(
      ctx(users[3]!, 'p3', T0 + 30, device),
      'out',
      await risk.accountStanding(users[3]!),
      dev,
    );
    expect(fromDevice.kind === 'refuse' && fromDevice.code).toBe('RISK_BLOCKED');
  });

  test('20 new accounts at once on one device: exactly 3 bind', async () => {
    const device = id('dev');
    const users = Array.from({ length: 20 }, (_, i) => id(`u${i}-`));
    const outcomes = await Promise.all(users.map((u) => risk.bindDevice(device, u, T0, rules.device)));
    expect(outcomes.filter((o) => o.kind === 'bound')).toHaveLength(3);
    expect(outcomes.filter((o) => o.kind === 'limit')).toHaveLength(17);
    const dev = await risk.deviceStanding(device);
    expect(dev.accounts).toHaveLength(3);
  });

  test('the window rolls by last use: an account unseen for exactly 7 days no longer counts', async () => {
    const device = id('dev');
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((u) => id(u)) as [string, string, string, string];
    await risk.bindDevice(device, a, T0, rules.device);
    await risk.bindDevice(device, b, T0 + DAY_MS, rules.device);
    await risk.bindDevice(device, c, T0 + DAY_MS, rules.device);
    // One millisecond before a's 7 days end, d is still the 4th.
    expect((await risk.bindDevice(device, d, T0 + 7 * DAY_MS - 1, rules.device)).kind).toBe('limit');
    // At exactly 7 days a is out of the window: d takes its place.
    const o = await risk.bindDevice(device, d, T0 + 7 * DAY_MS, rules.device);
    expect(o).toEqual({ kind: 'bound', accounts: [b, c, d].sort() });
    // And a, coming back, is now the 4th.
    expect((await risk.bindDevice(device, a, T0 + 7 * DAY_MS + 1, rules.device)).kind).toBe('limit');
  });
});

describe('night velocity counter', () => {
  test('20 parallel small night payments by one account: places 1..20 exactly, 10 allowed, the rest refused', async () => {
    const user = id('night');
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => risk.countNight(user, `op${i}`, T0 + i)));
    expect(outcomes.map((o) => (o.kind === 'counted' ? o.count : 0)).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const decisions = outcomes.map((o, i) => decideNight(o, ctx(user, `op${i}`, T0 + i), 500, rules.night));
    expect(decisions.filter((d) => d.kind === 'allow')).toHaveLength(10);
    const refused = decisions.filter((d) => d.kind === 'refuse');
    expect(refused).toHaveLength(10);
    // Every refusal writes the same freeze and the same event id: one event for the firing.
    await Promise.all(refused.map((d) => risk.record(d)));
    const standing = await risk.accountStanding(user);
    expect(standing.freezes).toHaveLength(1);
    expect(standing.freezes[0]!.untilMs).toBe(T0 + 19 + HOUR_MS);
    const events = await risk.events({ fromMs: T0, toMs: T0 + 20 });
    expect(events.events.filter((e) => e.accountId === user)).toHaveLength(1);
  });

  test('a retry is not counted again; the next UTC+8 hour counts from zero', async () => {
    const user = id('night');
    for (let i = 1; i <= 3; i++)
      expect(await risk.countNight(user, `op${i}`, T0)).toEqual({ kind: 'counted', count: i });
    expect(await risk.countNight(user, 'op2', T0 + 5)).toEqual({ kind: 'already' });
    expect(await risk.countNight(user, 'op4', at8('2026-03-02T02:59:59.999'))).toEqual({ kind: 'counted', count: 4 });
    expect(await risk.countNight(user, 'op5', at8('2026-03-02T03:00:00'))).toEqual({ kind: 'counted', count: 1 });
  });
});

describe('freezes', () => {
  test('a freeze only ever moves later', async () => {
    const user = id('frz');
    await risk.applyFreezes([{ scope: 'account', id: user, reason: 'night_velocity', untilMs: T0 + 100 }]);
    await risk.applyFreezes([{ scope: 'account', id: user, reason: 'night_velocity', untilMs: T0 + 50 }]);
    expect((await risk.accountStanding(user)).freezes).toEqual([{ reason: 'night_velocity', untilMs: T0 + 100 }]);
    await risk.applyFreezes([{ scope: 'account', id: user, reason: 'night_velocity', untilMs: T0 + 200 }]);
    expect((await risk.accountStanding(user)).freezes).toEqual([{ reason: 'night_velocity', untilMs: T0 + 200 }]);
  });
});

describe('the standing of incoming money', () => {
  test('one read by key: blacklists and the binding as the partition Queries give them, no freezes', async () => {
    const user = id('in');
    const other = id('in2');
    const device = id('indev');
    const reads: string[] = [];
    const metered = new DynamoRiskStore(baseDb({ afterRead: (r) => reads.push(r.op) }));
    expect(await metered.inboundStanding(user, device)).toEqual({
      account: { blacklisted: false, freezes: [] },
      device: { blacklisted: false, freezes: [], accounts: [] },
    });
    expect(reads).toEqual(['batchGet']);

    await risk.bindDevice(device, user, T0, rules.device);
    await risk.bindDevice(device, other, T0 + 5, rules.device);
    await risk.applyFreezes([
      { scope: 'account', id: user, reason: 'night_velocity', untilMs: T0 + 100 },
      { scope: 'device', id: device, reason: 'device_binding', untilMs: T0 + 100 },
    ]);
    await risk.blacklistAdd('device', device, { reason: 'emulator farm', by: 'admin1', nowMs: T0 });
    const both = await metered.inboundStanding(user, device);
    const full = await risk.deviceStanding(device);
    expect(full.freezes).toHaveLength(1);
    expect(both.account).toEqual({ blacklisted: false, freezes: [] });
    expect(both.device).toEqual({ ...full, freezes: [] });
    expect(both.device?.accounts.map((a) => a.id).sort()).toEqual([user, other].sort());
    // Without a device: the account's entry only.
    await risk.blacklistAdd('account', user, { reason: 'fraud report', by: 'admin1', nowMs: T0 });
    expect(await metered.inboundStanding(user)).toEqual({ account: { blacklisted: true, freezes: [] } });
    const refused = checkStanding(ctx(user, 'in1'), 'in', (await metered.inboundStanding(user)).account);
    expect(refused.kind === 'refuse' && refused.code).toBe('RISK_BLOCKED');
    expect(reads).toEqual(['batchGet', 'batchGet', 'batchGet', 'batchGet']);
  });
});

describe('blacklist', () => {
  test('accounts and devices are added, listed, refused and removed', async () => {
    const user = id('bad');
    const device = id('baddev');
    expect((await risk.accountStanding(user)).blacklisted).toBe(false);
    await risk.blacklistAdd('account', user, { reason: 'fraud report', by: 'admin1', nowMs: T0 });
    await risk.blacklistAdd('device', device, { reason: 'emulator farm', by: 'admin1', nowMs: T0 });
    expect((await risk.accountStanding(user)).blacklisted).toBe(true);
    expect((await risk.deviceStanding(device)).blacklisted).toBe(true);
    const list = await risk.blacklist();
    expect(list).toEqual(
      expect.arrayContaining([
        { kind: 'account', id: user },
        { kind: 'device', id: device },
      ]),
    );
    const refused = checkStanding(ctx(user, 'c1'), 'in', await risk.accountStanding(user));
    expect(refused.kind === 'refuse' && refused.code).toBe('RISK_BLOCKED');

    expect(await risk.blacklistRemove('account', user, { by: 'admin2', nowMs: T0 + 1 })).toBe(true);
    expect(await risk.blacklistRemove('account', user, { by: 'admin2', nowMs: T0 + 2 })).toBe(false);
    expect(await risk.blacklistRemove('device', id('never'), { by: 'admin2', nowMs: T0 + 2 })).toBe(false);
    expect((await risk.accountStanding(user)).blacklisted).toBe(false);
    expect((await risk.deviceStanding(device)).blacklisted).toBe(true);
    const after = await risk.blacklist();
    expect(after).not.toContainEqual({ kind: 'account', id: user });
    expect(after).toContainEqual({ kind: 'device', id: device });
    // Added again after removal.
    await risk.blacklistAdd('account', user, { reason: 'again', by: 'admin1', nowMs: T0 + 3 });
    expect((await risk.accountStanding(user)).blacklisted).toBe(true);
  });
});

describe('risk events and reports', () => {
  // A far-away day of its own, so other tests' events never fall in range.
  const base = Date.parse('2071-01-01T00:00:00+08:00') + Math.floor(Math.random() * 5_000) * DAY_MS;
  const ev = (n: number, atMs: number): RiskEvent => ({
    id: riskEventId('large_transaction', `acct${n}`, String(base)),
    rule: 'large_transaction',
    action: 'report',
    atMs,
    tier: 'provider',
    accountId: `acct${n}`,
    amount: 5_000_001 + n,
    details: { kind: 'transfer', n },
  });
  // Ten events over two UTC+8 days: 23:58, 23:59:59.999 of day 1, 00:00 and later of day 2, …
  const times = [
    base + 10 * HOUR_MS,
    base + DAY_MS - 2 * 60_000,
    base + DAY_MS - 1,
    base + DAY_MS,
    base + DAY_MS + 1,
    base + DAY_MS + HOUR_MS,
    base + DAY_MS + 2 * HOUR_MS,
    base + DAY_MS + 2 * HOUR_MS,
    base + DAY_MS + 5 * HOUR_MS,
    base + 2 * DAY_MS - 1,
  ];
  const all = times.map((t, n) => ev(n, t));

  beforeAll(async () => {
    await risk.putEvents(all);
    // Written again later (a retry): still one event each, at the first time.
    await risk.putEvents(all.map((e) => ({ ...e, atMs: e.atMs + 5_000 })));
  });

  test('a time range returns exactly the events inside it, oldest first, each once', async () => {
    const r = await risk.events({ fromMs: base + DAY_MS - 1, toMs: base + DAY_MS + HOUR_MS });
    expect(r.events.map((e) => e.atMs)).toEqual([
      base + DAY_MS - 1,
      base + DAY_MS,
      base + DAY_MS + 1,
      base + DAY_MS + HOUR_MS,
    ]);
    expect(r.next).toBeUndefined();
    expect(r.events[0]).toMatchObject({
      rule: 'large_transaction',
      action: 'report',
      tier: 'provider',
      accountId: 'acct2',
      amount: 5_000_003,
      details: { kind: 'transfer', n: 2 },
    });
    const whole = await risk.events({ fromMs: base, toMs: base + 3 * DAY_MS });
    expect(whole.events.map((e) => e.id).sort()).toEqual(all.map((e) => e.id).sort());
    expect(whole.events.map((e) => e.atMs)).toEqual([...times].sort((a, b) => a - b));
    expect(await risk.events({ fromMs: base + 2 * DAY_MS, toMs: base + 3 * DAY_MS })).toEqual({ events: [] });
  });

  test('pages of 3 walk every event once, across days and shards', async () => {
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const r = await risk.events({ fromMs: base, toMs: base + 2 * DAY_MS, limit: 3, ...(after ? { after } : {}) });
      seen.push(...r.events.map((e) => e.id));
      after = r.next;
      pages++;
    } while (after && pages < 10);
    expect(seen).toHaveLength(10);
    expect(new Set(seen).size).toBe(10);
  });

  test('a range over 31 days is refused (the route must bound it)', async () => {
    await expect(risk.events({ fromMs: base, toMs: base + 40 * DAY_MS })).rejects.toThrow(RangeError);
  });

  test('large-transaction reports are written once and read by range', async () => {
    const opId = id('op');
    const report = {
      opId,
      accountId: 'acct-big',
      kind: 'transfer' as const,
      amount: 6_000_000,
      atMs: base + 3 * HOUR_MS,
      tier: 'provider' as const,
    };
    await risk.putReports([report]);
    await risk.putReports([{ ...report, atMs: report.atMs + 1_000 }]);
    const got = (await risk.reports(base, base + DAY_MS)).filter((r) => r.opId === opId);
    expect(got).toEqual([report]);
  });
});
