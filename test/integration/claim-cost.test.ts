/**
 * What one claim costs the table, measured claim by claim through the real claim handler on
 * dynalite (scripts/bench/claim-cost.ts: consumed capacity of every write, index writes counted
 * from the index keys written, every door call timed). On a plain (≤ 100 shares) and a sharded
 * (> 100 shares) packet, every first claim stays within the claim's budget.
 */
import { ClaimCostMeter, shaper, type ClaimCost } from '../../scripts/bench/claim-cost';
import {
  baseDb,
  Clock,
  inBatches,
  login,
  makeApi,
  sendPacket,
  testDeps,
  topup,
  uniq,
  type TestUser,
} from '../helpers/app';
import { loadConfig } from '../../functions/src/config';
import { buildDeps } from '../../functions/src/app/deps';

const d = testDeps();
const api = makeApi(d);
const meter = new ClaimCostMeter(baseDb());
const measured = makeApi(buildDeps(loadConfig(), meter.db));

/**
 * The budget of one first claim in a warm function: write units in all (indexes included), on
 * any one partition, store requests and sequential round trips. Before the cuts: 7 WCU plain,
 * 8 sharded (2 on the marker's partition), 9–10 requests, 6 round trips.
 */
const BUDGET = { wcu: 4, partitionWcu: 1, requests: 6, sequential: 5 };

async function costsOf(count: number, claimers: number): Promise<ClaimCost[]> {
  const sender = await login(api, { tier: count > 100 ? 'enterprise' : 'personal' });
  await topup(api, sender, 100_000);
  const sent = await sendPacket(api, sender, { total: 2 * count * 10, count, mode: 'lucky' });
  // Each claimer logs in from its own device, as the mini-program does (login binds it).
  const users: TestUser[] = await inBatches(claimers, 20, () => login(api, { device: uniq('dev') }));
  const out: ClaimCost[] = [];
  // One at a time: each claim's figures are its own (the meter also scopes them).
  for (const u of users) {
    out.push(
      await meter.measure(
        async () =>
          (await measured('POST', '/v1/claims', { token: u.token, body: { code: sent.shareCode.code } })).status,
        shaper(sent.packet.id),
      ),
    );
  }
  // The first claim of a packet in a process reads the packet (and a sharded one's counters)
  // into the process's cache; a warm function's claims are the others.
  expect(out[0]!.requests).toBeGreaterThan(out[1]!.requests);
  return out.slice(1);
}

/** What a first claim writes, and nothing else: no rate counter, no device binding, no marker note. */
function expectWrites(c: ClaimCost, sharded: boolean) {
  const take = sharded ? /^CNTR#<packet>#\d+$/ : /^PKT#<packet>$/;
  const slots = sharded ? /^SLOTS#<packet>(#\d+)?$/ : /^SLOTS#<packet>$/;
  const keys = Object.keys(c.writes);
  expect(keys.filter((k) => !k.startsWith('index ')).sort()).toEqual(
    ['CLAIM#<packet>#<user>', keys.find((k) => take.test(k)), 'LEDGER#<user>', keys.find((k) => slots.test(k))].sort(),
  );
}

function expectWithinBudget(costs: ClaimCost[]) {
  for (const c of costs) {
    expect(c.status).toBe(200);
    expect(c.wcu).toBeLessThanOrEqual(BUDGET.wcu);
    expect(c.maxPartitionWcu).toBeLessThanOrEqual(BUDGET.partitionWcu);
    expect(c.requests).toBeLessThanOrEqual(BUDGET.requests);
    expect(c.sequential).toBeLessThanOrEqual(BUDGET.sequential);
  }
}

describe('the cost of a claim', () => {
  test('plain packet (100 shares): marker, take, slot, credit only; within the budget', async () => {
    const costs = await costsOf(100, 12);
    // Not the last share (that claim also reads the claim list for 手气最佳).
    expectWithinBudget(costs);
    for (const c of costs) expectWrites(c, false);
  });

  test('sharded packet (300 shares): the same writes (no marker note), within the budget', async () => {
    const costs = await costsOf(300, 12);
    expectWithinBudget(costs);
    for (const c of costs) expectWrites(c, true);
  });
});

describe('the claim rate limit counts on the ledger', () => {
  test('claims counted across other entries of the minute: the 21st claim of the minute is refused, a top-up in between changes nothing', async () => {
    const clock = new Clock(Date.parse('2026-11-28T07:20:05Z'));
    const rd = testDeps({ clock });
    const rapi = makeApi(rd);
    const sender = await login(rapi);
    await topup(rapi, sender, 100_000);
    const codes: string[] = [];
    for (let i = 0; i < 21; i++)
      codes.push((await sendPacket(rapi, sender, { total: 100, count: 1, mode: 'equal' })).shareCode.code);
    const claimer = await login(rapi, { device: uniq('dev') });
    for (let i = 0; i < 20; i++) {
      expect((await rapi('POST', '/v1/claims', { token: claimer.token, body: { code: codes[i] } })).status).toBe(200);
      if (i === 9) await topup(rapi, claimer, 1); // a ledger entry of another kind carries the count on
    }
    const tail = await rd.wallets.state(claimer.userId);
    expect({ min: tail.claimMin, n: tail.claimN }).toEqual({ min: Date.parse('2026-11-28T07:20:00Z'), n: 20 });
    const r = await rapi('POST', '/v1/claims', { token: claimer.token, body: { code: codes[20] } });
    expect({ s: r.status, c: r.body.error?.code }).toEqual({ s: 429, c: 'RATE_LIMITED' });
    expect((await rd.wallets.state(claimer.userId)).balance).toBe(20 * 100 + 1);
    clock.advance(60_000);
    expect((await rapi('POST', '/v1/claims', { token: claimer.token, body: { code: codes[20] } })).status).toBe(200);
    expect(await rd.wallets.state(claimer.userId)).toMatchObject({
      claimMin: Date.parse('2026-11-28T07:21:00Z'),
      claimN: 1,
    });
  });
});

describe('the device binding a claim refreshes', () => {
  test('bound and seen within the hour: not written; seen longer ago: its last use moves to the claim', async () => {
    const clock = new Clock(Date.parse('2026-11-28T08:00:00Z'));
    const rd = testDeps({ clock });
    const rapi = makeApi(rd);
    const sender = await login(rapi);
    await topup(rapi, sender, 10_000);
    const codes: string[] = [];
    for (let i = 0; i < 2; i++)
      codes.push((await sendPacket(rapi, sender, { total: 100, count: 1, mode: 'equal' })).shareCode.code);
    const device = uniq('dev');
    const claimer = await login(rapi, { device }); // login binds the device at 08:00
    const seen = async () =>
      (await rd.risk.deviceStanding(device)).accounts.find((a) => a.id === claimer.userId)?.lastSeenMs;
    expect(await seen()).toBe(clock.t);
    clock.advance(59 * 60_000);
    expect((await rapi('POST', '/v1/claims', { token: claimer.token, body: { code: codes[0] } })).status).toBe(200);
    expect(await seen()).toBe(Date.parse('2026-11-28T08:00:00Z'));
    clock.advance(2 * 60_000);
    expect((await rapi('POST', '/v1/claims', { token: claimer.token, body: { code: codes[1] } })).status).toBe(200);
    expect(await seen()).toBe(clock.t);
  });
});
