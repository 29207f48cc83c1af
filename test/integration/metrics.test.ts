/**
 * Metrics and live figures: the EMF lines a flow emits (what CloudWatch and the alarms read),
 * and the per-minute figures behind GET /v1/admin/ops.
 */
import '../helpers/metrics-on';
import { buildDeps } from '../../functions/src/app/deps';
import { loadConfig } from '../../functions/src/config';
import { figures } from '../../functions/src/app/ops';
import { DynamoOpsFigures, emptyCounts } from '../../functions/src/store/ops-figures';
import { bucketOf } from '../../functions/src/domain/histogram';
import { sweep } from '../../functions/src/app/sweeper';
import { Clock, baseDb, idem, login, makeApi, sendPacket, testDeps, topup } from '../helpers/app';

// Before every other test file's clock: the global sweep below then finds only this file's packets.
const clock = new Clock(Date.parse('2025-07-01T04:00:00Z'));
const d = testDeps({ clock });
const api = makeApi(d);

// EMF goes to stdout: keep it out of the test output for the whole file, and read it.
const out: string[] = [];
const write = process.stdout.write.bind(process.stdout);
beforeAll(() => {
  process.stdout.write = ((chunk: unknown) => {
    out.push(...String(chunk).split('\n').filter((l) => l.trim()));
    return true;
  }) as typeof process.stdout.write;
});
afterAll(() => {
  process.stdout.write = write;
});

describe('CloudWatch metrics (EMF)', () => {
  test('a flow emits claims, latency, contention, refunds, risk firings, 5xx and sweep lag — nothing sensitive', async () => {
    const alice = await login(api);
    const biz = await login(api, { tier: 'enterprise' });
    await topup(api, alice, 10_000);
    await topup(api, biz, 10_000);
    const one = await sendPacket(api, alice, { total: 100, count: 1, mode: 'lucky', ttlSeconds: 60 });
    const two = await sendPacket(api, alice, { total: 300, count: 3, mode: 'lucky', ttlSeconds: 60 });
    const claimers = await Promise.all(Array.from({ length: 10 }, () => login(api)));
    const from = out.length;
    {
      // Ten accounts race for one share: the packet counter refuses the losers (contention).
      await Promise.all(claimers.map((u) => api('POST', '/v1/claims', { token: u.token, body: { code: one.shareCode.code } })));
      expect((await api('POST', '/v1/claims', { token: claimers[0]!.token, body: { code: two.shareCode.code } })).status).toBe(200);
      expect((await api('POST', '/v1/packets', { token: biz.token, idem: idem(), body: { total: 100, count: 1, mode: 'equal', greeting: '全场免单' } })).status).toBe(422);
      const broken = baseDb();
      broken.get = async () => {
        throw new Error('store down');
      };
      expect((await makeApi(buildDeps(loadConfig(), broken, { now: clock.now }))('GET', '/v1/wallet', { token: alice.token })).status).toBe(500);
      clock.advance(120_000);
      await sweep(d, clock.t);
    }
    const lines = out.slice(from);
    const emf = lines.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as Record<string, any>);
    expect(emf.length).toBeGreaterThan(5);
    const names = new Set<string>();
    for (const e of emf) {
      const directive = e._aws.CloudWatchMetrics[0];
      expect(directive.Namespace).toBe('HongbaoCodes');
      expect(directive.Dimensions).toEqual([['service']]);
      expect(e.service).toBe('hongbao-codes');
      for (const m of directive.Metrics) names.add(m.Name);
    }
    for (const n of ['Claims', 'ClaimLatency', 'ConditionalWrites', 'ConditionalCheckFailed', 'RiskFirings', 'Http5xx', 'SweepLagSeconds', 'Refunds', 'RefundedFen']) {
      expect([n, names.has(n)]).toEqual([n, true]);
    }
    const claims = emf.filter((e) => 'Claims' in e).reduce((a, e) => a + (Array.isArray(e.Claims) ? e.Claims.length : 1), 0);
    expect(claims).toBe(2);
    const all = lines.join('\n');
    for (const u of [alice, biz, ...claimers]) {
      expect(all).not.toContain(u.userId);
      expect(all).not.toContain(u.token);
    }
    expect(all).not.toContain(one.shareCode.code);
  });
});

describe('live operator figures', () => {
  test('per-minute counts from two instances merge; p50/p99 and contention come out of them', async () => {
    const store = new DynamoOpsFigures(d.db);
    const minute = '2027-07-02T10:07:00.000Z';
    const a = emptyCounts();
    a.packets = 3;
    a.claims = 5;
    a.conditionalWrites = 40;
    a.conditionalFailures = 4;
    for (const ms of [4, 6, 8, 9, 250]) a.latency[bucketOf(ms)]!++;
    const b = emptyCounts();
    b.claims = 5;
    b.conditionalWrites = 60;
    b.conditionalFailures = 6;
    b.refunds = 2;
    for (const ms of [5, 7, 8, 9, 12]) b.latency[bucketOf(ms)]!++;
    await store.add(minute, 'instA', a);
    await store.add(minute, 'instB', b);
    await store.add(minute, 'instA', { ...emptyCounts(), claims: 1, latency: (() => { const h = emptyCounts().latency; h[bucketOf(3)]!++; return h; })() });
    const opsClock = new Clock(Date.parse('2027-07-02T10:07:30Z'));
    const admin = await login(makeApi(testDeps({ clock: opsClock })), { roles: ['admin'] });
    const r = await makeApi(testDeps({ clock: opsClock }))('GET', '/v1/admin/ops', { token: admin.token, query: { minutes: '3' } });
    expect(r.status).toBe(200);
    expect(r.body.minutes.map((m: { minute: string }) => m.minute)).toEqual(['2027-07-02T10:05:00.000Z', '2027-07-02T10:06:00.000Z', minute]);
    const row = r.body.minutes[2];
    expect(row).toMatchObject({ packets: 3, claims: 11, conditionalWrites: 100, conditionalFailures: 10, refunds: 2 });
    expect(row.claimP50Ms).toBe(10); // 11 latencies; the 6th smallest (8 ms) is in the ≤ 10 ms bucket
    expect(row.claimP99Ms).toBe(300); // the slowest, 250 ms, in the ≤ 300 ms bucket
    expect(r.body.minutes[0]).toMatchObject({ claims: 0, claimP50Ms: null });
    expect(r.body.totals).toMatchObject({ packets: 3, claims: 11, contentionBps: 1_000, refunds: 2 });
    expect(r.body.sweep.oldestDueAgeSeconds).toBeGreaterThanOrEqual(0);
    expect(r.body).toHaveProperty('reconciliation');
    const user = await login(makeApi(testDeps({ clock: opsClock })));
    expect((await makeApi(testDeps({ clock: opsClock }))('GET', '/v1/admin/ops', { token: user.token })).status).toBe(403);
  });

  test('the request path counts packets, claims and contention into this instance buffer and flushes it', async () => {
    const fclock = new Clock(Date.parse('2027-07-03T08:00:10Z'));
    const fd = testDeps({ clock: fclock });
    const fapi = makeApi(fd);
    const s = await login(fapi);
    await topup(fapi, s, 1_000);
    const sent = await sendPacket(fapi, s, { total: 200, count: 2, mode: 'lucky' });
    const us = await Promise.all(Array.from({ length: 3 }, () => login(fapi)));
    await Promise.all(us.map((u) => fapi('POST', '/v1/claims', { token: u.token, body: { code: sent.shareCode.code } })));
    await figures.flush(fd.db, true);
    const got = await new DynamoOpsFigures(fd.db).read('2027-07-03T08:00:00.000Z', '2027-07-03T08:00:00.000Z');
    const c = got.get('2027-07-03T08:00:00.000Z');
    expect(c?.packets).toBeGreaterThanOrEqual(1);
    expect(c?.claims).toBeGreaterThanOrEqual(2);
    expect(c?.conditionalWrites).toBeGreaterThan(0);
    expect(c?.latency.reduce((a, x) => a + x, 0)).toBe(c?.claims);
  });
});
