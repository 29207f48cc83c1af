import fs from 'node:fs';
import path from 'node:path';
import type { CodeView, OpenCodeResponse, PacketView } from '../../functions/src/http/contract';
import {
  CanvasRecorder,
  decodeQr,
  FakeServer,
  qrGeometry,
  qrTextOf,
  sealedGroupData,
  type SealedGroupData,
  codeFixture,
  packetFixture,
} from './weapp';
import { DIST, ensureWeappBuild } from './weappBuild';

/**
 * The compiled mini-program (client/dist/weapp, built once and reused) rendered by
 * miniprogram-simulate: j-component renders the page's WXML, compiled by WeChat's own WXML
 * compiler (wcc, the linux binary that miniprogram-compiler ships), over jsdom; the page's JS is
 * the build's (Taro runtime, React, our code, minified). What stands in for WeChat:
 *   - `Page(config)`: simulate only has `Component`, so a Taro page config becomes a component
 *     whose `attached` runs the page's onLoad(query) and onShow, and `detached` its onUnload;
 *   - `App(config)` / `getApp`: the build's app.js registers Taro's app, launched once;
 *   - `wx`: simulate's API mocks, with storage, request (a fake API), login, requestPayment,
 *     requestMerchantTransfer, reLaunch, showShareMenu (recorded), createCanvasContext (a
 *     recording context) and getGroupEnterInfo (the entering group chat's data, sealed afresh per
 *     call, as the jsdom harness does; it fails when not entered from a group) replaced.
 * Not covered here: WeChat's real layout and styles, native components (canvas pixels come from
 * the replay), the base library's navigation stack, and the dual-thread timing of setData.
 */

type Any = any;
const g = globalThis as Any;

let simulate: Any;
let server = new FakeServer();
let canvas = new CanvasRecorder();
const storage = new Map<string, unknown>();
const wxCalls: { api: string; args: unknown }[] = [];
let app: Any;
/** The query the next page load gets (Page's onLoad argument). */
let nextQuery: Record<string, string> = {};
let nextRoute = '';
/** The group chat (opengid) the mini-program was entered from, if any, and the data handed out. */
let enteredFrom: string | undefined;
const sealed: SealedGroupData[] = [];
const withoutCallbacks = (o: Any) =>
  Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => typeof v !== 'function'));

const NOW = Date.now();
const iso = (ms: number) => new Date(NOW + ms).toISOString();
const packet: PacketView = packetFixture(NOW);
const code = (c: string, kind: CodeView['kind']): CodeView => codeFixture(c, kind, NOW);
const OPENED = '1.k1.p1.shr.OPENED7';
const FORWARD = code('1.k1.p1.shr.FWD9', 'share');
const LIVE = code(
  '1.k1.p8Yt2mQx4Lw9.live.MTc2NDkxMDAwMA.Zk3vQ9pX2c7rT1yB8nL4sW6aD0eF5gH3jK9mN2qR7tU1vX4zA8bC6dE0fG',
  'live',
);
const SHARE = code('1.k1.p1.shr.BBBB', 'share');

function login(userId: string, name: string): void {
  storage.set(
    'hb.session',
    JSON.stringify({
      token: `t-${userId}`,
      userId,
      name,
      tier: 'personal',
      roles: ['user'],
      expiresAt: '2099-01-01T00:00:00Z',
    }),
  );
}

/** Taro's page config as a j-component definition (see the file comment). */
function pageAsComponent(cfg: Record<string, unknown>): Record<string, unknown> {
  const methods: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cfg)) if (typeof v === 'function') methods[k] = v;
  return {
    data: cfg.data,
    methods,
    lifetimes: {
      attached(this: Any) {
        this.route = nextRoute;
        this.options = nextQuery;
        this.onLoad(nextQuery);
        this.onShow();
      },
      detached(this: Any) {
        this.onUnload();
      },
    },
  };
}

/** Loads and attaches a compiled page (`pages/open/index`) with a query. */
function openPage(route: string, query: Record<string, string>): Any {
  nextRoute = route;
  nextQuery = query;
  // A page is loaded (compiled) once and rendered as often as asked.
  const id = loaded.get(route) ?? simulate.load(path.join(DIST, route), { compiler: 'official', rootPath: DIST });
  loaded.set(route, id);
  const page = simulate.render(id);
  page.attach(document.createElement('parent-wrapper'));
  pages.push(page);
  return page;
}
const pages: Any[] = [];
const loaded = new Map<string, string>();

/** Polls until `check` passes (the page renders through timers and fake network answers). */
async function until(check: () => unknown, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

const textOf = (page: Any): string => String(page.dom.textContent ?? '');

/**
 * Types into the page's (first) Field as WeChat reports it (an `input` event with the value),
 * then waits for the page to render it back: a tap in the same tick would see the old value.
 */
async function typeInto(page: Any, value: string): Promise<void> {
  page.querySelector('.field__input').dispatchEvent('input', { detail: { value } });
  await until(() => expect(JSON.stringify(page.instance.data)).toContain(`"${value}"`));
}

beforeAll(() => {
  ensureWeappBuild();
  simulate = require('miniprogram-simulate');
  Object.assign(g.wx, {
    getStorageSync: (k: string) => storage.get(k) ?? '',
    setStorageSync: (k: string, v: unknown) => void storage.set(k, v),
    removeStorageSync: (k: string) => void storage.delete(k),
    request: (o: Any) => {
      void server.handle(o).then((r) => {
        o.success?.(r);
        o.complete?.(r);
      });
      return { abort: () => undefined, onHeadersReceived: () => undefined, offHeadersReceived: () => undefined };
    },
    login: (o: Any) => {
      wxCalls.push({ api: 'login', args: {} });
      setTimeout(() => o.success?.({ code: 'wx-login-code-sim', errMsg: 'login:ok' }), 0);
    },
    createCanvasContext: (id: string) => canvas.context(id),
    requestPayment: (o: Any) => {
      wxCalls.push({
        api: 'requestPayment',
        args: Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v !== 'function')),
      });
      setTimeout(() => o.success?.({ errMsg: 'requestPayment:ok' }), 0);
    },
    requestMerchantTransfer: (o: Any) => {
      wxCalls.push({
        api: 'requestMerchantTransfer',
        args: Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v !== 'function')),
      });
      setTimeout(() => o.success?.({ errMsg: 'requestMerchantTransfer:ok' }), 0);
    },
    reLaunch: (o: Any) => {
      wxCalls.push({ api: 'reLaunch', args: { url: o.url } });
      setTimeout(() => o.success?.({ errMsg: 'reLaunch:ok' }), 0);
    },
    showShareMenu: (o: Any) => {
      wxCalls.push({ api: 'showShareMenu', args: withoutCallbacks(o) });
      setTimeout(() => o.success?.({ errMsg: 'showShareMenu:ok' }), 0);
    },
    getGroupEnterInfo: (o: Any) => {
      wxCalls.push({ api: 'getGroupEnterInfo', args: withoutCallbacks(o) });
      setTimeout(() => {
        if (!enteredFrom) return o.fail?.({ errMsg: 'getGroupEnterInfo:fail not in group chat scene' });
        const data = sealedGroupData(enteredFrom, sealed.length + 1);
        sealed.push(data);
        o.success?.({ ...data, errMsg: 'getGroupEnterInfo:ok' });
      }, 0);
    },
  });
  g.App = (cfg: Any) => {
    app = cfg;
  };
  g.getApp = () => app;
  g.getCurrentPages = () => [];
  g.Page = (cfg: Record<string, unknown>) => g.Component(pageAsComponent(cfg));
  require(path.join(DIST, 'app.js'));
  app.onLaunch({ path: 'pages/home/index', query: {}, scene: 1001 });
}, 300_000);

beforeEach(() => {
  server = new FakeServer();
  canvas = new CanvasRecorder();
  storage.clear();
  wxCalls.length = 0;
  enteredFrom = undefined;
  sealed.length = 0;
});
afterEach(() => {
  // Unload the pages (their polls and timers stop with React's unmount).
  while (pages.length) pages.pop().detach();
  expect(server.unrouted).toEqual([]);
});

test('the build is the one under test: app.json lists the open page, its WXML comes from Taro', () => {
  const appJson = JSON.parse(fs.readFileSync(path.join(DIST, 'app.json'), 'utf8')) as { pages: string[] };
  expect(appJson.pages).toContain('pages/open/index');
  expect(fs.readFileSync(path.join(DIST, 'pages/open/index.wxml'), 'utf8')).toContain('taro_tmpl');
});

test('open page (compiled): shows the packet, 開 claims it with the code, the amount is shown, and the forward card carries the new share code', async () => {
  login('u-bob', 'Bob');
  const opened: OpenCodeResponse = { target: 'packet', packet, claimable: true };
  server
    .on(`GET /v1/codes/${OPENED}`, () => ({ status: 200, body: opened }))
    .on('POST /v1/claims', () => ({
      status: 201,
      body: { packetId: 'p1', amount: 321, claimedAt: iso(0), repeat: false },
    }))
    .on('GET /v1/packets/p1', () => ({ status: 200, body: { ...packet, claimedCount: 1, claimedAmount: 321 } }))
    .on('POST /v1/packets/p1/codes', () => ({ status: 201, body: FORWARD }));
  const page = openPage('pages/open/index', { c: OPENED });
  await until(() => expect(textOf(page)).toContain('点击「開」领取红包'));
  expect(textOf(page)).toContain('Alice');
  expect(textOf(page)).toContain('新年快乐');
  expect(server.to(`GET /v1/codes/${OPENED}`)[0]!.header.Authorization).toBe('Bearer t-u-bob');

  page.querySelector('.coin').dispatchEvent('tap');
  await until(() => expect(textOf(page)).toContain('3.21'));
  expect(server.to('POST /v1/claims').map((r) => r.body)).toEqual([{ code: OPENED }]);
  // weapp: the forward's share code is minted at once (for the share button), naming the opened code.
  await until(() =>
    expect(server.to('POST /v1/packets/p1/codes').map((r) => r.body)).toEqual([{ kind: 'share', via: OPENED }]),
  );
  await until(async () => {
    const card = await page.instance.onShareAppMessage({ from: 'button' });
    expect(card).toEqual({
      title: 'Alice的红包：新年快乐',
      path: `/pages/open/index?c=${encodeURIComponent(FORWARD.code)}`,
    });
  });
});

test('packet page (compiled): the live QR drawn through wx.createCanvasContext decodes to the live code', async () => {
  login('u-alice', 'Alice');
  server
    .on('GET /v1/packets/p1', () => ({ status: 200, body: packet }))
    .on('POST /v1/packets/p1/codes', (req) => ({
      status: 201,
      body: (req.body as { kind: string }).kind === 'live' ? LIVE : SHARE,
    }));
  const page = openPage('pages/packet/index', { id: 'p1' });
  await until(() => expect(canvas.draws('packet-qr')).toBeGreaterThanOrEqual(1));
  const bitmap = canvas.bitmap('packet-qr', 220, 220);
  expect(decodeQr(bitmap)).toBe(qrTextOf(LIVE));
  const geo = qrGeometry(bitmap);
  expect(geo.transparent).toBe(0);
  expect(geo.quietModules).toBeGreaterThanOrEqual(4);
  await until(() => expect(textOf(page)).toContain('发给朋友'));
  const card = await page.instance.onShareAppMessage({ from: 'menu' });
  expect(card).toEqual({
    title: 'Alice的红包：新年快乐',
    path: `/pages/open/index?c=${encodeURIComponent(SHARE.code)}`,
  });
});

test("login page (compiled): 微信一键登录 sends wx.login's code to POST /v1/session and keeps the session", async () => {
  server.on('POST /v1/session', () => ({
    status: 201,
    body: {
      token: 'tok-sim',
      userId: 'u-wx',
      name: '微信用户',
      tier: 'personal',
      roles: ['user'],
      expiresAt: '2099-01-01T00:00:00Z',
    },
  }));
  const page = openPage('pages/login/index', {});
  await until(() => expect(textOf(page)).toContain('微信一键登录'));
  page.querySelector('.btn--block').dispatchEvent('tap');
  await until(() => expect(wxCalls.map((c) => c.api)).toContain('reLaunch'));
  expect(wxCalls.filter((c) => c.api === 'login')).toHaveLength(1);
  expect(server.to('POST /v1/session').map((r) => r.body)).toEqual([{ code: 'wx-login-code-sim' }]);
  expect(JSON.parse(String(storage.get('hb.session'))).token).toBe('tok-sim');
});

test('wallet page (compiled): 微信支付充值 opens wx.requestPayment with exactly the Payment.request the server returned', async () => {
  login('u-alice', 'Alice');
  const request = {
    timeStamp: '1764910000',
    nonceStr: 'n0nce5tr1ng',
    package: 'prepay_id=wx05topup77',
    signType: 'RSA',
    paySign: 'c2lnbmVkLWJ5LXRoZS1zZXJ2ZXI=',
  };
  const payment = (state: string) => ({ paymentId: 'pay_t1', amount: 5_000, state, request });
  server
    .on('GET /v1/wallet', () => ({
      status: 200,
      body: {
        balance: 1_000,
        currency: 'CNY',
        tier: 'personal',
        perPacketLimit: 20_000,
        dailyLimit: 100_000,
        sentToday: 0,
        feeBps: 0,
        maxShares: 100,
      },
    }))
    .on('GET /v1/wallet/ledger', () => ({ status: 200, body: { entries: [], cursor: null } }))
    .on('POST /v1/wallet/topups', () => ({
      status: 202,
      body: { topupId: 't1', amount: 5_000, state: 'pending', payment: payment('pending') },
    }))
    .on('GET /v1/payments/pay_t1', () => ({ status: 200, body: payment('paid') }));
  const page = openPage('pages/wallet/index', {});
  await until(() => expect(textOf(page)).toContain('微信支付充值'));
  await typeInto(page, '50');
  const pay = [...page.querySelectorAll('.btn--block')].find((b: Any) =>
    String(b.dom.textContent).includes('微信支付充值'),
  );
  pay.dispatchEvent('tap');
  await until(() => expect(wxCalls.filter((c) => c.api === 'requestPayment')).toHaveLength(1));
  expect(server.to('POST /v1/wallet/topups').map((r) => r.body)).toEqual([{ amount: 5_000, method: 'wechatpay' }]);
  expect(wxCalls.find((c) => c.api === 'requestPayment')!.args).toEqual(request);
  await until(() => expect(textOf(page)).toContain('已充值 ¥50.00'));
});

test('withdraw page (compiled): 提现 opens wx.requestMerchantTransfer with exactly the withdrawal confirm', async () => {
  login('u-alice', 'Alice');
  const confirm = { mchId: '1900000109', appId: 'wx8888888888888888', package: 'ABBQO+oYAAABAAAAAAAkZm9vYmFy' };
  const id = 'wd0123456789abcdef0123456789abcd';
  server
    .on('GET /v1/wallet', () => ({
      status: 200,
      body: {
        balance: 50_000,
        currency: 'CNY',
        tier: 'personal',
        perPacketLimit: 20_000,
        dailyLimit: 100_000,
        sentToday: 0,
        feeBps: 0,
        maxShares: 100,
      },
    }))
    .on('GET /v1/withdrawals', () => ({ status: 200, body: { withdrawals: [], cursor: null } }))
    .on('POST /v1/withdrawals', () => ({
      status: 201,
      body: { withdrawalId: id, amount: 1234, state: 'wait_user_confirm', confirm },
    }))
    .on(`GET /v1/withdrawals/${id}`, () => ({
      status: 200,
      body: { withdrawalId: id, amount: 1234, state: 'success', returned: false },
    }));
  const page = openPage('pages/withdraw/index', {});
  await until(() => expect(textOf(page)).toContain('¥500.00'));
  await typeInto(page, '12.34');
  const go = [...page.querySelectorAll('.btn--block')].find((b: Any) => String(b.dom.textContent).trim() === '提现');
  go.dispatchEvent('tap');
  await until(() => expect(wxCalls.filter((c) => c.api === 'requestMerchantTransfer')).toHaveLength(1));
  expect(server.to('POST /v1/withdrawals').map((r) => r.body)).toEqual([{ amount: 1234 }]);
  expect(wxCalls.find((c) => c.api === 'requestMerchantTransfer')!.args).toEqual(confirm);
  await until(() => expect(textOf(page)).toContain('已到账'));
});

test("open page (compiled), entered from a group chat: a group-only packet's open and claim carry fresh getGroupEnterInfo data; 403 GROUP_ONLY shows the 仅限本群 screen", async () => {
  login('u-bob', 'Bob');
  enteredFrom = 'G-family';
  const { claims: _claims, ...summary } = { ...packet, groupOnly: true };
  server
    .on(`GET /v1/codes/${OPENED}`, () => ({
      status: 200,
      body: { target: 'packet', packet: summary, claimable: true, group: 'member' } satisfies OpenCodeResponse,
    }))
    .on('POST /v1/claims', () => ({
      status: 403,
      body: { error: { code: 'GROUP_ONLY', message: 'group only', details: { group: 'other' } } },
    }));
  const page = openPage('pages/open/index', { c: OPENED });
  await until(() => expect(textOf(page)).toContain('点击「開」领取红包'));
  expect(textOf(page)).toContain('仅限本群');
  expect(server.to(`GET /v1/codes/${OPENED}`).map((r) => r.query)).toEqual([sealed[0]]);
  // The page shares this packet only with a ticket, and not to 朋友圈: WeChat's own option
  // names as they reach wx (Taro's runtime translates the app's).
  await until(() => expect(wxCalls.filter((c) => c.api === 'showShareMenu')).toHaveLength(1));
  expect(wxCalls.find((c) => c.api === 'showShareMenu')!.args).toMatchObject({
    withShareTicket: true,
    menus: ['shareAppMessage'],
  });

  page.querySelector('.coin').dispatchEvent('tap');
  await until(() => expect(textOf(page)).toContain('仅限本群领取'));
  expect(textOf(page)).toContain('其他群或私聊');
  expect(sealed).toHaveLength(2);
  expect(server.to('POST /v1/claims').map((r) => r.body)).toEqual([{ code: OPENED, group: sealed[1] }]);
  expect(textOf(page)).not.toContain('点击「開」领取红包');
});

test('open page (compiled): a code link scanned in WeChat arrives as q (encoded once) and opens that code', async () => {
  login('u-bob', 'Bob');
  const { claims: _claims, ...summary } = packet;
  server.on('GET /v1/codes/*', () => ({
    status: 200,
    body: { target: 'packet', packet: summary, claimable: true } satisfies OpenCodeResponse,
  }));
  const page = openPage('pages/open/index', { q: encodeURIComponent(LIVE.link), scancode_time: '1764910000' });
  await until(() => expect(textOf(page)).toContain('点击「開」领取红包'));
  expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /v1/codes/${LIVE.code}`]);
});
