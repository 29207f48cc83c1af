/**
 * Settlement of a 10,000-share provider packet in bounded sweep runs: the packet sits at the
 * head of the due list with 20 small packets behind it. Each run has a budget the test sets,
 * measured on a clock the test controls (one tick per store request, so the figures do not
 * depend on how loaded the machine is): the first run settles every small packet, each run
 * stops inside its budget and says what is left, the big packet settles over several runs and
 * refunds exactly once, and the money invariants hold over the whole world.
 *
 * Own table (in the shared dynalite), so no other file's due work enters these runs.
 */
import { randomBytes } from 'node:crypto';
import { claim } from '../../functions/src/app/claims';
import { FEE_ACCOUNTS } from '../../functions/src/app/context';
import { buildDeps } from '../../functions/src/app/deps';
import { createPacket } from '../../functions/src/app/packets';
import { sweep, type SweepReport } from '../../functions/src/app/sweeper';
import { loadConfig } from '../../functions/src/config';
import { ShareLayouts, type ShareLayout } from '../../functions/src/domain/share-counters';
import { DynamoDb, type Db } from '../../functions/src/store/db';
import { ensureTable } from '../../scripts/local-store.js';
import { seedBigPacket } from '../helpers/big-packet';
import { Clock, idem, inBatches, login, makeApi, topup } from '../helpers/app';
import { ledgerOf, violations } from '../helpers/invariants';
import { TEST_REGION } from '../helpers/dynalite';

// An era before every other file's (they use 2025 and later): no item of theirs is due this
// early, so this file's sweeps, which count what is left, see only its own packets.
const T0 = Date.parse('2021-11-28T07:00:00Z');

/** A store that counts its requests: the sweep's clock in this test (1 request = 1 ms). */
class CountingDb implements Db {
  requests = 0;
  constructor(private readonly inner: Db) {}
  get: Db['get'] = (...a) => (this.requests++, this.inner.get(...a));
  put: Db['put'] = (...a) => (this.requests++, this.inner.put(...a));
  update: Db['update'] = (...a) => (this.requests++, this.inner.update(...a));
  query: Db['query'] = (...a) => (this.requests++, this.inner.query(...a));
  scan: Db['scan'] = (...a) => (this.requests++, this.inner.scan(...a));
  batchGet: Db['batchGet'] = (keys, c) => (
    (this.requests += Math.ceil(keys.length / 100)), this.inner.batchGet(keys, c)
  );
  batchPut: Db['batchPut'] = (items) => ((this.requests += Math.ceil(items.length / 25)), this.inner.batchPut(items));
}

const who = (u: { userId: string; name: string }, tier: 'personal' | 'provider' = 'personal') => ({
  userId: u.userId,
  name: u.name,
  tier,
  roles: ['user'],
});

/**
 * A table of its own in the shared dynalite, and deps on it with a clock the test moves; new
 * packets take `layout` (slots: 100-share counters and slot items, as packets stored before;
 * recorded: counters of ten that record their takers).
 */
async function isolatedWorld(layout: ShareLayout) {
  const tableName = `hongbao-settle-${randomBytes(4).toString('hex')}`;
  await ensureTable(process.env.DYNAMODB_ENDPOINT!, tableName, { region: TEST_REGION });
  const cfg = { ...loadConfig({ ...process.env, TABLE_NAME: tableName }), shareLayout: layout };
  const clock = new Clock(T0);
  const store = new DynamoDb({ tableName, region: cfg.region, endpoint: cfg.dynamoEndpoint });
  const d = { ...buildDeps(cfg, store, { now: clock.now }), db: store };
  /** Deps for a sweep whose store counts its requests (its budget clock). */
  const counted = () => {
    const db = new CountingDb(store);
    return { d: buildDeps(cfg, db, { now: clock.now }), db };
  };
  return { cfg, clock, store, d, api: makeApi(d), counted };
}

/**
 * How a layout's 10,000-share packet is seeded and what its settlement must show: the slots
 * layout has 100 counters of 100 and voids the shares taken by claims that died before their
 * slot; the recorded layout has 1,000 counters of 10 whose takes are their records, so nothing
 * is ever voided and the shares no claim took are all that is refunded.
 */
const SHAPES = {
  slots: { layout: ShareLayouts.slots, unclaimed: 10, unrecorded: 5, counters: 100, maxRuns: 40 },
  recorded: { layout: ShareLayouts.recorded, unclaimed: 15, unrecorded: 0, counters: 1_000, maxRuns: 40 },
} as const;
type Shape = (typeof SHAPES)[keyof typeof SHAPES];

/** Figures of the runs (requests per run, runs needed), per layout: printed once at the end. */
const figures: string[] = [];
afterAll(() => {
  if (figures.length && process.env.SETTLE_FIGURES) process.stdout.write(`${figures.join('\n')}\n`);
});

/**
 * The first run's budget fits 20 small packets and a start on the big one; later runs get less,
 * so the big packet takes several; each stays inside its budget by its own clock and by the
 * requests it made, and resumes where the last one stopped.
 */
async function settleTenThousand(shape: Shape) {
  const { clock, d, api, counted } = await isolatedWorld(shape.layout);

  // 20 small packets (due after the big one), each claimed once: the claimers' ledgers then
  // hold an entry, so their later big-packet credit sits behind their slot's hint.
  const smallSender = await login(api);
  await topup(api, smallSender, 20 * 1_000);
  const small: string[] = [];
  const smallClaimers = await inBatches(20, 10, () => login(api));
  for (let i = 0; i < 20; i++) {
    const made = await createPacket(
      d,
      who(smallSender),
      { total: 1_000, count: 4, mode: 'lucky', ttlSeconds: 600 },
      idem(),
    );
    const body = made.body as { packet: { id: string }; shareCode: { code: string } };
    small.push(body.packet.id);
    await claim(d, who(smallClaimers[i]!), body.shareCode.code);
  }

  const provider = await login(api, { tier: 'provider' });
  const total = 1_000_000;
  await topup(api, provider, 1_004_000); // the total and the 0.35 % fee (3,500), and some left
  const seed = await seedBigPacket(d, {
    sender: who(provider, 'provider'),
    count: 10_000,
    total,
    ttlSeconds: 60,
    unclaimed: shape.unclaimed,
    unrecorded: shape.unrecorded,
    uncredited: 10,
    behind: smallClaimers.map((u) => u.userId),
  });
  expect(seed.claimers).toHaveLength(9_985);
  expect(seed.uncredited).toHaveLength(10);
  const big = seed.packetId;
  const stored = (await d.packets.get(big))!;
  expect(stored.counters).toBe(shape.counters);
  expect(stored.layout).toBe(shape.layout === ShareLayouts.recorded ? 'recorded' : undefined);
  expect(stored.claimed).toBe(9_985 + shape.unrecorded);

  // Every packet has expired; the big one expired first, so it heads the due list.
  clock.t = T0 + 601_000;
  const { d: sd, db: counting } = counted();
  const budgets = [400, 150];
  const reports: SweepReport[] = [];
  const spent: number[] = [];
  for (let run = 0; run < shape.maxRuns; run++) {
    const budgetMs = budgets[Math.min(run, budgets.length - 1)]!;
    const before = counting.requests;
    const r = await sweep(sd, clock.now(), { budgetMs, clock: () => counting.requests });
    reports.push(r);
    spent.push(counting.requests - before);
    // Inside its budget by the run's own clock and by the requests it made.
    expect(r.errors).toBe(0);
    expect(r.budgetMs).toBe(budgetMs);
    expect(r.elapsedMs).toBeLessThanOrEqual(budgetMs);
    expect(counting.requests - before).toBeLessThanOrEqual(budgetMs);
    if ((await d.packets.get(big))?.state === 'settled') break;
    // Not done: the run says so, and what is left is the big packet, part-way.
    expect(r.outOfBudget).toBe(true);
    expect(r.left).toBe(1);
    expect(r.settling).toEqual([expect.objectContaining({ packetId: big, of: shape.counters })]);
    clock.advance(60_000);
  }
  figures.push(
    `${shape.layout}: 10,000 shares on ${shape.counters} counters settled in ${reports.length} runs, ${spent.reduce((a, b) => a + b, 0)} requests (per run: ${spent.join(' ')})`,
  );
  expect((await d.packets.get(big))?.state).toBe('settled');

  // First run: every small packet settled, the big one started and put back.
  expect(reports[0]!.examined).toBe(21);
  expect(reports[0]!.packetsSettled).toBe(20);
  for (const id of small) expect((await d.packets.get(id))?.state).toBe('settled');
  // It took several runs, each resuming where the last one stopped.
  expect(reports.length).toBeGreaterThanOrEqual(3);
  const progress = reports.slice(0, -1).map((r) => r.settling[0]!.verified);
  for (let i = 1; i < progress.length; i++) expect(progress[i]!).toBeGreaterThan(progress[i - 1]!);
  expect(reports.at(-1)!).toMatchObject({
    packetsSettled: 1,
    packetsRefunded: 1,
    refunded: seed.unclaimedSum + seed.unrecordedSum,
    left: 0,
    outOfBudget: false,
    settling: [],
  });

  // The refund: once, the unclaimed shares plus the voided ones (recorded layout: none voided).
  const p = (await d.packets.get(big))!;
  expect(p.refundedAmount).toBe(seed.unclaimedSum + seed.unrecordedSum);
  const refunds = (await ledgerOf(d, provider.userId)).filter((e) => e.opId === `refund:${big}`);
  expect(refunds.map((e) => e.amount)).toEqual([seed.unclaimedSum + seed.unrecordedSum]);
  const slots = await d.claims.slots(p);
  expect(slots.filter((s) => s.void)).toHaveLength(shape.unrecorded);
  // Settled exactly: the granted shares and the refund make the total; each recorded share is
  // its seeded claimer's (so no account holds two).
  const granted = slots.filter((s) => !s.void);
  expect(granted.map((s) => s.userId).sort()).toEqual([...seed.claimers].sort());
  expect(granted.reduce((a, s) => a + s.amount, 0) + p.refundedAmount!).toBe(total);
  // Every counter is closed or full: no claim can take from it any more.
  expect((await d.packets.counters(p)).filter((c) => !c.closed && c.claimed < c.size)).toEqual([]);
  // The claims that died before their credit are credited now, once.
  for (const u of seed.uncredited)
    expect((await ledgerOf(d, u)).filter((e) => e.opId === `claim:${big}`)).toHaveLength(1);
  // Nothing more to do.
  const after = await sweep(sd, clock.now() + 60_000, { budgetMs: 150, clock: () => counting.requests });
  expect(after).toMatchObject({ examined: 0, left: 0, refunded: 0 });

  const users = [
    smallSender.userId,
    provider.userId,
    ...smallClaimers.map((u) => u.userId),
    ...seed.claimers.filter((u) => !smallClaimers.some((c) => c.userId === u)),
  ];
  // Every recorded share credited exactly once, refund = total − granted, conservation.
  expect(
    await violations(d, {
      users,
      packets: [big, ...small],
      topups: 20 * 1_000 + 1_004_000,
      feeAccounts: FEE_ACCOUNTS,
    }),
  ).toEqual([]);
}

/** Two sweepers race run after run over a 2,000-share packet with small budgets. */
async function settleWithTwoSweepers(shape: Shape) {
  const { clock, d, api, counted } = await isolatedWorld(shape.layout);
  const provider = await login(api, { tier: 'provider' });
  await topup(api, provider, 201_000);
  const seed = await seedBigPacket(d, {
    sender: who(provider, 'provider'),
    count: 2_000,
    total: 200_000,
    ttlSeconds: 60,
    unclaimed: 3,
    unrecorded: shape.unrecorded === 0 ? 0 : 2,
    uncredited: 4,
  });
  clock.t = seed.expiresAtMs + 1_000;
  const a = counted();
  const b = counted();
  let runs = 0;
  let peak = 0;
  while ((await d.packets.get(seed.packetId))?.state !== 'settled' && runs < shape.maxRuns) {
    runs++;
    const before = [a.db.requests, b.db.requests];
    const reports = await Promise.all(
      [a, b].map((x) => sweep(x.d, clock.now(), { budgetMs: 60, clock: () => x.db.requests })),
    );
    for (const [i, r] of reports.entries()) {
      expect(r.errors).toBe(0);
      expect(r.elapsedMs).toBeLessThanOrEqual(60);
      const made = [a, b][i]!.db.requests - before[i]!;
      peak = Math.max(peak, made);
      expect(made).toBeLessThanOrEqual(60);
    }
    clock.advance(60_000);
  }
  figures.push(
    `${shape.layout}: 2,000 shares, two sweepers of 60 each: ${runs} runs, peak ${peak} requests per sweeper`,
  );
  expect(runs).toBeGreaterThanOrEqual(2);
  expect((await d.packets.get(seed.packetId))?.state).toBe('settled');
  const refunds = (await ledgerOf(d, provider.userId)).filter((e) => e.opId === `refund:${seed.packetId}`);
  expect(refunds.map((e) => e.amount)).toEqual([seed.unclaimedSum + seed.unrecordedSum]);
  for (const u of seed.uncredited)
    expect((await ledgerOf(d, u)).filter((e) => e.opId === `claim:${seed.packetId}`)).toHaveLength(1);
  expect(
    await violations(d, {
      users: [provider.userId, ...seed.claimers],
      packets: [seed.packetId],
      topups: 201_000,
      feeAccounts: FEE_ACCOUNTS,
    }),
  ).toEqual([]);
}

describe('settling a 10,000-share packet in bounded sweep runs (slots layout: packets stored before)', () => {
  test('small packets behind it all settle in the first run; every run stays in budget; one refund; the invariants hold', async () => {
    await settleTenThousand(SHAPES.slots);
  }, 600_000);

  test('two sweepers at once, run after run with small budgets, over a 2,000-share packet: their cursor writes race, one refund, the invariants hold', async () => {
    await settleWithTwoSweepers(SHAPES.slots);
  }, 300_000);
});

describe('settling a 10,000-share packet in bounded sweep runs (recorded layout: 1,000 counters of 10)', () => {
  test('small packets behind it all settle in the first run; every run stays in budget; each record credited once; one refund of what no claim took', async () => {
    await settleTenThousand(SHAPES.recorded);
  }, 600_000);

  test('two sweepers at once, run after run with small budgets, over a 2,000-share packet of 200 counters: their cursor writes race, one refund, the invariants hold', async () => {
    await settleWithTwoSweepers(SHAPES.recorded);
  }, 300_000);
});
