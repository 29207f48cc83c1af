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
import { homeCounter, type ShareLayout } from '../../functions/src/domain/share-counters';

const meter = new ClaimCostMeter(baseDb());
const apis = {
  recorded: { setup: makeApi(testDeps()), measured: makeApi(buildDeps(loadConfig(), meter.db)) },
  slots: {
    setup: makeApi(testDeps({ layout: 'slots' })),
    measured: makeApi(buildDeps({ ...loadConfig(), shareLayout: 'slots' }, meter.db)),
  },
} as const;

/**
 * The budget of one first claim in a warm function: write units in all (indexes included), on
 * any one partition, store requests and sequential round trips. Recorded layout: the take on the
 * home counter and the credit. Slots layout (packets stored before): marker, take, slot, credit
 * (before the cuts: 7 WCU plain, 8 sharded, 9–10 requests, 6 round trips). A claim whose home
 * counter is full writes a marker before taking elsewhere.
 */
const BUDGET = {
  recorded: { wcu: 2, partitionWcu: 1, requests: 4, sequential: 3 },
  overflow: { wcu: 3, partitionWcu: 1, requests: 6, sequential: 4 },
  slots: { wcu: 4, partitionWcu: 1, requests: 6, sequential: 5 },
} as const;

async function costsOf(layout: ShareLayout, count: number, claimers: number): Promise<ClaimCost[]> {
  const api = apis[layout].setup;
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
          (await apis[layout].measured('POST', '/v1/claims', { token: u.token, body: { code: sent.shareCode.code } }))
            .status,
        shaper(sent.packet.id),
      ),
    );
  }
  // The first claim of a packet in a process reads the packet (and its counters) into the
  // process's cache; a warm function's claims are the others.
  expect(out[0]!.requests).toBeGreaterThan(out[1]!.requests);
  return out.slice(1);
}

const tableWrites = (c: ClaimCost) => Object.keys(c.writes).filter((k) => !k.startsWith('index '));

/** What a first claim of the slots layout writes, and nothing else: no rate counter, no device binding, no marker note. */
function expectSlotWrites(c: ClaimCost, sharded: boolean) {
  const take = sharded ? /^CNTR#<packet>#\d+$/ : /^PKT#<packet>$/;
  const slots = sharded ? /^SLOTS#<packet>(#\d+)?$/ : /^SLOTS#<packet>$/;
  const keys = tableWrites(c);
  expect(keys.sort()).toEqual(
    ['CLAIM#<packet>#<user>', keys.find((k) => take.test(k)), 'LEDGER#<user>', keys.find((k) => slots.test(k))].sort(),
  );
}

/** A home take writes its counter and the claimer's ledger, nothing else: no marker, no slot. */
function expectHomeWrites(c: ClaimCost) {
  const keys = tableWrites(c).sort();
  expect(keys).toHaveLength(2);
  expect(keys[0]).toMatch(/^CNTR#<packet>#\d+$/);
  expect(keys[1]).toBe('LEDGER#<user>');
}

interface Budget {
  wcu: number;
  partitionWcu: number;
  requests: number;
  sequential: number;
}

function expectWithinBudget(costs: ClaimCost[], budget: Budget) {
  for (const c of costs) {
    expect(c.status).toBe(200);
    expect(c.wcu).toBeLessThanOrEqual(budget.wcu);
    expect(c.maxPartitionWcu).toBeLessThanOrEqual(budget.partitionWcu);
    expect(c.requests).toBeLessThanOrEqual(budget.requests);
    expect(c.sequential).toBeLessThanOrEqual(budget.sequential);
  }
}

describe('the cost of a claim', () => {
  test.each([10, 100, 300])(
    'recorded layout, %i shares: the home take and the credit only — 2 WCU, 4 requests, 3 round trips',
    async (count) => {
      // Few claimers on many homes: no home fills (an overflow claim is measured below).
      const costs = await costsOf('recorded', count, count === 10 ? 6 : 12);
      expectWithinBudget(costs, BUDGET.recorded);
      for (const c of costs) {
        expectHomeWrites(c);
        expect(c.wcu).toBe(2);
      }
    },
  );

  test('recorded layout, a claim whose home counter is full: marker, a take elsewhere, the credit', async () => {
    const api = apis.recorded.setup;
    const sender = await login(api);
    await topup(api, sender, 100_000);
    // 20 shares: two counters of ten. Twelve claimers whose home is counter 0: the first ten
    // fill it, the last two find it full and take from counter 1.
    const sent = await sendPacket(api, sender, { total: 2_000, count: 20, mode: 'equal' });
    const homedAt0: TestUser[] = [];
    while (homedAt0.length < 12) {
      const u = await login(api, { device: uniq('dev') });
      if (homeCounter(sent.packet.id, u.userId, 2) === 0) homedAt0.push(u);
    }
    const costs: ClaimCost[] = [];
    for (const u of homedAt0) {
      costs.push(
        await meter.measure(
          async () =>
            (
              await apis.recorded.measured('POST', '/v1/claims', {
                token: u.token,
                body: { code: sent.shareCode.code },
              })
            ).status,
          shaper(sent.packet.id),
        ),
      );
    }
    for (const c of costs.slice(0, 10)) expect(tableWrites(c).sort()).toEqual(['CNTR#<packet>#0', 'LEDGER#<user>']);
    // The claim that filled counter 0 told the process so: the next claims homed there read
    // their home (a share of their own there would be a repeat) beside the marker, with no
    // refused update on it.
    for (const c of costs.slice(10))
      expect(tableWrites(c).sort()).toEqual(['CLAIM#<packet>#<user>', 'CNTR#<packet>#1', 'LEDGER#<user>']);
    expectWithinBudget(costs.slice(1, 9), BUDGET.recorded);
    // The claim that filled counter 0 also read the other counter, beside its credit, to tell
    // whether it took the packet's last share: one more request, no more round trips.
    expectWithinBudget([costs[9]!], { ...BUDGET.recorded, requests: BUDGET.recorded.requests + 1 });
    expectWithinBudget(costs.slice(10), BUDGET.overflow);
    const all = await api('GET', `/v1/packets/${sent.packet.id}`, { token: sender.token });
    expect(all.body.claims).toHaveLength(12);
    expect(new Set(all.body.claims.map((c: { userId: string }) => c.userId)).size).toBe(12);
  });

  test('slots layout (packets stored before), 100 shares: marker, take, slot, credit only; within its budget', async () => {
    const costs = await costsOf('slots', 100, 12);
    expectWithinBudget(costs, BUDGET.slots);
    for (const c of costs) expectSlotWrites(c, false);
  });

  test('slots layout, 300 shares (sharded): the same writes (no marker note), within its budget', async () => {
    const costs = await costsOf('slots', 300, 12);
    expectWithinBudget(costs, BUDGET.slots);
    for (const c of costs) expectSlotWrites(c, true);
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
