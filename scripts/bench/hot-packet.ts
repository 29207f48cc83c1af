/**
 * (i) Hot packets past one partition (docs/capacity.md).
 *
 * 1. Drain: a provider packet of 10,000 shares claimed by 10,000 distinct accounts through the
 *    claim handler in-process (bounded concurrency), timed; then 100-share packets claimed by
 *    the same accounts at the same concurrency, for the comparison. Checked afterwards: one
 *    share per account, Σ recorded = total, every claim 200.
 * 2. Capacity model: the same claim path with the capacity meter (capacity.ts) on packets of
 *    100, 1,000 and 10,000 shares. From the write units each partition took, the claims per
 *    second one packet could take on AWS, where one partition takes at most 1,000 WCU/s:
 *        bound = 1,000 ÷ (WCU on the packet's hottest partition per claim).
 *    The load is taken over windows of consecutive claims, one second's worth at the rate being
 *    claimed (a fixed point: a faster rate means bigger windows), and the worst window counts —
 *    so a drain whose load bunched on a few counters, near its end or anywhere, shows it.
 *
 * Locally every request costs one shared CPU, so the drain's claims/s is about the same for
 * both sizes (a sharded claim makes one write more: the marker's note); the partition limit
 * that separates them on AWS only shows in the capacity model.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../../functions/src/config';
import { buildDeps } from '../../functions/src/app/deps';
import { DynamoDb } from '../../functions/src/store/db';
import { routes as sessionRoutes } from '../../functions/handlers/session';
import { routes as walletRoutes } from '../../functions/handlers/wallet';
import { routes as packetRoutes } from '../../functions/handlers/packets';
import { routes as claimRoutes } from '../../functions/handlers/claims';
import { claimOnce, errorsOf, idemKey, inProcessApi, login, type Api, type User } from './api';
import { CapacityMeter, CountingDb, newClaimCapacity, type ClaimCapacity } from './capacity';
import { log, pool, round, summarize, now, type LatencySummary } from './util';

/** One partition's write limit on AWS (WCU/s). */
export const PARTITION_WCU_PER_SEC = 1_000;
/**
 * The table-level bound, for comparison: an on-demand table's default quota is 40,000 write
 * request units per second (adjustable), and a new on-demand table starts warm for 4,000.
 */
export const TABLE_WRU_QUOTA = 40_000;
export const NEW_TABLE_WARM_WRU = 4_000;
/** Targets of the issue: claims/s per packet on AWS. */
export const HOT_TARGETS: Record<number, number> = { 100: 1_000, 10000: 5_000 };

export interface DrainResult {
  shares: number;
  accounts: number;
  concurrency: number;
  seconds: number;
  claimsPerSec: number;
  latency: LatencySummary;
  errors: Record<string, number>;
  /** Accounts holding more than one share (must be 0). */
  doubleClaims: number;
  recordedShares: number;
  recordedSum: number;
  total: number;
  ok: boolean;
}

export interface CapacityModelRow {
  shares: number;
  counters: number;
  claims: number;
  /** The packet's hottest partition over all its claims, and its WCU. */
  hottest: { partition: string; wcu: number };
  /** WCU per claim on the hottest partition of the worst window of consecutive claims. */
  worstWindowWcuPerClaim: number;
  window: number;
  /** 1,000 WCU/s ÷ the above: claims/s one packet can take on AWS. */
  claimsPerSecOnAws: number;
  /** Every counter and slot partition at 1,000 WCU/s, perfectly spread. */
  idealClaimsPerSec: number;
  failedConditionalPerClaim: number;
  wcuPerClaim: number;
  /** Claims/s of the whole table at its default quota, and of a new, unwarmed on-demand table. */
  tableQuotaClaimsPerSec: number;
  newTableClaimsPerSec: number;
  target?: number;
  pass?: boolean;
}

export interface HotPacketBench {
  drain: DrainResult;
  baseline: {
    shares: number;
    packets: number;
    claimsPerSec: number;
    latency: LatencySummary;
    errors: Record<string, number>;
  };
  drainOverBaseline: number;
  capacity: CapacityModelRow[];
}

async function provider(api: Api, fen: number): Promise<User> {
  const devUser = `hp${randomBytes(5).toString('hex')}`;
  const s = await api('POST', '/v1/session', { body: { devUser, name: devUser, tier: 'provider' } });
  if (s.status !== 200) throw new Error(`provider login failed ${s.status}`);
  const u = { token: s.body.token as string, userId: s.body.userId as string, name: devUser };
  for (let left = fen; left > 0; left -= 5_000_000) {
    const r = await api('POST', '/v1/wallet/topups', {
      token: u.token,
      idem: idemKey(),
      body: { amount: Math.min(left, 5_000_000) },
    });
    if (r.status !== 201) throw new Error(`topup failed ${r.status} ${JSON.stringify(r.body)}`);
  }
  return u;
}

async function send(api: Api, u: User, total: number, count: number): Promise<{ packetId: string; code: string }> {
  const r = await api('POST', '/v1/packets', {
    token: u.token,
    idem: idemKey(),
    body: { total, count, mode: 'lucky' },
  });
  if (r.status !== 201) throw new Error(`send failed ${r.status} ${JSON.stringify(r.body)}`);
  return { packetId: r.body.packet.id as string, code: r.body.shareCode.code as string };
}

/** Total of a packet of `count` shares: 1 yuan a share on average. */
const totalFor = (count: number) => count * 100;
/** Enough for the total plus the provider's fee (≤ 0.8 %). */
const fundsFor = (count: number) => totalFor(count) + Math.ceil(totalFor(count) / 100);

export async function hotPacketBench(
  cfg: Config,
  opts: { accounts?: number; concurrency?: number; baselinePackets?: number } = {},
): Promise<HotPacketBench> {
  const accounts = opts.accounts ?? 10_000;
  const concurrency = opts.concurrency ?? 32;
  const baselinePackets = opts.baselinePackets ?? 5;
  const d = buildDeps(cfg);
  const setupApi = inProcessApi([...sessionRoutes, ...walletRoutes, ...packetRoutes], d);
  const claimApi = inProcessApi(claimRoutes, d);

  log(`(i) logging in ${accounts} claimers (untimed)`);
  const users = await pool(accounts, 16, () => login(setupApi));
  const sender = await provider(
    setupApi,
    fundsFor(accounts) + baselinePackets * fundsFor(100) + 2 * fundsFor(accounts) + fundsFor(1_000) + fundsFor(100),
  );

  // ---- 1. The drain, then the baseline at the same concurrency.
  const big = await send(setupApi, sender, totalFor(accounts), accounts);
  log(`(i) draining a ${accounts}-share packet with ${accounts} accounts, concurrency ${concurrency}`);
  const t0 = now();
  const samples = await pool(accounts, concurrency, (j) => claimOnce(claimApi, users[j]!, big.code, now));
  const seconds = (now() - t0) / 1000;
  const p = (await d.packets.get(big.packetId))!;
  const slots = (await d.claims.slots(p)).filter((s) => !s.void);
  const holders = new Map<string, number>();
  for (const s of slots) holders.set(s.userId, (holders.get(s.userId) ?? 0) + 1);
  const doubleClaims = [...holders.values()].filter((n) => n > 1).length;
  const recordedSum = slots.reduce((a, s) => a + s.amount, 0);
  const drain: DrainResult = {
    shares: accounts,
    accounts,
    concurrency,
    seconds: round(seconds, 2),
    claimsPerSec: round(accounts / seconds, 1),
    latency: summarize(samples.map((s) => s.ms)),
    errors: errorsOf(samples),
    doubleClaims,
    recordedShares: slots.length,
    recordedSum,
    total: p.total,
    ok:
      doubleClaims === 0 &&
      slots.length === accounts &&
      recordedSum === p.total &&
      samples.every((s) => s.status === 200),
  };
  log(
    `(i) drain: ${drain.claimsPerSec} claims/s, ${drain.recordedShares} shares recorded, Σ ${drain.recordedSum} of ${drain.total}, double claims ${drain.doubleClaims}`,
  );

  const baseLat: number[] = [];
  const baseSamples = [];
  let baseSeconds = 0;
  for (let k = 0; k < baselinePackets; k++) {
    const small = await send(setupApi, sender, totalFor(100), 100);
    const offset = (k * 100) % Math.max(100, accounts - 100);
    const tb = now();
    const s = await pool(100, concurrency, (j) => claimOnce(claimApi, users[offset + j]!, small.code, now));
    baseSeconds += (now() - tb) / 1000;
    baseSamples.push(...s);
    for (const x of s) baseLat.push(x.ms);
  }
  const baseline = {
    shares: 100,
    packets: baselinePackets,
    claimsPerSec: round((baselinePackets * 100) / baseSeconds, 1),
    latency: summarize(baseLat),
    errors: errorsOf(baseSamples),
  };
  log(`(i) baseline: ${baseline.claimsPerSec} claims/s on 100-share packets`);

  // ---- 2. The capacity model, from metered drains of 100, 1,000 and 10,000 shares.
  const meter = new CapacityMeter();
  const dbOpts = { tableName: cfg.tableName, region: cfg.region, endpoint: cfg.dynamoEndpoint };
  const metered = buildDeps(
    cfg,
    new CountingDb(
      new DynamoDb({ ...dbOpts, returnCapacity: true, afterWrite: meter.afterWrite }),
      new DynamoDb(dbOpts),
      meter,
    ),
  );
  const meteredClaims = inProcessApi(claimRoutes, metered);
  const capacity: CapacityModelRow[] = [];
  for (const shares of [100, 1_000, accounts]) {
    const pk = await send(setupApi, sender, totalFor(shares), shares);
    log(`(i) capacity: metering the claims of a ${shares}-share packet`);
    const per: ClaimCapacity[] = [];
    const offset = shares === accounts ? 0 : 1_000 % Math.max(1, accounts - shares);
    const got = await pool(shares, concurrency, (j) => {
      const rec = newClaimCapacity();
      per[j] = rec;
      return meter.als.run(rec, () => claimOnce(meteredClaims, users[(offset + j) % accounts]!, pk.code, now));
    });
    const failed = got.filter((g) => g.status !== 200).length;
    if (failed) log(`(i) capacity packet ${shares}: ${failed} claims failed ${JSON.stringify(errorsOf(got))}`);
    const stored = (await d.packets.get(pk.packetId))!;
    capacity.push(modelRow(shares, stored.counters ?? 1, pk.packetId, per));
  }
  return { drain, baseline, drainOverBaseline: round(drain.claimsPerSec / baseline.claimsPerSec, 2), capacity };
}

/** WCU per partition key over a list of claims (base table and index partitions). */
function partitionLoad(list: readonly ClaimCapacity[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const c of list) {
    for (const [k, v] of c.base) m.set(k, (m.get(k) ?? 0) + v);
    for (const [k, v] of c.index) m.set(`index ${k}`, (m.get(`index ${k}`) ?? 0) + v);
  }
  return m;
}

function modelRow(shares: number, counters: number, packetId: string, per: ClaimCapacity[]): CapacityModelRow {
  const all = partitionLoad(per);
  let hottest = { partition: '', wcu: 0 };
  for (const [k, v] of all)
    if (v > hottest.wcu)
      hottest = { partition: k.replace(packetId, '<packet>').replace(/u[A-Za-z0-9_-]{10,}/g, '<user>'), wcu: v };
  // The worst hottest-partition load per claim over windows of `w` consecutive claims (by start
  // order; the last, shorter window joins the one before).
  const worstOver = (w: number) => {
    let worst = 0;
    for (let i = 0; i < per.length; i += w) {
      const slice = per.slice(i, per.length - (i + w) < w ? per.length : i + w);
      worst = Math.max(worst, Math.max(...partitionLoad(slice).values()) / slice.length);
      if (slice.length > w) break;
    }
    return worst;
  };
  // Fixed point: at rate R a second holds R claims; start from the ideal and shrink.
  let rate = counters * PARTITION_WCU_PER_SEC;
  let window = per.length;
  let worst = 0;
  for (let step = 0; step < 8; step++) {
    window = Math.max(1, Math.min(per.length, rate));
    worst = worstOver(window);
    const next = Math.floor(PARTITION_WCU_PER_SEC / worst);
    if (next >= rate) break;
    rate = next;
  }
  const wcu = per.reduce((a, c) => a + [...c.base.values(), ...c.index.values()].reduce((x, y) => x + y, 0), 0);
  const failed = per.reduce((a, c) => a + c.failedConditional, 0);
  const claimsPerSecOnAws = Math.floor(PARTITION_WCU_PER_SEC / worst);
  const target = HOT_TARGETS[shares];
  return {
    shares,
    counters,
    claims: per.length,
    hottest,
    worstWindowWcuPerClaim: round(worst, 4),
    window,
    claimsPerSecOnAws,
    idealClaimsPerSec: counters * PARTITION_WCU_PER_SEC,
    failedConditionalPerClaim: round(failed / per.length, 3),
    wcuPerClaim: round(wcu / per.length, 2),
    tableQuotaClaimsPerSec: Math.floor(TABLE_WRU_QUOTA / (wcu / per.length)),
    newTableClaimsPerSec: Math.floor(NEW_TABLE_WARM_WRU / (wcu / per.length)),
    ...(target !== undefined ? { target, pass: claimsPerSecOnAws >= target } : {}),
  };
}
