/**
 * (j) Settling a 10,000-share provider packet: the packet is created by the real use case and
 * its claims are seeded through the store (test/helpers/big-packet.ts: 9,985 recorded shares,
 * 10 untaken and 5 taken but never recorded (recorded layout: 15 untaken), 10 recorded but not
 * credited, 20 credits behind their hint), then timed:
 *   1. one sweep without a budget over that packet: the wall time of one full settle (target
 *      < 10 s, the sweep function's timeout);
 *   2. the same on a second such packet with the sweep function's own budget (its 10 s timeout
 *      less the handler's reserve), run after run until it settles: runs and the longest run.
 * Each on its own table, so nothing else is due. Checked: settled, refunded once, the amount.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../../functions/src/config';
import { buildDeps, type Deps } from '../../functions/src/app/deps';
import { sweep, type SweepReport } from '../../functions/src/app/sweeper';
import { DynamoDb, queryAll, type Db } from '../../functions/src/store/db';
import { Keys } from '../../functions/src/store/keys';
import { routes as sessionRoutes } from '../../functions/handlers/session';
import { routes as walletRoutes } from '../../functions/handlers/wallet';
import { seedBigPacket, type BigPacketSeed } from '../../test/helpers/big-packet';
import { idemKey, inProcessApi } from './api';
import { createTable } from './store';
import { log, now, round } from './util';

/** The sweep function's budget on AWS: 10 s timeout less the handler's 2 s reserve. */
const LAMBDA_BUDGET_MS = 8_000;
export const SETTLE_TARGET_SECONDS = 10;

export interface SettleBench {
  shares: number;
  recordedShares: number;
  seedSeconds: number;
  /** One sweep, no budget: the whole packet. */
  fullSweepSeconds: number;
  fullSweepRequests: number;
  /** With the sweep function's budget: how many runs, and the longest. */
  budgetMs: number;
  runs: number;
  longestRunSeconds: number;
  refundOk: boolean;
  pass: boolean;
}

/** Counts the store requests of the sweep (a BatchGetItem of ≤ 100 keys is one). */
class RequestCountingDb implements Db {
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

/** A Deps on a fresh table (nothing else due there) with a movable clock. */
async function world(cfg: Config, endpoint: string) {
  const tableName = `${cfg.tableName}-settle-${randomBytes(3).toString('hex')}`;
  await createTable(endpoint, tableName);
  const db = new RequestCountingDb(new DynamoDb({ tableName, region: cfg.region, endpoint }));
  const clock = { t: Date.parse('2026-12-01T02:00:00Z') };
  // The bench forges and reads items under the stores, so it keeps the door beside the deps.
  const d = { ...buildDeps({ ...cfg, tableName }, db, { now: () => clock.t }), db };
  return { d, clock, requests: () => db.requests };
}

async function seed(d: Deps & { db: Db }): Promise<BigPacketSeed> {
  const api = inProcessApi([...sessionRoutes, ...walletRoutes], d);
  const login = async (tier?: string) => {
    const r = await api('POST', '/v1/session', {
      body: { devUser: `bs${randomBytes(4).toString('hex')}`, ...(tier ? { tier } : {}) },
    });
    return { userId: r.body.userId as string, name: r.body.name as string, token: r.body.token as string };
  };
  // 20 accounts with a ledger entry already (a top-up): their big-packet credit sits behind the hint.
  const behind = [];
  for (let i = 0; i < 20; i++) {
    const u = await login();
    await api('POST', '/v1/wallet/topups', { token: u.token, idem: idemKey(), body: { amount: 100 } });
    behind.push(u.userId);
  }
  const provider = await login('provider');
  await api('POST', '/v1/wallet/topups', { token: provider.token, idem: idemKey(), body: { amount: 1_004_000 } });
  return seedBigPacket(d, {
    sender: { userId: provider.userId, name: provider.name, tier: 'provider', roles: ['user'] },
    count: 10_000,
    total: 1_000_000,
    ttlSeconds: 60,
    // The recorded layout has no unrecorded shares (a take is its record): 15 untaken instead.
    unclaimed: d.cfg.shareLayout === 'recorded' ? 15 : 10,
    unrecorded: d.cfg.shareLayout === 'recorded' ? 0 : 5,
    uncredited: 10,
    behind,
  });
}

async function refundOk(d: Deps & { db: Db }, s: BigPacketSeed): Promise<boolean> {
  const p = await d.packets.get(s.packetId);
  const sender = p?.senderId ?? '';
  const refunds = (await queryAll(d.db, { keyCondition: 'pk = :pk', values: { ':pk': Keys.ledgerPk(sender) } })).filter(
    (it) => it.opId === `refund:${s.packetId}`,
  );
  const expected = s.unclaimedSum + s.unrecordedSum;
  return (
    p?.state === 'settled' && p.refundedAmount === expected && refunds.length === 1 && refunds[0]!.amount === expected
  );
}

export async function settleBench(cfg: Config, endpoint: string): Promise<SettleBench> {
  // 1. One sweep, no budget.
  const a = await world(cfg, endpoint);
  let t0 = now();
  const s1 = await seed(a.d);
  const seedSeconds = round((now() - t0) / 1000, 1);
  log(`(j) seeded a ${s1.claimers.length}-claim packet in ${seedSeconds} s`);
  a.clock.t = s1.expiresAtMs + 1_000;
  const r0 = a.requests();
  t0 = now();
  await sweep(a.d, a.clock.t);
  const fullSweepSeconds = round((now() - t0) / 1000, 2);
  const fullSweepRequests = a.requests() - r0;
  const ok1 = await refundOk(a.d, s1);
  log(`(j) one unbounded sweep settled it in ${fullSweepSeconds} s (${fullSweepRequests} requests)`);

  // 2. The function's own budget, run after run.
  const b = await world(cfg, endpoint);
  const s2 = await seed(b.d);
  b.clock.t = s2.expiresAtMs + 1_000;
  let runs = 0;
  let longest = 0;
  for (; runs < 20; ) {
    t0 = now();
    const r: SweepReport = await sweep(b.d, b.clock.t, { budgetMs: LAMBDA_BUDGET_MS });
    runs++;
    longest = Math.max(longest, (now() - t0) / 1000);
    if (r.left === 0) break;
    b.clock.t += 60_000;
  }
  const ok2 = await refundOk(b.d, s2);
  log(`(j) with an ${LAMBDA_BUDGET_MS} ms budget: ${runs} run(s), longest ${round(longest, 2)} s`);
  return {
    shares: 10_000,
    recordedShares: s1.claimers.length,
    seedSeconds,
    fullSweepSeconds,
    fullSweepRequests,
    budgetMs: LAMBDA_BUDGET_MS,
    runs,
    longestRunSeconds: round(longest, 2),
    refundOk: ok1 && ok2,
    pass: ok1 && ok2 && fullSweepSeconds < SETTLE_TARGET_SECONDS && longest * 1000 < LAMBDA_BUDGET_MS + 2_000,
  };
}
