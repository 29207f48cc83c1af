/**
 * `npm run bench` — figures of the claim path, all in one run on one in-process dynalite:
 *
 *   (a) raw conditional UpdateItem/s on one hot item (the local physical limit);
 *   (b) claims/s through the claim handler in-process (httpHandler + buildDeps), 100 distinct
 *       claimers per packet, several packets;
 *   (c) b / a against the target ratio;
 *   (d) claim latency over HTTP through the real local stack (osls offline, --useInProcess):
 *       1 sequential client (p99 target) and 50 concurrent clients (p99 vs Little's law);
 *   (e) write capacity per claim from ReturnConsumedCapacity, attributed to partitions, plus
 *       index writes counted from the attributes each write sets;
 *   (f) esbuild bundle size of each function (SDK bundled, and SDK external);
 *   (g) reconciliation of a generated 100,000-entry history (scripts/bench/reconcile.ts): items
 *       read per second and seconds per 100,000 ledger entries;
 *   (h) a campaign of 1,000 packets through the campaign handler (scripts/bench/campaign.ts):
 *       time of the call and store writes per packet;
 *   (i) hot packets (scripts/bench/hot-packet.ts): a 10,000-share provider packet drained by
 *       10,000 accounts vs 100-share packets, and the capacity model (claims/s per packet on AWS
 *       at 1,000 WCU/s per partition) for 100, 1,000 and 10,000 shares;
 *   (j) settling a 10,000-share provider packet (scripts/bench/settle.ts): one sweep over it
 *       without a budget (target < 10 s), and run after run with the sweep function's budget;
 *   (k) money in through WeChat Pay (scripts/bench/payments.ts), against the simulator: the notify
 *       route's latency per notification (p50/p99), and store writes per top-up and per packet
 *       paid directly;
 *   (l) what a claim costs (scripts/bench/cost.ts): write and read units, store requests and
 *       sequential round trips per claim, the handler's CPU ms, the claims bundle's init time, and
 *       USD per million claims (infra/prices.json) beside a one-transaction claim;
 *   (m) a burst (scripts/bench/burst.ts): 500 distinct claimers within about 2 s at one 100-share
 *       packet over HTTP (serverless-offline), p99 against the queueing bound of the measured
 *       service rate.
 *
 * Prints a table and writes .bench/results.json. Traffic goes to 127.0.0.1 only; every server
 * and child process is stopped at the end. Knobs (env): BENCH_RAW_OPS, BENCH_CLAIM_CONCURRENCY,
 * BENCH_PACKETS, BENCH_SKIP_HTTP=1, BENCH_HOT_ACCOUNTS (default 10,000), BENCH_PAY_NOTIFICATIONS (default 300),
 * BENCH_COST_CLAIMS (default 40), BENCH_ONLY=i, j, k, l or m (run that section alone).
 */
process.env.LOG_REQUESTS = '0';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import './bench/quiet';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { loadConfig, type Config } from '../functions/src/config';
import { buildDeps } from '../functions/src/app/deps';
import { DynamoDb, createDocumentClient } from '../functions/src/store/db';
import { routes as sessionRoutes } from '../functions/handlers/session';
import { routes as walletRoutes } from '../functions/handlers/wallet';
import { routes as packetRoutes } from '../functions/handlers/packets';
import { routes as claimRoutes } from '../functions/handlers/claims';
import { REGION, createTable, startDynalite } from './bench/store';
import {
  type Api,
  type ClaimSample,
  type SentPacket,
  type User,
  claimOnce,
  errorsOf,
  httpApi,
  inProcessApi,
  login,
  newSenderWithPacket,
  topup,
  sendPacket,
} from './bench/api';
import { reconcileBench } from './bench/reconcile';
import { campaignBench } from './bench/campaign';
import { hotPacketBench, PARTITION_WCU_PER_SEC, type HotPacketBench } from './bench/hot-packet';
import { settleBench, SETTLE_TARGET_SECONDS, type SettleBench } from './bench/settle';
import { paymentsBench, paymentsRows } from './bench/payments';
import {
  CapacityMeter,
  CountingDb,
  newClaimCapacity,
  reportCapacity,
  type CapacityReport,
  type ClaimCapacity,
} from './bench/capacity';
import { killOfflineSync, startOffline, type Offline } from './bench/offline';
import { bundleSizes, type BundleSize } from './bench/bundles';
import { costBench, costRows } from './bench/cost';
import { burstBench, burstRows } from './bench/burst';
import { freePort, log, median, now, pool, round, summarize, table, type LatencySummary } from './bench/util';

const ROOT = path.resolve(__dirname, '..');
const OUT_DIR = path.join(ROOT, '.bench');

function envInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer in ${min}..${max}`);
  return n;
}

const P = {
  rawWarmOps: 1500,
  rawOps: envInt('BENCH_RAW_OPS', 1500, 100, 20_000),
  rawConcurrency: 32,
  claimConcurrency: envInt('BENCH_CLAIM_CONCURRENCY', 32, 1, 128),
  packets: envInt('BENCH_PACKETS', 5, 1, 20),
  shares: 100,
  packetTotal: 20_000,
  claimers: 100,
  httpSeqPackets: 2,
  httpConcurrency: 50,
  httpConcPackets: 5,
  offlineReadyTimeoutMs: 150_000,
  hotAccounts: envInt('BENCH_HOT_ACCOUNTS', 10_000, 1_000, 10_000),
  payNotifications: envInt('BENCH_PAY_NOTIFICATIONS', 300, 20, 5_000),
  payWriteRuns: 5,
  costClaims: envInt('BENCH_COST_CLAIMS', 40, 5, 99),
};

const TARGET = {
  ratio: 0.5,
  seqP99Ms: 50,
  littleFactor: 2,
  maxPartitionWcu: 1,
  bundleBytes: 1024 * 1024,
};

const verdict = (ok: boolean | undefined) => (ok === undefined ? 'n/a' : ok ? 'PASS' : 'FAIL');

// ---------------------------------------------------------------------------------------------
// Clean-up: every server and child this script starts is registered here.

const closers: Array<() => Promise<void> | void> = [];
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const c of closers.reverse()) {
      try {
        await c();
      } catch (err) {
        console.error('[bench] clean-up:', err instanceof Error ? err.message : err);
      }
    }
  })();
  return cleaning;
}
process.on('exit', killOfflineSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    log(`${sig}: stopping`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------

function machineInfo() {
  const cpus = os.cpus();
  return {
    nproc: os.availableParallelism(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    memGb: round(os.totalmem() / 2 ** 30, 1),
    loadAvgAtStart: os.loadavg().map((x) => round(x, 2)),
  };
}

interface Secrets {
  CODE_KEYS: string;
  SESSION_SECRET: string;
}

function configFor(stage: 'test' | 'local', tableName: string, endpoint: string, s: Secrets): Config {
  return loadConfig({
    STAGE: stage,
    TABLE_NAME: tableName,
    DYNAMODB_ENDPOINT: endpoint,
    CODE_KEYS: s.CODE_KEYS,
    SESSION_SECRET: s.SESSION_SECRET,
    OPEN_SHARDS: '8',
    AWS_REGION: REGION,
    LOG_REQUESTS: '0',
  });
}

const setupRoutes = [...sessionRoutes, ...walletRoutes, ...packetRoutes, ...claimRoutes];

function checkPacketSamples(p: SentPacket, samples: ClaimSample[], what: string): string[] {
  const problems: string[] = [];
  const ok = samples.filter((s) => s.status === 200);
  const sum = ok.reduce((a, s) => a + s.amount, 0);
  if (ok.length !== p.count)
    problems.push(`${what}: ${ok.length}/${p.count} claims succeeded ${JSON.stringify(errorsOf(samples))}`);
  else if (sum !== p.total) problems.push(`${what}: claimed amounts sum to ${sum}, packet total ${p.total}`);
  return problems;
}

// ---------------------------------------------------------------------------------------------
// (a) raw conditional UpdateItem on one hot item

interface RawResult {
  ops: number;
  concurrency: number;
  seconds: number;
  opsPerSec: number;
  conditionFailures: number;
  finalCounter: number;
  lostUpdates: number;
}

async function rawHotItem(endpoint: string, tableName: string, ops: number, concurrency: number): Promise<RawResult> {
  // The same client construction as the app's (functions/src/store/db.ts).
  const doc = createDocumentClient(REGION, endpoint);
  try {
    const key = { pk: `BENCH#hot#${randomBytes(4).toString('hex')}`, sk: 'HOT' };
    await doc.send(new PutCommand({ TableName: tableName, Item: { ...key, n: 0 } }));
    let conditionFailures = 0;
    const t0 = now();
    await pool(ops, concurrency, async () => {
      try {
        await doc.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key,
            UpdateExpression: 'SET n = n + :one',
            ConditionExpression: 'n < :max',
            ExpressionAttributeValues: { ':one': 1, ':max': ops },
            ReturnValues: 'ALL_NEW',
          }),
        );
      } catch (err) {
        if ((err as { name?: string }).name === 'ConditionalCheckFailedException') conditionFailures++;
        else throw err;
      }
    });
    const seconds = (now() - t0) / 1000;
    const r = await doc.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
    const finalCounter = Number(r.Item?.n ?? -1);
    return {
      ops,
      concurrency,
      seconds: round(seconds, 3),
      opsPerSec: round(ops / seconds, 1),
      conditionFailures,
      finalCounter,
      lostUpdates: ops - conditionFailures - finalCounter,
    };
  } finally {
    doc.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// (b) claims/s in-process

interface ClaimsResult {
  packets: number;
  claimsPerPacket: number;
  concurrency: number;
  perPacketClaimsPerSec: number[];
  medianClaimsPerSec: number;
  aggregateClaimsPerSec: number;
  latency: LatencySummary;
  problems: string[];
}

async function claimsInProcess(
  setupApi: Api,
  claimApi: Api,
  claimers: User[],
  packets: number,
  concurrency: number,
): Promise<ClaimsResult> {
  const perPacket: number[] = [];
  const lat: number[] = [];
  const problems: string[] = [];
  let totalSeconds = 0;
  let totalClaims = 0;
  for (let k = 0; k < packets; k++) {
    const p = await newSenderWithPacket(setupApi, P.packetTotal, P.shares); // untimed
    const t0 = now();
    const samples = await pool(p.count, concurrency, (j) => claimOnce(claimApi, claimers[j]!, p.code, now));
    const seconds = (now() - t0) / 1000;
    totalSeconds += seconds;
    totalClaims += p.count;
    perPacket.push(round(p.count / seconds, 1));
    for (const s of samples) lat.push(s.ms);
    problems.push(...checkPacketSamples(p, samples, `in-process packet ${k + 1}`));
  }
  return {
    packets,
    claimsPerPacket: P.shares,
    concurrency,
    perPacketClaimsPerSec: perPacket,
    medianClaimsPerSec: round(median(perPacket), 1),
    aggregateClaimsPerSec: round(totalClaims / totalSeconds, 1),
    latency: summarize(lat),
    problems,
  };
}

// ---------------------------------------------------------------------------------------------
// (d) claims over HTTP through serverless-offline

interface HttpResult {
  measured: boolean;
  reason?: string;
  offlineStartSeconds?: number;
  sequential?: LatencySummary & { target: string; pass: boolean };
  concurrent?: LatencySummary & {
    clients: number;
    claims: number;
    seconds: number;
    claimsPerSec: number;
    littleMs: number;
    p99OverLittle: number;
    target: string;
    pass: boolean;
  };
  problems: string[];
}

async function httpPhase(localApi: Api, claimers: User[], offlineP: Promise<Offline>): Promise<HttpResult> {
  const problems: string[] = [];
  let offline: Offline;
  try {
    offline = await offlineP;
  } catch (err) {
    return { measured: false, reason: err instanceof Error ? err.message : String(err), problems };
  }
  log(`serverless-offline answered /v1/health after ${(offline.startedInMs / 1000).toFixed(1)} s at ${offline.base}`);
  const { api, close } = httpApi(offline.base, P.httpConcurrency + 8);
  closers.push(close);
  try {
    // Warm every function on the way (session, wallet, packets, claims), untimed.
    const sender = await login(api);
    await topup(api, sender, P.packetTotal);
    const warm = await sendPacket(api, sender, P.packetTotal, P.shares);
    await pool(20, 1, (j) => claimOnce(api, claimers[j]!, warm.code, now));
    await pool(80, P.httpConcurrency, (j) => claimOnce(api, claimers[20 + j]!, warm.code, now));

    // 1 client, sequential.
    const seq: ClaimSample[] = [];
    for (let k = 0; k < P.httpSeqPackets; k++) {
      const p = await newSenderWithPacket(localApi, P.packetTotal, P.shares);
      const samples: ClaimSample[] = [];
      for (let j = 0; j < p.count; j++) samples.push(await claimOnce(api, claimers[j]!, p.code, now));
      problems.push(...checkPacketSamples(p, samples, `HTTP sequential packet ${k + 1}`));
      seq.push(...samples);
    }
    const s = summarize(seq.map((x) => x.ms));

    // 50 clients, closed loop, packet after packet.
    const packets = await pool(P.httpConcPackets, 2, () => newSenderWithPacket(localApi, P.packetTotal, P.shares));
    const n = packets.length * P.shares;
    const t0 = now();
    const conc = await pool(n, P.httpConcurrency, (t) =>
      claimOnce(api, claimers[t % P.shares]!, packets[Math.floor(t / P.shares)]!.code, now),
    );
    const seconds = (now() - t0) / 1000;
    packets.forEach(
      (p, k) =>
        void problems.push(
          ...checkPacketSamples(p, conc.slice(k * P.shares, (k + 1) * P.shares), `HTTP concurrent packet ${k + 1}`),
        ),
    );
    const c = summarize(conc.map((x) => x.ms));
    const claimsPerSec = n / seconds;
    const littleMs = (P.httpConcurrency / claimsPerSec) * 1000;
    return {
      measured: true,
      offlineStartSeconds: round(offline.startedInMs / 1000, 1),
      sequential: { ...s, target: `p99 <= ${TARGET.seqP99Ms} ms`, pass: s.p99Ms <= TARGET.seqP99Ms },
      concurrent: {
        ...c,
        clients: P.httpConcurrency,
        claims: n,
        seconds: round(seconds, 2),
        claimsPerSec: round(claimsPerSec, 1),
        littleMs: round(littleMs, 1),
        p99OverLittle: round(c.p99Ms / littleMs, 2),
        target: `p99 <= ${TARGET.littleFactor} x ${P.httpConcurrency}/claims-per-s`,
        pass: c.p99Ms <= TARGET.littleFactor * littleMs,
      },
      problems,
    };
  } catch (err) {
    return {
      measured: false,
      reason: `HTTP phase failed: ${err instanceof Error ? err.message : String(err)}`,
      problems,
    };
  } finally {
    close();
    await offline.stop();
    log('serverless-offline stopped');
  }
}

// ---------------------------------------------------------------------------------------------
// (e) capacity per claim

async function capacityPhase(
  cfg: Config,
  setupApi: Api,
  claimers: User[],
  concurrency: number,
): Promise<CapacityReport & { problems: string[] }> {
  const meter = new CapacityMeter();
  const opts = { tableName: cfg.tableName, region: cfg.region, endpoint: cfg.dynamoEndpoint };
  const inner = new DynamoDb({ ...opts, returnCapacity: true, afterWrite: meter.afterWrite });
  const raw = new DynamoDb(opts);
  const d = buildDeps(cfg, new CountingDb(inner, raw, meter));
  const api = inProcessApi(claimRoutes, d);
  const p = await newSenderWithPacket(setupApi, P.packetTotal, P.shares);
  const per: ClaimCapacity[] = [];
  const samples = await pool(p.count, concurrency, (j) => {
    const rec = newClaimCapacity();
    per[j] = rec;
    return meter.als.run(rec, () => claimOnce(api, claimers[j]!, p.code, now));
  });
  return { ...reportCapacity(per, meter, p.packetId), problems: checkPacketSamples(p, samples, 'capacity packet') };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const started = now();
  const machine = machineInfo();
  log(
    `machine: nproc ${machine.nproc}, ${machine.cpuModel}, node ${machine.node}, ${machine.platform}, ${machine.memGb} GB, load ${machine.loadAvgAtStart.join(' ')}`,
  );

  const secrets: Secrets = {
    CODE_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    SESSION_SECRET: randomBytes(32).toString('base64'),
  };
  const store = await startDynalite();
  closers.push(() => store.close());
  const benchTable = 'hongbao-bench';
  const localTable = 'hongbao-local';
  await createTable(store.endpoint, benchTable);
  await createTable(store.endpoint, localTable);
  log(`dynalite (in memory) at ${store.endpoint}; tables ${benchTable}, ${localTable}`);

  const benchCfg = configFor('test', benchTable, store.endpoint, secrets);
  if (process.env.BENCH_ONLY === 'i') {
    const hot = await hotPacketBench(benchCfg, { accounts: P.hotAccounts, concurrency: P.claimConcurrency });
    console.log(`\nBenchmark (i) only — ${machine.nproc} cores (${machine.cpuModel}), node ${machine.node}\n`);
    console.log(table([['', 'measure', 'figure', 'target', 'result'], ...hotRows(hot)]));
    fs.mkdirSync(OUT_DIR, { recursive: true });
    fs.writeFileSync(
      path.join(OUT_DIR, 'results-i.json'),
      `${JSON.stringify({ at: new Date().toISOString(), machine, i_hotPackets: hot }, null, 2)}\n`,
    );
    return;
  }
  if (process.env.BENCH_ONLY === 'j') {
    log('(j) settling a 10,000-share packet');
    const settle = await settleBench(benchCfg, store.endpoint);
    console.log(`\nBenchmark (j) only — ${machine.nproc} cores (${machine.cpuModel}), node ${machine.node}\n`);
    console.log(table([['', 'measure', 'figure', 'target', 'result'], ...settleRows(settle)]));
    fs.mkdirSync(OUT_DIR, { recursive: true });
    fs.writeFileSync(
      path.join(OUT_DIR, 'results-j.json'),
      `${JSON.stringify({ at: new Date().toISOString(), machine, j_settle: settle }, null, 2)}\n`,
    );
    return;
  }
  if (process.env.BENCH_ONLY === 'l') {
    log('(l) what a claim costs');
    const cost = await costBench((endpoint) => configFor('test', 'hongbao-cost', endpoint, secrets), {
      claims: P.costClaims,
      initRuns: 5,
    });
    console.log(`\nBenchmark (l) only — ${machine.nproc} cores (${machine.cpuModel}), node ${machine.node}\n`);
    console.log(table([['', 'measure', 'figure', 'target', 'result'], ...costRows(cost)]));
    console.log(`\n  one-transaction model: ${cost.transactionModel}`);
    console.log(`  a typical plain claim writes ${JSON.stringify(cost.plain.typical)}`);
    console.log(`  a typical sharded claim writes ${JSON.stringify(cost.sharded.typical)}`);
    fs.mkdirSync(OUT_DIR, { recursive: true });
    fs.writeFileSync(
      path.join(OUT_DIR, 'results-l.json'),
      `${JSON.stringify({ at: new Date().toISOString(), machine, l_cost: cost }, null, 2)}\n`,
    );
    return;
  }
  if (process.env.BENCH_ONLY === 'm') {
    log('(m) a burst of 500 claimers on one packet over HTTP (serverless-offline)');
    const [httpPort, lambdaPort] = [await freePort(), await freePort()];
    const offline = await startOffline({
      httpPort,
      lambdaPort,
      dynamoEndpoint: store.endpoint,
      codeKeys: secrets.CODE_KEYS,
      sessionSecret: secrets.SESSION_SECRET,
      logFile: path.join(OUT_DIR, 'offline.log'),
      readyTimeoutMs: P.offlineReadyTimeoutMs,
    });
    closers.push(() => offline.stop());
    const setup = inProcessApi(setupRoutes, buildDeps(configFor('local', localTable, store.endpoint, secrets)));
    const burst = await burstBench(offline.base, setup, {
      claimers: 500,
      spreadMs: 2_000,
      serviceClients: P.httpConcurrency,
    });
    console.log(`\nBenchmark (m) only — ${machine.nproc} cores (${machine.cpuModel}), node ${machine.node}\n`);
    console.log(table([['', 'measure', 'figure', 'target', 'result'], ...burstRows(burst)]));
    fs.mkdirSync(OUT_DIR, { recursive: true });
    fs.writeFileSync(
      path.join(OUT_DIR, 'results-m.json'),
      `${JSON.stringify({ at: new Date().toISOString(), machine, m_burst: burst }, null, 2)}\n`,
    );
    return;
  }
  if (process.env.BENCH_ONLY === 'k') {
    log('(k) money in through WeChat Pay (simulator)');
    const pay = await paymentsBench(benchCfg, store.endpoint, {
      notifications: P.payNotifications,
      runs: P.payWriteRuns,
    });
    console.log(`\nBenchmark (k) only — ${machine.nproc} cores (${machine.cpuModel}), node ${machine.node}\n`);
    console.log(table([['', 'measure', 'figure', 'target', 'result'], ...paymentsRows(pay)]));
    if (pay.problems.length) console.log(`\nPROBLEMS:\n  ${pay.problems.join('\n  ')}`);
    fs.mkdirSync(OUT_DIR, { recursive: true });
    fs.writeFileSync(
      path.join(OUT_DIR, 'results-k.json'),
      `${JSON.stringify({ at: new Date().toISOString(), machine, k_payments: pay }, null, 2)}\n`,
    );
    return;
  }
  const localCfg = configFor('local', localTable, store.endpoint, secrets);
  const benchDeps = buildDeps(benchCfg);
  const localDeps = buildDeps(localCfg);
  const setupApi = inProcessApi(setupRoutes, benchDeps);
  const localApi = inProcessApi(setupRoutes, localDeps);
  /** The claim function's routes only, as its Lambda has them. */
  const claimApi = inProcessApi(claimRoutes, benchDeps);

  // ---- (d) and (f) first: osls starts (its own esbuild) while the bundles are measured and the
  // claimers are logged in. Nothing is timed until osls is up; osls is stopped before (a)/(b).
  const skipHttp = process.env.BENCH_SKIP_HTTP === '1';
  let offlineP: Promise<Offline> | undefined;
  if (!skipHttp) {
    const [httpPort, lambdaPort] = [await freePort(), await freePort()];
    log(
      `starting osls offline (--useInProcess) on 127.0.0.1:${httpPort} (lambda port ${lambdaPort}); log in .bench/offline.log`,
    );
    offlineP = startOffline({
      httpPort,
      lambdaPort,
      dynamoEndpoint: store.endpoint,
      codeKeys: secrets.CODE_KEYS,
      sessionSecret: secrets.SESSION_SECRET,
      logFile: path.join(OUT_DIR, 'offline.log'),
      readyTimeoutMs: P.offlineReadyTimeoutMs,
    });
    offlineP.catch(() => undefined); // handled in httpPhase
    closers.push(async () => {
      try {
        await (await offlineP!).stop();
      } catch {
        /* never started */
      }
    });
  }

  log('bundling each function with esbuild (f)');
  const bundles: BundleSize[] = await bundleSizes();

  log(`logging in ${P.claimers} claimers on each table (untimed)`);
  const benchClaimers = await pool(P.claimers, 8, () => login(setupApi));
  const localClaimers = skipHttp ? [] : await pool(P.claimers, 8, () => login(localApi));

  let httpRes: HttpResult;
  if (skipHttp || !offlineP) httpRes = { measured: false, reason: 'skipped (BENCH_SKIP_HTTP=1)', problems: [] };
  else {
    log('(d) claims over HTTP through serverless-offline');
    httpRes = await httpPhase(localApi, localClaimers, offlineP);
    if (!httpRes.measured) log(`(d) NOT MEASURED: ${httpRes.reason}`);
  }

  // ---- (a) and (b), same process, same dynalite, nothing else running.
  log(`(a) warm-up, then ${P.rawOps} conditional updates on one hot item, ${P.rawConcurrency} clients`);
  await rawHotItem(store.endpoint, benchTable, P.rawWarmOps, P.rawConcurrency);
  const raw1 = await rawHotItem(store.endpoint, benchTable, P.rawOps, P.rawConcurrency);
  log(`(a) run 1: ${raw1.opsPerSec} ops/s`);

  log(`(b) 2 warm-up packets, then ${P.packets} packets x ${P.shares} claims, concurrency ${P.claimConcurrency}`);
  for (let k = 0; k < 2; k++) {
    const warm = await newSenderWithPacket(setupApi, P.packetTotal, P.shares);
    await pool(warm.count, P.claimConcurrency, (j) => claimOnce(claimApi, benchClaimers[j]!, warm.code, now));
  }
  const claims = await claimsInProcess(setupApi, claimApi, benchClaimers, P.packets, P.claimConcurrency);
  log(`(b) ${claims.aggregateClaimsPerSec} claims/s (per packet: ${claims.perPacketClaimsPerSec.join(', ')})`);

  const raw2 = await rawHotItem(store.endpoint, benchTable, P.rawOps, P.rawConcurrency);
  log(`(a) run 2: ${raw2.opsPerSec} ops/s`);
  const rawOpsPerSec = round((raw1.opsPerSec + raw2.opsPerSec) / 2, 1);
  const ratio = claims.aggregateClaimsPerSec / rawOpsPerSec;

  log("(e) capacity of one packet's claims (untimed)");
  const cap = await capacityPhase(benchCfg, setupApi, benchClaimers, P.claimConcurrency);
  // Every DynamoDB request costs about the same here (SDK + HTTP + dynalite, one CPU budget), so
  // b/a is bounded by 1 / (requests per claim); this shows how close the claim path is to that.
  const requestsPerClaim = cap.writesPerClaim.mean + cap.readsPerClaim.gets + cap.readsPerClaim.queries;
  const requestRateVsRaw = (claims.aggregateClaimsPerSec * requestsPerClaim) / rawOpsPerSec;

  log('(g) reconciliation: a generated history of 100,000+ ledger entries, reconciled whole');
  const recon = await reconcileBench(store.endpoint);
  log(
    `(g) ${recon.ledgerEntries} entries in ${recon.seconds} s (${recon.itemsPerSec} items/s, ${recon.secondsPer100kEntries} s per 100,000 entries), ${recon.mismatches} mismatches`,
  );

  log('(h) a campaign of 1,000 packets (one call, in-process)');
  const campaign = await campaignBench(benchCfg);
  log(
    `(h) ${campaign.packets} packets in ${campaign.seconds} s; ${campaign.itemsWrittenPerPacket} items and ${campaign.writeRequestsPerPacket} write requests per packet`,
  );

  log(`(i) hot packets: ${P.hotAccounts}-share drain, 100-share baseline, capacity model`);
  const hot = await hotPacketBench(benchCfg, { accounts: P.hotAccounts, concurrency: P.claimConcurrency });

  log('(j) settling a 10,000-share packet');
  const settle = await settleBench(benchCfg, store.endpoint);

  log('(k) money in through WeChat Pay (simulator)');
  const pay = await paymentsBench(benchCfg, store.endpoint, {
    notifications: P.payNotifications,
    runs: P.payWriteRuns,
  });

  // ---- Report
  const results = {
    at: new Date().toISOString(),
    machine,
    params: P,
    targets: TARGET,
    a_rawHotItem: { opsPerSec: rawOpsPerSec, runs: [raw1, raw2] },
    b_claimsInProcess: claims,
    c_ratio: {
      value: round(ratio, 3),
      target: TARGET.ratio,
      pass: ratio >= TARGET.ratio,
      dynamoRequestsPerClaim: round(requestsPerClaim, 2),
      ceilingAtThisRequestCount: round(1 / requestsPerClaim, 3),
      claimRequestsPerSecOverRawOpsPerSec: round(requestRateVsRaw, 3),
    },
    d_http: {
      ...httpRes,
      ...(httpRes.concurrent
        ? { littleMsFromInProcessRate: round((P.httpConcurrency / claims.aggregateClaimsPerSec) * 1000, 1) }
        : {}),
    },
    e_capacity: {
      ...cap,
      target: `max WCU on one partition per claim <= ${TARGET.maxPartitionWcu}`,
      pass: cap.maxWcuOnOnePartitionPerClaim.any <= TARGET.maxPartitionWcu,
    },
    f_bundles: bundles.map((b) => ({ ...b, pass: Number.isFinite(b.bytes) && b.bytes < TARGET.bundleBytes })),
    g_reconcile: recon,
    h_campaign: campaign,
    i_hotPackets: hot,
    j_settle: settle,
    k_payments: pay,
    totalSeconds: 0,
  };
  results.totalSeconds = round((now() - started) / 1000, 1);

  const kb = (b: number) => (Number.isFinite(b) ? `${(b / 1024).toFixed(1)} KB` : 'error');
  const rows: string[][] = [['', 'measure', 'figure', 'target', 'result']];
  rows.push([
    'a',
    `raw conditional UpdateItem, 1 hot item, ${P.rawConcurrency} clients`,
    `${rawOpsPerSec} ops/s (runs ${raw1.opsPerSec} / ${raw2.opsPerSec}; lost updates ${raw1.lostUpdates + raw2.lostUpdates})`,
    '-',
    '-',
  ]);
  rows.push([
    'b',
    `claims in-process, ${P.packets} x ${P.shares} distinct claimers, conc ${P.claimConcurrency}`,
    `${claims.aggregateClaimsPerSec} claims/s (median packet ${claims.medianClaimsPerSec}; p50 ${claims.latency.p50Ms} ms, p99 ${claims.latency.p99Ms} ms)`,
    '-',
    claims.problems.length ? 'ERRORS' : '-',
  ]);
  rows.push([
    'c',
    'ratio b / a',
    `${round(ratio, 3).toFixed(3)} (${round(requestsPerClaim, 2)} DynamoDB requests/claim -> ceiling ~${(1 / requestsPerClaim).toFixed(3)}; claim requests/s = ${round(requestRateVsRaw, 2)} x raw ops/s)`,
    `>= ${TARGET.ratio}`,
    verdict(results.c_ratio.pass),
  ]);
  if (httpRes.measured && httpRes.sequential && httpRes.concurrent) {
    const sq = httpRes.sequential;
    const cc = httpRes.concurrent;
    rows.push([
      'd',
      `HTTP claim, 1 client sequential (${sq.n} claims)`,
      `p50 ${sq.p50Ms} ms, p99 ${sq.p99Ms} ms (mean ${sq.meanMs}, max ${sq.maxMs})`,
      `p99 <= ${TARGET.seqP99Ms} ms`,
      verdict(sq.pass),
    ]);
    rows.push([
      'd',
      `HTTP claim, ${cc.clients} clients (${cc.claims} claims)`,
      `p50 ${cc.p50Ms} ms, p99 ${cc.p99Ms} ms; ${cc.claimsPerSec} claims/s -> Little ${cc.littleMs} ms (p99 = ${cc.p99OverLittle} x)`,
      `p99 <= ${TARGET.littleFactor} x Little`,
      verdict(cc.pass),
    ]);
  } else
    rows.push([
      'd',
      'HTTP claim latency (serverless-offline)',
      `not measured: ${(httpRes.reason ?? '').split('\n')[0]}`,
      `p99 <= ${TARGET.seqP99Ms} ms`,
      'NOT MEASURED',
    ]);
  const m = cap.maxWcuOnOnePartitionPerClaim;
  rows.push([
    'e',
    'max WCU on one partition, per claim',
    `${m.any} (base ${m.base}, index ${m.index}; at ${m.partition})`,
    `<= ${TARGET.maxPartitionWcu}`,
    verdict(results.e_capacity.pass),
  ]);
  rows.push([
    'e',
    'WCU per claim (base + index writes)',
    `mean ${cap.wcuPerClaim.mean}, max ${cap.wcuPerClaim.max} (base ${cap.baseWcuPerClaim.mean}, index ${cap.indexWritesPerClaim.mean}; failed cond. writes ${cap.failedConditionalWrites}; reads/claim ${cap.readsPerClaim.gets} get + ${cap.readsPerClaim.queries} query)`,
    '-',
    '-',
  ]);
  for (const b of results.f_bundles) {
    rows.push([
      'f',
      `bundle ${b.fn}`,
      `${kb(b.bytes)} (gzip ${kb(b.gzipBytes)}; @aws-sdk external ${kb(b.bytesSdkExternal)})${b.error ? ` ${b.error}` : ''}`,
      '< 1024 KB',
      verdict(b.pass),
    ]);
  }

  rows.push([
    'g',
    `reconciliation, whole table (${recon.accounts} accounts, ${recon.packets} packets, ${recon.slots} slots)`,
    `${recon.ledgerEntries} ledger entries in ${recon.seconds} s (${recon.secondsPer100kEntries} s per 100,000); ${recon.itemsRead} items read, ${recon.itemsPerSec} items/s (load ${recon.itemsWritten} items ${recon.loadSeconds} s; mismatches ${recon.mismatches})`,
    '-',
    recon.mismatches === 0 ? '-' : 'ERRORS',
  ]);
  rows.push([
    'h',
    'campaign of 1,000 packets, one call',
    `${campaign.seconds} s (${campaign.packetsPerSec} packets/s); ${campaign.itemsWrittenPerPacket} items written and ${campaign.writeRequestsPerPacket} write requests per packet`,
    '-',
    '-',
  ]);

  rows.push(...hotRows(hot));
  rows.push(...settleRows(settle));
  rows.push(...paymentsRows(pay));

  console.log(
    `\nBenchmark — ${machine.nproc} cores (${machine.cpuModel}), node ${machine.node}, total ${results.totalSeconds} s\n`,
  );
  console.log(table(rows));
  console.log(`\n(e) one claim's writes by partition: ${JSON.stringify(cap.typicalClaim)}`);
  console.log(
    `(e) hottest partitions over the packet's ${cap.claims} claims: ${cap.hottestPartitionsOverPacket.map((h) => `${h.partition}=${h.wcu}`).join(', ')}`,
  );
  for (const b of bundles.filter((x) => x.fn === 'claims')) {
    console.log(
      `(f) ${b.fn} bundle, largest parts: ${b.top.map((t) => `${t.pkg} ${t.kb} KB`).join(', ')}; ${b.bytes} bytes = ${(b.bytes / 1e6).toFixed(3)} MB (decimal)`,
    );
  }
  console.log(`(e) ConsumedCapacity as dynalite returns it: ${JSON.stringify(cap.rawConsumedCapacitySample)}`);
  if (results.d_http.littleMsFromInProcessRate !== undefined) {
    console.log(
      `(d) for comparison: ${P.httpConcurrency} / in-process claims/s (b) = ${results.d_http.littleMsFromInProcessRate} ms`,
    );
  }
  const problems = [
    ...claims.problems,
    ...httpRes.problems,
    ...cap.problems,
    ...(hot.drain.ok ? [] : [`(i) drain: ${JSON.stringify(hot.drain)}`]),
    ...(settle.refundOk ? [] : ['(j) the packet did not settle with its one refund']),
    ...pay.problems.map((x) => `(k) ${x}`),
  ];
  if (problems.length) console.log(`\nPROBLEMS:\n  ${problems.join('\n  ')}`);
  fs.mkdirSync(OUT_DIR, { recursive: true });
  fs.writeFileSync(path.join(OUT_DIR, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(
    `\nresults: ${path.relative(process.cwd(), path.join(OUT_DIR, 'results.json')) || '.bench/results.json'}`,
  );
}

/** The rows of (i): the drain against the baseline, then the capacity model per packet size. */
function hotRows(hot: HotPacketBench): string[][] {
  const dr = hot.drain;
  const rows: string[][] = [];
  rows.push([
    'i',
    `drain: ${dr.shares}-share provider packet, ${dr.accounts} accounts, conc ${dr.concurrency}`,
    `${dr.claimsPerSec} claims/s (${dr.seconds} s; p50 ${dr.latency.p50Ms} ms, p99 ${dr.latency.p99Ms} ms); ${dr.recordedShares} shares, Σ ${dr.recordedSum} = total ${dr.total}, double claims ${dr.doubleClaims}`,
    'no double claim, Σ = total',
    verdict(dr.ok),
  ]);
  rows.push([
    'i',
    `same run: ${hot.baseline.packets} x 100-share packets, conc ${dr.concurrency}`,
    `${hot.baseline.claimsPerSec} claims/s (p99 ${hot.baseline.latency.p99Ms} ms); drain / baseline = ${hot.drainOverBaseline}`,
    '-',
    '-',
  ]);
  for (const c of hot.capacity) {
    rows.push([
      'i',
      `capacity model, ${c.shares} shares (${c.counters} counter${c.counters > 1 ? 's' : ''})`,
      `${c.claimsPerSecOnAws} claims/s on AWS = ${PARTITION_WCU_PER_SEC} WCU/s / ${c.worstWindowWcuPerClaim} WCU per claim on the hottest partition (worst window of ${c.window}; over all: ${c.hottest.partition}=${c.hottest.wcu} WCU / ${c.claims} claims); ${c.wcuPerClaim} WCU/claim in all, ${c.failedConditionalPerClaim} failed cond. writes/claim; whole table: ${c.tableQuotaClaimsPerSec} claims/s at the 40,000 WRU/s default quota, ${c.newTableClaimsPerSec} on a new unwarmed table`,
      c.target !== undefined ? `>= ${c.target}/s` : '-',
      c.pass === undefined ? '-' : verdict(c.pass),
    ]);
  }
  return rows;
}

/** The rows of (j): one full settle, then the budgeted runs. */
function settleRows(s: SettleBench): string[][] {
  return [
    [
      'j',
      `settle: ${s.shares}-share packet (${s.recordedShares} recorded), one sweep, no budget`,
      `${s.fullSweepSeconds} s (${s.fullSweepRequests} store requests; seeded in ${s.seedSeconds} s)`,
      `< ${SETTLE_TARGET_SECONDS} s`,
      verdict(s.refundOk && s.fullSweepSeconds < SETTLE_TARGET_SECONDS),
    ],
    [
      'j',
      `same packet, sweep runs of the function's ${s.budgetMs} ms budget`,
      `${s.runs} run(s), longest ${s.longestRunSeconds} s; settled and refunded once: ${s.refundOk}`,
      `each run < ${s.budgetMs / 1000 + 2} s`,
      verdict(s.pass),
    ],
  ];
}

main()
  .then(async () => {
    await cleanup();
    process.exit(0);
  })
  .catch(async (err) => {
    console.error('[bench] ERROR:', err instanceof Error ? (err.stack ?? err.message) : err);
    await cleanup();
    process.exit(1);
  });
