/**
 * Subscribe messages end to end: the real handlers and store (dynalite), the real WeChat
 * open-API adapter against the simulator (scripts/wx-sim) in this process, and the WeChat Pay
 * simulator for the refund to a payment and the withdrawal. Each of the three events sends
 * exactly one message with the right data even when its path runs again (a repeated claim,
 * repeated sweeps, settlement re-run, repeated WeChat Pay notifications and reads); a failing
 * or hanging WeChat leaves the money movement done and the message retried by the sweeper, then
 * given up; 43101 drops it; the last claim is not held up by a hanging WeChat. After every
 * test: conservation (test/helpers/invariants.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Deps } from '../../functions/src/app/deps';
import { FEE_ACCOUNTS } from '../../functions/src/app/context';
import { derivedId } from '../../functions/src/domain/ids';
import { withdrawalId } from '../../functions/src/domain/withdrawals';
import { MAX_ATTEMPTS, INLINE_TIMEOUT_MS, RETRY_AFTER_MS } from '../../functions/src/app/notifications';
import { packetPaymentId } from '../../functions/src/app/payments';
import { settlePacket } from '../../functions/src/app/settlement';
import { sweep } from '../../functions/src/app/sweeper';
import { openidOf } from '../../functions/src/app/withdrawals';
import { HttpCode2Session } from '../../functions/src/app/ports';
import { WeChatSubscribeMessages } from '../../functions/src/wechat/subscribe-messages';
import type { Config } from '../../functions/src/config';
import { startWxSim, type WxSim } from '../../scripts/wx-sim/sim';
import { balance, Clock, idem, login, makeApi, sendPacket, topup, type Api, type TestUser } from '../helpers/app';
import { violations } from '../helpers/invariants';
import { startNotifyApp, startWxPayStack, waitFor, type WxPayStack } from '../helpers/wxpay';

const APPID = `wx${randomBytes(8).toString('hex')}`;
const SECRET = randomBytes(16).toString('hex');
const T = {
  finished: 'TmplFinished0000000000000000000000000000001',
  refund: 'TmplRefund00000000000000000000000000000002',
  withdrawal: 'TmplWithdrawal000000000000000000000000000003',
};

let wx: WxSim;
let wxpay: WxPayStack;
let receiver: { url: string; statuses: number[]; close(): Promise<void> };

/** The notification part of the configuration, as config.ts reads it from WX_TMPL_*. */
function notifyCfg(): Partial<Config> {
  return {
    wx: { appId: APPID, secret: SECRET, apiBase: wx.baseUrl },
    notify: {
      templates: {
        packet_finished: { id: T.finished, keys: ['thing1', 'amount2', 'thing3', 'time4'] },
        refund_arrived: { id: T.refund, keys: ['amount1', 'thing2', 'thing3', 'time4'] },
        withdrawal_arrived: { id: T.withdrawal, keys: ['amount1', 'thing2', 'time3'] },
      },
      miniprogramState: 'developer',
    },
  };
}

const depsOf = (clock: Clock): Deps => wxpay.deps(clock, { cfg: notifyCfg() });

beforeAll(async () => {
  wx = await startWxSim({
    appId: APPID,
    secret: SECRET,
    templates: {
      [T.finished]: ['thing1', 'amount2', 'thing3', 'time4'],
      [T.refund]: ['amount1', 'thing2', 'thing3', 'time4'],
      [T.withdrawal]: ['amount1', 'thing2', 'time3'],
    },
  });
  wxpay = await startWxPayStack();
  // WeChat Pay's notifications reach the real notify route, with messages configured.
  receiver = await startNotifyApp(() => depsOf(new Clock()));
  wxpay.settings.notifyUrl = receiver.url;
});

afterAll(async () => {
  await wx?.close();
  await wxpay?.close();
  await receiver?.close();
});

beforeEach(() => wx.reset());

interface World {
  d: Deps;
  api: Api;
  clock: Clock;
  users: TestUser[];
  packets: string[];
  payments: string[];
  withdrawals: string[];
  topups: number;
}

async function world(funds: number[]): Promise<World> {
  const clock = new Clock();
  const d = depsOf(clock);
  const api = makeApi(d);
  const users: TestUser[] = [];
  for (const f of funds) {
    const u = await login(api);
    if (f > 0) await topup(api, u, f);
    users.push(u);
  }
  return { d, api, clock, users, packets: [], payments: [], withdrawals: [], topups: funds.reduce((a, b) => a + b, 0) };
}

async function expectSound(w: World) {
  expect(
    await violations(w.d, {
      users: w.users.map((u) => u.userId),
      packets: w.packets,
      topups: w.topups,
      feeAccounts: FEE_ACCOUNTS,
      payments: w.payments,
      withdrawals: w.withdrawals,
    }),
  ).toEqual([]);
}

async function claim(w: World, packetId: string, s: TestUser, c: TestUser) {
  const code = await w.api('POST', `/v1/packets/${packetId}/codes`, { token: s.token, body: {} });
  return w.api('POST', '/v1/claims', { token: c.token, body: { code: code.body.code } });
}

const messagesOf = (tmpl: string) => wx.messages.filter((m) => m.template_id === tmpl);
const TIME = /^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$/;

describe('each event sends exactly one message with the right data', () => {
  it('all claimed: one message to the sender from the last claim; a repeated claim and the sweeps after expiry add none', async () => {
    const w = await world([10_000, 0, 0, 0]);
    const [s, a, b, c] = w.users as [TestUser, TestUser, TestUser, TestUser];
    const sent = await sendPacket(w.api, s, {
      total: 888,
      count: 3,
      mode: 'lucky',
      greeting: '新年快乐，万事如意',
      ttlSeconds: 60,
    });
    const packetId = sent.packet.id as string;
    w.packets.push(packetId);
    expect((await claim(w, packetId, s, a)).status).toBe(200);
    expect((await claim(w, packetId, s, b)).status).toBe(200);
    // Ordinary claims record nothing.
    expect(await w.d.notifications.get(`fin-${packetId}`)).toBeUndefined();
    expect(wx.messages).toHaveLength(0);
    const code = (await w.api('POST', `/v1/packets/${packetId}/codes`, { token: s.token, body: {} })).body
      .code as string;
    const last = await w.api('POST', '/v1/claims', { token: c.token, body: { code } });
    expect(last.status).toBe(200);
    expect(messagesOf(T.finished)).toHaveLength(1);
    const m = messagesOf(T.finished)[0]!;
    expect(m.touser).toBe(await openidOf(w.d, s.userId));
    expect(m.page).toBe(`pages/packet/index?id=${packetId}`);
    expect(m.miniprogram_state).toBe('developer');
    expect(m.data).toEqual({
      thing1: { value: '新年快乐，万事如意' },
      amount2: { value: '8.88元' },
      thing3: { value: '3个红包已全部领完' },
      time4: { value: expect.stringMatching(TIME) },
    });
    expect(await w.d.notifications.get(`fin-${packetId}`)).toMatchObject({ state: 'sent', attempts: 1 });

    // The last claimer asks again; the sweeper settles the packet (nothing to refund) twice.
    expect((await w.api('POST', '/v1/claims', { token: c.token, body: { code } })).body).toMatchObject({
      repeat: true,
    });
    await sweep(w.d, w.clock.now() + 10 * 60_000);
    await sweep(w.d, w.clock.now() + 20 * 60_000);
    expect(messagesOf(T.finished)).toHaveLength(1);
    expect(messagesOf(T.refund)).toHaveLength(0);
    await expectSound(w);
  });

  it('refund to the balance: one message after the sweep credits it; more sweeps and settlement run again add none', async () => {
    const w = await world([10_000, 0]);
    const [s, a] = w.users as [TestUser, TestUser];
    const sent = await sendPacket(w.api, s, {
      total: 1_000,
      count: 4,
      mode: 'equal',
      greeting: '😀周末快乐',
      ttlSeconds: 60,
    });
    const packetId = sent.packet.id as string;
    w.packets.push(packetId);
    expect((await claim(w, packetId, s, a)).status).toBe(200);
    const after = w.clock.now() + 5 * 60_000;
    const report = await sweep(w.d, after);
    expect(report.packetsRefunded).toBe(1);
    expect(await balance(w.api, s)).toBe(10_000 - 250);
    expect(messagesOf(T.refund)).toHaveLength(1);
    expect(messagesOf(T.refund)[0]!.data).toEqual({
      amount1: { value: '7.50元' },
      // The emoji WeChat refuses is dropped.
      thing2: { value: '周末快乐' },
      thing3: { value: '已退回零钱余额' },
      time4: { value: expect.stringMatching(TIME) },
    });
    await settlePacket(w.d, packetId, after + 60_000);
    await sweep(w.d, after + 2 * 60 * 60_000);
    expect(messagesOf(T.refund)).toHaveLength(1);
    expect(messagesOf(T.finished)).toHaveLength(0);
    await expectSound(w);
  });

  it('refund to WeChat Pay: one message once WeChat confirms the refund; repeated notifications and sweeps add none', async () => {
    const w = await world([0, 0]);
    const [s, a] = w.users as [TestUser, TestUser];
    const key = idem();
    const r = await w.api('POST', '/v1/packets', {
      token: s.token,
      idem: key,
      body: { funding: 'wechatpay', total: 1_000, count: 3, mode: 'lucky', greeting: '恭喜发财', ttlSeconds: 60 },
    });
    expect(r.status).toBe(202);
    const packetId = derivedId('p', s.userId, 'packet', key);
    const paymentId = packetPaymentId(packetId);
    w.packets.push(packetId);
    w.payments.push(paymentId);
    w.topups += 1_000 + (r.body.fee as number);
    const prepay = wxpay.sim.state().payments.find((p) => p.outTradeNo === paymentId)!.prepayId;
    await wxpay.hook('/sim/faults', { notify: 'duplicate', times: 3 });
    expect((await wxpay.hook(`/sim/payments/${prepay}/pay`)).status).toBe(200);
    await waitFor('payment settled', async () => (await w.d.payIns.get(paymentId))?.settled === true);
    const got = (await claim(w, packetId, s, a)).body.amount as number;
    await sweep(w.d, w.clock.now() + 5 * 60_000);
    // The simulator settles the refund half a second later; its notification brings the message.
    await waitFor('refund message', async () => messagesOf(T.refund).length > 0);
    await waitFor(
      'refund success',
      async () => (await w.d.refunds.get(derivedId('r', packetId, 'refund')))?.state === 'success',
    );
    await sweep(w.d, w.clock.now() + 60 * 60_000);
    await new Promise((res) => setTimeout(res, 300));
    expect(messagesOf(T.refund)).toHaveLength(1);
    expect(messagesOf(T.refund)[0]!.data).toEqual({
      amount1: { value: `${Math.floor((1_000 - got) / 100)}.${String((1_000 - got) % 100).padStart(2, '0')}元` },
      thing2: { value: '恭喜发财' },
      thing3: { value: '已原路退回微信支付' },
      time4: { value: expect.stringMatching(TIME) },
    });
    await expectSound(w);
  });

  it('withdrawal arrived: one message when the transfer succeeds; the notification again, reads and sweeps add none', async () => {
    const w = await world([50_000]);
    const [u] = w.users as [TestUser];
    const key = idem();
    const r = await w.api('POST', '/v1/withdrawals', { token: u.token, idem: key, body: { amount: 12_345 } });
    expect(r.status).toBe(201);
    const id = withdrawalId(u.userId, key);
    w.withdrawals.push(id);
    expect(messagesOf(T.withdrawal)).toHaveLength(0);
    await wxpay.hook('/sim/faults', { notify: 'duplicate', times: 1 });
    expect((await wxpay.hook(`/sim/transfers/${id}/confirm`)).status).toBe(200);
    await waitFor('withdrawal message', async () => messagesOf(T.withdrawal).length > 0);
    expect((await w.api('GET', `/v1/withdrawals/${id}`, { token: u.token })).body.state).toBe('success');
    await sweep(w.d, w.clock.now() + 48 * 60 * 60_000);
    await new Promise((res) => setTimeout(res, 300));
    expect(messagesOf(T.withdrawal)).toHaveLength(1);
    const m = messagesOf(T.withdrawal)[0]!;
    expect(m.touser).toBe(await openidOf(w.d, u.userId));
    expect(m.page).toBe('pages/wallet/index');
    expect(m.data).toEqual({
      amount1: { value: '123.45元' },
      thing2: { value: '已到账微信零钱' },
      time3: { value: expect.stringMatching(TIME) },
    });
    expect(await balance(w.api, u)).toBe(50_000 - 12_345);
    await expectSound(w);
  });
});

describe('a failing WeChat never blocks or repeats a money movement', () => {
  /** A packet claimed down to its last share by `others`; returns the last claim's answer. */
  async function finishPacket(w: World, total: number) {
    const [s, ...others] = w.users as [TestUser, ...TestUser[]];
    const sent = await sendPacket(w.api, s, {
      total,
      count: others.length,
      mode: 'lucky',
      greeting: '红包',
      ttlSeconds: 3600,
    });
    const packetId = sent.packet.id as string;
    w.packets.push(packetId);
    let last: Awaited<ReturnType<typeof claim>> | undefined;
    for (const c of others) last = await claim(w, packetId, s, c);
    return { packetId, last: last! };
  }

  it('errors: the claim is done, the sweeper retries on schedule, then gives up after the last attempt', async () => {
    const w = await world([10_000, 0, 0]);
    wx.fault('fail', 100);
    const { packetId, last } = await finishPacket(w, 500);
    expect(last.status).toBe(200);
    const p = await w.d.packets.get(packetId);
    expect(p!.claimed).toBe(2);
    const id = `fin-${packetId}`;
    expect(await w.d.notifications.get(id)).toMatchObject({ state: 'pending', attempts: 1, lastError: 'errcode -1' });
    // Not due before its retry time.
    let t = w.clock.now();
    const early = await sweep(w.d, t + RETRY_AFTER_MS[0] - 5_000);
    expect(early.notificationsRetried ?? 0).toBe(0);
    for (let attempt = 2; attempt <= MAX_ATTEMPTS; attempt++) {
      t += RETRY_AFTER_MS[Math.min(attempt - 1, RETRY_AFTER_MS.length) - 1]! + 1_000;
      const rep = await sweep(w.d, t);
      expect(rep.errors).toBe(0);
      expect((await w.d.notifications.get(id))!.attempts).toBe(attempt);
      if (attempt < MAX_ATTEMPTS) expect(rep.notificationsRetried).toBe(1);
      else expect(rep.notificationsGivenUp).toBe(1);
    }
    expect(await w.d.notifications.get(id)).toMatchObject({ state: 'failed', attempts: MAX_ATTEMPTS });
    // Given up: out of the due index — a later sweep does not touch it.
    const sendsBefore = wx.stats.failed;
    await sweep(w.d, t + 24 * 60 * 60_000);
    expect(wx.stats.failed).toBe(sendsBefore);
    expect(wx.messages).toHaveLength(0);
    await expectSound(w);
  });

  it('errors, then WeChat recovers: the sweeper delivers it once', async () => {
    const w = await world([10_000, 0, 0]);
    wx.fault('fail', 2);
    const { packetId } = await finishPacket(w, 300);
    const first = await sweep(w.d, w.clock.now() + RETRY_AFTER_MS[0] + 1_000);
    expect(first.notificationsRetried).toBe(1);
    const second = await sweep(w.d, w.clock.now() + RETRY_AFTER_MS[0] + RETRY_AFTER_MS[1] + 2_000);
    expect(second.notificationsSent).toBe(1);
    expect(messagesOf(T.finished)).toHaveLength(1);
    expect(await w.d.notifications.get(`fin-${packetId}`)).toMatchObject({ state: 'sent', attempts: 3 });
    await sweep(w.d, w.clock.now() + 24 * 60 * 60_000);
    expect(messagesOf(T.finished)).toHaveLength(1);
    await expectSound(w);
  });

  it('the message record cannot be written (a crash at N1): the claim and the refund are done, only the message is lost', async () => {
    const clock = new Clock();
    const d = wxpay.deps(clock, {
      cfg: notifyCfg(),
      hooks: {
        beforeWrite: (i) => {
          if (i.pk.startsWith('NOTE#')) throw new Error('crash at the message record');
        },
      },
    });
    const api = makeApi(d);
    const [s, a, b] = [await login(api), await login(api), await login(api)];
    await topup(api, s, 1_000);
    const w: World = { d, api, clock, users: [s, a, b], packets: [], payments: [], withdrawals: [], topups: 1_000 };
    const full = await sendPacket(api, s, { total: 200, count: 1, mode: 'equal', ttlSeconds: 60 });
    const part = await sendPacket(api, s, { total: 300, count: 3, mode: 'equal', ttlSeconds: 60 });
    w.packets.push(full.packet.id, part.packet.id);
    const last = await claim(w, full.packet.id, s, a);
    expect(last.status).toBe(200);
    expect(await balance(api, a)).toBe(200);
    expect((await claim(w, part.packet.id, s, b)).status).toBe(200);
    const rep = await sweep(d, clock.now() + 5 * 60_000);
    expect(rep.errors).toBe(0);
    expect(rep.refunded).toBe(200);
    expect(await balance(api, s)).toBe(1_000 - 500 + 200);
    expect(wx.messages).toHaveLength(0);
    await expectSound(w);
  });

  it('43101 (no subscription left): dropped quietly, never retried', async () => {
    const w = await world([10_000, 0]);
    wx.fault('refuse', 1);
    const { packetId, last } = await finishPacket(w, 200);
    expect(last.status).toBe(200);
    expect(await w.d.notifications.get(`fin-${packetId}`)).toMatchObject({
      state: 'dropped',
      attempts: 1,
      lastError: 'errcode 43101',
    });
    const rep = await sweep(w.d, w.clock.now() + 24 * 60 * 60_000);
    expect(rep.notificationsRetried ?? 0).toBe(0);
    expect(wx.stats.refused).toBe(1);
    expect(wx.messages).toHaveLength(0);
    await expectSound(w);
  });

  it('a hanging WeChat: the last claim answers within its Lambda timeout; the sweep sends the message later, within its budget', async () => {
    const w = await world([10_000, 0, 0]);
    wx.fault('timeout', 2);
    const [s, a, b] = w.users as [TestUser, TestUser, TestUser];
    const sent = await sendPacket(w.api, s, { total: 300, count: 2, mode: 'equal', ttlSeconds: 3600 });
    const packetId = sent.packet.id as string;
    w.packets.push(packetId);
    expect((await claim(w, packetId, s, a)).status).toBe(200);
    const code = await w.api('POST', `/v1/packets/${packetId}/codes`, { token: s.token, body: {} });
    const started = performance.now();
    const last = await w.api('POST', '/v1/claims', { token: b.token, body: { code: code.body.code } });
    const took = performance.now() - started;
    expect(last.status).toBe(200);
    expect(last.body.amount).toBe(150);
    // The claim function's Lambda timeout (serverless.yml) is 6 s; the message may use INLINE_TIMEOUT_MS of it.
    expect(INLINE_TIMEOUT_MS).toBeLessThan(3_000);
    expect(took).toBeLessThan(6_000);
    expect(wx.stats.hung).toBe(1);
    expect(await balance(w.api, b)).toBe(150);
    expect(await w.d.notifications.get(`fin-${packetId}`)).toMatchObject({
      state: 'pending',
      attempts: 1,
      lastError: 'timeout',
    });
    // A sweep whose budget (by a clock the test holds still) leaves 1 s: the hanging send is cut
    // there — the run ends, the message stays due with its second attempt counted.
    const rep = await sweep(w.d, w.clock.now() + RETRY_AFTER_MS[0] + 1_000, { budgetMs: 1_000, clock: () => 0 });
    expect(rep.notificationsRetried).toBe(1);
    expect(rep.errors).toBe(0);
    expect(wx.stats.hung).toBe(2);
    expect(await w.d.notifications.get(`fin-${packetId}`)).toMatchObject({
      state: 'pending',
      attempts: 2,
      lastError: 'timeout',
    });
    const next = await sweep(w.d, w.clock.now() + RETRY_AFTER_MS[0] + RETRY_AFTER_MS[1] + 2_000);
    expect(next.notificationsSent).toBe(1);
    expect(messagesOf(T.finished)).toHaveLength(1);
    await expectSound(w);
  });
});

describe('the adapter and the login exchange against the simulator', () => {
  it('caches the access token, fetches it again once when WeChat says it expired', async () => {
    const n = new WeChatSubscribeMessages({
      apiBase: wx.baseUrl,
      appId: APPID,
      secret: SECRET,
      miniprogramState: 'trial',
    });
    const msg = {
      touser: wx.openidOf('alice'),
      templateId: T.withdrawal,
      page: 'pages/wallet/index',
      data: {
        amount1: { value: '1.00元' },
        thing2: { value: '已到账微信零钱' },
        time3: { value: '2026年1月2日 03:04' },
      },
    };
    const tokens = wx.stats.tokens;
    expect(await n.send(msg, { timeoutMs: 2_000 })).toEqual({ kind: 'sent' });
    expect(await n.send(msg, { timeoutMs: 2_000 })).toEqual({ kind: 'sent' });
    expect(wx.stats.tokens).toBe(tokens + 1);
    wx.expireToken();
    expect(await n.send(msg, { timeoutMs: 2_000 })).toEqual({ kind: 'sent' });
    expect(wx.stats.tokens).toBe(tokens + 2);
    expect(wx.messages.map((m) => m.miniprogram_state)).toEqual(['trial', 'trial', 'trial']);
    // A value over a keyword's limit is WeChat's 47003: not retryable.
    const long = { ...msg, data: { ...msg.data, thing2: { value: '一二三四五六七八九十一二三四五六七八九十一' } } };
    expect(await n.send(long, { timeoutMs: 2_000 })).toEqual({
      kind: 'failed',
      reason: 'errcode 47003',
      retryable: false,
    });
    // A wrong secret: no token, retryable (configuration is fixed by a deploy).
    const bad = new WeChatSubscribeMessages({
      apiBase: wx.baseUrl,
      appId: APPID,
      secret: 'wrong',
      miniprogramState: 'trial',
    });
    expect(await bad.send(msg, { timeoutMs: 2_000 })).toEqual({
      kind: 'failed',
      reason: 'token errcode 40125',
      retryable: true,
    });
  });

  it('jscode2session: a one-time code gives the openid and a session key; the WeChat login’s openid receives the messages', async () => {
    const ex = new HttpCode2Session({ apiBase: wx.baseUrl, appId: APPID, secret: SECRET });
    const code = wx.loginCode('bob');
    // WeChat's session_key: base64 of 16 bytes (group data is decrypted with it).
    expect(await ex.exchange(code)).toEqual({
      ok: true,
      openId: wx.openidOf('bob'),
      sessionKey: expect.stringMatching(/^[A-Za-z0-9+/]{22}==$/),
    });
    expect(await ex.exchange(code)).toEqual({ ok: false, reason: 'errcode 40029' });
    const raw: any = await (
      await fetch(
        `${wx.baseUrl}/sns/jscode2session?appid=${APPID}&secret=${SECRET}&js_code=${wx.loginCode('bob')}&grant_type=authorization_code`,
      )
    ).json();
    expect(raw).toEqual({ openid: wx.openidOf('bob'), session_key: expect.stringMatching(/^[A-Za-z0-9+/]{22}==$/) });
    const again: any = await (
      await fetch(
        `${wx.baseUrl}/sns/jscode2session?appid=${APPID}&secret=${SECRET}&js_code=${wx.loginCode('bob')}&grant_type=authorization_code`,
      )
    ).json();
    expect(again.session_key).toBe(raw.session_key);
    expect(Buffer.from(raw.session_key, 'base64')).toHaveLength(16);

    // A WeChat login through the API, then a packet of theirs all claimed.
    const w = await world([0]);
    const d: Deps = { ...w.d, code2session: ex };
    const api = makeApi(d);
    const carol = wx.loginCode(`carol-${randomBytes(4).toString('hex')}`);
    const session = await api('POST', '/v1/session', {
      body: { code: carol },
      headers: { 'x-device-id': `dev-${randomBytes(6).toString('hex')}` },
    });
    expect(session.status).toBe(200);
    expect(session.body.subscribe).toEqual({ packet: [T.finished, T.refund], withdrawal: [T.withdrawal] });
    const s: TestUser = { token: session.body.token, userId: session.body.userId, name: session.body.name };
    w.users.push(s);
    await topup(api, s, 1_000);
    w.topups += 1_000;
    const sent = await sendPacket(api, s, { total: 100, count: 1, mode: 'equal', ttlSeconds: 3600 });
    w.packets.push(sent.packet.id);
    expect((await claim({ ...w, api }, sent.packet.id, s, w.users[0]!)).status).toBe(200);
    expect(messagesOf(T.finished).map((m) => m.touser)).toEqual([await d.accounts.openid(s.userId)]);
    expect(messagesOf(T.finished)[0]!.touser).toMatch(/^o/);
    expect(messagesOf(T.finished)[0]!.touser.startsWith('odev')).toBe(false);
    await expectSound(w);
  });
});
