/**
 * (k) Money in through WeChat Pay, against the simulator (in this process, port 0) with the real
 * adapter, the real routes and the store:
 *   1. notification handling: N top-up orders are made through `POST /v1/wallet/topups`
 *      (`method: "wechatpay"`) and paid at the simulator, whose signed, encrypted notifications
 *      are captured as sent; each is then handed to the real notify route
 *      (`POST /v1/pay/wechat/notify`, raw body) one call at a time and timed: p50/p99 of the
 *      first delivery (verify, decrypt, credit) and of a duplicate (verify, decrypt, nothing to do);
 *   2. store writes per payment, counted with the db's `afterWrite` hook (a refused conditional
 *      write counts: it costs a write unit too): a top-up from the order to the credit, and a
 *      packet paid directly from the order to `active`, each split into the order call and the
 *      notification, with the items written by kind (the key's prefix).
 * Checked: every notification answered 204, each top-up credited exactly its amount, each packet active.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Config } from '../../functions/src/config';
import { buildDeps } from '../../functions/src/app/deps';
import { DynamoDb, type WriteInfo } from '../../functions/src/store/db';
import { httpHandler } from '../../functions/src/http/wrapper';
import { createWeChatPay } from '../../functions/src/wechatpay/client';
import { routes as sessionRoutes } from '../../functions/handlers/session';
import { routes as walletRoutes } from '../../functions/handlers/wallet';
import { routes as packetRoutes } from '../../functions/handlers/packets';
import { routes as paymentRoutes } from '../../functions/handlers/payments';
import { adapterConfigFor, generateWxPaySimKeys } from '../wxpay-sim/keys';
import { startWxPaySim } from '../wxpay-sim/sim';
import { idemKey, inProcessApi } from './api';
import { createTable } from './store';
import { log, median, now, round, summarize, type LatencySummary } from './util';

export interface WritesPerPayment {
  /** Median over the runs, and the spread. */
  total: number;
  min: number;
  max: number;
  /** Median writes of the order call, and of the notification. */
  order: number;
  notification: number;
  /** Items written by kind (key prefix) in the first run. */
  byKind: Record<string, number>;
}

export interface PaymentsBench {
  notifications: number;
  firstDelivery: LatencySummary;
  duplicate: LatencySummary;
  topupWrites: WritesPerPayment;
  packetWrites: WritesPerPayment;
  runs: number;
  problems: string[];
}

interface Captured {
  body: Buffer;
  headers: Record<string, string>;
}

const waitFor = async (what: string, pred: () => boolean, budgetMs = 60_000) => {
  const until = Date.now() + budgetMs;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`(k) timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

export async function paymentsBench(
  cfg: Config,
  endpoint: string,
  opts: { notifications: number; runs: number },
): Promise<PaymentsBench> {
  // The per-minute operator figures write too; they are not the payment's.
  process.env.OPS_FIGURES = 'off';
  const problems: string[] = [];
  const keys = generateWxPaySimKeys();
  // WeChat's notifications, captured as sent and acknowledged; replayed to the route below.
  const captured = new Map<string, Captured[]>();
  const capture = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]),
      );
      const key = headers['wechatpay-nonce'] ?? randomUUID();
      captured.set(key, [...(captured.get(key) ?? []), { body: Buffer.concat(chunks), headers }]);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => capture.listen(0, '127.0.0.1', () => r()));
  const sim = await startWxPaySim({ keys, port: 0, retryScale: 0.001 });
  try {
    const tableName = `${cfg.tableName}-pay-${randomBytes(3).toString('hex')}`;
    await createTable(endpoint, tableName);
    const base = adapterConfigFor(keys, sim.baseUrl, 5_000);
    const payCfg: Config = {
      ...cfg,
      tableName,
      wechatPay: {
        ...base,
        notifyUrl: `http://127.0.0.1:${(capture.address() as AddressInfo).port}/v1/pay/wechat/notify`,
        transferSceneId: '1000',
      },
    };
    let writes: WriteInfo[] = [];
    const db = new DynamoDb({ tableName, region: cfg.region, endpoint, afterWrite: (i) => void writes.push(i) });
    const d = buildDeps(payCfg, db, { wechatPay: createWeChatPay(base) });
    const api = inProcessApi([...sessionRoutes, ...walletRoutes, ...packetRoutes, ...paymentRoutes], d);
    const notifyHandler = httpHandler(paymentRoutes, () => d);
    const deliver = async (n: Captured) => {
      const event = {
        version: '2.0',
        routeKey: '$default',
        rawPath: '/v1/pay/wechat/notify',
        rawQueryString: '',
        headers: n.headers,
        requestContext: { http: { method: 'POST', path: '/v1/pay/wechat/notify' }, requestId: randomUUID() },
        body: n.body.toString('base64'),
        isBase64Encoded: true,
      } as unknown as APIGatewayProxyEventV2;
      return (await notifyHandler(event)).statusCode ?? 200;
    };
    const login = async () => {
      const r = await api('POST', '/v1/session', { body: { devUser: `k${randomBytes(5).toString('hex')}` } });
      return { token: r.body.token as string, userId: r.body.userId as string };
    };
    const prepayOf = (paymentId: string) => sim.state().payments.find((p) => p.outTradeNo === paymentId)?.prepayId;
    const pay = async (paymentId: string): Promise<Captured> => {
      const before = new Set(captured.keys());
      const res = await fetch(`${sim.baseUrl}/sim/payments/${prepayOf(paymentId)}/pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      await res.text();
      if (res.status !== 200) throw new Error(`(k) the simulator refused to pay ${paymentId}: ${res.status}`);
      await waitFor(`the notification of ${paymentId}`, () => [...captured.keys()].some((k) => !before.has(k)));
      const key = [...captured.keys()].find((k) => !before.has(k))!;
      return captured.get(key)![0]!;
    };
    const kinds = (ws: WriteInfo[]) => {
      const out: Record<string, number> = {};
      for (const w of ws) {
        const kind = w.pk.split('#')[0]!;
        out[kind] = (out[kind] ?? 0) + 1;
      }
      return out;
    };

    // ---- 1. notification handling, per call.
    const payer = await login();
    const pending: Array<{ paymentId: string; amount: number; n?: Captured }> = [];
    log(`(k) ${opts.notifications} top-up orders at the simulator, paid there; notifications captured`);
    for (let i = 0; i < opts.notifications; i++) {
      const amount = 100 + i;
      const r = await api('POST', '/v1/wallet/topups', {
        token: payer.token,
        idem: idemKey(),
        body: { amount, method: 'wechatpay' },
      });
      if (r.status !== 202) throw new Error(`(k) top-up order: ${r.status} ${JSON.stringify(r.body)}`);
      pending.push({ paymentId: r.body.payment.paymentId, amount });
    }
    for (const p of pending) p.n = await pay(p.paymentId);
    const first: number[] = [];
    const dup: number[] = [];
    for (const p of pending) {
      const t0 = now();
      const status = await deliver(p.n!);
      first.push(now() - t0);
      if (status !== 204) problems.push(`notification of ${p.paymentId}: ${status}`);
    }
    for (const p of pending) {
      const t0 = now();
      const status = await deliver(p.n!);
      dup.push(now() - t0);
      if (status !== 204) problems.push(`duplicate notification of ${p.paymentId}: ${status}`);
    }
    const credited = (await api('GET', '/v1/wallet', { token: payer.token })).body.balance as number;
    const expected = pending.reduce((a, p) => a + p.amount, 0);
    if (credited !== expected) problems.push(`credited ${credited}, paid ${expected}`);

    // ---- 2. writes per payment, one payment at a time.
    const topupRuns: Array<{ order: number; notification: number; byKind: Record<string, number> }> = [];
    const packetRuns: typeof topupRuns = [];
    for (let i = 0; i < opts.runs; i++) {
      const u = await login();
      writes = [];
      const r = await api('POST', '/v1/wallet/topups', {
        token: u.token,
        idem: idemKey(),
        body: { amount: 5_000, method: 'wechatpay' },
      });
      const orderWrites = writes.length;
      const n = await pay(r.body.payment.paymentId);
      const status = await deliver(n);
      if (status !== 204) problems.push(`top-up run ${i}: notification ${status}`);
      topupRuns.push({ order: orderWrites, notification: writes.length - orderWrites, byKind: kinds(writes) });
      const bal = (await api('GET', '/v1/wallet', { token: u.token })).body.balance;
      if (bal !== 5_000) problems.push(`top-up run ${i}: balance ${bal}`);
    }
    for (let i = 0; i < opts.runs; i++) {
      const u = await login();
      writes = [];
      const r = await api('POST', '/v1/packets', {
        token: u.token,
        idem: idemKey(),
        body: { funding: 'wechatpay', total: 1_000, count: 10, mode: 'lucky' },
      });
      if (r.status !== 202) throw new Error(`(k) packet order: ${r.status} ${JSON.stringify(r.body)}`);
      const orderWrites = writes.length;
      const n = await pay(r.body.payment.paymentId);
      const status = await deliver(n);
      if (status !== 204) problems.push(`packet run ${i}: notification ${status}`);
      packetRuns.push({ order: orderWrites, notification: writes.length - orderWrites, byKind: kinds(writes) });
      const p = await api('GET', `/v1/packets/${r.body.packet.id}`, { token: u.token });
      if (p.body.status !== 'active') problems.push(`packet run ${i}: ${p.body.status}`);
    }
    const summary = (runs: typeof topupRuns): WritesPerPayment => {
      const totals = runs.map((r) => r.order + r.notification);
      return {
        total: median(totals),
        min: Math.min(...totals),
        max: Math.max(...totals),
        order: median(runs.map((r) => r.order)),
        notification: median(runs.map((r) => r.notification)),
        byKind: runs[0]!.byKind,
      };
    };
    const out: PaymentsBench = {
      notifications: opts.notifications,
      firstDelivery: summarize(first),
      duplicate: summarize(dup),
      topupWrites: summary(topupRuns),
      packetWrites: summary(packetRuns),
      runs: opts.runs,
      problems,
    };
    log(
      `(k) notification p50 ${round(out.firstDelivery.p50Ms, 1)} ms, p99 ${round(out.firstDelivery.p99Ms, 1)} ms; writes per top-up ${out.topupWrites.total}, per packet ${out.packetWrites.total}`,
    );
    return out;
  } finally {
    await sim.close();
    capture.closeAllConnections();
    await new Promise<void>((r) => capture.close(() => r()));
  }
}

/** The rows of (k) for the bench's table. */
export function paymentsRows(k: PaymentsBench): string[][] {
  const kinds = (w: WritesPerPayment) =>
    Object.entries(w.byKind)
      .map(([kind, n]) => `${kind} ${n}`)
      .join(', ');
  const ok = k.problems.length === 0 ? '✓' : `✗ ${k.problems.slice(0, 3).join('; ')}`;
  return [
    [
      'k',
      `WeChat Pay notification through the notify route, ${k.notifications} one at a time (verify, decrypt, credit)`,
      `p50 ${round(k.firstDelivery.p50Ms, 1)} ms, p99 ${round(k.firstDelivery.p99Ms, 1)} ms`,
      '',
      ok,
    ],
    [
      'k',
      'the same notifications again (duplicates: nothing to do)',
      `p50 ${round(k.duplicate.p50Ms, 1)} ms, p99 ${round(k.duplicate.p99Ms, 1)} ms`,
      '',
      '',
    ],
    [
      'k',
      `store writes per WeChat Pay top-up, order → credit (median of ${k.runs})`,
      `${k.topupWrites.total} (order ${k.topupWrites.order} + notification ${k.topupWrites.notification}; ${k.topupWrites.min}–${k.topupWrites.max}): ${kinds(k.topupWrites)}`,
      '',
      '',
    ],
    [
      'k',
      `store writes per packet paid directly, order → active (median of ${k.runs})`,
      `${k.packetWrites.total} (order ${k.packetWrites.order} + notification ${k.packetWrites.notification}; ${k.packetWrites.min}–${k.packetWrites.max}): ${kinds(k.packetWrites)}`,
      '',
      '',
    ],
  ];
}
