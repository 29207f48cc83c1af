/**
 * Withdrawals end to end: the real handlers and store (dynalite), the real WeChat Pay adapter,
 * and the WeChat Pay simulator in this process (port 0) — confirmation, refusal, 24 hours
 * unconfirmed, lost answers, crashes at every write, the confirmation racing the expiry, limits,
 * funds and ownership. After every test: conservation (docs/rules.md) with withdrawals (held money is in
 * transit, a success is paid out) and at most one bill per withdrawal at WeChat.
 */
import http from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { routes as paymentRoutes } from '../../functions/handlers/payments';
import { httpHandler } from '../../functions/src/http/wrapper';
import type { AddressInfo } from 'node:net';
import type { Deps } from '../../functions/src/app/deps';
import { onTransferBillNotification, sweepWithdrawal } from '../../functions/src/app/withdrawals';
import { sweep } from '../../functions/src/app/sweeper';
import { reconcile } from '../../functions/src/app/reconcile';
import { FEE_ACCOUNTS } from '../../functions/src/app/context';
import { CONFIRM_WINDOW_MS, CREATE_GRACE_MS, withdrawalId } from '../../functions/src/domain/withdrawals';
import { createWeChatPay, type WeChatPay } from '../../functions/src/wechatpay/client';
import { HttpCode2Session } from '../../functions/src/app/ports';
import type { WriteInfo } from '../../functions/src/store/db';
import { adapterConfigFor, type WxPaySimKeys } from '../../scripts/wxpay-sim/keys';
import { startWxPaySim, type WxPaySim } from '../../scripts/wxpay-sim/sim';
import { Clock, balance, idem, login, makeApi, topup, type Api, type TestUser } from '../helpers/app';
import { ledgerOf, violations } from '../helpers/invariants';
import { startNotifyApp, startWxPayStack, waitFor, type WxPayStack } from '../helpers/wxpay';

let wx: WxPayStack;
let keys: WxPaySimKeys;
let sim: WxPaySim;
let pay: WeChatPay;
let receiver: { url: string; statuses: number[]; close(): Promise<void> };

class Crash extends Error {}

/** Deps on the shared table with the simulator's adapter; `hooks` inject crashes at writes. */
function wdDeps(
  clock: Clock,
  hooks: { beforeWrite?: (i: WriteInfo) => void; afterWrite?: (i: WriteInfo) => void } = {},
  payOverride?: WeChatPay,
): Deps {
  return wx.deps(clock, { hooks, ...(payOverride ? { pay: payOverride } : {}) });
}

/** An API Gateway (HTTP API v2) event of a request as the notify Lambda receives it. */
function gatewayEvent(
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string,
): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    requestContext: { http: { method, path } },
    body,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

const hook = (path: string, body?: unknown) => wx.hook(path, body);

const bills = (id: string) => sim.state().transfers.filter((t) => t.outBillNo === id);

beforeAll(async () => {
  wx = await startWxPayStack();
  ({ keys, sim, pay } = wx);
  // The notify URL: WeChat's deliveries go through the real notify route over HTTP.
  receiver = await startNotifyApp(() => wdDeps(new Clock()));
  wx.settings.notifyUrl = receiver.url;
});

afterAll(async () => {
  await wx?.close();
  await receiver?.close();
});

interface World {
  d: Deps;
  api: Api;
  clock: Clock;
  users: TestUser[];
  topups: number;
  withdrawals: string[];
}

async function world(funds: number[], clock = new Clock()): Promise<World> {
  const d = wdDeps(clock);
  const api = makeApi(d);
  const users: TestUser[] = [];
  for (const f of funds) {
    const u = await login(api);
    if (f > 0) await topup(api, u, f);
    users.push(u);
  }
  return { d, api, clock, users, topups: funds.reduce((a, b) => a + b, 0), withdrawals: [] };
}

/** The money invariants over the world, and at most one bill per withdrawal at WeChat. */
async function expectSound(w: World) {
  expect(
    await violations(w.d, {
      users: w.users.map((u) => u.userId),
      packets: [],
      topups: w.topups,
      feeAccounts: FEE_ACCOUNTS,
      withdrawals: w.withdrawals,
    }),
  ).toEqual([]);
  for (const id of w.withdrawals) expect(bills(id).length).toBeLessThanOrEqual(1);
}

async function withdraw(w: World, u: TestUser, amount: number, key = idem()) {
  const r = await w.api('POST', '/v1/withdrawals', { token: u.token, idem: key, body: { amount } });
  const id = withdrawalId(u.userId, key);
  if (!w.withdrawals.includes(id)) w.withdrawals.push(id);
  return { r, id, key };
}

const view = (w: World, u: TestUser, id: string) => w.api('GET', `/v1/withdrawals/${id}`, { token: u.token });

describe('withdrawal flows against the simulator', () => {
  it('happy path: held at once, the user confirms, paid out once; a repeat replays without a second bill', async () => {
    const w = await world([50_000]);
    const [u] = w.users as [TestUser];
    const { r, id, key } = await withdraw(w, u, 10_000);
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      withdrawalId: id,
      amount: 10_000,
      state: 'wait_user_confirm',
      confirm: { mchId: keys.mchid, appId: keys.appid, package: expect.any(String) },
    });
    expect(await balance(w.api, u)).toBe(40_000);
    expect(bills(id)).toEqual([{ outBillNo: id, amount: 10_000, state: 'WAIT_USER_CONFIRM' }]);
    await expectSound(w);

    const again = await w.api('POST', '/v1/withdrawals', { token: u.token, idem: key, body: { amount: 10_000 } });
    expect(again.body).toEqual(r.body);
    expect(bills(id)).toHaveLength(1);

    expect((await hook(`/sim/transfers/${id}/confirm`)).status).toBe(200);
    // The notification (or the app's poll) completes it.
    await waitFor('success', async () => (await w.d.withdrawals.get(id))?.state === 'success');
    expect((await view(w, u, id)).body).toEqual({
      withdrawalId: id,
      amount: 10_000,
      state: 'success',
      returned: false,
    });
    expect(await balance(w.api, u)).toBe(40_000);
    await sweep(w.d, w.clock.now() + CONFIRM_WINDOW_MS * 2);
    expect(await balance(w.api, u)).toBe(40_000);
    expect((await ledgerOf(w.d, u.userId)).map((e) => e.type)).toEqual(['topup', 'withdrawal_debit']);
    const list = await w.api('GET', '/v1/withdrawals', { token: u.token });
    expect(list.body.withdrawals).toEqual([{ withdrawalId: id, amount: 10_000, state: 'success', returned: false }]);
    await expectSound(w);
  });

  it('the user declines: the hold comes back exactly once, whatever repeats', async () => {
    const w = await world([30_000]);
    const [u] = w.users as [TestUser];
    await hook('/sim/faults', { notify: 'duplicate', times: 1 });
    const { r, id } = await withdraw(w, u, 20_000);
    expect(r.status).toBe(201);
    expect(await balance(w.api, u)).toBe(10_000);
    expect((await hook(`/sim/transfers/${id}/reject`)).status).toBe(200);
    await waitFor('returned', async () => (await w.d.withdrawals.get(id))?.returned === true);
    // A duplicate notification, the read, and two sweeps change nothing more.
    await onTransferBillNotification(w.d, { outBillNo: id, transferBillNo: 'x', state: 'FAIL', amount: 20_000 });
    expect((await view(w, u, id)).body).toEqual({ withdrawalId: id, amount: 20_000, state: 'failed', returned: true });
    await sweep(w.d, w.clock.now() + CONFIRM_WINDOW_MS * 2);
    await sweepWithdrawal(w.d, id, w.clock.now() + CONFIRM_WINDOW_MS * 2);
    expect(await balance(w.api, u)).toBe(30_000);
    expect((await ledgerOf(w.d, u.userId)).filter((e) => e.type === 'withdrawal_return')).toHaveLength(1);
    await expectSound(w);
  });

  it('24 hours unconfirmed: the sweeper cancels the bill, then returns the hold once', async () => {
    const w = await world([30_000]);
    const [u] = w.users as [TestUser];
    const { id } = await withdraw(w, u, 5_000);
    // Before the window is over the sweeper only polls.
    expect(await sweepWithdrawal(w.d, id, w.clock.now() + CONFIRM_WINDOW_MS - 60_000)).toBe('open');
    expect(await balance(w.api, u)).toBe(25_000);
    expect(await sweepWithdrawal(w.d, id, w.clock.now() + CONFIRM_WINDOW_MS + 1)).toBe('returned');
    expect(bills(id)[0]!.state).toBe('CANCELLED');
    expect((await view(w, u, id)).body).toEqual({ withdrawalId: id, amount: 5_000, state: 'canceled', returned: true });
    await sweep(w.d, w.clock.now() + CONFIRM_WINDOW_MS * 2);
    expect(await balance(w.api, u)).toBe(30_000);
    // A confirmation now is refused by WeChat: the bill is closed.
    expect((await hook(`/sim/transfers/${id}/confirm`)).status).toBe(409);
    await expectSound(w);
  });

  it('the due index brings the expired withdrawal to the sweeper (sweep over every shard)', async () => {
    const w = await world([10_000]);
    const [u] = w.users as [TestUser];
    const { id } = await withdraw(w, u, 1_000);
    const report = await sweep(w.d, w.clock.now() + CONFIRM_WINDOW_MS + 60_000);
    expect(report.withdrawalsFinished).toBeGreaterThanOrEqual(1);
    expect((await w.d.withdrawals.get(id))!.returned).toBe(true);
    expect(await balance(w.api, u)).toBe(10_000);
    await expectSound(w);
  });

  it('lost create answers: 503, one bill only; the retry gets the confirmation, the query resolves it', async () => {
    const w = await world([20_000]);
    const [u] = w.users as [TestUser];
    await hook('/sim/faults', { answer: 'lost', times: 2 });
    const { r, id, key } = await withdraw(w, u, 3_000);
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('UNAVAILABLE');
    expect(bills(id)).toEqual([{ outBillNo: id, amount: 3_000, state: 'WAIT_USER_CONFIRM' }]);
    expect(await balance(w.api, u)).toBe(17_000);
    await expectSound(w);
    // The sweeper's query learns the bill's state (no package in a query: the app retries for it).
    expect(await sweepWithdrawal(w.d, id, w.clock.now() + CREATE_GRACE_MS + 1)).toBe('open');
    expect((await view(w, u, id)).body.state).toBe('wait_user_confirm');
    const retry = await w.api('POST', '/v1/withdrawals', { token: u.token, idem: key, body: { amount: 3_000 } });
    expect(retry.status).toBe(201);
    expect(retry.body.confirm.package).toEqual(expect.any(String));
    expect(bills(id)).toHaveLength(1);
    await hook(`/sim/transfers/${id}/confirm`);
    expect((await view(w, u, id)).body.state).toBe('success');
    expect(await balance(w.api, u)).toBe(17_000);
    await expectSound(w);
  });

  it('WeChat refuses the create (nothing done there): 503, the hold is back at once, no bill; the retry answers failed', async () => {
    const w = await world([20_000]);
    const [u] = w.users as [TestUser];
    // An adapter for another appid: the simulator refuses the create with PARAM_ERROR.
    const refusing = createWeChatPay({ ...adapterConfigFor(keys, sim.baseUrl, 5_000), appid: 'wx0000000000000000' });
    const d = wdDeps(w.clock, {}, refusing);
    const key = idem();
    const id = withdrawalId(u.userId, key);
    w.withdrawals.push(id);
    const r = await makeApi(d)('POST', '/v1/withdrawals', { token: u.token, idem: key, body: { amount: 4_000 } });
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('UNAVAILABLE');
    expect(bills(id)).toHaveLength(0);
    expect(await balance(w.api, u)).toBe(20_000);
    expect(await w.d.withdrawals.get(id)).toMatchObject({ state: 'failed', returned: true, failReason: 'PARAM_ERROR' });
    const retry = await w.api('POST', '/v1/withdrawals', { token: u.token, idem: key, body: { amount: 4_000 } });
    expect(retry.body).toEqual({ withdrawalId: id, amount: 4_000, state: 'failed', returned: true });
    expect(bills(id)).toHaveLength(0);
    await sweep(w.d, w.clock.now() + CONFIRM_WINDOW_MS * 2);
    expect(await balance(w.api, u)).toBe(20_000);
    await expectSound(w);
  });

  it('a create that never reached WeChat: after the grace the query says not found and the hold comes back', async () => {
    const w = await world([20_000]);
    const [u] = w.users as [TestUser];
    // The create "crashes" before it is sent (billAt is written, nothing reaches WeChat).
    const broken: WeChatPay = {
      ...pay,
      createTransfer: async () => {
        throw new Crash('lost before sending');
      },
    };
    const d = wdDeps(w.clock, {}, broken);
    const key = idem();
    const id = withdrawalId(u.userId, key);
    w.withdrawals.push(id);
    const r = await makeApi(d)('POST', '/v1/withdrawals', { token: u.token, idem: key, body: { amount: 4_000 } });
    expect(r.status).toBe(500);
    expect(await balance(w.api, u)).toBe(16_000);
    // Within the grace a create may still be on its way: nothing is decided.
    expect(await sweepWithdrawal(w.d, id, w.clock.now() + 1_000)).toBe('retry');
    expect(await balance(w.api, u)).toBe(16_000);
    expect(await sweepWithdrawal(w.d, id, w.clock.now() + CREATE_GRACE_MS + 1_000)).toBe('returned');
    expect(bills(id)).toHaveLength(0);
    expect(await balance(w.api, u)).toBe(20_000);
    // The user's retry with the same key sends no create for a withdrawal given up.
    const retry = await w.api('POST', '/v1/withdrawals', { token: u.token, idem: key, body: { amount: 4_000 } });
    expect(retry.body).toEqual({ withdrawalId: id, amount: 4_000, state: 'canceled', returned: true });
    expect(bills(id)).toHaveLength(0);
    expect(await balance(w.api, u)).toBe(20_000);
    await expectSound(w);
  });

  it('a confirmation racing the 24-hour expiry: exactly one outcome, money returned at most once', async () => {
    const w = await world([50_000]);
    const [u] = w.users as [TestUser];
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await withdraw(w, u, 1_000 + i)).id);
    const late = w.clock.now() + CONFIRM_WINDOW_MS + 1;
    // Both orders, then both at once (the user's tap and the sweeper's cancel hit WeChat together).
    await Promise.all(
      ids.map(async (id, i) => {
        const confirm = () => hook(`/sim/transfers/${id}/confirm`);
        const expire = () => sweepWithdrawal(w.d, id, late);
        if (i % 3 === 0) {
          await confirm();
          await expire();
        } else if (i % 3 === 1) {
          await expire();
          await confirm();
        } else await Promise.all([confirm(), expire(), sweep(w.d, late)]);
      }),
    );
    await sweep(w.d, late + 60_000);
    const outcomes = new Set<string>();
    let expected = 50_000;
    for (const id of ids) {
      const rec = (await w.d.withdrawals.get(id))!;
      const bill = bills(id)[0]!;
      expect(['SUCCESS', 'CANCELLED']).toContain(bill.state);
      expect(rec.state).toBe(bill.state === 'SUCCESS' ? 'success' : 'canceled');
      expect(rec.returned).toBe(bill.state === 'CANCELLED');
      if (bill.state === 'SUCCESS') expected -= rec.amount;
      outcomes.add(bill.state);
    }
    expect(outcomes).toEqual(new Set(['SUCCESS', 'CANCELLED']));
    expect(await balance(w.api, u)).toBe(expected);
    await expectSound(w);
  });
});

describe('reconciliation', () => {
  it('counts held withdrawals as in transit and successful ones as paid out; no mismatch', async () => {
    const w = await world([40_000]);
    const [u] = w.users as [TestUser];
    const ok = await withdraw(w, u, 10_000);
    const declined = await withdraw(w, u, 7_000);
    await withdraw(w, u, 3_000);
    await hook(`/sim/transfers/${ok.id}/confirm`);
    await hook(`/sim/transfers/${declined.id}/reject`);
    await waitFor(
      'settled',
      async () =>
        (await w.d.withdrawals.get(ok.id))?.state === 'success' &&
        (await w.d.withdrawals.get(declined.id))?.returned === true,
    );
    w.clock.advance(5 * 60_000);
    const report = await reconcile(w.d, {
      scope: { accounts: w.users.map((x) => x.userId), packets: [], withdrawals: w.withdrawals },
      save: false,
    });
    expect(report.listed).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.paidOut).toBe(10_000);
    expect(report.inTransitBy.withdrawals).toBe(3_000);
    expect(report.balances + report.inTransit).toBe(40_000 - 10_000);
    await expectSound(w);
  });
});

describe('the notify endpoint (POST /v1/pay/wechat/notify)', () => {
  it("a forged notification is refused (401) and records nothing; the sweeper's query finds the truth", async () => {
    const w = await world([10_000]);
    const [u] = w.users as [TestUser];
    const { id } = await withdraw(w, u, 2_000);
    const before = receiver.statuses.length;
    await hook('/sim/faults', { notify: 'forge', times: 1 });
    await hook(`/sim/transfers/${id}/reject`);
    // Only the forged copy is sent (no genuine one follows): the receiver refuses it.
    await waitFor('the forged delivery refused', async () => receiver.statuses.slice(before).includes(401));
    expect((await w.d.withdrawals.get(id))!.state).toBe('wait_user_confirm');
    expect(await balance(w.api, u)).toBe(8_000);
    expect(await sweepWithdrawal(w.d, id, w.clock.now() + 11 * 60_000)).toBe('returned');
    expect(await balance(w.api, u)).toBe(10_000);
    await expectSound(w);
  });

  it('an unsigned or tampered body is 401 {"code":"FAIL"}; a genuine one 204, and its repeat 204 with nothing more', async () => {
    const w = await world([10_000]);
    const [u] = w.users as [TestUser];
    const { id } = await withdraw(w, u, 2_000);
    const call = (e: APIGatewayProxyEventV2) =>
      httpHandler(paymentRoutes, () => w.d)(e) as Promise<APIGatewayProxyStructuredResultV2>;
    const bad = await call(
      gatewayEvent('POST', '/v1/pay/wechat/notify', { 'content-type': 'application/json' }, '{"id":"x"}'),
    );
    expect(bad.statusCode).toBe(401);
    expect(JSON.parse(bad.body!)).toEqual({ code: 'FAIL', message: expect.any(String) });
    // Capture a genuine delivery (the simulator's) and replay it, then replay it tampered.
    const captured: Array<{ headers: Record<string, string>; body: string }> = [];
    const spy = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        captured.push({
          headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.writeHead(500).end();
      });
    });
    await new Promise<void>((r) => spy.listen(0, '127.0.0.1', () => r()));
    const spySim = await startWxPaySim({
      keys,
      port: 0,
      retryScale: 0.001,
      notifyUrl: `http://127.0.0.1:${(spy.address() as AddressInfo).port}/`,
    });
    try {
      const spyPay = createWeChatPay(adapterConfigFor(keys, spySim.baseUrl, 5_000));
      const made = await spyPay.createTransfer({
        outBillNo: id,
        openid: 'oX',
        amount: 2_000,
        remark: 'r',
        sceneId: '1000',
        sceneReportInfos: [],
      });
      expect(made.kind).toBe('ok');
      await fetch(`${spySim.baseUrl}/sim/transfers/${id}/reject`, { method: 'POST' });
      const got = await waitFor('a delivery', async () => captured[0]);
      const tampered = await call(
        gatewayEvent('POST', '/v1/pay/wechat/notify', got.headers, got.body.replace('"id":"', '"id":"x')),
      );
      expect(tampered.statusCode).toBe(401);
      expect((await w.d.withdrawals.get(id))!.returned).toBe(false);
      for (let i = 0; i < 2; i++)
        expect((await call(gatewayEvent('POST', '/v1/pay/wechat/notify', got.headers, got.body))).statusCode).toBe(204);
    } finally {
      await spySim.close();
      await new Promise<void>((r) => spy.close(() => r()));
    }
    expect((await w.d.withdrawals.get(id))!).toMatchObject({ state: 'failed', returned: true });
    expect(await balance(w.api, u)).toBe(10_000);
    expect((await ledgerOf(w.d, u.userId)).filter((e) => e.type === 'withdrawal_return')).toHaveLength(1);
    await expectSound(w);
  });
});

describe('the openid a withdrawal pays', () => {
  it("is the code2session login's, kept server side only; without one (outside dev stages) the withdrawal is refused", async () => {
    const openid = `oTEST${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const stub = http.createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ openid, session_key: 'k' })),
    );
    await new Promise<void>((r) => stub.listen(0, '127.0.0.1', () => r()));
    try {
      const w = await world([10_000]);
      const prodLike: Deps = {
        ...w.d,
        cfg: { ...w.d.cfg, devFeatures: false },
        code2session: new HttpCode2Session({
          apiBase: `http://127.0.0.1:${(stub.address() as AddressInfo).port}`,
          appId: 'wxapp',
          secret: 'shh',
        }),
      };
      const api = makeApi(prodLike);
      const login1 = await api('POST', '/v1/session', {
        body: { code: 'c1' },
        headers: { 'x-device-id': 'device-openid-test-1' },
      });
      expect(login1.status).toBe(200);
      expect(JSON.stringify(login1.body)).not.toContain(openid);
      const me = { token: login1.body.token, userId: login1.body.userId, name: login1.body.name } as TestUser;
      w.users.push(me);
      expect(await w.d.accounts.openid(me.userId)).toBe(openid);
      expect(JSON.stringify(await w.d.accounts.get(me.userId))).not.toContain(openid);
      // Fund it with a sandbox top-up (the dev-featured deps: a stage without them takes WeChat Pay
      // only), then withdraw: the bill pays the stored openid.
      await topup(w.api, me, 5_000);
      w.topups += 5_000;
      const key = idem();
      const r = await api('POST', '/v1/withdrawals', { token: me.token, idem: key, body: { amount: 1_000 } });
      expect(r.status).toBe(201);
      const id = withdrawalId(me.userId, key);
      w.withdrawals.push(id);
      const q = await pay.queryTransfer(id);
      expect(q.kind === 'ok' && q.bill.openid).toBe(openid);
      // A dev-login account has no openid: refused outside the dev stages, nothing written.
      const [devUser] = w.users as [TestUser];
      const refused = await api('POST', '/v1/withdrawals', {
        token: devUser.token,
        idem: idem(),
        body: { amount: 1_000 },
      });
      expect(refused.status).toBe(403);
      expect(await balance(w.api, devUser)).toBe(10_000);
      await expectSound(w);
    } finally {
      await new Promise<void>((r) => stub.close(() => r()));
    }
  });
});

describe('withdrawal refusals write nothing', () => {
  it('limits: below 1 yuan, above 200 yuan, past 2,000 yuan a UTC+8 day → 422 WITHDRAWAL_LIMIT', async () => {
    const w = await world([300_000]);
    const [u] = w.users as [TestUser];
    for (const amount of [0, 99, 20_001]) {
      const { r, id } = await withdraw(w, u, amount);
      expect(r.status).toBe(422);
      expect(r.body.error.code).toBe('WITHDRAWAL_LIMIT');
      expect(await w.d.withdrawals.get(id)).toBeUndefined();
      expect(bills(id)).toHaveLength(0);
    }
    expect(await balance(w.api, u)).toBe(300_000);
    for (let i = 0; i < 10; i++) expect((await withdraw(w, u, 20_000)).r.status).toBe(201);
    const entries = (await ledgerOf(w.d, u.userId)).length;
    const over = await withdraw(w, u, 100);
    expect(over.r.status).toBe(422);
    expect(over.r.body.error.code).toBe('WITHDRAWAL_LIMIT');
    expect(await w.d.withdrawals.get(over.id)).toBeUndefined();
    expect((await ledgerOf(w.d, u.userId)).length).toBe(entries);
    expect(bills(over.id)).toHaveLength(0);
    // A declined withdrawal gives the day's allowance back with the money.
    await hook(`/sim/transfers/${w.withdrawals[3]}/reject`);
    await waitFor('returned', async () => (await w.d.withdrawals.get(w.withdrawals[3]!))?.returned === true);
    expect((await withdraw(w, u, 20_000)).r.status).toBe(201);
    expect(await balance(w.api, u)).toBe(100_000);
    await expectSound(w);
  });

  it('two withdrawals racing past the day limit: the ledger lets exactly one through', async () => {
    const w = await world([250_000]);
    const [u] = w.users as [TestUser];
    for (let i = 0; i < 9; i++) expect((await withdraw(w, u, 20_000)).r.status).toBe(201);
    const [a, b] = await Promise.all([withdraw(w, u, 15_000), withdraw(w, u, 15_000)]);
    expect([a.r.status, b.r.status].sort()).toEqual([201, 422]);
    expect([a.r.body, b.r.body].find((x) => x.error)?.error.code).toBe('WITHDRAWAL_LIMIT');
    expect(await balance(w.api, u)).toBe(250_000 - 180_000 - 15_000);
    expect(bills(a.id).length + bills(b.id).length).toBe(1);
    await expectSound(w);
  });

  it('INSUFFICIENT_FUNDS (402) with nothing written; a negative amount is a validation error', async () => {
    const w = await world([5_000]);
    const [u] = w.users as [TestUser];
    const { r, id } = await withdraw(w, u, 5_001);
    expect(r.status).toBe(402);
    expect(r.body.error.code).toBe('INSUFFICIENT_FUNDS');
    expect(await w.d.withdrawals.get(id)).toBeUndefined();
    expect(bills(id)).toHaveLength(0);
    const neg = await withdraw(w, u, -100);
    expect(neg.r.status).toBe(400);
    expect((await ledgerOf(w.d, u.userId)).map((e) => e.type)).toEqual(['topup']);
    await expectSound(w);
  });

  it("someone else's withdrawal is not found; lists and cursors stay the caller's", async () => {
    const w = await world([10_000, 10_000]);
    const [a, b] = w.users as [TestUser, TestUser];
    const { id } = await withdraw(w, a, 1_000);
    await withdraw(w, a, 1_000);
    expect((await view(w, b, id)).status).toBe(404);
    expect((await view(w, a, id)).status).toBe(200);
    expect((await view(w, a, `wd${'0'.repeat(30)}`)).status).toBe(404);
    expect((await w.api('GET', '/v1/withdrawals', { token: b.token })).body).toEqual({ withdrawals: [], cursor: null });
    const page = await w.api('GET', '/v1/withdrawals', { token: a.token, query: { limit: '1' } });
    expect(page.body.withdrawals).toHaveLength(1);
    expect(page.body.cursor).toEqual(expect.any(String));
    expect(
      (await w.api('GET', '/v1/withdrawals', { token: b.token, query: { cursor: page.body.cursor } })).status,
    ).toBe(400);
    const next = await w.api('GET', '/v1/withdrawals', {
      token: a.token,
      query: { limit: '1', cursor: page.body.cursor },
    });
    expect(next.body.withdrawals).toHaveLength(1);
    expect(next.body.withdrawals[0].withdrawalId).not.toBe(page.body.withdrawals[0].withdrawalId);
    expect((await w.api('GET', '/v1/withdrawals', {})).status).toBe(401);
    await expectSound(w);
  });

  it('the same Idempotency-Key with another amount is refused (409), one withdrawal only', async () => {
    const w = await world([10_000]);
    const [u] = w.users as [TestUser];
    const { key, id } = await withdraw(w, u, 1_000);
    const r = await w.api('POST', '/v1/withdrawals', { token: u.token, idem: key, body: { amount: 2_000 } });
    expect(r.status).toBe(409);
    expect(bills(id)).toHaveLength(1);
    expect(await balance(w.api, u)).toBe(9_000);
    await expectSound(w);
  });
});

describe('crash points', () => {
  /** A deps whose store throws just before, or just after, its k-th write. */
  function crashing(clock: Clock, k: number, when: 'before' | 'after') {
    let n = 0;
    const at = (phase: 'before' | 'after') => (_: WriteInfo) => {
      if (phase === 'before') n++;
      if (phase === when && n === k) throw new Crash(`crash ${when} write ${k}`);
    };
    return { d: wdDeps(clock, { beforeWrite: at('before'), afterWrite: at('after') }), writes: () => n };
  }

  it('a crash at any write of the request, then the retry or the sweeper: one bill at most, money held once and settled once', async () => {
    const w = await world([]);
    let k = 1;
    let sawEnd = false;
    for (; !sawEnd && k <= 12; k++) {
      for (const when of ['before', 'after'] as const) {
        const clock = new Clock(w.clock.now());
        const u = await login(w.api);
        await topup(w.api, u, 10_000);
        w.users.push(u);
        w.topups += 10_000;
        const key = idem();
        const id = withdrawalId(u.userId, key);
        w.withdrawals.push(id);
        const c = crashing(clock, k, when);
        const first = await makeApi(c.d)('POST', '/v1/withdrawals', {
          token: u.token,
          idem: key,
          body: { amount: 2_000 },
        });
        if (c.writes() < k) sawEnd = true;
        const d = wdDeps(clock);
        const api = makeApi(d);
        if (k % 2 === 1) {
          // The user retries (same key): the withdrawal goes on to the confirmation.
          const retry = await api('POST', '/v1/withdrawals', { token: u.token, idem: key, body: { amount: 2_000 } });
          expect([201]).toContain(retry.status);
          if (retry.body.state === 'wait_user_confirm') {
            await hook(`/sim/transfers/${id}/confirm`);
            expect((await api('GET', `/v1/withdrawals/${id}`, { token: u.token })).body.state).toBe('success');
          }
        } else {
          // The user gives up: the sweeper finishes it (back after the grace, or at 24 h).
          expect([201, 500]).toContain(first.status);
          await sweep(d, clock.now() + CREATE_GRACE_MS + 1_000);
          await sweep(d, clock.now() + CONFIRM_WINDOW_MS + 60_000);
          const rec = await d.withdrawals.get(id);
          if (rec) expect(['canceled', 'failed', 'success']).toContain(rec.state);
          if (rec && rec.state !== 'success') expect(await balance(api, u)).toBe(10_000);
        }
        expect(bills(id).length).toBeLessThanOrEqual(1);
      }
    }
    expect(sawEnd).toBe(true);
    await expectSound(w);
  });

  it('a crash at any write of the completion (success or return), then the next sweep: settled exactly once', async () => {
    const w = await world([]);
    for (const outcome of ['confirm', 'reject', 'expire'] as const) {
      for (let k = 1; k <= 4; k++) {
        for (const when of ['before', 'after'] as const) {
          const u = await login(w.api);
          await topup(w.api, u, 10_000);
          w.users.push(u);
          w.topups += 10_000;
          await hook('/sim/faults', { notify: 'drop', times: 1 });
          const { id } = await withdraw(w, u, 3_000);
          expect((await hook(`/sim/transfers/${id}/${outcome}`)).status).toBe(200);
          const c = crashing(w.clock, k, when);
          await sweepWithdrawal(c.d, id, w.clock.now() + CONFIRM_WINDOW_MS / 2).catch((e: unknown) => {
            if (!(e instanceof Crash)) throw e;
          });
          await sweep(w.d, w.clock.now() + CONFIRM_WINDOW_MS / 2 + 60_000);
          const rec = (await w.d.withdrawals.get(id))!;
          expect(rec.state).toBe(outcome === 'confirm' ? 'success' : 'failed');
          expect(rec.returned).toBe(outcome !== 'confirm');
          expect(await balance(w.api, u)).toBe(outcome === 'confirm' ? 7_000 : 10_000);
        }
      }
    }
    await expectSound(w);
  });
});
