/**
 * The WeChat Pay world of integration tests: the simulator in this process (port 0) with fresh
 * keys, the real adapter pointed at it, and either the API's handlers served over HTTP so the
 * simulator's notifications reach the real notify route with their raw body
 * ({@link startWxPayEnv}), or an inbox that catches them so a test delivers them itself
 * ({@link startWxPayStack}).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { loadConfig, type Config, type WeChatPaySettings } from '../../functions/src/config';
import { buildDeps, type Deps } from '../../functions/src/app/deps';
import { httpHandler } from '../../functions/src/http/wrapper';
import { createWeChatPay, type WeChatPay } from '../../functions/src/wechatpay/client';
import type { WriteInfo } from '../../functions/src/store/db';
import { adapterConfigFor, generateWxPaySimKeys, type WxPaySimKeys } from '../../scripts/wxpay-sim/keys';
import { startWxPaySim, type WxPaySim, type WxPaySimOptions } from '../../scripts/wxpay-sim/sim';
import { allRoutes, baseDb, Clock } from './app';

/** Polls `get` until it gives something truthy (a wall-clock budget for asynchronous deliveries only). */
export async function waitFor<T>(
  what: string,
  get: () => Promise<T | undefined | false>,
  budgetMs = 20_000,
): Promise<T> {
  const until = Date.now() + budgetMs;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export type WriteHooks = { beforeWrite?: (i: WriteInfo) => void; afterWrite?: (i: WriteInfo) => void };

export interface WxPayEnv {
  keys: WxPaySimKeys;
  sim: WxPaySim;
  pay: WeChatPay;
  settings: WeChatPaySettings;
  notifyApp: { url: string; statuses: number[]; close(): Promise<void> };
  /** Deps with WeChat Pay configured against the simulator. */
  deps(clock: Clock, hooks?: WriteHooks, cfgOver?: Partial<ReturnType<typeof loadConfig>>): Deps;
  /** A simulator test hook (`/sim/...`). */
  hook(path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** Starts the simulator, the adapter and the notify app; `close` stops them. */
export async function startWxPayEnv(simOpts: Omit<WxPaySimOptions, 'keys'> = {}): Promise<WxPayEnv> {
  const keys = generateWxPaySimKeys();
  const sim = await startWxPaySim({ keys, port: 0, retryScale: 0.001, ...simOpts });
  const base = adapterConfigFor(keys, sim.baseUrl, 5_000);
  const pay = createWeChatPay(base);
  const env = {
    keys,
    sim,
    pay,
    settings: { ...base, notifyUrl: 'http://127.0.0.1:1/unused', transferSceneId: '1000' },
  } as WxPayEnv;
  env.deps = (clock, hooks = {}, cfgOver = {}) =>
    buildDeps({ ...loadConfig(), wechatPay: env.settings, ...cfgOver }, baseDb(hooks), {
      now: clock.now,
      wechatPay: pay,
    });
  env.notifyApp = await startNotifyApp(() => env.deps(new Clock()));
  env.settings = { ...env.settings, notifyUrl: env.notifyApp.url };
  env.hook = async (path, body) => {
    const res = await fetch(`${sim.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    });
    return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, unknown> };
  };
  env.close = async () => {
    await sim.close();
    await env.notifyApp.close();
  };
  return env;
}

/**
 * The API's handlers over HTTP (built by `makeDeps` once), so the simulator's notifications reach
 * the real notify route with their raw body.
 */
export async function startNotifyApp(makeDeps: () => Deps) {
  const statuses: number[] = [];
  let d: Deps | undefined;
  const handler = httpHandler(allRoutes, () => (d ??= makeDeps()));
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const event = {
          version: '2.0',
          rawPath: url.pathname,
          headers: Object.fromEntries(
            Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]),
          ),
          requestContext: { http: { method: req.method, path: url.pathname }, requestId: randomUUID() },
          // As API Gateway may hand it over: base64.
          body: Buffer.concat(chunks).toString('base64'),
          isBase64Encoded: true,
        } as unknown as APIGatewayProxyEventV2;
        const r = await handler(event);
        statuses.push(r.statusCode ?? 200);
        res.writeHead(r.statusCode ?? 200, r.headers as Record<string, string>).end(r.body ?? '');
      })().catch(() => res.writeHead(500).end());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/pay/wechat/notify`,
    statuses,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface WxPayStack {
  keys: WxPaySimKeys;
  sim: WxPaySim;
  /** The adapter on the simulator (real clock: the simulator signs with real time). */
  pay: WeChatPay;
  /** What the deps get as `cfg.wechatPay`; `notifyUrl` is where the simulator sends notifications. */
  settings: WeChatPaySettings;
  /** Calls a simulator test hook (`/sim/...`). */
  hook(path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }>;
  /**
   * Deps on the shared table with WeChat Pay configured against the simulator. `hooks`: write
   * hooks (crash injection); `cfg`: config overrides; `pay`: another adapter (a broken one).
   */
  deps(
    clock: Clock,
    opts?: {
      hooks?: { beforeWrite?: (i: WriteInfo) => void; afterWrite?: (i: WriteInfo) => void };
      cfg?: Partial<Config>;
      pay?: WeChatPay;
    },
  ): Deps;
  close(): Promise<void>;
}

/**
 * Starts the simulator and the adapter. `notifyUrl` may be set later (`stack.settings.notifyUrl
 * = …`) when the receiver itself needs the stack's deps: deps built after that see it.
 */
export async function startWxPayStack(opts: { notifyUrl?: string } = {}): Promise<WxPayStack> {
  const keys = generateWxPaySimKeys();
  const sim = await startWxPaySim({ keys, port: 0, retryScale: 0.001 });
  const base = adapterConfigFor(keys, sim.baseUrl, 5_000);
  const pay = createWeChatPay(base);
  const stack: WxPayStack = {
    keys,
    sim,
    pay,
    settings: { ...base, notifyUrl: opts.notifyUrl ?? 'http://127.0.0.1:1/unused', transferSceneId: '1000' },
    async hook(path, body) {
      const res = await fetch(`${sim.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body ?? {}),
      });
      return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, unknown> };
    },
    deps(clock, opts = {}) {
      const cfg = { ...loadConfig(), wechatPay: { ...stack.settings }, ...opts.cfg };
      return buildDeps(cfg, baseDb(opts.hooks), { now: clock.now, wechatPay: opts.pay ?? pay });
    },
    close: () => sim.close(),
  };
  return stack;
}

/** A notification as the simulator delivered it: its headers (lower-case names) and raw body. */
export interface CapturedNotification {
  headers: Record<string, string>;
  body: string;
}

/**
 * A notify URL that keeps what arrives and answers 204 (so the simulator does not retry):
 * genuine signed notifications a test then delivers to the API itself, as whoever it likes.
 */
export async function startNotificationInbox(): Promise<{
  url: string;
  received: CapturedNotification[];
  close(): Promise<void>;
}> {
  const received: CapturedNotification[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]),
      );
      received.push({ headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/pay/wechat/notify`,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
