/**
 * Campaigns: many packets in one call, one debit for all (totals + fees), idempotent as a whole,
 * crash-safe (a retry rebuilds exactly the missing packets), statistics and the CSV export.
 */
import { FEE_ACCOUNTS, feeAccountFor } from '../../functions/src/app/context';
import { settlePacket } from '../../functions/src/app/settlement';
import { sweep } from '../../functions/src/app/sweeper';
import { reconcile } from '../../functions/src/app/reconcile';
import { campaignPacketId, seededCryptoRandom } from '../../functions/src/domain/campaign';
import { feeFor } from '../../functions/src/domain/money';
import { counterCount, counterOf, homeCounter, ShareLayouts } from '../../functions/src/domain/share-counters';
import { derivedId } from '../../functions/src/domain/ids';
import { Keys } from '../../functions/src/store/keys';
import { Clock, baseDb, idem, login, makeApi, testDeps, topup } from '../helpers/app';
import { feeLedger, ledgerOf, violations } from '../helpers/invariants';

// Its own era: no other test file's global sweep reaches these packets.
const clock = new Clock(Date.parse('2027-09-01T02:00:00Z'));
const d = testDeps({ clock });
const api = makeApi(d);

const body = (quantity: number) => ({
  name: '双十一',
  packet: { total: 300, count: 3, mode: 'lucky', greeting: '感谢支持' },
  quantity,
});

describe('campaigns', () => {
  test('60 packets in one call: one debit for all with fees, codes claimable, stats, CSV, refunds, conservation', async () => {
    const co = await login(api, { tier: 'enterprise', name: '某某商城' });
    await topup(api, co, 100_000);
    const key = idem();
    const r = await api('POST', '/v1/campaigns', { token: co.token, idem: key, body: body(60) });
    expect(r.status).toBe(201);
    expect(r.body.packets).toHaveLength(60);
    const fee = feeFor(300, 60);
    expect(r.body).toMatchObject({ quantity: 60, debit: 60 * (300 + fee), fee: 60 * fee });
    // One ledger entry for the whole campaign, one fee credit.
    const entries = (await ledgerOf(d, co.userId)).filter((e) => e.type === 'packet_debit');
    expect(entries).toEqual([
      expect.objectContaining({ opId: `camp:${r.body.campaignId}`, amount: -60 * (300 + fee) }),
    ]);
    // Credited once, on the campaign's own fee shard.
    expect(
      (await feeLedger(d)).filter((e) => e.opId === `fee:camp:${r.body.campaignId}`).map((e) => [e.account, e.amount]),
    ).toEqual([[feeAccountFor(r.body.campaignId), 60 * fee]]);
    // Replay: the same answer; another body under the same key: 409.
    const again = await api('POST', '/v1/campaigns', { token: co.token, idem: key, body: body(60) });
    expect(again.body).toEqual(r.body);
    expect((await api('POST', '/v1/campaigns', { token: co.token, idem: key, body: body(61) })).status).toBe(409);

    // Claims through the printed codes: 3 users claim from each of the first 10 packets, 1 from the next 10.
    const users = await Promise.all(Array.from({ length: 3 }, () => login(api)));
    for (let i = 0; i < 20; i++) {
      for (const u of i < 10 ? users : users.slice(0, 1)) {
        const c = await api('POST', '/v1/claims', { token: u.token, body: { code: r.body.packets[i].code } });
        expect(c.status).toBe(200);
      }
      clock.advance(4 * 60_000); // 20 packets over 80 minutes: two UTC+8 hours of claims
    }
    const stats = await api('GET', `/v1/campaigns/${r.body.campaignId}`, { token: co.token });
    expect(stats.body).toMatchObject({
      packets: 60,
      packetsCreated: 60,
      packetsFinished: 10,
      shares: 180,
      claimedShares: 40,
      claimRateBps: 2_222,
      refundedAmount: 0,
    });
    expect(stats.body.claimsPerHour.reduce((a: number, h: { claims: number }) => a + h.claims, 0)).toBe(40);
    expect(stats.body.claimsPerHour.length).toBeGreaterThanOrEqual(2);
    const csv = await api('GET', `/v1/campaigns/${r.body.campaignId}/codes.csv`, { token: co.token });
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const rows = (csv.body as string).trim().split('\n');
    expect(rows[0]).toBe('index,packet_id,code,expires_at,link');
    expect(rows).toHaveLength(61);
    expect(rows[1]!.split(',')[1]).toBe(r.body.packets[0].id);
    // The printed code is a valid share code of its packet (opens the packet).
    const opened = await api('GET', `/v1/codes/${encodeURIComponent(rows[60]!.split(',')[2]!)}`, {
      token: users[0]!.token,
    });
    expect(opened.body.packet.id).toBe(r.body.packets[59].id);
    const list = await api('GET', '/v1/campaigns', { token: co.token });
    expect(list.body.items[0]).toMatchObject({
      campaignId: r.body.campaignId,
      name: '双十一',
      quantity: 60,
      state: 'active',
    });
    // Another enterprise cannot see it.
    const other = await login(api, { tier: 'enterprise' });
    expect((await api('GET', `/v1/campaigns/${r.body.campaignId}`, { token: other.token })).status).toBe(404);

    // Expiry: every packet settles; the unclaimed money returns, the fees stay with the platform.
    clock.advance(25 * 3_600_000);
    const ids = r.body.packets.map((p: { id: string }) => p.id);
    for (const id of ids) await settlePacket(d, id, clock.t);
    const after = await api('GET', `/v1/campaigns/${r.body.campaignId}`, { token: (await login(api)).token });
    expect(after.status).toBe(403); // personal accounts have no campaigns at all
    const claimed = 0;
    const v = await violations(d, {
      users: [co.userId, ...users.map((u) => u.userId)],
      packets: ids,
      topups: 100_000,
      feeAccounts: FEE_ACCOUNTS,
      campaigns: [r.body.campaignId],
    });
    expect(v).toEqual([]);
    const coBalance = (await d.wallets.state(co.userId)).balance;
    const claimedSum = (await Promise.all(users.map((u) => d.wallets.state(u.userId)))).reduce(
      (a, w) => a + w.balance,
      claimed,
    );
    expect(coBalance + claimedSum + 60 * fee).toBe(100_000);
    // Reconciliation knows campaign funding: one debit for all packets, the fee once.
    clock.advance(2 * 60_000);
    const rec = await reconcile(d, {
      scope: { accounts: [co.userId, ...users.map((u) => u.userId)], packets: ids, campaigns: [r.body.campaignId] },
      save: false,
    });
    expect(rec.listed).toEqual([]);
    expect(rec.balances + rec.escrow + rec.inTransit).toBe(rec.topups);
  }, 30_000);

  test('a crash in the middle of writing the packets: the retry writes exactly the missing ones, identical, one debit', async () => {
    const co = await login(api, { tier: 'provider' });
    await topup(api, co, 1_000_000);
    let batches = 0;
    const crashing = testDeps({
      clock,
      db: baseDb({
        beforeWrite: (w) => {
          // 100 packets of 3 shares, in four groups written side by side: each group's share lists
          // and counters (50 items) before its packet items (25). By the 250th item at most 200
          // are of the first kind, so the crash always falls among the packet items: some packets
          // exist (≥ 25 written before the crashed batch), never all (a group's packets wait for
          // its own first pass).
          if (w.op === 'batchWrite' && ++batches === 250) throw new Error('crash: Lambda died mid-campaign');
        },
      }),
    });
    const key = idem();
    const first = await makeApi(crashing)('POST', '/v1/campaigns', { token: co.token, idem: key, body: body(100) });
    expect(first.status).toBe(500);
    // What the crashed run wrote (packets and their shares): the retry must keep it as it is.
    const campaignId = derivedId('c', co.userId, 'campaign', key);
    const planned = Array.from({ length: 100 }, (_, i) => campaignPacketId(campaignId, i));
    const before = await d.packets.existing(planned);
    expect(before.size).toBeGreaterThan(0);
    expect(before.size).toBeLessThan(100);
    // Read from the table itself (PacketStore caches share lists per process).
    const stored = async (id: string) => (await d.db.get(Keys.shares(id)))?.amounts as number[];
    const sharesBefore = new Map(await Promise.all([...before].map(async (id) => [id, await stored(id)] as const)));
    // Meanwhile reconciliation sees the unwritten packets' money in transit, not lost.
    clock.advance(61_000);
    const mid = await reconcile(d, {
      scope: { accounts: [co.userId], packets: planned.filter((id) => before.has(id)), campaigns: [campaignId] },
      save: false,
    });
    expect(mid.listed).toEqual([]);
    expect(mid.inTransitBy.campaigns).toBe((100 - before.size) * 300); // the fees are already credited
    const retry = await api('POST', '/v1/campaigns', { token: co.token, idem: key, body: body(100) });
    expect(retry.status).toBe(201);
    const ids: string[] = retry.body.packets.map((p: { id: string }) => p.id);
    expect(ids).toEqual(Array.from({ length: 100 }, (_, i) => campaignPacketId(retry.body.campaignId, i)));
    expect((await d.packets.existing(ids)).size).toBe(100);
    // Each packet's shares are the deterministic split: sum to the total, same on every rebuild.
    for (const id of ids) {
      const shares = await stored(id);
      expect(shares.reduce((a, x) => a + x, 0)).toBe(300);
      if (sharesBefore.has(id)) expect(shares).toEqual(sharesBefore.get(id));
    }
    expect((await ledgerOf(d, co.userId)).filter((e) => e.opId.startsWith('camp:'))).toHaveLength(1);
    expect((await d.campaigns.get(retry.body.campaignId))?.state).toBe('active');
  }, 30_000);

  test('a request that died after the debit: the sweeper finishes the campaign; one that died before it: canceled', async () => {
    // Its own, earlier era: this test runs the global sweep (only items due by then are touched).
    const early = new Clock(Date.parse('2025-01-01T00:00:00Z'));
    const ed = testDeps({ clock: early });
    const eapi = makeApi(ed);
    const co = await login(eapi, { tier: 'enterprise' });
    await topup(eapi, co, 50_000);
    const dying = (failAt: (w: { op: string; pk: string }) => boolean) =>
      makeApi(
        testDeps({
          clock: early,
          db: baseDb({
            beforeWrite: (w) => {
              if (failAt(w)) throw new Error('crash');
            },
          }),
        }),
      );
    const k1 = idem();
    expect(
      (
        await dying((w) => w.op === 'batchWrite')('POST', '/v1/campaigns', {
          token: co.token,
          idem: k1,
          body: body(20),
        })
      ).status,
    ).toBe(500);
    const k2 = idem();
    expect(
      (
        await dying((w) => w.pk.startsWith('LEDGER#'))('POST', '/v1/campaigns', {
          token: co.token,
          idem: k2,
          body: body(5),
        })
      ).status,
    ).toBe(500);
    const c1 = derivedId('c', co.userId, 'campaign', k1);
    const c2 = derivedId('c', co.userId, 'campaign', k2);
    expect((await ed.campaigns.get(c1))?.state).toBe('funding');
    early.advance(3 * 60_000);
    const report = await sweep(ed, early.t);
    expect(report.campaignsCompleted).toBeGreaterThanOrEqual(1);
    expect((await ed.campaigns.get(c1))?.state).toBe('active');
    expect((await ed.packets.existing(Array.from({ length: 20 }, (_, i) => campaignPacketId(c1, i)))).size).toBe(20);
    expect((await ed.campaigns.get(c2))?.state).toBe('canceled');
    const fee = feeFor(300, 60);
    expect((await ed.wallets.state(co.userId)).balance).toBe(50_000 - 20 * (300 + fee));
  }, 30_000);

  test('limits and funds are checked for the whole campaign before anything is written; personal accounts are refused', async () => {
    const co = await login(api, { tier: 'enterprise' });
    await topup(api, co, 10_000);
    const poor = await api('POST', '/v1/campaigns', { token: co.token, idem: idem(), body: body(40) }); // 40 × 302 > 10,000
    expect({ s: poor.status, c: poor.body.error.code }).toEqual({ s: 402, c: 'INSUFFICIENT_FUNDS' });
    const big = await api('POST', '/v1/campaigns', {
      token: co.token,
      idem: idem(),
      body: { ...body(1), packet: { ...body(1).packet, total: 200_001 } },
    });
    expect(big.body.error.code).toBe('LIMIT_PER_PACKET');
    const tooMany = await api('POST', '/v1/campaigns', { token: co.token, idem: idem(), body: body(1_001) });
    expect(tooMany.status).toBe(400);
    expect((await d.wallets.state(co.userId)).balance).toBe(10_000);
    const person = await login(api);
    expect((await api('POST', '/v1/campaigns', { token: person.token, idem: idem(), body: body(1) })).status).toBe(403);
  });

  /**
   * Slots layout (campaign packets stored before): counters only past 100 shares, 100 each.
   * Recorded layout (new campaigns): always counters, ⌈count / 10⌉ of them, each recording its
   * takers, a claim taking on its home counter.
   */
  const layouts = [
    { layout: ShareLayouts.slots, ranges: [0, 100, 200].map((start) => [start, Math.min(100, 250 - start)]) },
    { layout: ShareLayouts.recorded, ranges: Array.from({ length: 25 }, (_, k) => [k * 10, 10]) },
  ];
  test.each(layouts)(
    'campaign packets get their counters ($layout layout): claims spread over them, stats and settlement exact',
    async ({ layout, ranges }) => {
      const ld = testDeps({ clock, layout });
      const lapi = makeApi(ld);
      const co = await login(lapi, { tier: 'enterprise' });
      await topup(lapi, co, 100_000);
      const r = await lapi('POST', '/v1/campaigns', {
        token: co.token,
        idem: idem(),
        body: { name: '大促', packet: { total: 25_000, count: 250, mode: 'lucky' }, quantity: 3 },
      });
      expect(r.status).toBe(201);
      const first = r.body.packets[0];
      for (const x of r.body.packets) {
        const p = (await ld.packets.get(x.id))!;
        expect(p.counters).toBe(counterCount(250, layout));
        expect(p.layout).toBe(layout === ShareLayouts.recorded ? 'recorded' : undefined);
        expect((await ld.packets.counters(p)).map((c) => [c.start, c.size, c.claimed])).toEqual(
          ranges.map(([start, size]) => [start, size, 0]),
        );
      }
      const users = await Promise.all(Array.from({ length: 30 }, () => login(lapi)));
      const got = await Promise.all(
        users.map((u) => lapi('POST', '/v1/claims', { token: u.token, body: { code: first.code } })),
      );
      expect(got.every((g) => g.status === 200 && g.body.repeat === false)).toBe(true);
      const p = (await ld.packets.get(first.id))!;
      // The claims spread over the counters, each share recorded to its claimer where it was taken
      // (recorded layout: on the claimer's home counter, none of which is anywhere near full).
      const counters = await ld.packets.counters(p);
      expect(counters.reduce((a, c) => a + c.claimed, 0)).toBe(30);
      expect(counters.filter((c) => c.claimed > 0).length).toBeGreaterThan(1);
      const slots = await ld.claims.slots(p);
      expect(slots.map((s) => s.userId).sort()).toEqual(users.map((u) => u.userId).sort());
      for (const [i, u] of users.entries()) {
        const s = slots.find((x) => x.userId === u.userId)!;
        expect(s.amount).toBe(got[i]!.body.amount);
        if (layout === ShareLayouts.recorded)
          expect(counterOf(s.index, layout)).toBe(homeCounter(p.id, u.userId, counters.length));
      }
      const stats = await lapi('GET', `/v1/campaigns/${r.body.campaignId}`, { token: co.token });
      expect(stats.body).toMatchObject({
        packets: 3,
        shares: 750,
        claimedShares: 30,
        claimedAmount: got.reduce((a, g) => a + (g.body.amount as number), 0),
      });
      clock.advance(25 * 3_600_000);
      for (const x of r.body.packets) await settlePacket(ld, x.id, clock.now());
      const settled = (await ld.packets.get(first.id))!;
      expect(settled).toMatchObject({
        state: 'settled',
        claimed: 30,
        refundedAmount: 25_000 - stats.body.claimedAmount,
      });
      for (const x of r.body.packets.slice(1))
        expect(await ld.packets.get(x.id)).toMatchObject({ state: 'settled', claimed: 0, refundedAmount: 25_000 });
      expect((await ld.packets.counters(settled)).every((c) => c.closed)).toBe(true);
      expect(
        await violations(ld, {
          users: [co.userId, ...users.map((u) => u.userId)],
          packets: r.body.packets.map((x: { id: string }) => x.id),
          feeAccounts: FEE_ACCOUNTS,
          campaigns: [r.body.campaignId],
        }),
      ).toEqual([]);
    },
    60_000,
  );

  test('recorded campaign packets of ≤ 10 shares have one counter of their own', async () => {
    const co = await login(api, { tier: 'enterprise' });
    await topup(api, co, 10_000);
    const r = await api('POST', '/v1/campaigns', { token: co.token, idem: idem(), body: body(2) });
    expect(r.status).toBe(201);
    for (const x of r.body.packets) {
      const p = (await d.packets.get(x.id))!;
      expect(p).toMatchObject({ layout: 'recorded', counters: 1 });
      expect((await d.packets.counters(p)).map((c) => [c.start, c.size, c.claimed])).toEqual([[0, 3, 0]]);
    }
  });

  test('the split source is deterministic per seed and label, and differs across labels', () => {
    const seed = Buffer.alloc(32, 7);
    const a = seededCryptoRandom(seed, 'packet:1');
    const b = seededCryptoRandom(seed, 'packet:1');
    const c = seededCryptoRandom(seed, 'packet:2');
    const xs = Array.from({ length: 50 }, () => a.int(0, 1_000_000));
    expect(Array.from({ length: 50 }, () => b.int(0, 1_000_000))).toEqual(xs);
    expect(Array.from({ length: 50 }, () => c.int(0, 1_000_000))).not.toEqual(xs);
    for (const x of xs) expect(x >= 0 && x <= 1_000_000).toBe(true);
  });
});
