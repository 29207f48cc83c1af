/**
 * Prod boots: the packaged prod (and dev) stage, run. Each function's environment is read from
 * the CloudFormation template `osls package` produced; every SSM reference in it is replaced by
 * a generated value of the right kind (random secrets, a code keyring, the WeChat Pay simulator's
 * merchant key, APIv3 key and platform public key) — a reference to a parameter this test does
 * not know fails it, as would a missing one at deploy time. What a Lambda gets from AWS and not
 * from the template (region, credentials) is added, and only these point elsewhere: the table
 * (this file's dynalite table), WeChat Pay (the simulator, in this process) and code2session (a
 * stub here). The real handlers of the packaged functions are then loaded in a fresh module
 * registry with that environment (config() reads it at cold start, as in Lambda) and a whole
 * flow goes through API Gateway v2 events: WeChat login, a packet paid by WeChat Pay, its
 * notification, a claim by a second WeChat user, that user's withdrawal confirmed at WeChat.
 *
 * Also: the README's deploy section lists every SSM parameter serverless.env.yml references.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { generateWxPaySimKeys, type WxPaySimKeys } from '../../scripts/wxpay-sim/keys';
import { startWxPaySim, type WxPaySim } from '../../scripts/wxpay-sim/sim';
import { TEST_REGION } from '../helpers/dynalite';
import { captureLogs } from '../helpers/logs';
import { packageStage, ROOT, type Packaged } from '../helpers/osls-package';

type Json = any;
type Handler = (event: unknown, context?: unknown) => Promise<unknown>;

/** An SSM reference as serverless.env.yml writes them (CloudFormation dynamic reference). */
const SSM_REF = /^\{\{resolve:ssm:(\/hongbao\/[a-z]+\/[a-z0-9-]+)\}\}$/;

let keys: WxPaySimKeys;
let sim: WxPaySim;
let wxStub: {
  url: string;
  calls: Array<{ appid: string; secret: string; code: string }>;
  messages: Array<{ template_id: string; touser: string }>;
  close(): Promise<void>;
};
let notifyServer: { url: string; statuses: number[]; target?: Stage; close(): Promise<void> };
const packaged: Record<string, Packaged> = {};

/** The values the test "stored in SSM" for one stage (parameter name → value). */
function ssmValues(stage: string, notifyUrl: string, wxSecret: string): Record<string, string> {
  const p = `/hongbao/${stage}`;
  return {
    [`${p}/code-keys`]: `k1:${randomBytes(32).toString('base64')}`,
    [`${p}/session-secret`]: randomBytes(32).toString('base64'),
    // The mini-program's appid: login and WeChat Pay orders use the same one.
    [`${p}/wx-appid`]: keys.appid,
    [`${p}/wx-secret`]: wxSecret,
    [`${p}/wxpay-mchid`]: keys.mchid,
    [`${p}/wxpay-mch-serial`]: keys.merchantSerialNo,
    [`${p}/wxpay-mch-private-key`]: keys.merchantPrivateKey,
    [`${p}/wxpay-apiv3-key`]: keys.apiV3Key,
    [`${p}/wxpay-platform-keys`]: JSON.stringify({ [keys.platformPublicKeyId]: keys.platformPublicKey }),
    [`${p}/wxpay-notify-url`]: notifyUrl,
    // Code links: not a secret.
    [`${p}/public-base-url`]: `https://hb-${stage}.example.cn`,
    // Subscribe-message templates (one switched off, as an operator may).
    [`${p}/wx-tmpl-packet-finished`]: `TmplFinished${stage}`,
    [`${p}/wx-tmpl-refund-arrived`]: 'off',
    [`${p}/wx-tmpl-withdrawal-arrived`]: `TmplWithdrawal${stage}:amount1,thing2,time3`,
  };
}

/** The Lambda functions of a template: serverless.yml name → environment variables. */
function functionsOf(template: Json): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const r of Object.values<Json>(template.Resources)) {
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const name = path.basename(String(r.Properties.Handler).replace(/\.handler$/, ''));
    out[name] = r.Properties.Environment?.Variables ?? {};
  }
  return out;
}

/** Replaces every SSM reference; throws on a parameter the stage was not given (a name mismatch). */
function resolveSsm(vars: Record<string, string>, ssm: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) {
    const m = typeof v === 'string' ? SSM_REF.exec(v) : null;
    if (typeof v === 'string' && v.includes('{{resolve:') && !m)
      throw new Error(`${k}: a dynamic reference of an unexpected form: ${v}`);
    if (!m) {
      out[k] = v;
      continue;
    }
    const value = ssm[m[1]!];
    if (value === undefined) throw new Error(`${k}: no SSM parameter ${m[1]} is documented for this stage`);
    out[k] = value;
  }
  return out;
}

interface Stage {
  name: string;
  /** Function name → its environment as the Lambda would see it. */
  env: Record<string, Record<string, string>>;
  handlers: Record<string, Handler>;
  secrets: string[];
}

/**
 * The Lambda environment of each function of `stage` and its handler, loaded in a module
 * registry of its own with that environment in place (config() is read there, once).
 */
function boot(name: string, template: Json): Stage {
  const wxSecret = randomBytes(16).toString('hex');
  const ssm = ssmValues(name, notifyServer.url, wxSecret);
  // Template ids are no secrets (the app is given them): not searched for in the logs.
  const templates = Object.entries(ssm)
    .filter(([k]) => k.includes('/wx-tmpl-'))
    .map(([, v]) => v);
  const stage: Stage = {
    name,
    env: {},
    handlers: {},
    secrets: Object.values(ssm).filter(
      (v) =>
        v !== keys.appid &&
        v !== keys.mchid &&
        v !== notifyServer.url &&
        !v.startsWith('{') &&
        !templates.includes(v) &&
        !v.startsWith('https://hb-'),
    ),
  };
  for (const [fn, vars] of Object.entries(functionsOf(template))) {
    stage.env[fn] = {
      ...resolveSsm(vars, ssm),
      // What Lambda itself provides.
      AWS_REGION: TEST_REGION,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_SESSION_TOKEN: 'test',
      AWS_LAMBDA_FUNCTION_NAME: `hongbao-codes-${name}-${fn}`,
      // Pointed at this machine: the store, WeChat Pay, code2session.
      DYNAMODB_ENDPOINT: process.env.DYNAMODB_ENDPOINT!,
      TABLE_NAME: process.env.TABLE_NAME!,
      WXPAY_API_BASE: sim.baseUrl,
      WX_API_BASE: wxStub.url,
      // The avatar bucket (a CloudFormation Ref in the template): the S3 stand-in's.
      ...(vars.AVATAR_BUCKET !== undefined
        ? { AVATAR_BUCKET: process.env.AVATAR_BUCKET!, S3_ENDPOINT: process.env.S3_ENDPOINT! }
        : {}),
    };
    withEnv(stage.env[fn]!, () => {
      jest.isolateModules(() => {
        stage.handlers[fn] = require(path.join(ROOT, 'functions', 'handlers', fn)).handler as Handler;
        // Cold start: the configuration is read now, from this function's environment.
        const { config } = require(path.join(ROOT, 'functions', 'src', 'config'));
        config();
      });
    });
  }
  return stage;
}

function withEnv<T>(env: Record<string, string>, f: () => T): T {
  const saved = process.env;
  process.env = { ...env };
  try {
    return f();
  } finally {
    process.env = saved;
  }
}

/** Invokes one packaged function with its environment in place for the whole call. */
async function invoke<T = APIGatewayProxyStructuredResultV2>(
  stage: Stage,
  fn: string,
  event: unknown,
  context?: unknown,
): Promise<T> {
  const saved = process.env;
  process.env = { ...stage.env[fn]! };
  try {
    return (await stage.handlers[fn]!(event, context)) as T;
  } finally {
    process.env = saved;
  }
}

/** Which function serves a request: the packaged template's HTTP API routes. */
function routeTable(template: Json): Array<{ method: string; re: RegExp; fn: string }> {
  const out: Array<{ method: string; re: RegExp; fn: string }> = [];
  for (const r of Object.values<Json>(template.Resources)) {
    if (r.Type !== 'AWS::ApiGatewayV2::Route') continue;
    const integrationId: string = r.Properties.Target['Fn::Join'][1][1].Ref;
    const uri = template.Resources[integrationId].Properties.IntegrationUri;
    const handler = template.Resources[uri['Fn::GetAtt'][0]].Properties.Handler as string;
    const [method, p] = String(r.Properties.RouteKey).split(' ') as [string, string];
    out.push({
      method,
      re: new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      fn: path.basename(handler.replace(/\.handler$/, '')),
    });
  }
  return out;
}

interface Res {
  status: number;
  body: Json;
}

/** An API Gateway v2 request to the function the template routes it to. */
async function call(
  stage: Stage,
  method: string,
  p: string,
  o: {
    token?: string;
    body?: unknown;
    rawBody?: Buffer;
    headers?: Record<string, string>;
    device?: string;
    idem?: string;
  } = {},
): Promise<Res> {
  const routes = routeTable(packaged[stage.name]!.template);
  const route = routes.find((r) => r.method === method && r.re.test(p));
  if (!route) throw new Error(`no route ${method} ${p} in the ${stage.name} template`);
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.device) headers['x-device-id'] = o.device;
  if (o.idem) headers['idempotency-key'] = o.idem;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const event = {
    version: '2.0',
    routeKey: `${method} ${p}`,
    rawPath: p,
    rawQueryString: '',
    headers,
    requestContext: { http: { method, path: p, sourceIp: '203.0.113.9' }, requestId: randomUUID() },
    // As API Gateway hands over a body it does not know to be text: base64.
    body: o.rawBody ? o.rawBody.toString('base64') : o.body === undefined ? undefined : JSON.stringify(o.body),
    isBase64Encoded: !!o.rawBody,
  } as unknown as APIGatewayProxyEventV2;
  const r = await invoke(stage, route.fn, event);
  return { status: r.statusCode ?? 200, body: r.body ? JSON.parse(r.body) : undefined };
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const closeServer = (server: http.Server) =>
  new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });

/** code2session as WeChat answers it: an openid per js_code, once the appid and secret are right. */
async function startWxStub() {
  const calls: Array<{ appid: string; secret: string; code: string }> = [];
  const messages: Array<{ template_id: string; touser: string }> = [];
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    // Subscribe messages: an access token, then the sends (kept for the test to read).
    if (req.method === 'POST' && u.pathname.startsWith('/cgi-bin/')) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        res.writeHead(200, { 'content-type': 'application/json' });
        if (u.pathname === '/cgi-bin/stable_token')
          return res.end(
            JSON.stringify(
              body.appid === keys.appid ? { access_token: 'stub-token', expires_in: 7200 } : { errcode: 40013 },
            ),
          );
        if (u.searchParams.get('access_token') === 'stub-token') messages.push(body);
        res.end(JSON.stringify({ errcode: u.searchParams.get('access_token') === 'stub-token' ? 0 : 40001 }));
      });
      return;
    }
    const q = {
      appid: u.searchParams.get('appid') ?? '',
      secret: u.searchParams.get('secret') ?? '',
      code: u.searchParams.get('js_code') ?? '',
    };
    calls.push(q);
    const ok =
      u.pathname === '/sns/jscode2session' &&
      q.appid === keys.appid &&
      q.secret.length === 32 &&
      u.searchParams.get('grant_type') === 'authorization_code' &&
      q.code !== '';
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(
        ok
          ? { openid: `o${q.code}`, session_key: randomBytes(16).toString('base64') }
          : { errcode: 40029, errmsg: 'invalid code' },
      ),
    );
  });
  const url = await listen(server);
  return { url, calls, messages, close: () => closeServer(server) };
}

/** WeChat Pay's notifications, as API Gateway would hand them to the packaged payments function. */
async function startNotifyServer() {
  const statuses: number[] = [];
  const state: { url: string; statuses: number[]; target?: Stage; close(): Promise<void> } = {
    url: '',
    statuses,
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        if (!state.target) throw new Error('no stage booted');
        const headers = Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]),
        );
        const r = await call(state.target, req.method ?? 'POST', new URL(req.url ?? '/', 'http://x').pathname, {
          rawBody: Buffer.concat(chunks),
          headers,
        });
        statuses.push(r.status);
        res.writeHead(r.status).end(r.body === undefined ? '' : JSON.stringify(r.body));
      })().catch(() => {
        statuses.push(500);
        res.writeHead(500).end();
      });
    });
  });
  state.url = `${await listen(server)}/v1/pay/wechat/notify`;
  state.close = () => closeServer(server);
  return state;
}

async function simHook(p: string, body?: unknown): Promise<number> {
  const res = await fetch(`${sim.baseUrl}${p}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  await res.text();
  return res.status;
}

/** Polls until `get` answers; the budget is the test's, generous for a loaded machine. */
async function waitFor<T>(what: string, get: () => Promise<T | undefined | false>, budgetMs = 20_000): Promise<T> {
  const until = Date.now() + budgetMs;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const idem = () => randomBytes(9).toString('base64url');

async function wxLogin(stage: Stage, device = `dev-${randomBytes(6).toString('hex')}`) {
  const code = randomBytes(12).toString('hex');
  const r = await call(stage, 'POST', '/v1/session', { body: { code }, device });
  expect({ status: r.status, body: r.status === 200 ? 'ok' : r.body }).toEqual({ status: 200, body: 'ok' });
  return { token: r.body.token as string, userId: r.body.userId as string, device };
}

beforeAll(async () => {
  keys = generateWxPaySimKeys();
  sim = await startWxPaySim({ keys, port: 0, retryScale: 0.001 });
  wxStub = await startWxStub();
  notifyServer = await startNotifyServer();
  // One at a time (the helper's lock); prod is shared with serverless-package.test.ts.
  packaged.prod = await packageStage('prod');
  packaged.dev = await packageStage('dev');
}, 400_000);

afterAll(async () => {
  await sim?.close();
  await wxStub?.close();
  await notifyServer?.close();
});

function packagedOk(stage: string): Json {
  const p = packaged[stage]!;
  if (p.run.code !== 0)
    throw new Error(`osls package --stage ${stage} failed (${p.run.code}):\n${p.run.stdout}\n${p.run.stderr}`);
  return p.template;
}

describe('the packaged prod stage boots and runs a whole flow', () => {
  it('health says prod; devUser login is refused; WeChat login → packet paid by WeChat Pay → claim → withdrawal', async () => {
    const template = packagedOk('prod');
    const logs = captureLogs();
    const tokens: string[] = [];
    let stage: Stage | undefined;
    try {
      stage = boot('prod', template);
      notifyServer.target = stage;
      expect(Object.keys(stage.handlers).sort()).toEqual(Object.keys(functionsOf(template)).sort());
      for (const env of Object.values(stage.env)) expect(env.DEV_LOGIN_SECRET).toBeUndefined();

      const health = await call(stage, 'GET', '/v1/health');
      expect(health).toEqual({ status: 200, body: { ok: true, stage: 'prod' } });

      const dev = await call(stage, 'POST', '/v1/session', {
        body: { devUser: 'mallory', roles: ['admin'] },
        device: 'dev-mallory',
      });
      expect({ status: dev.status, code: dev.body.error?.code }).toEqual({ status: 403, code: 'DEV_LOGIN_DISABLED' });
      // A code login without the device is refused before the code is spent.
      const stubCalls = wxStub.calls.length;
      expect((await call(stage, 'POST', '/v1/session', { body: { code: 'nodevice' } })).status).toBe(400);
      expect(wxStub.calls.length).toBe(stubCalls);

      const sender = await wxLogin(stage);
      const claimer = await wxLogin(stage);
      // code2session got the appid and secret from "SSM".
      expect(wxStub.calls.slice(-2).map((c) => c.appid)).toEqual([keys.appid, keys.appid]);

      // A packet paid directly by WeChat Pay: 202, an order at WeChat, nothing active yet.
      const key = idem();
      const created = await call(stage, 'POST', '/v1/packets', {
        token: sender.token,
        device: sender.device,
        idem: key,
        body: { funding: 'wechatpay', total: 1_000, count: 2, mode: 'equal' },
      });
      expect(created.status).toBe(202);
      expect(created.body.packet).toMatchObject({ status: 'awaiting_payment', funding: 'wechatpay', total: 1_000 });
      const packetId = created.body.packet.id as string;
      const fee = created.body.fee as number;
      const paymentId = created.body.payment.paymentId as string;
      expect(created.body.payment).toMatchObject({
        amount: 1_000 + fee,
        state: 'pending',
        request: { package: expect.stringMatching(/^prepay_id=/), signType: 'RSA' },
      });
      const order = sim.state().payments.find((p) => p.outTradeNo === paymentId);
      expect(order).toMatchObject({ amount: 1_000 + fee, state: 'NOTPAY' });

      // The user pays; WeChat's notification reaches the payments function with its raw body.
      expect(await simHook(`/sim/payments/${order!.prepayId}/pay`)).toBe(200);
      await waitFor(
        'the packet active',
        async () =>
          (await call(stage!, 'GET', `/v1/packets/${packetId}`, { token: sender.token, device: sender.device })).body
            .status === 'active',
      );
      expect(notifyServer.statuses).toContain(204);
      expect(notifyServer.statuses.filter((s) => s >= 400)).toEqual([]);
      expect(
        (await call(stage, 'GET', `/v1/payments/${paymentId}`, { token: sender.token, device: sender.device })).body,
      ).toMatchObject({ paymentId, state: 'paid', amount: 1_000 + fee });
      expect(
        (await call(stage, 'GET', '/v1/wallet', { token: sender.token, device: sender.device })).body.balance,
      ).toBe(0);

      const code = await call(stage, 'POST', `/v1/packets/${packetId}/codes`, {
        token: sender.token,
        device: sender.device,
        body: {},
      });
      expect(code.status).toBe(201);
      // Its link is on the stage's public base; that URL's path reaches the links function.
      expect(code.body.link).toBe(`https://hb-prod.example.cn/o/${code.body.code}`);
      const linkPath = new URL(code.body.link).pathname;
      const linkRoute = routeTable(template).find((r) => r.method === 'GET' && r.re.test(linkPath));
      expect(linkRoute?.fn).toBe('links');
      const page = await invoke<APIGatewayProxyStructuredResultV2>(stage, 'links', {
        rawPath: linkPath,
        headers: { 'user-agent': 'Mozilla/5.0 Safari' },
        requestContext: { http: { method: 'GET', path: linkPath } },
      });
      expect({ status: page.statusCode, wechat: String(page.body).includes('请用微信扫一扫打开') }).toEqual({
        status: 200,
        wechat: true,
      });
      const claim = await call(stage, 'POST', '/v1/claims', {
        token: claimer.token,
        device: claimer.device,
        body: { code: code.body.code },
      });
      expect(claim.status).toBe(200);
      expect(claim.body).toMatchObject({ packetId, amount: 500, repeat: false });
      expect(
        (await call(stage, 'GET', '/v1/wallet', { token: claimer.token, device: claimer.device })).body.balance,
      ).toBe(500);

      // The claimer withdraws: a transfer bill waiting for the user's confirmation, then success.
      const wd = await call(stage, 'POST', '/v1/withdrawals', {
        token: claimer.token,
        device: claimer.device,
        idem: idem(),
        body: { amount: 400 },
      });
      expect(wd.status).toBe(201);
      expect(wd.body).toMatchObject({
        amount: 400,
        state: 'wait_user_confirm',
        confirm: { mchId: keys.mchid, appId: keys.appid, package: expect.any(String) },
      });
      const wdId = wd.body.withdrawalId as string;
      expect(
        (await call(stage, 'GET', '/v1/wallet', { token: claimer.token, device: claimer.device })).body.balance,
      ).toBe(100);
      expect(sim.state().transfers.filter((t) => t.outBillNo === wdId)).toEqual([
        { outBillNo: wdId, amount: 400, state: 'WAIT_USER_CONFIRM' },
      ]);
      expect(await simHook(`/sim/transfers/${wdId}/confirm`)).toBe(200);
      await waitFor(
        'the withdrawal succeeded',
        async () =>
          (await call(stage!, 'GET', `/v1/withdrawals/${wdId}`, { token: claimer.token, device: claimer.device })).body
            .state === 'success',
      );
      expect(
        (await call(stage, 'GET', '/v1/wallet', { token: claimer.token, device: claimer.device })).body.balance,
      ).toBe(100);
      expect(notifyServer.statuses.filter((s) => s >= 400)).toEqual([]);
      // "Withdrawal arrived", once, to the claimer's openid, with the template from "SSM".
      // (sent by whichever of the notification and the read applied SUCCESS first: wait for it).
      await waitFor('the withdrawal message', async () => wxStub.messages.length > 0);
      expect(wxStub.messages.filter((m) => m.template_id === 'TmplWithdrawalprod')).toHaveLength(1);

      // The scheduled functions, as EventBridge invokes them: the sweep runs; reconciliation of
      // everything this flow wrote (this file's table) finds no mismatch.
      const schedule = { source: 'aws.events', id: randomUUID(), 'detail-type': 'Scheduled Event', detail: {} };
      const swept = await invoke<Json>(stage, 'sweep', schedule, { getRemainingTimeInMillis: () => 10_000 });
      expect(swept).toEqual(expect.objectContaining({ left: 0 }));
      const reconciled = await invoke<Json>(stage, 'reconcile', schedule);
      expect(reconciled).toMatchObject({ ok: true, mismatches: 0 });
      tokens.push(sender.token, claimer.token);
    } finally {
      logs.restore();
      notifyServer.target = undefined;
    }
    // Prod logs requests; none of the configured secrets, and no session token, is in them.
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(tokens).toHaveLength(2);
    for (const secret of [...stage!.secrets, ...tokens]) {
      const probe = secret.includes('PRIVATE KEY') ? secret.split('\n')[1]! : secret;
      expect(logs.lines.filter((l) => l.includes(probe))).toEqual([]);
    }
  });
});

describe('the packaged dev stage boots the same way', () => {
  it('health says dev; WeChat login works; devUser login is refused', async () => {
    const template = packagedOk('dev');
    const logs = captureLogs();
    try {
      const stage = boot('dev', template);
      notifyServer.target = stage;
      for (const env of Object.values(stage.env)) expect(env.DEV_LOGIN_SECRET).toBeUndefined();
      expect(await call(stage, 'GET', '/v1/health')).toEqual({ status: 200, body: { ok: true, stage: 'dev' } });
      const u = await wxLogin(stage);
      expect((await call(stage, 'GET', '/v1/wallet', { token: u.token, device: u.device })).body.balance).toBe(0);
      const dev = await call(stage, 'POST', '/v1/session', { body: { devUser: 'mallory' }, device: 'dev-mallory' });
      expect(dev.status).toBe(403);
      // Money in on dev is WeChat Pay too: the sandbox top-up is not the default there.
      const t = await call(stage, 'POST', '/v1/wallet/topups', {
        token: u.token,
        device: u.device,
        idem: idem(),
        body: { amount: 100 },
      });
      expect(t.status).toBe(202);
      expect(t.body.payment).toMatchObject({ amount: 100, state: 'pending' });
    } finally {
      logs.restore();
      notifyServer.target = undefined;
    }
  });
});

describe('README: Deploy to AWS', () => {
  it('lists every SSM parameter serverless.env.yml references, for every AWS stage, with its put-parameter command', () => {
    const envYml = fs.readFileSync(path.join(ROOT, 'serverless.env.yml'), 'utf8');
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(
      readme.indexOf('## Deploy to AWS'),
      readme.indexOf('\n## ', readme.indexOf('## Deploy to AWS') + 3),
    );
    // Each top-level block (a stage or an anchor), its own parameters and the anchors it merges (`<<: [*aws, *wxpay]`).
    const blocks = new Map<string, string>();
    let current = '';
    for (const line of envYml.split('\n')) {
      const head = /^([a-z]+):(?:\s*&([a-z]+))?\s*$/.exec(line);
      if (head) {
        current = head[2] ?? head[1]!;
        blocks.set(current, '');
        continue;
      }
      if (current && !/^\s*#/.test(line)) blocks.set(current, `${blocks.get(current)! + line}\n`);
    }
    const paramsOf = (block: string, seen = new Set<string>()): string[] => {
      if (seen.has(block)) return [];
      seen.add(block);
      const text = blocks.get(block) ?? '';
      const own = [...text.matchAll(/\{\{resolve:ssm:\/hongbao\/\$\{sls:stage\}\/([a-z0-9-]+)\}\}/g)].map((m) => m[1]!);
      const merged = [...text.matchAll(/\*([a-z]+)/g)].flatMap((m) => paramsOf(m[1]!, seen));
      return [...new Set([...own, ...merged])];
    };
    const stages = ['sandbox', 'dev', 'prod'];
    const expected = stages.flatMap((s) => paramsOf(s).map((p) => `/hongbao/${s}/${p}`));
    // The parsing itself: prod needs the login and WeChat Pay parameters; sandbox has dev login.
    expect(expected).toEqual(
      expect.arrayContaining([
        '/hongbao/prod/code-keys',
        '/hongbao/prod/wx-secret',
        '/hongbao/prod/wxpay-apiv3-key',
        '/hongbao/sandbox/dev-login-secret',
        '/hongbao/dev/wx-appid',
      ]),
    );
    const missing = expected.filter(
      (name) => !new RegExp(`put-parameter[^\\n]*--name ${name.replace(/[/-]/g, '\\$&')}(\\s|$)`).test(section),
    );
    expect(missing).toEqual([]);
    // And nothing is documented that no stage reads (a renamed parameter left behind).
    const documented = [...section.matchAll(/--name (\/hongbao\/[a-z]+\/[a-z0-9-]+)/g)].map((m) => m[1]!);
    expect(documented.filter((n) => !expected.includes(n))).toEqual([]);
    // The notify URL WeChat Pay is given.
    expect(section).toContain('/v1/pay/wechat/notify');
  });
});
