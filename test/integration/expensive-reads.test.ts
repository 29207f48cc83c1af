/**
 * The expensive reads: what a packet view reads (an outsider never reads the slots, measured
 * from the store's consumed capacity), and the per-account limits of the read routes — packet
 * views, code opens, campaign statistics and the campaign code export (429 RATE_LIMITED with
 * Retry-After, nothing else read or written).
 */
import { DEFAULT_RISK_RULES } from '../../functions/src/domain/risk';
import type { ReadInfo, WriteInfo } from '../../functions/src/store/db';
import { PROGRESS_FRESH_MS } from '../../functions/src/store/packets';
import { baseDb, Clock, login, makeApi, sendPacket, testDeps, topup, type Api, type TestUser } from '../helpers/app';

/** Every read and write the store makes, with its capacity, while `on`. */
class Meter {
  reads: ReadInfo[] = [];
  writes: WriteInfo[] = [];
  on = false;
  readonly afterRead = (i: ReadInfo) => {
    if (this.on) this.reads.push(i);
  };
  readonly afterWrite = (i: WriteInfo) => {
    if (this.on) this.writes.push(i);
  };
  async measure<T>(f: () => Promise<T>): Promise<T> {
    this.reads = [];
    this.writes = [];
    this.on = true;
    try {
      return await f();
    } finally {
      this.on = false;
    }
  }
  get readUnits(): number {
    return this.reads.reduce((a, r) => a + (r.capacity?.CapacityUnits ?? 0), 0);
  }
  get itemsRead(): number {
    return this.reads.reduce((a, r) => a + r.items, 0);
  }
  /** The partition kinds read (`PKT`, `CLAIM`, `CNTR`, `SLOTS`, …). */
  get kindsRead(): string[] {
    return [...new Set(this.reads.map((r) => r.pk.split('#')[0]!))].sort();
  }
  get kindsWritten(): string[] {
    return [...new Set(this.writes.map((w) => w.pk.split('#')[0]!))].sort();
  }
}

// Its own era: no other test file's sweep reaches these packets; a minute's start, so a run of
// calls stays in one rate window (the clock is frozen unless a test moves it).
const clock = new Clock(Date.parse('2028-03-01T02:00:00Z'));
const meter = new Meter();
const d = testDeps({
  clock,
  db: baseDb({ afterRead: meter.afterRead, afterWrite: meter.afterWrite, returnCapacity: true }),
});
const api = makeApi(d);
/** The same table and meter; new packets in the slots layout of packets stored before. */
const slotsApi = makeApi(testDeps({ clock, db: d.db, layout: 'slots' }));

const view = (u: TestUser, id: string) => api('GET', `/v1/packets/${id}`, { token: u.token });

describe('GET /v1/packets/{id}: who is an insider is decided without reading the shares', () => {
  test('recorded layout, a 10,000-share packet: an outsider’s view reads the packet, the caller’s home counter and marker, and the counters once per window', async () => {
    const sender = await login(api, { tier: 'provider', name: '某某平台' });
    await topup(api, sender, 20_000);
    const sent = await sendPacket(api, sender, { total: 10_000, count: 10_000, mode: 'equal' });
    const claimers = await Promise.all(Array.from({ length: 12 }, () => login(api)));
    for (const u of claimers)
      expect((await api('POST', '/v1/claims', { token: u.token, body: { code: sent.shareCode.code } })).status).toBe(
        200,
      );
    const stranger = await login(api);
    const outsider = await meter.measure(() => view(stranger, sent.packet.id));
    expect(outsider.body).toMatchObject({ claimedCount: 12, claimedAmount: 12, count: 10_000, status: 'active' });
    expect(outsider.body.claims).toBeUndefined();
    // The packet item, its 1,000 counters (eventually consistent, 10 BatchGetItems), the caller's
    // home counter (no record of it) and marker (absent), the sender's profile.
    expect(meter.kindsRead).toEqual(['ACCT', 'CLAIM', 'CNTR', 'PKT']);
    expect(meter.reads).toHaveLength(1 + 10 + 1 + 1 + 1);
    expect(meter.itemsRead).toBe(1 + 1_000 + 1 + 1);
    expect(meter.kindsWritten).toEqual(['PKT', 'RISKCNT']);
    // Within the window, any account's outsider view: the packet item, its home counter, its marker.
    for (const u of await Promise.all(Array.from({ length: 3 }, () => login(api)))) {
      const again = await meter.measure(() => view(u, sent.packet.id));
      expect(again.body).toMatchObject({ claimedCount: 12, claimedAmount: 12, status: 'active' });
      expect(meter.kindsRead).toEqual(['CLAIM', 'CNTR', 'PKT']);
      expect(meter.reads).toHaveLength(3);
      expect(meter.itemsRead).toBe(2);
      expect(meter.readUnits).toBeLessThanOrEqual(2.5);
    }
    // A claimer sees the claim list, read from the counters' records (no slot items exist).
    const mine = await meter.measure(() => view(claimers[0]!, sent.packet.id));
    expect(mine.body.claims).toHaveLength(12);
    expect(meter.kindsRead).not.toContain('SLOTS');
    expect(meter.kindsRead).toContain('CNTR');
  });

  test('slots layout, a 10,000-share packet: an outsider’s view reads the packet, the caller’s marker and the counters — never a slot', async () => {
    const api = slotsApi;
    const sender = await login(api, { tier: 'provider', name: '某某平台' });
    await topup(api, sender, 20_000);
    const sent = await sendPacket(api, sender, { total: 10_000, count: 10_000, mode: 'equal' });
    const claimers = await Promise.all(Array.from({ length: 12 }, () => login(api)));
    for (const u of claimers)
      expect((await api('POST', '/v1/claims', { token: u.token, body: { code: sent.shareCode.code } })).status).toBe(
        200,
      );
    const stranger = await login(api);

    const outsider = await meter.measure(() => view(stranger, sent.packet.id));
    expect(outsider.status).toBe(200);
    expect(outsider.body).toMatchObject({ claimedCount: 12, claimedAmount: 12, count: 10_000, status: 'active' });
    expect(outsider.body.claims).toBeUndefined();
    expect(outsider.body.forwards).toBeUndefined();
    // The packet item (consistent), the marker (absent), the 100 counters (eventually consistent),
    // and the sender's current name and avatar (one profile, eventually consistent; cached
    // briefly by the process: app/names.ts).
    expect(meter.kindsRead).toEqual(['ACCT', 'CLAIM', 'CNTR', 'PKT']);
    expect(meter.reads).toHaveLength(4);
    expect(meter.itemsRead).toBe(1 + 100 + 1);
    expect(meter.readUnits).toBeLessThanOrEqual(1 + 1 + 100 * 0.5 + 0.5);
    // The caller's read counter, and the counters' sum left on the packet item for later views.
    expect(meter.kindsWritten).toEqual(['PKT', 'RISKCNT']);

    // Every later outsider view in the window — any account — reads a handful of items: the
    // packet item (with the cached sum) and the caller's marker.
    const others = await Promise.all(Array.from({ length: 3 }, () => login(api)));
    for (const u of others) {
      const again = await meter.measure(() => view(u, sent.packet.id));
      expect(again.body).toMatchObject({ claimedCount: 12, claimedAmount: 12, status: 'active' });
      expect(meter.kindsRead).toEqual(['CLAIM', 'PKT']);
      expect(meter.itemsRead).toBeLessThanOrEqual(2);
      expect(meter.readUnits).toBeLessThanOrEqual(2);
      expect(meter.kindsWritten).toEqual(['RISKCNT']);
    }
    const outsiderUnits = meter.readUnits;
    const outsiderReads = meter.reads.length;
    // Past the window the next view reads the counters again and sees a new claim.
    const late = await login(api);
    expect((await api('POST', '/v1/claims', { token: late.token, body: { code: sent.shareCode.code } })).status).toBe(
      200,
    );
    clock.advance(PROGRESS_FRESH_MS);
    const fresh = await meter.measure(() => view(stranger, sent.packet.id));
    expect(fresh.body).toMatchObject({ claimedCount: 13, claimedAmount: 13 });
    expect(meter.kindsRead).toContain('CNTR');

    // A claimer and the sender see the claim list (and pay for it: every counter's slots).
    const mine = await meter.measure(() => view(claimers[0]!, sent.packet.id));
    expect(mine.body.claims).toHaveLength(13);
    expect(meter.kindsRead).toContain('SLOTS');
    expect(meter.readUnits).toBeGreaterThan(outsiderUnits);
    const claimerReads = meter.reads.length;
    const claimerUnits = meter.readUnits;
    const own = await view(sender, sent.packet.id);
    expect(own.body).toMatchObject({ claimedCount: 13, claimedAmount: 13, forwards: [], forwardsCursor: null });
    expect(own.body.claims).toHaveLength(13);
    console.log(
      `10,000-share packet, 13 claims: cached outsider view ${outsiderReads} requests, ${outsiderUnits} RCU; claimer view ${claimerReads} requests, ${claimerUnits} RCU`,
    );
  });

  test.each(['recorded', 'slots'] as const)(
    '%s layout, a small packet: outsiders get the summary with the claimed amount; a marker without a share is no claimer',
    async (layout) => {
      const api = layout === 'slots' ? slotsApi : makeApi(d);
      const alice = await login(api, { name: 'Alice' });
      const [bob, carol, eve] = await Promise.all([
        login(api, { name: 'Bob' }),
        login(api, { name: 'Carol' }),
        login(api, { name: 'Eve' }),
      ]);
      await topup(api, alice, 5_000);
      const sent = await sendPacket(api, alice, { total: 1_000, count: 5, mode: 'lucky' });
      const amounts: number[] = [];
      for (const u of [bob!, carol!])
        amounts.push(
          (await api('POST', '/v1/claims', { token: u.token, body: { code: sent.shareCode.code } })).body.amount,
        );

      const outsider = await meter.measure(() => view(eve!, sent.packet.id));
      expect(outsider.body).toMatchObject({ claimedCount: 2, claimedAmount: amounts[0]! + amounts[1]!, total: 1_000 });
      expect(outsider.body.claims).toBeUndefined();
      expect(meter.kindsRead).not.toContain('SLOTS');
      // Slots: the packet, the marker (absent), the share list (cached after), the sender's profile
      // (cached briefly). Recorded: the packet, its one counter (read for the summary, and again
      // as the caller's home), the marker (absent), the profile.
      expect(meter.itemsRead).toBeLessThanOrEqual(4);
      if (layout === 'recorded') expect(meter.kindsRead).toEqual(['ACCT', 'CLAIM', 'CNTR', 'PKT']);

      // A claim marker whose claim took no share (refused, or in flight): the slots are read once
      // more, and the caller is still shown the summary only.
      await d.claims.putMarker({
        packetId: sent.packet.id,
        userId: eve!.userId,
        at: new Date(clock.now()).toISOString(),
        atMs: clock.now(),
        attempt: 0,
        seqHint: 0,
      });
      const marked = await view(eve!, sent.packet.id);
      expect(marked.body.claims).toBeUndefined();
      expect(marked.body.claimedAmount).toBe(amounts[0]! + amounts[1]!);

      const claimer = await view(bob!, sent.packet.id);
      expect(claimer.body.claims.map((c: { name: string }) => c.name).sort()).toEqual(['Bob', 'Carol']);
      expect(claimer.body.claimedAmount).toBe(amounts[0]! + amounts[1]!);
    },
  );
});

/**
 * Calls `call` until the limit, then once more: each within the limit answers `ok`, the next
 * 429 RATE_LIMITED with Retry-After and reads nothing but writes the caller's counter (and the
 * first refusal's risk event and audit record).
 */
async function expectLimit(limit: number, call: () => ReturnType<Api>, ok: number): Promise<void> {
  for (let i = 0; i < limit; i++) {
    const r = await call();
    expect({ i, status: r.status }).toEqual({ i, status: ok });
  }
  const refused = await meter.measure(call);
  expect(refused.status).toBe(429);
  expect(refused.body.error.code).toBe('RATE_LIMITED');
  // The clock sits at a minute's start: 60 s to the next window.
  expect(refused.headers['retry-after']).toBe('60');
  expect(refused.body.error.details).toMatchObject({ retryAfter: 60, limit });
  // Nothing of what the route serves was read or written: only the risk store and the audit.
  for (const k of meter.kindsRead) expect(['AUDIT', 'RISKONCE']).toContain(k);
  for (const k of meter.kindsWritten) expect(['AUDIT', 'RISKCNT', 'RISKEV', 'RISKONCE']).toContain(k);
  // A further refusal in the same window writes only its counter.
  await meter.measure(call);
  expect(meter.kindsWritten).toEqual(['RISKCNT']);
  expect(meter.reads).toEqual([]);
}

describe('per-account limits of the expensive reads (per clock minute)', () => {
  beforeEach(() => {
    // Each test in a window of its own.
    clock.t = (Math.floor(clock.t / 60_000) + 1) * 60_000;
  });

  test('packet views: personal 60 a minute (the page polls every 3 s); the next minute is fresh; others are not affected', async () => {
    const limit = DEFAULT_RISK_RULES.personal.rate.packetViewsPerMinute;
    expect(limit).toBe(60);
    const alice = await login(api);
    const bob = await login(api);
    await topup(api, alice, 1_000);
    const sent = await sendPacket(api, alice, { total: 100, count: 1, mode: 'lucky' });
    await expectLimit(limit, () => view(bob, sent.packet.id), 200);
    // Another account is not counted with Bob.
    expect((await view(alice, sent.packet.id)).status).toBe(200);
    clock.advance(60_000);
    expect((await view(bob, sent.packet.id)).status).toBe(200);
  });

  test('code opens: personal 30 a minute; a forged code is refused before counting', async () => {
    const limit = DEFAULT_RISK_RULES.personal.rate.codeOpensPerMinute;
    const alice = await login(api);
    const bob = await login(api);
    await topup(api, alice, 1_000);
    const sent = await sendPacket(api, alice, { total: 100, count: 1, mode: 'lucky' });
    const open = () => api('GET', `/v1/codes/${encodeURIComponent(sent.shareCode.code)}`, { token: bob.token });
    // Forged codes cost only the signature check: they are not counted.
    for (let i = 0; i < 3; i++)
      expect((await api('GET', '/v1/codes/1.k1.pXXXX.1.AAAA', { token: bob.token })).status).toBe(400);
    await expectLimit(limit, open, 200);
  });

  test('campaign statistics (enterprise 12 a minute) and the code export (4 a minute), counted apart', async () => {
    const co = await login(api, { tier: 'enterprise', name: '某某商城' });
    await topup(api, co, 10_000);
    const made = await api('POST', '/v1/campaigns', {
      token: co.token,
      idem: `camp-${co.userId}`,
      body: { name: '限流', packet: { total: 300, count: 3, mode: 'lucky' }, quantity: 2 },
    });
    expect(made.status).toBe(201);
    const id = made.body.campaignId as string;
    const rules = DEFAULT_RISK_RULES.enterprise.rate;
    await expectLimit(rules.campaignStatsPerMinute, () => api('GET', `/v1/campaigns/${id}`, { token: co.token }), 200);
    await expectLimit(
      rules.campaignExportsPerMinute,
      () => api('GET', `/v1/campaigns/${id}/codes.csv`, { token: co.token }),
      200,
    );
  });
});
