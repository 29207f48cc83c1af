/**
 * Metrics and live figures: the EMF lines a flow emits (what CloudWatch and the alarms read),
 * and the per-minute operator figures (functions/src/app/observability.ts) behind GET /v1/admin/ops.
 */
import '../helpers/metrics-on';
import { buildDeps } from '../../functions/src/app/deps';
import { loadConfig } from '../../functions/src/config';
import { OpsAggregator, figures, oldestDueAgeSeconds, opsFigures } from '../../functions/src/app/observability';
import { DynamoOpsFiguresStore } from '../../functions/src/store/ops-figures';
import type { Db } from '../../functions/src/store/db';
import { sweep } from '../../functions/src/app/sweeper';
import { Clock, baseDb, idem, login, makeApi, sendPacket, testDeps, topup } from '../helpers/app';

// The file's own table (helpers/table-per-file.ts): its sweeps and sweep lag see only its packets.
const clock = new Clock(Date.parse('2025-07-01T04:00:00Z'));
const d = testDeps({ clock });
const api = makeApi(d);

// EMF goes to stdout: keep it out of the test output for the whole file, and read it.
const out: string[] = [];
const write = process.stdout.write.bind(process.stdout);
beforeAll(async () => {
  process.stdout.write = ((chunk: unknown) => {
    out.push(
      ...String(chunk)
        .split('\n')
        .filter((l) => l.trim()),
    );
    return true;
  }) as typeof process.stdout.write;
});
afterAll(() => {
  process.stdout.write = write;
});

type Emf = Record<string, any>;
/** Sum of a metric's values over EMF lines (a value is a number or, when buffered, a list). */
const sumOf = (emf: Emf[], name: string, where: (e: Emf) => boolean = () => true) =>
  emf
    .filter((e) => name in e && where(e))
    .reduce((a, e) => a + (Array.isArray(e[name]) ? e[name].reduce((x: number, y: number) => x + y, 0) : e[name]), 0);

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
    // Ten accounts race for one share: the packet counter refuses the losers (contention).
    const race = await Promise.all(
      claimers.map((u) => api('POST', '/v1/claims', { token: u.token, body: { code: one.shareCode.code } })),
    );
    expect(race.filter((r) => r.status === 200)).toHaveLength(1);
    const took = await api('POST', '/v1/claims', { token: claimers[0]!.token, body: { code: two.shareCode.code } });
    expect(took.status).toBe(200);
    // The same account again: 200 with its share (`repeat`), but no second claim.
    const again = await api('POST', '/v1/claims', { token: claimers[0]!.token, body: { code: two.shareCode.code } });
    expect([again.status, again.body.repeat]).toEqual([200, true]);
    // A marketing greeting from a business account: a risk firing (422).
    expect(
      (
        await api('POST', '/v1/packets', {
          token: biz.token,
          idem: idem(),
          body: { total: 100, count: 1, mode: 'equal', greeting: '全场免单' },
        })
      ).status,
    ).toBe(422);
    // A store that fails: 500.
    const broken = baseDb();
    broken.get = async () => {
      throw new Error('store down');
    };
    expect(
      (await makeApi(buildDeps(loadConfig(), broken, { now: clock.now }))('GET', '/v1/wallet', { token: alice.token }))
        .status,
    ).toBe(500);
    clock.advance(120_000);
    const report = await sweep(d, clock.t);

    const lines = out.slice(from);
    const emf = lines.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as Emf);
    expect(emf.length).toBeGreaterThan(5);
    const names = new Set<string>();
    for (const e of emf) {
      const directive = e._aws.CloudWatchMetrics[0];
      expect(directive.Namespace).toBe('HongbaoCodes');
      expect(e.service).toBe('hongbao-codes');
      // The service, and for risk firings the rule: nothing per user or per packet.
      expect([[['service']], [['service', 'rule']]]).toContainEqual(directive.Dimensions);
      for (const m of directive.Metrics) {
        names.add(m.Name);
        expect(typeof e[m.Name] === 'number' || Array.isArray(e[m.Name])).toBe(true);
      }
    }
    for (const n of [
      'Claims',
      'ClaimLatency',
      'ConditionalWrites',
      'ConditionalCheckFailed',
      'RiskFirings',
      'Http5xx',
      'SweepLagSeconds',
      'Refunds',
      'RefundedFen',
    ]) {
      expect([n, names.has(n)]).toEqual([n, true]);
    }
    // First claims only: the race's winner and the claim of `two`, not the repeat.
    expect(sumOf(emf, 'Claims')).toBe(2);
    expect(emf.filter((e) => 'ClaimLatency' in e).flatMap((e) => [e.ClaimLatency].flat())).toHaveLength(2);
    expect(sumOf(emf, 'ConditionalCheckFailed')).toBeGreaterThanOrEqual(1);
    expect(sumOf(emf, 'ConditionalWrites')).toBeGreaterThan(sumOf(emf, 'ConditionalCheckFailed'));
    expect(sumOf(emf, 'Http5xx')).toBe(1);
    const units = Object.fromEntries(
      emf.flatMap((e) => e._aws.CloudWatchMetrics[0].Metrics.map((m: Emf) => [m.Name, m.Unit])),
    );
    expect(units).toMatchObject({
      Claims: 'Count',
      ClaimLatency: 'Milliseconds',
      SweepLagSeconds: 'Seconds',
      RefundedFen: 'Count',
    });
    // Risk firings: the total, and one line under the rule's dimension.
    expect(sumOf(emf, 'RiskFirings', (e) => !('rule' in e))).toBe(1);
    expect(emf.filter((e) => e.rule === 'marketing_words').map((e) => e.RiskFirings)).toEqual([1]);
    // Refunds: `two` had 300 − the one share left (`one` was fully claimed: settled, nothing to
    // refund, so no refund counted for it).
    expect(report.packetsRefunded).toBeGreaterThanOrEqual(1);
    expect(report.packetsRefunded).toBeLessThan(report.packetsSettled);
    expect(sumOf(emf, 'Refunds')).toBe(report.packetsRefunded);
    expect(sumOf(emf, 'RefundedFen')).toBe(report.refunded);
    expect(report.refunded).toBeGreaterThanOrEqual(300 - took.body.amount);
    const lag = emf.filter((e) => 'SweepLagSeconds' in e).map((e) => e.SweepLagSeconds);
    // Everything due was swept: nothing waits.
    expect(lag).toEqual([0]);

    const all = lines.join('\n');
    for (const u of [alice, biz, ...claimers]) {
      expect(all).not.toContain(u.userId);
      expect(all).not.toContain(u.token);
      expect(all).not.toContain(u.name);
    }
    for (const c of [one.shareCode.code, two.shareCode.code, one.code.code]) expect(all).not.toContain(c);
  });

  test('the sweep lag is the age of the oldest due, unswept work', async () => {
    const lagClock = new Clock(Date.parse('2025-07-01T05:00:00Z'));
    const ld = testDeps({ clock: lagClock });
    const lapi = makeApi(ld);
    const s = await login(lapi);
    await topup(lapi, s, 1_000);
    await sendPacket(lapi, s, { total: 100, count: 2, mode: 'equal', ttlSeconds: 60 });
    lagClock.advance(11 * 60_000);
    // Expired 10 minutes ago, not swept yet.
    const age = await oldestDueAgeSeconds(ld, lagClock.t);
    expect(age).toBeGreaterThanOrEqual(600);
    expect(age).toBeLessThan(660);
    await sweep(ld, lagClock.t);
    expect(await oldestDueAgeSeconds(ld, lagClock.t)).toBe(0);
  });
});

/** A Db that records the figure writes and can be made to fail (no table needed). */
function recordingDb(
  fail = false,
): Db & { updates: { key: { pk: string; sk: string }; update: string; values: Record<string, unknown> }[] } {
  const updates: { key: { pk: string; sk: string }; update: string; values: Record<string, unknown> }[] = [];
  const no = () => {
    throw new Error('not used');
  };
  return {
    updates,
    get: no,
    put: no,
    query: no,
    batchGet: no,
    batchPut: no,
    scan: no,
    update: async (key, update, expr) => {
      if (fail) throw new Error('throttled');
      updates.push({ key, update, values: expr?.values ?? {} });
      return { ...key };
    },
  };
}

describe('live operator figures', () => {
  test('after a flow and a flush, opsFigures has the minute: packets, first claims, p50/p99, contention', async () => {
    const fclock = new Clock(Date.parse('2027-07-03T08:00:10Z'));
    // The slots layout, whose every take writes: a recorded packet's losers may read a counter
    // their process already knows full instead of writing, so their count of refused writes
    // depends on timing.
    const fd = testDeps({ clock: fclock, layout: 'slots' });
    const fapi = makeApi(fd);
    // Set-up requests count too (none is a packet or a claim); drain what earlier tests left.
    await figures.flush(fd.opsFigures, true);
    const s = await login(fapi);
    await topup(fapi, s, 1_000);
    const hot = await sendPacket(fapi, s, { total: 100, count: 1, mode: 'lucky' });
    const three = await sendPacket(fapi, s, { total: 300, count: 3, mode: 'lucky' });
    const us = await Promise.all(Array.from({ length: 10 }, () => login(fapi)));
    // Contention: ten at once for one share.
    const race = await Promise.all(
      us.map((u) => fapi('POST', '/v1/claims', { token: u.token, body: { code: hot.shareCode.code } })),
    );
    expect(race.filter((r) => r.status === 200)).toHaveLength(1);
    for (const u of us.slice(0, 3))
      expect((await fapi('POST', '/v1/claims', { token: u.token, body: { code: three.shareCode.code } })).status).toBe(
        200,
      );
    // A repeat: not a claim.
    expect(
      (await fapi('POST', '/v1/claims', { token: us[0]!.token, body: { code: three.shareCode.code } })).body.repeat,
    ).toBe(true);
    await figures.flush(fd.opsFigures, true);

    const got = await opsFigures(fd, fclock.t, 2);
    expect(got.minutes.map((m) => m.minute)).toEqual(['2027-07-03T07:59:00.000Z', '2027-07-03T08:00:00.000Z']);
    const row = got.minutes[1]!;
    expect(row).toMatchObject({ packets: 2, claims: 4, refunds: 0 });
    expect(row.conditionalFailures).toBeGreaterThanOrEqual(1);
    expect(row.conditionalWrites).toBeGreaterThan(row.conditionalFailures);
    // Quantiles are bucket bounds: present, ordered, and plausible for an in-process claim.
    expect(row.claimP50Ms).not.toBeNull();
    expect(row.claimP50Ms!).toBeGreaterThanOrEqual(1);
    expect(row.claimP99Ms!).toBeGreaterThanOrEqual(row.claimP50Ms!);
    expect(row.claimP99Ms!).toBeLessThanOrEqual(10_000);
    expect(got.minutes[0]).toMatchObject({ packets: 0, claims: 0, claimP50Ms: null, claimP99Ms: null });
    expect(got.totals).toMatchObject({
      packets: 2,
      claims: 4,
      claimP50Ms: row.claimP50Ms,
      claimP99Ms: row.claimP99Ms,
      refunds: 0,
    });
    expect(got.totals.contentionBps).toBe(Math.floor((row.conditionalFailures * 10_000) / row.conditionalWrites));
    expect(got.totals.contentionBps).toBeGreaterThan(0);
    expect(Number.isInteger(got.totals.contentionBps)).toBe(true);
    expect(got.sweep.oldestDueAgeSeconds).toBe(0);
    await expect(opsFigures(fd, fclock.t, 0)).rejects.toThrow(RangeError);
  });

  test('two instances write their own items; the minute merges them (counts, histograms, contention)', async () => {
    const minuteMs = Date.parse('2027-07-02T10:07:00.000Z');
    const statsA = { writes: 0, failures: 0 };
    const statsB = { writes: 0, failures: 0 };
    const a = new OpsAggregator({ instance: 'iA', stats: statsA });
    const b = new OpsAggregator({ instance: 'iB', stats: statsB });
    const claim = (agg: OpsAggregator, ms: number) => agg.request('POST /v1/claims', 200, ms, minuteMs + 5_000);
    statsA.writes += 40;
    statsA.failures += 4;
    for (let i = 0; i < 3; i++) a.request('POST /v1/packets', 201, 20, minuteMs + 1_000);
    for (const ms of [4, 6, 8, 9, 250, 3]) claim(a, ms);
    statsB.writes += 60;
    statsB.failures += 6;
    for (const ms of [5, 7, 8, 9, 12]) claim(b, ms);
    b.request('POST /v1/claims', 200, 2, minuteMs + 6_000, { repeat: true }); // not a claim
    b.request('POST /v1/claims', 409, 2, minuteMs + 6_000); // refused: not a claim
    b.refunds(2, minuteMs + 7_000);
    await a.flush(d.opsFigures, true);
    await b.flush(d.opsFigures, true);

    const items = await d.db.query({ keyCondition: 'pk = :pk', values: { ':pk': 'OPSMIN#2027-07-02T10:00:00.000Z' } });
    expect(items.items.map((i) => i.sk).sort()).toEqual(['2027-07-02T10:07:00.000Z#iA', '2027-07-02T10:07:00.000Z#iB']);
    for (const it of items.items) expect(it.expiresAt).toBe(minuteMs / 1000 + 2 * 86_400);

    const got = await opsFigures(d, Date.parse('2027-07-02T10:07:30Z'), 3);
    expect(got.minutes.map((m) => m.minute)).toEqual([
      '2027-07-02T10:05:00.000Z',
      '2027-07-02T10:06:00.000Z',
      '2027-07-02T10:07:00.000Z',
    ]);
    const row = got.minutes[2]!;
    expect(row).toMatchObject({ packets: 3, claims: 11, conditionalWrites: 100, conditionalFailures: 10, refunds: 2 });
    expect(row.claimP50Ms).toBe(10); // 11 latencies; the 6th smallest (8 ms) is in the ≤ 10 ms bucket
    expect(row.claimP99Ms).toBe(300); // the slowest, 250 ms, in the ≤ 300 ms bucket
    expect(got.totals).toMatchObject({
      packets: 3,
      claims: 11,
      claimP50Ms: 10,
      claimP99Ms: 300,
      contentionBps: 1_000,
      refunds: 2,
    });

    // The same through GET /v1/admin/ops (admin only), with the reconciliation beside it.
    const opsClock = new Clock(Date.parse('2027-07-02T10:07:30Z'));
    const oapi = makeApi(testDeps({ clock: opsClock }));
    const admin = await login(oapi, { roles: ['admin'] });
    const r = await oapi('GET', '/v1/admin/ops', { token: admin.token, query: { minutes: '3' } });
    expect(r.status).toBe(200);
    expect(r.body.minutes[2]).toEqual(row);
    expect(r.body.totals).toEqual(got.totals);
    expect(r.body).toHaveProperty('reconciliation');
    const user = await login(oapi);
    expect((await oapi('GET', '/v1/admin/ops', { token: user.token })).status).toBe(403);
  });

  test('flush rate: at most every 5 s on the real clock or when the minute turns; off by env; a failing store fails nothing', async () => {
    let real = 1_000_000;
    const agg = new OpsAggregator({ instance: 'iR', realNow: () => real, stats: { writes: 0, failures: 0 } });
    const db = recordingDb();
    const m0 = Date.parse('2027-07-05T00:00:00Z');
    const saved = process.env.OPS_FIGURES;
    process.env.OPS_FIGURES = 'on';
    try {
      // Many claims within 5 s: no write at all.
      for (let i = 0; i < 50; i++) {
        agg.request('POST /v1/claims', 200, 5, m0 + 1_000 + i);
        await agg.flush(new DynamoOpsFiguresStore(db));
      }
      expect(db.updates).toHaveLength(0);
      // 5 s later: one UpdateItem (ADD) for the minute, whatever the number of claims.
      real += 5_000;
      agg.request('POST /v1/claims', 200, 5, m0 + 6_000);
      await agg.flush(new DynamoOpsFiguresStore(db));
      expect(db.updates).toHaveLength(1);
      expect(db.updates[0]!.key).toEqual({ pk: 'OPSMIN#2027-07-05T00:00:00.000Z', sk: '2027-07-05T00:00:00.000Z#iR' });
      expect(db.updates[0]!.update).toMatch(/^ADD /);
      expect(db.updates[0]!.values[':claims']).toBe(51);
      // The minute turns (1 s later on the real clock): the finished minute is written at once.
      real += 1_000;
      agg.request('POST /v1/claims', 200, 5, m0 + 59_000);
      agg.request('POST /v1/claims', 200, 5, m0 + 60_500);
      await agg.flush(new DynamoOpsFiguresStore(db));
      expect(db.updates.map((u) => [u.key.sk, u.values[':claims']])).toEqual([
        ['2027-07-05T00:00:00.000Z#iR', 51],
        ['2027-07-05T00:00:00.000Z#iR', 1],
        ['2027-07-05T00:01:00.000Z#iR', 1],
      ]);
      // Off: nothing, however long it waits (forced flushes still write: tests, shutdown).
      process.env.OPS_FIGURES = 'off';
      real += 60_000;
      agg.request('POST /v1/claims', 200, 5, m0 + 61_000);
      await agg.flush(new DynamoOpsFiguresStore(db));
      expect(db.updates).toHaveLength(3);
      process.env.OPS_FIGURES = 'on';
      // A store that throws: the flush resolves (the request it ends is not failed).
      await expect(agg.flush(new DynamoOpsFiguresStore(recordingDb(true)))).resolves.toBeUndefined();
    } finally {
      process.env.OPS_FIGURES = saved;
    }
  });

  test('a request whose store is down still answers, counts its 5xx and flushes nothing it cannot', async () => {
    const saved = process.env.OPS_FIGURES;
    process.env.OPS_FIGURES = 'on';
    try {
      const broken = baseDb();
      broken.get = async () => {
        throw new Error('store down');
      };
      broken.update = async () => {
        throw new Error('store down');
      };
      const u = await login(api);
      const r = await makeApi(buildDeps(loadConfig(), broken, { now: clock.now }))('GET', '/v1/wallet', {
        token: u.token,
      });
      expect(r.status).toBe(500);
      expect(r.body.error.code).toBe('INTERNAL');
    } finally {
      process.env.OPS_FIGURES = saved;
    }
  });
});

// The figures store's reader pages an hour partition (many instances × 60 minutes).
test('DynamoOpsFiguresStore.read spans hour partitions', async () => {
  const store = new DynamoOpsFiguresStore(d.db);
  const agg = new OpsAggregator({ instance: 'iH', stats: { writes: 0, failures: 0 } });
  agg.request('POST /v1/packets', 201, 3, Date.parse('2027-07-06T09:59:10Z'));
  agg.request('POST /v1/packets', 201, 3, Date.parse('2027-07-06T10:00:10Z'));
  await agg.flush(d.opsFigures, true);
  const got = await store.read('2027-07-06T09:59:00.000Z', '2027-07-06T10:00:00.000Z');
  expect([...got.entries()].map(([m, c]) => [m, c.packets])).toEqual([
    ['2027-07-06T09:59:00.000Z', 1],
    ['2027-07-06T10:00:00.000Z', 1],
  ]);
});
