/**
 * Money in through WeChat Pay end to end: the real handlers and store (dynalite), the real
 * adapter, and the WeChat Pay simulator in this process (port 0) whose notifications go to the
 * API's own notify route served over HTTP. Top-ups and packets paid directly; duplicate, forged,
 * stale, replayed, mismatched and dropped notifications; the notification racing the sweeper;
 * 15 minutes unpaid; a payment racing the close; crashes at every write; bad input. After every
 * test: conservation with payments (an unpaid order is not money; a confirmed one is
 * credited exactly once) and one order per payment at WeChat.
 */
import { IDEM_TAKEOVER_MS } from '../../functions/src/app/idempotent';
import { createPrivateKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { loadConfig } from '../../functions/src/config';
import type { Deps } from '../../functions/src/app/deps';
import {
  applyTransaction,
  PAYMENT_WINDOW_MS,
  packetPaymentId,
  sweepPayment,
  topupPaymentId,
} from '../../functions/src/app/payments';
import { sweep } from '../../functions/src/app/sweeper';
import { reconcile } from '../../functions/src/app/reconcile';
import { FEE_ACCOUNTS } from '../../functions/src/app/context';
import { derivedId } from '../../functions/src/domain/ids';
import { RiskRules } from '../../functions/src/domain/risk';
import type { WeChatPay } from '../../functions/src/wechatpay/client';
import {
  encryptResource,
  randomNonce,
  responseSignMessage,
  rsaSign,
  unixSeconds,
  wechatTime,
} from '../../functions/src/wechatpay/protocol';
import type { WriteInfo } from '../../functions/src/store/db';
import { adapterConfigFor, type WxPaySimKeys } from '../../scripts/wxpay-sim/keys';
import type { WxPaySim } from '../../scripts/wxpay-sim/sim';
import { balance, Clock, idem, login, makeApi, type Api, type TestUser } from '../helpers/app';
import { ledgerOf, violations } from '../helpers/invariants';
import { captureLogs } from '../helpers/logs';
import { startNotifyApp, startWxPayStack, waitFor, type WxPayStack } from '../helpers/wxpay';

let wx: WxPayStack;
let keys: WxPaySimKeys;
let sim: WxPaySim;
let pay: WeChatPay;
let notifyApp: { url: string; statuses: number[]; close(): Promise<void> };

class Crash extends Error {}

function payDeps(
  clock: Clock,
  hooks: { beforeWrite?: (i: WriteInfo) => void; afterWrite?: (i: WriteInfo) => void } = {},
  cfgOver: Partial<ReturnType<typeof loadConfig>> = {},
): Deps {
  return wx.deps(clock, { hooks, cfg: cfgOver });
}

const hook = (path: string, body?: unknown) => wx.hook(path, body);

const orders = (id: string) => sim.state().payments.filter((p) => p.outTradeNo === id);
const prepayOf = (id: string) => orders(id)[0]!.prepayId;
const userPays = async (id: string) => expect((await hook(`/sim/payments/${prepayOf(id)}/pay`)).status).toBe(200);

/** A notification as WeChat would send it, signed with `key` (the platform's by default) at `atMs`. */
function craft(
  resource: Record<string, unknown>,
  o: { atMs?: number; key?: KeyObject; serial?: string; originalType?: string; eventType?: string } = {},
) {
  const originalType = o.originalType ?? 'transaction';
  const body = JSON.stringify({
    id: randomUUID(),
    create_time: wechatTime(Date.now()),
    resource_type: 'encrypt-resource',
    event_type: o.eventType ?? 'TRANSACTION.SUCCESS',
    summary: '支付成功',
    resource: {
      original_type: originalType,
      ...encryptResource(keys.apiV3Key, JSON.stringify(resource), originalType),
    },
  });
  const ts = unixSeconds(o.atMs ?? Date.now());
  const nonce = randomNonce();
  const signature = rsaSign(o.key ?? createPrivateKey(keys.platformPrivateKey), responseSignMessage(ts, nonce, body));
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'wechatpay-signature': signature,
      'wechatpay-timestamp': ts,
      'wechatpay-nonce': nonce,
      'wechatpay-serial': o.serial ?? keys.platformPublicKeyId,
    },
  };
}

const txResource = (outTradeNo: string, amount: number, over: Record<string, unknown> = {}) => ({
  appid: keys.appid,
  mchid: keys.mchid,
  out_trade_no: outTradeNo,
  transaction_id: `4200${Date.now()}`,
  trade_type: 'JSAPI',
  trade_state: 'SUCCESS',
  trade_state_desc: '支付成功',
  bank_type: 'OTHERS',
  success_time: wechatTime(Date.now()),
  payer: { openid: 'oTestPayer0000000000000000' },
  amount: { total: amount, payer_total: amount, currency: 'CNY', payer_currency: 'CNY' },
  ...over,
});

beforeAll(async () => {
  wx = await startWxPayStack();
  ({ keys, sim, pay } = wx);
  notifyApp = await startNotifyApp(() => payDeps(new Clock()));
  wx.settings.notifyUrl = notifyApp.url;
});

afterAll(async () => {
  await wx?.close();
  await notifyApp?.close();
});

interface World {
  d: Deps;
  api: Api;
  clock: Clock;
  users: TestUser[];
  packets: string[];
  payments: string[];
  /** Money paid in as top-ups (sandbox ones given at setup plus confirmed payments expected). */
  topups: number;
}

async function world(n = 1, clock = new Clock()): Promise<World> {
  const d = payDeps(clock);
  const api = makeApi(d);
  const users: TestUser[] = [];
  for (let i = 0; i < n; i++) users.push(await login(api));
  return { d, api, clock, users, packets: [], payments: [], topups: 0 };
}

/** The invariants with payments, and what WeChat holds: one order per payment, SUCCESS there ⇔ paid here. */
async function expectSound(w: World) {
  expect(
    await violations(w.d, {
      users: w.users.map((u) => u.userId),
      packets: w.packets,
      topups: w.topups,
      feeAccounts: FEE_ACCOUNTS,
      payments: w.payments,
    }),
  ).toEqual([]);
  for (const id of w.payments) {
    expect(orders(id).length).toBeLessThanOrEqual(1);
    const atWeChat = orders(id)[0]?.state === 'SUCCESS';
    const p = await w.d.payIns.get(id);
    expect({ id, paid: p?.state === 'paid' }).toEqual({ id, paid: atWeChat });
  }
}

async function wxTopup(w: World, u: TestUser, amount: number, key = idem()) {
  const r = await w.api('POST', '/v1/wallet/topups', {
    token: u.token,
    idem: key,
    body: { amount, method: 'wechatpay' },
  });
  const id = topupPaymentId(u.userId, key);
  if (!w.payments.includes(id)) w.payments.push(id);
  return { r, id, key };
}

async function wxPacket(w: World, u: TestUser, body: Record<string, unknown>, key = idem()) {
  const r = await w.api('POST', '/v1/packets', { token: u.token, idem: key, body: { funding: 'wechatpay', ...body } });
  const packetId = derivedId('p', u.userId, 'packet', key);
  const id = packetPaymentId(packetId);
  if (!w.packets.includes(packetId)) w.packets.push(packetId);
  if (!w.payments.includes(id)) w.payments.push(id);
  return { r, id, packetId, key };
}

const settled = (w: World, id: string) =>
  waitFor(`payment ${id} settled`, async () => (await w.d.payIns.get(id))?.settled === true);
const notify = (w: World, n: { body: string; headers: Record<string, string> }) =>
  w.api('POST', '/v1/pay/wechat/notify', { rawBody: n.body, headers: n.headers });

describe('top-ups through WeChat Pay', () => {
  it('pending until WeChat confirms, credited once by the notification; duplicates, the read, a repeat and sweeps change nothing', async () => {
    const w = await world();
    const [u] = w.users as [TestUser];
    const { r, id, key } = await wxTopup(w, u, 12_345);
    expect(r.status).toBe(202);
    expect(r.body).toEqual({
      topupId: id,
      amount: 12_345,
      state: 'pending',
      payment: {
        paymentId: id,
        amount: 12_345,
        state: 'pending',
        request: {
          timeStamp: expect.any(String),
          nonceStr: expect.any(String),
          package: `prepay_id=${prepayOf(id)}`,
          signType: 'RSA',
          paySign: expect.any(String),
        },
      },
    });
    expect(id).toMatch(/^[A-Za-z0-9_-]{6,32}$/);
    // The app's own success callback proves nothing: no credit before WeChat says so.
    expect(await balance(w.api, u)).toBe(0);
    expect((await w.api('GET', `/v1/payments/${id}`, { token: u.token })).body.state).toBe('pending');
    // The same key: the first answer, no second order.
    const again = await w.api('POST', '/v1/wallet/topups', {
      token: u.token,
      idem: key,
      body: { amount: 12_345, method: 'wechatpay' },
    });
    expect(again.body).toEqual(r.body);
    expect(orders(id)).toHaveLength(1);
    await expectSound(w);

    await hook('/sim/faults', { notify: 'duplicate', times: 1 });
    await userPays(id);
    await settled(w, id);
    w.topups += 12_345;
    expect(await balance(w.api, u)).toBe(12_345);
    const view = await w.api('GET', `/v1/payments/${id}`, { token: u.token });
    expect(view.body).toMatchObject({ paymentId: id, amount: 12_345, state: 'paid' });
    // A settled payment is out of the due index; swept anyway, it changes nothing.
    expect(await sweepPayment(w.d, id, w.clock.now() + PAYMENT_WINDOW_MS * 2)).toBe('paid');
    await sweep(w.d, w.clock.now() + 5 * 60_000);
    expect(await balance(w.api, u)).toBe(12_345);
    expect((await ledgerOf(w.d, u.userId)).map((e) => [e.type, e.opId, e.amount])).toEqual([
      ['topup', `topup:${id}`, 12_345],
    ]);
    await expectSound(w);
  });

  it('a lost or failed answer to the create never makes a second order: same number, same order', async () => {
    const w = await world();
    const [u] = w.users as [TestUser];
    // Lost once: the create is sent again at once and learns the order the first one made.
    await hook('/sim/faults', { answer: 'lost', times: 1 });
    const a = await wxTopup(w, u, 410);
    expect(a.r.status).toBe(202);
    expect(orders(a.id)).toHaveLength(1);
    // Failing twice: 503, nothing decided; the caller's retry with the same key gets the order.
    await hook('/sim/faults', { answer: 'error', times: 2 });
    const key = idem();
    const b = await wxTopup(w, u, 420, key);
    expect(b.r.status).toBe(503);
    expect((await w.d.payIns.get(b.id))?.state).toBe('pending');
    const again = await wxTopup(w, u, 420, key);
    expect(again.r.status).toBe(202);
    expect(again.r.body.payment.request.package).toBe(`prepay_id=${prepayOf(b.id)}`);
    expect(orders(b.id)).toHaveLength(1);
    await expectSound(w);
  });

  it('another payer cannot read the payment; an unknown id is 404', async () => {
    const w = await world(2);
    const [u, other] = w.users as [TestUser, TestUser];
    const { id } = await wxTopup(w, u, 100);
    expect((await w.api('GET', `/v1/payments/${id}`, { token: other.token })).status).toBe(404);
    expect((await w.api('GET', '/v1/payments/ynotapaymentxxxx', { token: u.token })).status).toBe(404);
    expect((await w.api('GET', '/v1/payments/..%2F', { token: u.token })).status).toBe(404);
    await expectSound(w);
  });

  it('a dropped notification: the sweep (its payment branch) queries and credits it once', async () => {
    const w = await world();
    const [u] = w.users as [TestUser];
    const { id } = await wxTopup(w, u, 500);
    await hook('/sim/faults', { notify: 'drop', times: 1 });
    await userPays(id);
    await new Promise((r) => setTimeout(r, 100));
    expect(await balance(w.api, u)).toBe(0);
    const report = await sweep(w.d, w.clock.now() + 61_000);
    expect(report.paymentsFinished).toBeGreaterThanOrEqual(1);
    expect((await w.d.payIns.get(id))?.settled).toBe(true);
    w.topups += 500;
    expect(await sweepPayment(w.d, id, w.clock.now() + 62_000)).toBe('paid');
    expect(await balance(w.api, u)).toBe(500);
    await expectSound(w);
  });

  it('the read queries WeChat for a payment pending a while and credits it', async () => {
    const w = await world();
    const [u] = w.users as [TestUser];
    const { id } = await wxTopup(w, u, 700);
    await hook('/sim/faults', { notify: 'drop', times: 1 });
    await userPays(id);
    // Within the first seconds the read answers from the record (no query).
    expect((await w.api('GET', `/v1/payments/${id}`, { token: u.token })).body.state).toBe('pending');
    w.clock.advance(6_000);
    expect((await w.api('GET', `/v1/payments/${id}`, { token: u.token })).body.state).toBe('paid');
    w.topups += 700;
    expect(await balance(w.api, u)).toBe(700);
    await expectSound(w);
  });

  it('the read waits for WeChat only so long: a slow answer leaves the payment pending, the sweeper credits it', async () => {
    const w = await world();
    const [u] = w.users as [TestUser];
    const { id } = await wxTopup(w, u, 650);
    await hook('/sim/faults', { notify: 'drop', times: 1 });
    await userPays(id);
    w.clock.advance(6_000);
    await hook('/sim/faults', { answer: 'slow', ms: 4_000, times: 1 });
    // WeChat's answer (SUCCESS) comes after 4 s; the read's budget is 2 s, so it answers from
    // the record. Waiting for WeChat instead would have said `paid`.
    const r = await w.api('GET', `/v1/payments/${id}`, { token: u.token });
    expect(r.body.state).toBe('pending');
    expect(await sweepPayment(w.d, id, w.clock.now() + 61_000)).toBe('paid');
    w.topups += 650;
    expect(await balance(w.api, u)).toBe(650);
    await expectSound(w);
  });

  it('a forged notification is refused (401) and records nothing; the query later finds the real payment', async () => {
    const w = await world();
    const [u] = w.users as [TestUser];
    const { id } = await wxTopup(w, u, 900);
    const before = notifyApp.statuses.length;
    await hook('/sim/faults', { notify: 'forge', times: 1 });
    await userPays(id);
    await waitFor('the forged copy answered', async () => notifyApp.statuses.length > before);
    expect(notifyApp.statuses.slice(before)).toEqual([401]);
    expect((await w.d.payIns.get(id))?.state).toBe('pending');
    expect(await balance(w.api, u)).toBe(0);
    expect(await sweepPayment(w.d, id, w.clock.now() + 61_000)).toBe('paid');
    w.topups += 900;
    expect(await balance(w.api, u)).toBe(900);
    await expectSound(w);
  });

  it('bad signature, stale or future timestamp, unknown serial, undecryptable or malformed → 401 {code: FAIL}, nothing recorded', async () => {
    const w = await world();
    const [u] = w.users as [TestUser];
    const { id } = await wxTopup(w, u, 300);
    const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const good = craft(txResource(id, 300));
    const cases: Array<[string, { body: string; headers: Record<string, string> }]> = [
      ['foreign key', craft(txResource(id, 300), { key: foreign })],
      ['stale', craft(txResource(id, 300), { atMs: Date.now() - 6 * 60_000 })],
      ['future', craft(txResource(id, 300), { atMs: Date.now() + 6 * 60_000 })],
      ['unknown serial', craft(txResource(id, 300), { serial: 'PUB_KEY_ID_0000000000000000000000000000' })],
      [
        'body changed after signing',
        { body: good.body.replace('"summary":"支付成功"', '"summary":"支付成功 "'), headers: good.headers },
      ],
      ['no signature', { body: good.body, headers: { 'content-type': 'application/json' } }],
    ];
    // Undecryptable: a ciphertext that is not the APIv3 key's, correctly signed.
    const enc = JSON.parse(good.body);
    enc.resource.ciphertext = Buffer.from('garbage-garbage-garbage').toString('base64');
    const reb = JSON.stringify(enc);
    const ts = unixSeconds(Date.now());
    const nonce = randomNonce();
    cases.push([
      'undecryptable',
      {
        body: reb,
        headers: {
          ...good.headers,
          'wechatpay-timestamp': ts,
          'wechatpay-nonce': nonce,
          'wechatpay-signature': rsaSign(
            createPrivateKey(keys.platformPrivateKey),
            responseSignMessage(ts, nonce, reb),
          ),
        },
      },
    ]);
    for (const [name, n] of cases) {
      const r = await notify(w, n);
      expect({ name, status: r.status, code: r.body?.code, message: typeof r.body?.message }).toEqual({
        name,
        status: 401,
        code: 'FAIL',
        message: 'string',
      });
    }
    expect((await w.d.payIns.get(id))?.state).toBe('pending');
    expect(await balance(w.api, u)).toBe(0);
    const events = await w.d.risk.events({ fromMs: Date.now() - 60_000, toMs: Date.now() + 60_000, limit: 100 });
    expect(events.events.filter((e) => e.accountId === u.userId)).toEqual([]);
    // The genuine one then counts — and, replayed, counts once.
    await hook('/sim/faults', { notify: 'drop', times: 1 });
    await userPays(id);
    expect((await notify(w, good)).status).toBe(204);
    expect((await notify(w, good)).status).toBe(204);
    w.topups += 300;
    expect(await balance(w.api, u)).toBe(300);
    await expectSound(w);
  });

  it('well-signed but not our order (amount, appid, mchid, unknown number): 204, a risk event, no credit', async () => {
    const w = await world();
    const [u] = w.users as [TestUser];
    const { id } = await wxTopup(w, u, 1_000);
    const bad = [
      craft(txResource(id, 1)),
      craft(txResource(id, 1_000, { appid: 'wx0000000000000000' })),
      craft(txResource(id, 1_000, { mchid: '1900000000' })),
      craft(txResource('yUnknownOrder00000', 1_000)),
    ];
    for (const n of bad) expect((await notify(w, n)).status).toBe(204);
    // Repeated: still no credit, and the event once per notification.
    expect((await notify(w, bad[0]!)).status).toBe(204);
    expect((await w.d.payIns.get(id))?.state).toBe('pending');
    expect(await balance(w.api, u)).toBe(0);
    const events = await w.d.risk.events({ fromMs: Date.now() - 60_000, toMs: Date.now() + 60_000, limit: 500 });
    const mine = events.events.filter((e) => e.rule === RiskRules.payment_mismatch && e.accountId === u.userId);
    expect(mine.map((e) => e.details.problem).sort()).toEqual(['amount', 'appid', 'mchid']);
    expect(
      events.events.some((e) => e.rule === RiskRules.payment_mismatch && e.details.outTradeNo === 'yUnknownOrder00000'),
    ).toBe(true);
    await expectSound(w);
  });

  it('the notification and the sweeper query at once: credited exactly once', async () => {
    for (let round = 0; round < 3; round++) {
      const w = await world();
      const [u] = w.users as [TestUser];
      const { id } = await wxTopup(w, u, 2_000);
      await hook('/sim/faults', { notify: 'drop', times: 1 });
      await userPays(id);
      const n = craft(txResource(id, 2_000));
      const d2 = payDeps(w.clock);
      const [a, b, c] = await Promise.all([
        notify(w, n),
        sweepPayment(d2, id, w.clock.now() + 61_000),
        makeApi(payDeps(w.clock))('GET', `/v1/payments/${id}`, { token: u.token }),
      ]);
      expect(a.status).toBe(204);
      expect(['paid', 'retry', 'none']).toContain(b);
      expect(c.status).toBe(200);
      await sweepPayment(w.d, id, w.clock.now() + 120_000);
      w.topups += 2_000;
      expect(await balance(w.api, u)).toBe(2_000);
      await expectSound(w);
    }
  });

  it('unpaid for 15 minutes: the order is closed at WeChat, nothing is credited, the app is told', async () => {
    const w = await world();
    const [u] = w.users as [TestUser];
    const { id } = await wxTopup(w, u, 800);
    await hook(`/sim/payments/${prepayOf(id)}/cancel`);
    // Before the window ends the sweeper only polls.
    expect(await sweepPayment(w.d, id, w.clock.now() + 61_000)).toBe('open');
    expect(orders(id)[0]!.state).toBe('NOTPAY');
    expect(await sweepPayment(w.d, id, w.clock.now() + PAYMENT_WINDOW_MS + 1)).toBe('closed');
    expect(orders(id)[0]!.state).toBe('CLOSED');
    expect((await w.api('GET', `/v1/payments/${id}`, { token: u.token })).body.state).toBe('closed');
    // The sheet can no longer take it.
    expect((await hook(`/sim/payments/${prepayOf(id)}/pay`)).status).not.toBe(200);
    expect(await balance(w.api, u)).toBe(0);
    await expectSound(w);
  });

  it('sandbox top-ups stay instant where dev features are on, and are refused where they are off', async () => {
    const w = await world();
    const [u] = w.users as [TestUser];
    const r = await w.api('POST', '/v1/wallet/topups', { token: u.token, idem: idem(), body: { amount: 100 } });
    expect(r.status).toBe(201);
    w.topups += 100;
    const prodDeps = payDeps(w.clock, {}, { devFeatures: false, paymentProvider: 'wechatpay' });
    const prod = makeApi(prodDeps);
    // Where dev features are off only a WeChat login can pay (no stand-in openid).
    const noOpenid = await prod('POST', '/v1/wallet/topups', { token: u.token, idem: idem(), body: { amount: 100 } });
    expect(noOpenid.status).toBe(403);
    await prodDeps.accounts.setOpenid(u.userId, 'oTestOpenid00000000000000000');
    const refused = await prod('POST', '/v1/wallet/topups', {
      token: u.token,
      idem: idem(),
      body: { amount: 100, method: 'sandbox' },
    });
    expect(refused.status).toBe(400);
    const byDefault = await prod('POST', '/v1/wallet/topups', { token: u.token, idem: idem(), body: { amount: 100 } });
    expect(byDefault.status).toBe(202);
    w.payments.push(byDefault.body.topupId);
    expect(await balance(w.api, u)).toBe(100);
    await expectSound(w);
  });

  it('bad input → 4xx, nothing written', async () => {
    const w = await world();
    const [u] = w.users as [TestUser];
    const before = sim.state().payments.length;
    for (const body of [
      { amount: 0, method: 'wechatpay' },
      { amount: 1.5, method: 'wechatpay' },
      { amount: 100, method: 'alipay' },
      { amount: '100', method: 'wechatpay' },
    ]) {
      const key = idem();
      const r = await w.api('POST', '/v1/wallet/topups', { token: u.token, idem: key, body });
      expect(r.status).toBe(400);
      expect(await w.d.payIns.get(topupPaymentId(u.userId, key))).toBeUndefined();
    }
    expect(
      (await w.api('POST', '/v1/wallet/topups', { token: u.token, body: { amount: 100, method: 'wechatpay' } })).status,
    ).toBe(400);
    for (const body of [
      { total: 100, count: 1, mode: 'lucky', funding: 'card' },
      { total: 0, count: 1, mode: 'lucky', funding: 'wechatpay' },
    ]) {
      const key = idem();
      const r = await w.api('POST', '/v1/packets', { token: u.token, idem: key, body });
      expect(r.status).toBe(400);
      expect(await w.d.packets.get(derivedId('p', u.userId, 'packet', key))).toBeUndefined();
    }
    // Limits apply at creation: over the per-packet limit.
    const over = await w.api('POST', '/v1/packets', {
      token: u.token,
      idem: idem(),
      body: { total: 10_000_000, count: 1, mode: 'lucky', funding: 'wechatpay' },
    });
    expect(over.status).toBe(422);
    expect(sim.state().payments.length).toBe(before);
    // Forged body shapes at the notify route.
    expect((await w.api('POST', '/v1/pay/wechat/notify', { rawBody: 'not json' })).status).toBe(401);
    expect((await w.api('POST', '/v1/pay/wechat/notify', {})).status).toBe(401);
    await expectSound(w);
  });
});

describe('the notify URL serves WeChat Pay as a whole', () => {
  it('a transfer-bill notification at the same URL completes the withdrawal', async () => {
    const w = await world();
    const [u] = w.users as [TestUser];
    expect(
      (await w.api('POST', '/v1/wallet/topups', { token: u.token, idem: idem(), body: { amount: 20_000 } })).status,
    ).toBe(201);
    w.topups += 20_000;
    const r = await w.api('POST', '/v1/withdrawals', { token: u.token, idem: idem(), body: { amount: 5_000 } });
    expect(r.status).toBe(201);
    const wid = r.body.withdrawalId as string;
    expect((await hook(`/sim/transfers/${wid}/confirm`)).status).toBe(200);
    await waitFor('withdrawal success', async () => (await w.d.withdrawals.get(wid))?.state === 'success');
    expect(await balance(w.api, u)).toBe(15_000);
    expect(
      await violations(w.d, {
        users: [u.userId],
        packets: [],
        topups: w.topups,
        feeAccounts: FEE_ACCOUNTS,
        withdrawals: [wid],
      }),
    ).toEqual([]);
  });

  it('logs hold no openid, no resource ciphertext and no raw body', async () => {
    const w = await world();
    const [u] = w.users as [TestUser];
    const { id } = await wxTopup(w, u, 321);
    await hook('/sim/faults', { notify: 'drop', times: 1 });
    await userPays(id);
    const openid = 'oSecretPayerOpenid00000000';
    const n = craft(txResource(id, 321, { payer: { openid } }));
    const bad = craft(txResource(id, 999, { payer: { openid } }));
    const ciphertexts = [n, bad].map((x) => JSON.parse(x.body).resource.ciphertext as string);
    const cap = captureLogs();
    try {
      expect((await notify(w, n)).status).toBe(204);
      expect((await notify(w, bad)).status).toBe(204);
      expect((await notify(w, { body: n.body, headers: { ...n.headers, 'wechatpay-signature': 'AAAA' } })).status).toBe(
        401,
      );
    } finally {
      cap.restore();
    }
    w.topups += 321;
    const text = cap.lines.join('\n');
    expect(text).toContain('payment notification');
    for (const secret of [openid, ...ciphertexts, n.headers['wechatpay-signature']!])
      expect(text).not.toContain(secret);
    await expectSound(w);
  });
});

describe('packets paid directly through WeChat Pay', () => {
  it('awaiting payment (no code) until paid; then active, the fee once, claimable; the packet counts from payment', async () => {
    const w = await world(2);
    const [s, c] = w.users as [TestUser, TestUser];
    const { r, id, packetId } = await wxPacket(w, s, { total: 1_000, count: 2, mode: 'equal' });
    expect(r.status).toBe(202);
    expect(r.body.packet).toMatchObject({
      id: packetId,
      status: 'awaiting_payment',
      funding: 'wechatpay',
      total: 1_000,
    });
    expect(r.body.code).toBeUndefined();
    const fee = r.body.fee as number;
    expect(r.body.payment).toMatchObject({ paymentId: id, amount: 1_000 + fee, state: 'pending' });
    expect(orders(id)).toEqual([
      { outTradeNo: id, prepayId: expect.any(String), amount: 1_000 + fee, state: 'NOTPAY' },
    ]);
    const noCode = await w.api('POST', `/v1/packets/${packetId}/codes`, { token: s.token, body: {} });
    expect(noCode.status).toBe(409);
    expect(noCode.body.error.code).toBe('PAYMENT_REQUIRED');
    await expectSound(w);

    await userPays(id);
    await settled(w, id);
    w.topups += 1_000 + fee;
    const p = await w.api('GET', `/v1/packets/${packetId}`, { token: s.token });
    expect(p.body.status).toBe('active');
    expect(await balance(w.api, s)).toBe(0);
    expect((await ledgerOf(w.d, s.userId)).map((e) => [e.type, e.amount])).toEqual([
      ['topup', 1_000 + fee],
      ['packet_debit', -(1_000 + fee)],
    ]);
    const code = await w.api('POST', `/v1/packets/${packetId}/codes`, { token: s.token, body: {} });
    expect(code.status).toBe(201);
    const claim = await w.api('POST', '/v1/claims', { token: c.token, body: { code: code.body.code } });
    expect(claim.status).toBe(200);
    expect(claim.body.amount).toBe(500);
    // A late duplicate and a sweep change nothing.
    expect((await notify(w, craft(txResource(id, 1_000 + fee)))).status).toBe(204);
    expect(await sweepPayment(w.d, id, w.clock.now() + PAYMENT_WINDOW_MS * 2)).toBe('paid');
    expect(await balance(w.api, c)).toBe(500);
    await expectSound(w);
  });

  it('unpaid for 15 minutes: the order is closed, the packet canceled, nothing moved', async () => {
    const w = await world();
    const [s] = w.users as [TestUser];
    const { id, packetId } = await wxPacket(w, s, { total: 600, count: 3, mode: 'lucky', ttlSeconds: 60 });
    expect(await sweepPayment(w.d, id, w.clock.now() + PAYMENT_WINDOW_MS + 1)).toBe('closed');
    expect(orders(id)[0]!.state).toBe('CLOSED');
    expect((await w.api('GET', `/v1/packets/${packetId}`, { token: s.token })).body.status).toBe('canceled');
    expect((await w.api('GET', `/v1/payments/${id}`, { token: s.token })).body.state).toBe('closed');
    // The packet's own safety net later finds nothing to do.
    await sweep(w.d, w.clock.now() + PAYMENT_WINDOW_MS * 10);
    expect((await w.d.packets.get(packetId))?.state).toBe('canceled');
    expect(await ledgerOf(w.d, s.userId)).toEqual([]);
    await expectSound(w);
  });

  it('a payment that races the close wins: the close is refused, the query says SUCCESS, the packet opens', async () => {
    const w = await world();
    const [s] = w.users as [TestUser];
    const { id, packetId, r } = await wxPacket(w, s, { total: 800, count: 1, mode: 'lucky' });
    await hook('/sim/faults', { notify: 'drop', times: 1 });
    await userPays(id);
    expect(await sweepPayment(w.d, id, w.clock.now() + PAYMENT_WINDOW_MS + 1)).toBe('paid');
    w.topups += 800 + (r.body.fee as number);
    expect((await w.d.packets.get(packetId))?.state).toBe('active');
    expect(orders(id)[0]!.state).toBe('SUCCESS');
    await expectSound(w);
  });

  it('a notification that comes after we closed (WeChat has the money) still wins and opens the packet', async () => {
    const w = await world();
    const [s] = w.users as [TestUser];
    const { id, packetId, r } = await wxPacket(w, s, { total: 400, count: 1, mode: 'lucky' });
    const fee = r.body.fee as number;
    // Our record closed (as if the sweeper decided on a stale answer), then WeChat's SUCCESS arrives.
    await w.d.payIns.markClosed(id, new Date(w.clock.now()).toISOString());
    expect(await sweepPayment(w.d, id, w.clock.now() + 1)).toBe('closed');
    expect((await w.d.packets.get(packetId))?.state).toBe('canceled');
    expect((await notify(w, craft(txResource(id, 400 + fee)))).status).toBe(204);
    w.topups += 400 + fee;
    expect((await w.d.payIns.get(id))?.state).toBe('paid');
    expect((await w.d.packets.get(packetId))?.state).toBe('active');
    // (This order was never paid at the simulator; only our records are checked here.)
    expect(
      await violations(w.d, {
        users: [s.userId],
        packets: w.packets,
        topups: w.topups,
        feeAccounts: FEE_ACCOUNTS,
        payments: w.payments,
      }),
    ).toEqual([]);
  });
});

describe('reconciliation', () => {
  it('paid top-ups and packets paid directly reconcile with no mismatch; an unpaid order is no money', async () => {
    const w = await world(2);
    const [s, c] = w.users as [TestUser, TestUser];
    const t = await wxTopup(w, s, 3_000);
    const pk = await wxPacket(w, s, { total: 1_000, count: 2, mode: 'lucky' });
    await wxTopup(w, c, 777); // never paid
    await userPays(t.id);
    await userPays(pk.id);
    await settled(w, t.id);
    await settled(w, pk.id);
    w.topups += 3_000 + 1_000 + (pk.r.body.fee as number);
    // As of two minutes later (reconciliation looks at what is older than its margin).
    const report = await reconcile(
      { reconciliation: w.d.reconciliation, now: () => Date.now() + 120_000 },
      { scope: { accounts: w.users.map((u) => u.userId), packets: w.packets }, save: false },
    );
    expect(report).toMatchObject({ ok: true, mismatches: 0 });
    expect(report.topups).toBe(w.topups);
    await expectSound(w);
  });
});

describe('crash points', () => {
  function crashing(clock: Clock, k: number, when: 'before' | 'after') {
    let n = 0;
    const hookFn = (phase: 'before' | 'after') => () => {
      if (phase === 'before') n++;
      if (phase === when && n === k) throw new Crash(`crash ${when} write ${k}`);
    };
    return { d: payDeps(clock, { beforeWrite: hookFn('before'), afterWrite: hookFn('after') }), writes: () => n };
  }

  it('creating a paid packet: a crash before/after every write, then the retry → one order, one payment, still payable', async () => {
    for (const when of ['before', 'after'] as const) {
      for (let k = 1; k < 40; k++) {
        const w = await world();
        const [s] = w.users as [TestUser];
        const key = idem();
        const crash = crashing(w.clock, k, when);
        const first = await makeApi(crash.d)('POST', '/v1/packets', {
          token: s.token,
          idem: key,
          body: { funding: 'wechatpay', total: 300, count: 1, mode: 'lucky' },
        });
        const done = first.status === 202;
        // The retry comes once the crashed request is past its timeout (else it would rightly
        // wait for it as for a twin in flight).
        if (!done) w.clock.advance(IDEM_TAKEOVER_MS);
        const { r, id, packetId } = await wxPacket(w, s, { total: 300, count: 1, mode: 'lucky' }, key);
        expect({ when, k, status: r.status }).toEqual({ when, k, status: 202 });
        expect(orders(id)).toHaveLength(1);
        await userPays(id);
        await settled(w, id);
        w.topups += 300 + (r.body.fee as number);
        expect((await w.d.packets.get(packetId))?.state).toBe('active');
        await expectSound(w);
        if (done) break;
      }
    }
  });

  it('completing a payment: a crash before/after every write, then the sweeper → credited, funded and opened exactly once', async () => {
    for (const when of ['before', 'after'] as const) {
      for (let k = 1; k < 40; k++) {
        const w = await world();
        const [s] = w.users as [TestUser];
        const { r, id, packetId } = await wxPacket(w, s, { total: 500, count: 2, mode: 'equal' });
        const fee = r.body.fee as number;
        await hook('/sim/faults', { notify: 'drop', times: 1 });
        await userPays(id);
        const crash = crashing(w.clock, k, when);
        const q = await pay.queryOrder(id);
        if (q.kind !== 'ok') throw new Error('query failed');
        let crashed = false;
        try {
          await applyTransaction(crash.d, (await w.d.payIns.get(id))!, q.transaction);
        } catch (e) {
          if (!(e instanceof Crash)) throw e;
          crashed = true;
        }
        w.topups += 500 + fee;
        // Whatever the crash left is consistent, then the sweeper finishes it.
        expect(
          await violations(w.d, {
            users: [s.userId],
            packets: w.packets,
            topups: undefined,
            feeAccounts: FEE_ACCOUNTS,
            payments: w.payments,
          }),
        ).toEqual([]);
        await sweepPayment(w.d, id, w.clock.now() + 61_000);
        expect({
          when,
          k,
          state: (await w.d.packets.get(packetId))?.state,
          settled: (await w.d.payIns.get(id))?.settled,
        }).toEqual({ when, k, state: 'active', settled: true });
        await expectSound(w);
        if (!crashed) break;
      }
    }
  });

  it('a notification whose processing crashes (before/after each write) is answered 500; WeChat retrying credits it once', async () => {
    for (const when of ['before', 'after'] as const) {
      for (let k = 1; k < 20; k++) {
        const w = await world();
        const [u] = w.users as [TestUser];
        const { id } = await wxTopup(w, u, 1_500);
        await hook('/sim/faults', { notify: 'drop', times: 1 });
        await userPays(id);
        const n = craft(txResource(id, 1_500));
        const crash = crashing(w.clock, k, when);
        const r = await makeApi(crash.d)('POST', '/v1/pay/wechat/notify', { rawBody: n.body, headers: n.headers });
        w.topups += 1_500;
        if (r.status === 204) {
          expect(crash.writes()).toBeLessThan(k);
          await expectSound(w);
          break;
        }
        expect({ when, k, status: r.status }).toEqual({ when, k, status: 500 });
        expect(
          await violations(w.d, { users: [u.userId], packets: [], feeAccounts: FEE_ACCOUNTS, payments: w.payments }),
        ).toEqual([]);
        // WeChat sends it again.
        expect((await notify(w, n)).status).toBe(204);
        expect(await balance(w.api, u)).toBe(1_500);
        await expectSound(w);
      }
    }
  });
});

describe('configuration of the payment provider', () => {
  const wxpayEnv = () => {
    const a = adapterConfigFor(keys, sim.baseUrl);
    return {
      WXPAY_API_BASE: a.baseUrl,
      WXPAY_MCHID: a.mchid,
      WXPAY_APPID: a.appid,
      WXPAY_MCH_SERIAL: a.merchantSerialNo,
      WXPAY_MCH_PRIVATE_KEY: a.merchantPrivateKey,
      WXPAY_APIV3_KEY: a.apiV3Key,
      WXPAY_PLATFORM_KEYS: JSON.stringify(a.platformKeys),
      WXPAY_NOTIFY_URL: 'http://127.0.0.1:3000/v1/pay/wechat/notify',
    };
  };
  const aws = (stage: string) => ({
    ...process.env,
    STAGE: stage,
    PUBLIC_BASE_URL: 'https://hb.example.cn',
    WX_APPID: 'wxapp',
    WX_SECRET: 'wxsecret',
    PAYMENT_PROVIDER: undefined,
  });

  it('stages without dev features use WeChat Pay (named) and refuse the sandbox, none, or no WeChat Pay settings', () => {
    for (const stage of ['dev', 'prod']) {
      // Named, never defaulted: a missing line of deployment configuration must not pick one.
      expect(() => loadConfig({ ...aws(stage), ...wxpayEnv() })).toThrow(/PAYMENT_PROVIDER/);
      expect(loadConfig({ ...aws(stage), ...wxpayEnv(), PAYMENT_PROVIDER: 'wechatpay' }).paymentProvider).toBe(
        'wechatpay',
      );
      expect(() => loadConfig({ ...aws(stage), ...wxpayEnv(), PAYMENT_PROVIDER: 'sandbox' })).toThrow(
        /PAYMENT_PROVIDER/,
      );
      expect(() => loadConfig({ ...aws(stage), ...wxpayEnv(), PAYMENT_PROVIDER: 'none' })).toThrow(/PAYMENT_PROVIDER/);
      expect(() => loadConfig({ ...aws(stage), PAYMENT_PROVIDER: 'wechatpay' })).toThrow(/WXPAY/);
    }
  });

  it('where dev features are on the sandbox is the default; WeChat Pay works beside it when configured', () => {
    const local = { ...process.env, STAGE: 'local', PAYMENT_PROVIDER: undefined };
    expect(loadConfig(local).paymentProvider).toBe('sandbox');
    expect(loadConfig(local).wechatPay).toBeUndefined();
    const withPay = loadConfig({ ...local, ...wxpayEnv() });
    expect(withPay.paymentProvider).toBe('sandbox');
    expect(withPay.wechatPay?.mchid).toBe(keys.mchid);
    expect(() => loadConfig({ ...local, PAYMENT_PROVIDER: 'wechatpay' })).toThrow(/WXPAY/);
    // The local stage's empty placeholders (serverless.env.yml without npm start's values) mean "off".
    expect(
      loadConfig({ ...local, ...Object.fromEntries(Object.keys(wxpayEnv()).map((k) => [k, ''])) }).wechatPay,
    ).toBeUndefined();
  });
});
