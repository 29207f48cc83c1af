/**
 * Hot packets past one partition (docs/capacity.md). Slots layout (packets stored before the
 * recorded layout): packets of > 100 shares count their claims on several counter items of 100
 * and keep each counter's slots under its own partition. Recorded layout (new packets): every
 * packet has ⌈count / 10⌉ counters that record their takers; a claim takes on its home counter,
 * or — that one full — on another behind its claim marker. These tests run the money invariants
 * (docs/rules.md) against the real store protocol on both: one share per account across
 * counters, Σ = total, the claim list exact, settlement closing every counter before it refunds,
 * and the crash windows of each claim path.
 */
import { claim } from '../../functions/src/app/claims';
import { slotOfAccount } from '../../functions/src/app/slots';
import { FEE_ACCOUNTS } from '../../functions/src/app/context';
import { createPacket } from '../../functions/src/app/packets';
import { settlePacket } from '../../functions/src/app/settlement';
import { DomainError } from '../../functions/src/domain/errors';
import {
  counterCount,
  counterOf,
  homeCounter,
  RECORDED_SHARES_PER_COUNTER,
  SHARES_PER_COUNTER,
  ShareLayouts,
} from '../../functions/src/domain/share-counters';
import { queryAll } from '../../functions/src/store/db';
import { Keys } from '../../functions/src/store/keys';
import {
  Clock,
  idem,
  inBatches,
  login,
  makeApi,
  sendPacket,
  testDeps,
  topup,
  type Api,
  type TestUser,
} from '../helpers/app';
import { ledgerOf, violations } from '../helpers/invariants';
import { dynamoItemBytes } from '../helpers/item-size';
import { recordedName } from '../../functions/src/store/recorded';

/** Slots layout: the mechanics of packets stored before (100-share counters, slot items, voids). */
const d = testDeps({ layout: ShareLayouts.slots });
const api = makeApi(d);
/** Recorded layout (the configured default): counters of ten that record their takers. */
const rd = testDeps({ layout: ShareLayouts.recorded });
const rApi = makeApi(rd);

const who = (u: TestUser, tier: 'personal' | 'enterprise' | 'provider' = 'personal') => ({
  userId: u.userId,
  name: u.name,
  tier,
  roles: ['user'],
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
  return 'OK';
}

/**
 * The bank test's run: a 1,000-share enterprise packet and 1,200 accounts each claiming twice
 * at once. Every answer is a share, PACKET_FINISHED or CLAIM_IN_PROGRESS; an account's answers
 * name one share, once as new; exactly 1,000 winners whose shares make the total.
 */
async function bankRun(call: Api) {
  const sender = await login(call, { tier: 'enterprise', name: '某某公司' });
  await topup(call, sender, 100_000);
  await topup(call, sender, 100_000);
  await topup(call, sender, 1_200); // the 0.6 % fee
  const sent = await sendPacket(call, sender, { total: 200_000, count: 1_000, mode: 'lucky' });
  const users: TestUser[] = await inBatches(1_200, 100, () => login(call));
  const results = await inBatches(1_200, 150, async (i) => {
    const u = users[i]!;
    const rs = await Promise.all(
      [0, 1].map(() => call('POST', '/v1/claims', { token: u.token, body: { code: sent.shareCode.code } })),
    );
    return { u, rs };
  });
  let sum = 0;
  const winners: Array<{ u: TestUser; amount: number }> = [];
  for (const { u, rs } of results) {
    for (const r of rs) {
      expect([200, 409]).toContain(r.status);
      if (r.status === 409) expect(['PACKET_FINISHED', 'CLAIM_IN_PROGRESS']).toContain(r.body.error.code);
    }
    const ok = rs.filter((r) => r.status === 200);
    if (ok.length === 0) continue;
    expect(new Set(ok.map((r) => r.body.amount)).size).toBe(1); // a repeat returns the same share
    expect(ok.filter((r) => r.body.repeat === false)).toHaveLength(1);
    winners.push({ u, amount: ok[0]!.body.amount });
    sum += ok[0]!.body.amount as number;
  }
  expect(winners).toHaveLength(1_000);
  expect(sum).toBe(200_000);
  return { sender, sent, users, winners };
}

/**
 * One account's 20 parallel claims on a 500-share packet: one share, once as new, the others a
 * repeat or CLAIM_IN_PROGRESS; one share recorded to it and one credit. Returns that share.
 */
async function greedyRun(call: Api, deps: typeof d) {
  const sender = await login(call, { tier: 'enterprise' });
  await topup(call, sender, 10_100);
  const sent = await sendPacket(call, sender, { total: 10_000, count: 500, mode: 'equal' });
  const greedy = await login(call);
  const rs = await Promise.all(
    Array.from({ length: 20 }, () =>
      call('POST', '/v1/claims', { token: greedy.token, body: { code: sent.code.code } }),
    ),
  );
  const ok = rs.filter((r) => r.status === 200);
  expect(ok.filter((r) => !r.body.repeat)).toHaveLength(1);
  for (const r of rs.filter((x) => x.status !== 200)) expect(r.body.error.code).toBe('CLAIM_IN_PROGRESS');
  const p = (await deps.packets.get(sent.packet.id))!;
  expect(p.claimed).toBe(1);
  const mine = (await deps.claims.slots(p)).filter((s) => s.userId === greedy.userId);
  expect(mine).toHaveLength(1);
  expect(await ledgerOf(deps, greedy.userId)).toHaveLength(1);
  return { p, greedy, mine: mine[0]! };
}

describe('hot packets: shares spread over counter items (slots layout: packets stored before)', () => {
  test('the bank test on a sharded 1,000-share packet: 1,200 users × 2 concurrent claims, 1,000 winners, one share each, Σ = total', async () => {
    const { sender, sent, users, winners } = await bankRun(api);
    const stored = await d.packets.get(sent.packet.id);
    expect(stored?.counters).toBe(10);

    // Every counter handed out exactly its range; every slot sits under its counter's partition.
    const p = (await d.packets.get(sent.packet.id))!;
    const counters = await d.packets.counters(p);
    expect(counters.map((c) => [c.start, c.size, c.claimed])).toEqual(
      Array.from({ length: 10 }, (_, k) => [k * 100, 100, 100]),
    );
    for (let k = 0; k < 10; k++) {
      const part = await queryAll(d.db, { keyCondition: 'pk = :pk', values: { ':pk': Keys.slotsPk(p.id, k) } });
      expect(part).toHaveLength(100);
      for (const it of part) expect(counterOf(Number.parseInt(it.sk, 10))).toBe(k);
    }

    // Each claim's amount came back from its counter's update: it is the stored split's share.
    const split = (await d.packets.shares(p.id))!.amounts;
    const all = await d.claims.slots(p);
    expect(all.every((s) => s.amount === split[s.index])).toBe(true);

    // The claim list is exact: 1,000 claimers, each once, amounts summing to the total, one 手气最佳.
    const view = await api('GET', `/v1/packets/${p.id}`, { token: sender.token });
    expect(view.body.status).toBe('finished');
    expect(view.body.claimedCount).toBe(1_000);
    expect(view.body.claims).toHaveLength(1_000);
    expect(new Set(view.body.claims.map((c: { userId: string }) => c.userId)).size).toBe(1_000);
    expect(view.body.claimedAmount).toBe(200_000);
    expect(view.body.claims.filter((c: { best: boolean }) => c.best)).toHaveLength(1);
    const best = view.body.claims.find((c: { best: boolean }) => c.best);
    expect(best.amount).toBe(Math.max(...view.body.claims.map((c: { amount: number }) => c.amount)));

    // Wallets: each winner holds exactly its share; a loser holds nothing.
    for (const w of winners.slice(0, 50)) expect((await d.wallets.state(w.u.userId)).balance).toBe(w.amount);
    const losers = users.filter((u) => !winners.some((w) => w.u.userId === u.userId));
    expect(losers).toHaveLength(200);
    for (const u of losers.slice(0, 20)) expect((await d.wallets.state(u.userId)).balance).toBe(0);
    // A winner's repeat finds its share through its marker (one read), not by reading every counter.
    const again = await api('POST', '/v1/claims', { token: winners[0]!.u.token, body: { code: sent.shareCode.code } });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ repeat: true, amount: winners[0]!.amount });
    const opened = await api('GET', `/v1/codes/${encodeURIComponent(sent.shareCode.code)}`, {
      token: winners[1]!.u.token,
    });
    expect(opened.body).toMatchObject({
      claimable: false,
      reason: 'ALREADY_CLAIMED',
      myClaim: { amount: winners[1]!.amount },
    });

    expect(
      await violations(d, {
        users: [sender.userId, ...users.map((u) => u.userId)],
        packets: [p.id],
        feeAccounts: FEE_ACCOUNTS,
      }),
    ).toEqual([]);
  }, 300_000);

  test('one account, 20 parallel claims on a sharded packet: one share', async () => {
    await greedyRun(api, d);
  });

  test('settlement closes every counter before it refunds; a share taken but never recorded is voided and refunded', async () => {
    const t0 = Date.parse('2026-11-28T05:00:00Z');
    const clock = new Clock(t0);
    const dd = testDeps({ clock, layout: ShareLayouts.slots });
    const sApi = makeApi(dd);
    const sender = await login(sApi, { tier: 'enterprise' });
    await topup(sApi, sender, 30_000);
    const created = await createPacket(
      dd,
      who(sender, 'enterprise'),
      { total: 29_000, count: 290, mode: 'lucky', ttlSeconds: 600 },
      idem(),
    );
    const { packet, shareCode } = created.body as {
      packet: { id: string; expiresAt: string };
      shareCode: { code: string };
    };
    expect(counterCount(290)).toBe(3);
    const claimers = await inBatches(40, 20, () => login(sApi));
    const got = await inBatches(40, 20, (i) => claim(dd, who(claimers[i]!), shareCode.code).then((r) => r.body.amount));
    // A claim that took a share and died before recording it (W2 done, W3 never).
    const orphan = await dd.packets.takeShare(packet.id, clock.now());
    expect(orphan.kind).toBe('taken');
    const orphanIndex = (orphan as { index: number }).index;
    const stored = (await dd.packets.get(packet.id))!;
    expect(stored.claimed).toBe(41);

    // Before expiry the packet cannot be settled.
    expect(await settlePacket(dd, packet.id, clock.now())).toEqual({ refunded: 0, settled: false });
    clock.t = Date.parse(packet.expiresAt) + 1;
    // A claim racing the sweeper with a clock one second behind: the counter's own expiry check
    // lets it through until settlement closes the counters; after that it is refused.
    const late = await login(sApi);
    const lateDeps = testDeps({ clock: new Clock(Date.parse(packet.expiresAt) - 1_000), layout: ShareLayouts.slots });
    const settled = await settlePacket(dd, packet.id, clock.now());
    const granted = got.reduce((a, x) => a + x, 0);
    expect(settled).toEqual({ refunded: 29_000 - granted, settled: true });
    expect(await codeOf(claim(lateDeps, who(late), shareCode.code))).toBe('PACKET_EXPIRED');
    const counters = await dd.packets.counters((await dd.packets.get(packet.id))!);
    expect(counters.every((c) => c.closed)).toBe(true);
    expect(counters.reduce((a, c) => a + c.claimed, 0)).toBe(41);
    // The orphaned index is sealed: a late slot put for it fails.
    const slots = await dd.claims.slots({ id: packet.id, count: 290 });
    expect(slots.find((s) => s.index === orphanIndex)?.void).toBe(true);
    expect(
      await dd.claims.putSlot(packet.id, {
        index: orphanIndex,
        userId: late.userId,
        name: 'x',
        amount: 1,
        at: new Date(clock.t).toISOString(),
        seqHint: 0,
      }),
    ).toBe(false);
    // Settling again refunds nothing more.
    expect(await settlePacket(dd, packet.id, clock.now() + 60_000)).toEqual({ refunded: 0, settled: false });
    const refunds = (await ledgerOf(dd, sender.userId)).filter((e) => e.opId === `refund:${packet.id}`);
    expect(refunds.map((e) => e.amount)).toEqual([29_000 - granted]);
    const view = await sApi('GET', `/v1/packets/${packet.id}`, { token: sender.token });
    expect(view.body).toMatchObject({
      status: 'refunded',
      claimedCount: 40,
      claimedAmount: granted,
      refundedAmount: 29_000 - granted,
    });
    expect(
      await violations(dd, {
        users: [sender.userId, ...claimers.map((u) => u.userId), late.userId],
        packets: [packet.id],
        feeAccounts: FEE_ACCOUNTS,
      }),
    ).toEqual([]);
  }, 120_000);

  test('a claim that recorded its slot but died before its credit: the retry finds the slot and credits it once', async () => {
    const t0 = Date.parse('2026-11-28T06:00:00Z');
    const clock = new Clock(t0);
    const dd = testDeps({ clock, layout: ShareLayouts.slots });
    const sApi = makeApi(dd);
    const sender = await login(sApi, { tier: 'enterprise' });
    await topup(sApi, sender, 20_200);
    const created = await createPacket(
      dd,
      who(sender, 'enterprise'),
      { total: 20_000, count: 200, mode: 'equal', ttlSeconds: 600 },
      idem(),
    );
    const { packet, shareCode } = created.body as { packet: { id: string }; shareCode: { code: string } };
    const u = await login(sApi);
    // W1 marker, W2 counter, W3 slot — then the request dies (no note, no credit).
    expect(
      await dd.claims.putMarker({
        packetId: packet.id,
        userId: u.userId,
        at: new Date(clock.t).toISOString(),
        atMs: clock.now(),
        attempt: 0,
        seqHint: 0,
      }),
    ).toBe(true);
    const taken = await dd.packets.takeShare(packet.id, clock.now());
    const index = (taken as { index: number }).index;
    expect(
      await dd.claims.putSlot(packet.id, {
        index,
        userId: u.userId,
        name: u.name,
        amount: 100,
        at: new Date(clock.t).toISOString(),
        seqHint: 0,
      }),
    ).toBe(true);
    expect((await dd.claims.marker(packet.id, u.userId))?.index).toBeUndefined();
    // While the first request could be alive, the fast lookup does not see the slot.
    expect(await dd.claims.slotOf({ id: packet.id, count: 200 }, u.userId, { thorough: false })).toBeUndefined();
    clock.t = t0 + 20_000; // past the takeover time
    const r = await claim(dd, who(u), shareCode.code);
    expect(r.body).toMatchObject({ amount: 100, repeat: true });
    // The credit names the slot (no note on the marker): the fast lookup finds it from now on.
    expect((await ledgerOf(dd, u.userId)).map((e) => e.amount)).toEqual([100]);
    expect((await dd.wallets.find(u.userId, 0, `claim:${packet.id}`))?.slotIndex).toBe(index);
    expect(await slotOfAccount(dd, { id: packet.id, count: 200 }, u.userId, { thorough: false })).toMatchObject({
      index,
      userId: u.userId,
    });
    const again = await claim(dd, who(u), shareCode.code);
    expect(again.body).toMatchObject({ amount: 100, repeat: true });
    expect(await ledgerOf(dd, u.userId)).toHaveLength(1);
    const p = (await dd.packets.get(packet.id))!;
    expect(p.claimed).toBe(1);
    expect(SHARES_PER_COUNTER).toBe(100);
  });

  test('a provider packet of 10,000 shares has 100 counters; a personal packet keeps the single counter', async () => {
    const provider = await login(api, { tier: 'provider' });
    await topup(api, provider, 100_000);
    await topup(api, provider, 100_000);
    await topup(api, provider, 1_000);
    const big = await sendPacket(api, provider, { total: 200_000, count: 10_000, mode: 'equal' });
    const p = (await d.packets.get(big.packet.id))!;
    expect(p.counters).toBe(100);
    const counters = await d.packets.counters(p);
    expect(counters).toHaveLength(100);
    expect(counters[99]).toMatchObject({ start: 9_900, size: 100, claimed: 0, closed: false });
    // A counter carries its 100 amounts and stays one write unit (< 1 KB) even for big shares.
    const item = (await d.db.get(Keys.shareCounter(p.id, 99)))!;
    expect(item.amounts).toEqual((await d.packets.shares(p.id))!.amounts.slice(9_900));
    expect(
      Buffer.byteLength(JSON.stringify({ ...item, amounts: (item.amounts as number[]).map(() => 1_999_999) })),
    ).toBeLessThan(1_024);
    const u = await login(api);
    const r = await api('POST', '/v1/claims', { token: u.token, body: { code: big.shareCode.code } });
    expect(r.body.amount).toBe(20);
    expect((await d.packets.get(p.id))!.claimed).toBe(1);

    const person = await login(api);
    await topup(api, person, 1_000);
    const small = await sendPacket(api, person, { total: 1_000, count: 100, mode: 'equal' });
    const sp = (await d.packets.get(small.packet.id))!;
    expect(sp.counters).toBeUndefined();
    expect(await d.db.get(Keys.shareCounter(sp.id, 0))).toBeUndefined();
  }, 120_000);
});

describe('hot packets: counters of ten that record their takers (recorded layout)', () => {
  test('the bank test on a recorded 1,000-share packet: 1,200 users × 2 concurrent claims, 1,000 winners, one share each across counters (overflow claims included), Σ = total', async () => {
    const { sender, sent, users, winners } = await bankRun(rApi);
    const stored = (await rd.packets.get(sent.packet.id))!;
    expect(stored).toMatchObject({ layout: 'recorded', counters: 100 });

    // Every counter handed out exactly its range of ten, each share recorded to its taker.
    const p = (await rd.packets.get(sent.packet.id))!;
    const counters = await rd.packets.counters(p);
    expect(counters.map((c) => [c.start, c.size, c.claimed])).toEqual(
      Array.from({ length: 100 }, (_, k) => [k * 10, 10, 10]),
    );
    const split = (await rd.packets.shares(p.id))!.amounts;
    const holders = new Map<string, number[]>();
    let home = 0;
    for (let k = 0; k < 100; k++) {
      const recs = await rd.claims.counterSlots(p, k);
      expect(recs.map((s) => s.index)).toEqual(Array.from({ length: 10 }, (_, i) => k * 10 + i));
      for (const s of recs) {
        // The amount recorded is the stored split's share, and the claim answered it.
        expect(s.amount).toBe(split[s.index]);
        holders.set(s.userId, [...(holders.get(s.userId) ?? []), k]);
        if (homeCounter(p.id, s.userId, 100) === k) home++;
      }
    }
    // Nobody holds two shares, on one counter or across counters; the holders are the winners.
    expect([...holders.values()].filter((ks) => ks.length > 1)).toEqual([]);
    expect([...holders.keys()].sort()).toEqual(winners.map((w) => w.u.userId).sort());
    for (const w of winners) {
      const k = holders.get(w.u.userId)![0]!;
      expect((await rd.claims.counterSlots(p, k)).find((s) => s.userId === w.u.userId)?.amount).toBe(w.amount);
    }
    // 12 claimers per counter on average: many homes filled, so both ways were taken. The ones
    // that took elsewhere wrote their claim marker (the gate across counters), the others none.
    const overflow = winners.filter((w) => homeCounter(p.id, w.u.userId, 100) !== holders.get(w.u.userId)![0]);
    expect(home).toBeGreaterThan(0);
    expect(overflow.length).toBeGreaterThan(0);
    expect(home + overflow.length).toBe(1_000);
    for (const w of overflow.slice(0, 20)) expect(await rd.claims.marker(p.id, w.u.userId)).toBeDefined();
    const homeWinner = winners.find((w) => !overflow.includes(w))!;
    expect(await rd.claims.marker(p.id, homeWinner.u.userId)).toBeUndefined();

    // The claim list is exact: 1,000 claimers, each once, amounts summing to the total, one 手气最佳.
    const view = await rApi('GET', `/v1/packets/${p.id}`, { token: sender.token });
    expect(view.body.status).toBe('finished');
    expect(view.body.claimedCount).toBe(1_000);
    expect(view.body.claims).toHaveLength(1_000);
    expect(new Set(view.body.claims.map((c: { userId: string }) => c.userId)).size).toBe(1_000);
    expect(view.body.claimedAmount).toBe(200_000);
    expect(view.body.claims.filter((c: { best: boolean }) => c.best)).toHaveLength(1);

    // Wallets: each winner holds exactly its share; a loser holds nothing.
    for (const w of winners.slice(0, 50)) expect((await rd.wallets.state(w.u.userId)).balance).toBe(w.amount);
    const losers = users.filter((u) => !holders.has(u.userId));
    expect(losers).toHaveLength(200);
    for (const u of losers.slice(0, 20)) expect((await rd.wallets.state(u.userId)).balance).toBe(0);
    // A repeat finds its share, whichever way it took it, and takes nothing more.
    for (const w of [homeWinner, overflow[0]!]) {
      const again = await rApi('POST', '/v1/claims', { token: w.u.token, body: { code: sent.shareCode.code } });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ repeat: true, amount: w.amount });
      expect(await ledgerOf(rd, w.u.userId)).toHaveLength(1);
    }

    expect(
      await violations(rd, {
        users: [sender.userId, ...users.map((u) => u.userId)],
        packets: [p.id],
        feeAccounts: FEE_ACCOUNTS,
      }),
    ).toEqual([]);
  }, 300_000);

  test('one account, 20 parallel claims on a recorded packet: one share', async () => {
    const { p, greedy, mine } = await greedyRun(rApi, rd);
    // It took on its home counter (room there): one write was gate, take and record.
    expect(counterOf(mine.index, ShareLayouts.recorded)).toBe(homeCounter(p.id, greedy.userId, 50));
  });

  test('settlement closes every counter before it refunds; a take recorded but never credited is credited once; nothing is voided', async () => {
    const t0 = Date.parse('2026-11-28T05:30:00Z');
    const clock = new Clock(t0);
    const dd = testDeps({ clock, layout: ShareLayouts.recorded });
    const sApi = makeApi(dd);
    const sender = await login(sApi, { tier: 'enterprise' });
    await topup(sApi, sender, 30_000);
    const created = await createPacket(
      dd,
      who(sender, 'enterprise'),
      { total: 29_000, count: 290, mode: 'lucky', ttlSeconds: 600 },
      idem(),
    );
    const { packet, shareCode } = created.body as {
      packet: { id: string; expiresAt: string };
      shareCode: { code: string };
    };
    const p0 = (await dd.packets.get(packet.id))!;
    expect(p0.counters).toBe(29);
    const claimers = await inBatches(40, 20, () => login(sApi));
    const got = await inBatches(40, 20, (i) => claim(dd, who(claimers[i]!), shareCode.code).then((r) => r.body.amount));
    // A claim that took its share on its home counter and died before its credit.
    const dead = await login(sApi);
    const home = homeCounter(packet.id, dead.userId, 29);
    const taken = await dd.packets.takeRecorded(
      p0,
      home,
      { userId: dead.userId, name: dead.name, atMs: clock.now(), seqHint: 0 },
      clock.now(),
    );
    expect(taken.kind).toBe('taken');
    const deadShare = (taken as { slot: { amount: number; index: number } }).slot;
    expect(await ledgerOf(dd, dead.userId)).toEqual([]);
    expect((await dd.packets.get(packet.id))!.claimed).toBe(41);

    // Before expiry the packet cannot be settled.
    expect(await settlePacket(dd, packet.id, clock.now())).toEqual({ refunded: 0, settled: false });
    clock.t = Date.parse(packet.expiresAt) + 1;
    // A claim racing the sweeper with a clock one second behind: the counter's own expiry check
    // lets it through until settlement closes the counters; after that it is refused.
    const late = await login(sApi);
    const lateDeps = testDeps({
      clock: new Clock(Date.parse(packet.expiresAt) - 1_000),
      layout: ShareLayouts.recorded,
    });
    const settled = await settlePacket(dd, packet.id, clock.now());
    const granted = got.reduce((a, x) => a + x, 0) + deadShare.amount;
    expect(settled).toEqual({ refunded: 29_000 - granted, settled: true });
    expect(await codeOf(claim(lateDeps, who(late), shareCode.code))).toBe('PACKET_EXPIRED');
    const p = (await dd.packets.get(packet.id))!;
    const counters = await dd.packets.counters(p);
    // Closed, or full (a full counter takes nothing more, so settlement leaves it be).
    expect(counters.every((c) => c.closed || c.claimed >= c.size)).toBe(true);
    expect(counters.some((c) => c.closed)).toBe(true);
    expect(counters.reduce((a, c) => a + c.claimed, 0)).toBe(41);
    // The late claim left no record; the dead claim's record was credited by settlement, once.
    const slots = await dd.claims.slots(p);
    expect(slots).toHaveLength(41);
    expect(slots.some((s) => s.void)).toBe(false);
    expect(slots.some((s) => s.userId === late.userId)).toBe(false);
    expect((await ledgerOf(dd, dead.userId)).map((e) => [e.opId, e.amount])).toEqual([
      [`claim:${packet.id}`, deadShare.amount],
    ]);
    // A late take on a closed counter is refused by the counter itself.
    const closedTake = await dd.packets.takeRecorded(
      p,
      counters.find((c) => c.closed)!.counter,
      { userId: late.userId, name: late.name, atMs: clock.now(), seqHint: 0 },
      Date.parse(packet.expiresAt) - 1_000,
    );
    expect(closedTake.kind).toBe('refused');
    // Settling again refunds nothing more.
    expect(await settlePacket(dd, packet.id, clock.now() + 60_000)).toEqual({ refunded: 0, settled: false });
    const refunds = (await ledgerOf(dd, sender.userId)).filter((e) => e.opId === `refund:${packet.id}`);
    expect(refunds.map((e) => e.amount)).toEqual([29_000 - granted]);
    const view = await sApi('GET', `/v1/packets/${packet.id}`, { token: sender.token });
    expect(view.body).toMatchObject({
      status: 'refunded',
      claimedCount: 41,
      claimedAmount: granted,
      refundedAmount: 29_000 - granted,
    });
    expect(
      await violations(dd, {
        users: [sender.userId, ...claimers.map((u) => u.userId), late.userId, dead.userId],
        packets: [packet.id],
        feeAccounts: FEE_ACCOUNTS,
      }),
    ).toEqual([]);
  }, 120_000);

  test('a claim that recorded its take but died before its credit (home counter, and overflow): the retry finds the record and credits once', async () => {
    const t0 = Date.parse('2026-11-28T06:30:00Z');
    const clock = new Clock(t0);
    const dd = testDeps({ clock, layout: ShareLayouts.recorded });
    const sApi = makeApi(dd);
    const sender = await login(sApi, { tier: 'enterprise' });
    await topup(sApi, sender, 2_100);
    const created = await createPacket(
      dd,
      who(sender, 'enterprise'),
      { total: 2_000, count: 20, mode: 'equal', ttlSeconds: 600 },
      idem(),
    );
    const { packet, shareCode } = created.body as { packet: { id: string }; shareCode: { code: string } };
    const p = (await dd.packets.get(packet.id))!;
    expect(p.counters).toBe(2);
    const taker = (u: TestUser) => ({ userId: u.userId, name: u.name, atMs: clock.now(), seqHint: 0 });

    // Ten claims whose home is the same counter take it and die before their credit (W1 only):
    // that counter is full. Then `u`, of the same home, overflows (marker, take elsewhere) and dies too.
    const pool = await inBatches(40, 20, () => login(sApi));
    const u = pool[0]!;
    const h = homeCounter(p.id, u.userId, 2);
    const sameHome = pool.slice(1).filter((x) => homeCounter(p.id, x.userId, 2) === h);
    expect(sameHome.length).toBeGreaterThanOrEqual(10);
    const fillers = sameHome.slice(0, 10);
    for (const f of fillers) expect((await dd.packets.takeRecorded(p, h, taker(f), clock.now())).kind).toBe('taken');
    expect((await dd.packets.takeRecorded(p, h, taker(u), clock.now())).kind).toBe('full');
    expect(
      await dd.claims.putMarker({
        packetId: p.id,
        userId: u.userId,
        at: new Date(clock.t).toISOString(),
        atMs: clock.now(),
        attempt: 0,
        seqHint: 0,
      }),
    ).toBe(true);
    const elsewhere = await dd.packets.takeRecordedElsewhere(p, h, taker(u), clock.now());
    expect(elsewhere.kind).toBe('taken');
    const uShare = (elsewhere as { slot: { index: number; amount: number } }).slot;
    expect(counterOf(uShare.index, ShareLayouts.recorded)).toBe(1 - h);

    // The retries, later: each finds its own record and is credited once, nothing more is taken.
    clock.t = t0 + 20_000;
    for (const x of [...fillers, u]) {
      const r = await claim(dd, who(x), shareCode.code);
      expect(r.body).toMatchObject({ amount: 100, repeat: true });
      const again = await claim(dd, who(x), shareCode.code);
      expect(again.body).toMatchObject({ amount: 100, repeat: true });
      expect((await ledgerOf(dd, x.userId)).map((e) => [e.opId, e.amount])).toEqual([[`claim:${p.id}`, 100]]);
    }
    expect((await dd.packets.get(p.id))!.claimed).toBe(11);
    // Recorded where they took: the fillers on their home, `u` on the other counter.
    const found = await slotOfAccount(dd, p, u.userId, { thorough: false });
    expect(found).toMatchObject({ index: uShare.index, userId: u.userId });
    expect((await dd.claims.counterSlots(p, h)).map((s) => s.userId).sort()).toEqual(
      fillers.map((f) => f.userId).sort(),
    );
    expect(RECORDED_SHARES_PER_COUNTER).toBe(10);
    expect(
      await violations(dd, {
        users: [sender.userId, ...fillers.map((f) => f.userId), u.userId],
        packets: [p.id],
        feeAccounts: FEE_ACCOUNTS,
      }),
    ).toEqual([]);
  }, 120_000);

  test('a provider packet of 10,000 shares has 1,000 counters of ten; a claim lands on its home counter; a packet of ≤ 10 shares has one counter', async () => {
    const provider = await login(rApi, { tier: 'provider' });
    await topup(rApi, provider, 100_000);
    await topup(rApi, provider, 100_000);
    await topup(rApi, provider, 1_000);
    const big = await sendPacket(rApi, provider, { total: 200_000, count: 10_000, mode: 'equal' });
    const p = (await rd.packets.get(big.packet.id))!;
    expect(p).toMatchObject({ layout: 'recorded', counters: 1_000 });
    const counters = await rd.packets.counters(p);
    expect(counters).toHaveLength(1_000);
    expect(counters[999]).toMatchObject({ start: 9_990, size: 10, claimed: 0, closed: false });
    const u = await login(rApi);
    const r = await rApi('POST', '/v1/claims', { token: u.token, body: { code: big.shareCode.code } });
    expect(r.body.amount).toBe(20);
    expect((await rd.packets.get(p.id))!.claimed).toBe(1);
    // On its home counter, recorded in the take's own write; no claim marker (it did not overflow).
    const home = homeCounter(p.id, u.userId, 1_000);
    const item = (await rd.db.get(Keys.shareCounter(p.id, home)))!;
    expect(item).toMatchObject({ claimed: 1, ix: { [u.userId]: 0 } });
    expect(await rd.claims.marker(p.id, u.userId)).toBeUndefined();
    // The worst full counter: ten records with account ids as long as real ones, names cut to
    // their 12 bytes, hints of six digits, a forward on every record, seven-digit shares, closed
    // and carrying the door's write token — still one write unit (< 1 KB as DynamoDB sizes it).
    const rec = (item.recs as Array<Record<string, unknown>>)[0]!;
    const full = (amount: number) => ({
      ...item,
      claimed: 10,
      closed: true,
      amounts: (item.amounts as number[]).map(() => amount),
      ix: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`${u.userId.slice(0, -1)}${i}`, i])),
      recs: Array.from({ length: 10 }, () => ({
        ...rec,
        n: recordedName('八个汉字的名字啊'),
        h: 999_999,
        v: `f${'x'.repeat(15)}`,
      })),
    });
    expect(dynamoItemBytes(full(1_999_999))).toBeLessThan(1_024);

    const person = await login(rApi);
    await topup(rApi, person, 1_000);
    const small = await sendPacket(rApi, person, { total: 1_000, count: 10, mode: 'equal' });
    const sp = (await rd.packets.get(small.packet.id))!;
    expect(sp).toMatchObject({ layout: 'recorded', counters: 1 });
    expect(await rd.db.get(Keys.shareCounter(sp.id, 0))).toMatchObject({ start: 0, size: 10, claimed: 0 });
  }, 120_000);
});
