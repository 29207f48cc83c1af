/**
 * (l) What a claim costs: per claim, on a plain (100 shares) and a sharded (300 shares) packet,
 * through the real claim handler — write and read units, store requests, sequential store round
 * trips, the handler's CPU ms (scripts/bench/claim-cost.ts) — the claims function's bundled init
 * time, and the cost per million claims on AWS from those figures and infra/prices.json, beside
 * the same for a claim done as one DynamoDB transaction.
 *
 * The store runs in a child process here (dynalite over HTTP), so this process's CPU time is the
 * handler's, the SDK's and the meter's only.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { build } from 'esbuild';
import type { Config } from '../../functions/src/config';
import { buildDeps } from '../../functions/src/app/deps';
import { DynamoDb } from '../../functions/src/store/db';
import { routes as sessionRoutes } from '../../functions/handlers/session';
import { routes as walletRoutes } from '../../functions/handlers/wallet';
import { routes as packetRoutes } from '../../functions/handlers/packets';
import { routes as claimRoutes } from '../../functions/handlers/claims';
import { idemKey, inProcessApi, uniq, type Api } from './api';
import { ClaimCostMeter, shaper, summarizeCosts, type ClaimCost, type ClaimCostSummary } from './claim-cost';
import { median, round } from './util';

const ROOT = path.resolve(__dirname, '..', '..');

export interface Prices {
  date: string;
  region: string;
  dynamodb: { writeRequestUnitPerMillion: number; readRequestUnitPerMillion: number };
  lambda: { architecture: string; gbSecond: number; requestPerMillion: number };
  apiGatewayHttp: { requestPerMillion: number };
}

export interface CostPerMillion {
  /** USD per million claims, by part. */
  dynamodbWrites: number;
  dynamodbReads: number;
  lambda: number;
  apiGateway: number;
  total: number;
}

export interface CostBench {
  plain: ClaimCostSummary;
  sharded: ClaimCostSummary;
  /** Wall time of one claim through the handler, in sequence (median, ms): the billed duration here. */
  wallMsPerClaim: number;
  init: { medianMs: number; runsMs: number[]; bundleBytes: number };
  memoryMb: number;
  prices: Prices;
  perMillion: { thisDesign: CostPerMillion; oneTransaction: CostPerMillion; ratio: number };
  /** How the one-transaction figure was made from the same run. */
  transactionModel: string;
}

/** The claims function's memory size, read from serverless.yml (no YAML parser needed for one key). */
export function claimsMemoryMb(): number {
  const yml = fs.readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8');
  const block = /\n {2}claims:\n([\s\S]*?)\n {2}[a-zA-Z]/.exec(yml)?.[1] ?? '';
  const m = /memorySize:\s*(\d+)/.exec(block);
  if (!m) throw new Error('serverless.yml: no memorySize for the claims function');
  return Number(m[1]);
}

export function readPrices(): Prices {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'infra', 'prices.json'), 'utf8')) as Prices;
}

/** USD per million claims of `wcu` write and `rcu` read units and `ms` billed per claim. */
export function perMillion(p: Prices, wcu: number, rcu: number, ms: number, memoryMb: number): CostPerMillion {
  const dynamodbWrites = wcu * p.dynamodb.writeRequestUnitPerMillion;
  const dynamodbReads = rcu * p.dynamodb.readRequestUnitPerMillion;
  const lambda = (Math.ceil(ms) / 1000) * (memoryMb / 1024) * p.lambda.gbSecond * 1e6 + p.lambda.requestPerMillion;
  const apiGateway = p.apiGatewayHttp.requestPerMillion;
  const r = (x: number) => round(x, 3);
  return {
    dynamodbWrites: r(dynamodbWrites),
    dynamodbReads: r(dynamodbReads),
    lambda: r(lambda),
    apiGateway: r(apiGateway),
    total: r(dynamodbWrites + dynamodbReads + lambda + apiGateway),
  };
}

/** dynalite in a child process; resolves with its endpoint. */
function startStoreProcess(): Promise<{ endpoint: string; child: ChildProcess }> {
  const code = `require(${JSON.stringify(path.join(ROOT, 'scripts', 'local-store.js'))}).startDynalite({ port: 0, host: '127.0.0.1' }).then((s) => console.log('ENDPOINT ' + s.endpoint))`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /ENDPOINT (\S+)/.exec(buf);
      if (m) resolve({ endpoint: m[1]!, child });
    });
    child.once('exit', (code) => reject(new Error(`store process exited (${code})`)));
  });
}

/** Bundles the claims function as deployed (esbuild, minified, SDK included) and times its `require` in fresh processes. */
async function initTime(
  env: Record<string, string>,
  runs: number,
): Promise<{ medianMs: number; runsMs: number[]; bundleBytes: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-claims-'));
  try {
    const out = path.join(dir, 'claims.js');
    await build({
      entryPoints: [path.join(ROOT, 'functions', 'handlers', 'claims.ts')],
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      outfile: out,
      logLevel: 'silent',
      absWorkingDir: ROOT,
    });
    const code = `const t=process.hrtime.bigint();require(${JSON.stringify(out)});console.log('INIT '+Number(process.hrtime.bigint()-t)/1e6)`;
    const runsMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = spawnSync(process.execPath, ['-e', code], { env: { ...process.env, ...env }, encoding: 'utf8' });
      const m = /INIT ([\d.]+)/.exec(r.stdout ?? '');
      if (!m) throw new Error(`init run failed: ${r.stderr}`);
      runsMs.push(round(Number(m[1]), 1));
    }
    return { medianMs: round(median(runsMs), 1), runsMs, bundleBytes: fs.statSync(out).size };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function loginFrom(api: Api, tier?: string): Promise<{ token: string; userId: string }> {
  const devUser = uniq('c');
  const r = await api('POST', '/v1/session', {
    body: { devUser, name: devUser, ...(tier ? { tier } : {}) },
    headers: { 'x-device-id': uniq('dev') },
  });
  if (r.status !== 200) throw new Error(`login failed ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function costBench(
  cfgFor: (endpoint: string) => Config,
  opts: { claims: number; initRuns: number },
): Promise<CostBench> {
  const { endpoint, child } = await startStoreProcess();
  try {
    const { ensureTable } = require(path.join(ROOT, 'scripts', 'local-store.js')) as {
      ensureTable: (e: string, t: string, o: { region: string }) => Promise<void>;
    };
    const cfg = cfgFor(endpoint);
    await ensureTable(endpoint, cfg.tableName, { region: cfg.region });
    const routes = [...sessionRoutes, ...walletRoutes, ...packetRoutes, ...claimRoutes];
    const base = new DynamoDb({ tableName: cfg.tableName, region: cfg.region, endpoint });
    const api = inProcessApi(routes, buildDeps(cfg, base));
    const meter = new ClaimCostMeter(base);
    const measured = inProcessApi(claimRoutes, buildDeps(cfg, meter.db));
    const wall: number[] = [];

    const run = async (count: number, tier: string): Promise<ClaimCost[]> => {
      const sender = await loginFrom(api, tier);
      const t = await api('POST', '/v1/wallet/topups', {
        token: sender.token,
        idem: idemKey(),
        body: { amount: 100_000 },
      });
      if (t.status !== 201) throw new Error(`topup ${t.status}`);
      const s = await api('POST', '/v1/packets', {
        token: sender.token,
        idem: idemKey(),
        body: { total: count * 20, count, mode: 'lucky' },
      });
      if (s.status !== 201) throw new Error(`send ${s.status} ${JSON.stringify(s.body)}`);
      const code: string = s.body.shareCode.code;
      const n = Math.min(opts.claims, count - 1); // never the last share (its claim also reads the claim list)
      const users = [];
      for (let i = 0; i < n; i++) users.push(await loginFrom(api));
      const out: ClaimCost[] = [];
      for (const u of users) {
        const t0 = performance.now();
        const c = await meter.measure(
          async () => (await measured('POST', '/v1/claims', { token: u.token, body: { code } })).status,
          shaper(s.body.packet.id),
        );
        wall.push(performance.now() - t0);
        if (c.status !== 200) throw new Error(`claim answered ${c.status}`);
        out.push(c);
      }
      // The first claim of a packet warms this process's caches (packet, share list): a warm
      // Lambda's claims are the others.
      return out.slice(1);
    };
    const plain = summarizeCosts(await run(100, 'personal'));
    const sharded = summarizeCosts(await run(300, 'enterprise'));
    const init = await initTime(
      {
        STAGE: 'test',
        TABLE_NAME: cfg.tableName,
        DYNAMODB_ENDPOINT: endpoint,
        AWS_REGION: cfg.region,
        CODE_KEYS: `k1:${randomBytes(32).toString('base64')}`,
        SESSION_SECRET: randomBytes(32).toString('base64'),
      },
      opts.initRuns,
    );
    const prices = readPrices();
    const memoryMb = claimsMemoryMb();
    const wallMs = median(wall);
    const wcu = (plain.wcu.mean + sharded.wcu.mean) / 2;
    const rcu = (plain.rcu.mean + sharded.rcu.mean) / 2;
    const thisDesign = perMillion(prices, wcu, rcu, wallMs, memoryMb);
    // One transaction (marker + counter + credit): TransactWriteItems bills 2 units per item of
    // ≤ 1 KB, so 3 items → 6 WCU, plus whatever index entries the credit carries in this run
    // (index writes are billed as standard writes). It reads what this design reads (tail,
    // standing: same RCU); its function time is this run's, scaled by round trips — the reads'
    // round trip and the transaction's, against this design's sequential round trips.
    const indexWcu = (plain.indexWcu.mean + sharded.indexWcu.mean) / 2;
    const txWcu = 2 * 3 + indexWcu;
    const sequential = (plain.sequential.mean + sharded.sequential.mean) / 2;
    const txMs = (wallMs * 2) / sequential;
    const oneTransaction = perMillion(prices, txWcu, rcu, txMs, memoryMb);
    return {
      plain,
      sharded,
      wallMsPerClaim: round(wallMs, 1),
      init,
      memoryMb,
      prices,
      perMillion: { thisDesign, oneTransaction, ratio: round(thisDesign.total / oneTransaction.total, 3) },
      transactionModel: `TransactWriteItems of marker + counter + credit: 3 items × 2 WCU + ${round(indexWcu, 2)} index WCU = ${round(txWcu, 2)} WCU; RCU as measured; ${round(txMs, 1)} ms (this run's ${round(wallMs, 1)} ms × 2 round trips / ${round(sequential, 2)})`,
    };
  } finally {
    child.kill();
  }
}

/** Rows for the bench's table: [id, measure, figure, target, result]. */
export function costRows(
  c: CostBench,
  before?: { plain: Partial<ClaimCostSummary>; sharded: Partial<ClaimCostSummary> },
): string[][] {
  const v = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  const rows: string[][] = [];
  for (const [name, s] of [
    ['plain 100', c.plain],
    ['sharded 300', c.sharded],
  ] as const) {
    rows.push(
      [
        'l',
        `${name}: WCU per claim (mean/max, index incl.)`,
        `${s.wcu.mean}/${s.wcu.max} (index ${s.indexWcu.mean})`,
        '≤ 4',
        v(s.wcu.max <= 4),
      ],
      ['l', `${name}: max WCU on one partition`, String(s.maxPartitionWcu), '≤ 1', v(s.maxPartitionWcu <= 1)],
      ['l', `${name}: RCU per claim (mean)`, String(s.rcu.mean), '—', 'info'],
      [
        'l',
        `${name}: store requests per claim (mean/max)`,
        `${s.requests.mean}/${s.requests.max}`,
        '≤ 4',
        v(s.requests.max <= 4),
      ],
      [
        'l',
        `${name}: sequential round trips (mean/max)`,
        `${s.sequential.mean}/${s.sequential.max}`,
        '≤ 3',
        v(s.sequential.max <= 3),
      ],
      ['l', `${name}: handler CPU ms per claim (mean/p50)`, `${s.cpuMs.mean}/${s.cpuMs.p50}`, '—', 'info'],
    );
  }
  rows.push(
    [
      'l',
      'claims bundle init (median of runs)',
      `${c.init.medianMs} ms [${c.init.runsMs.join(', ')}], ${round(c.init.bundleBytes / 1024, 1)} KB`,
      '≤ 150 ms, < 1 MB',
      v(c.init.medianMs <= 150 && c.init.bundleBytes < 1024 * 1024),
    ],
    ['l', 'wall ms per claim (in sequence, median)', String(c.wallMsPerClaim), '—', 'info'],
    [
      'l',
      `USD per 1M claims (${c.prices.region}, prices ${c.prices.date}, ${c.memoryMb} MB)`,
      `${c.perMillion.thisDesign.total} (ddb W ${c.perMillion.thisDesign.dynamodbWrites} R ${c.perMillion.thisDesign.dynamodbReads}, λ ${c.perMillion.thisDesign.lambda}, APIGW ${c.perMillion.thisDesign.apiGateway})`,
      '—',
      'info',
    ],
    ['l', 'USD per 1M claims, one-transaction design', String(c.perMillion.oneTransaction.total), '—', 'info'],
    ['l', 'ratio this / one-transaction', String(c.perMillion.ratio), '< 1', v(c.perMillion.ratio < 1)],
  );
  if (before) rows.push(['l', 'before this change (same section, main)', JSON.stringify(before), '', '']);
  return rows;
}
