import { act, render, screen, waitFor } from '@testing-library/react';
import type {
  AvatarUploadResponse,
  CodeView,
  CreatePacketResponse,
  CreateWithdrawalResponse,
  OpenCodeResponse,
  PacketView,
  Payment,
  ProfileResponse,
  SessionResponse,
} from '../../functions/src/http/contract';
import { currentSession, saveSession } from '../src/api/session';
import LoginPage from '../src/pages/login/index';
import OpenPage from '../src/pages/open/index';
import PacketPage from '../src/pages/packet/index';
import ProfilePage from '../src/pages/profile/index';
import ReceivePage from '../src/pages/receive/index';
import WalletPage from '../src/pages/wallet/index';
import SendPage from '../src/pages/send/index';
import WithdrawPage from '../src/pages/withdraw/index';
import { click, flush } from './helpers';
import {
  expectShareMenu,
  expectSharePayload,
  typeWeapp as type,
  inWeappMode,
  weapp,
  WxFail,
  codeFixture,
  packetFixture,
} from './weapp';

/**
 * What only the mini-program does, checked from the server's JSON (a fake API behind
 * Taro.request, the app's own client in between) to the WeChat API it reaches: the share cards,
 * the payment sheet, the transfer confirmation, the login code, the group context. TARO_ENV is
 * weapp (inWeappMode), so the pages take their WeChat branches without any spy on the app's code.
 */
jest.mock('@tarojs/taro', () => require('./weapp').weappTaro());

inWeappMode();

const NOW = Date.now();
const iso = (ms: number) => new Date(NOW + ms).toISOString();
const code = (c: string, kind: CodeView['kind']): CodeView => codeFixture(c, kind, NOW);
const LIVE = code('1.k1.p1.live.AAAA', 'live');
const SHARE = code('1.k1.p1.shr.BBBB', 'share');
const FORWARD = code('1.k1.p1.shr.FWD9', 'share');
const OPENED = '1.k1.p1.shr.OPENED7';
const packet: PacketView = packetFixture(NOW);
const wallet = {
  balance: 50_000,
  currency: 'CNY',
  tier: 'personal',
  perPacketLimit: 20_000,
  dailyLimit: 100_000,
  sentToday: 0,
  feeBps: 0,
  maxShares: 100,
};

const login = (userId: string, name: string) =>
  saveSession({
    token: `t-${userId}`,
    userId,
    name,
    tier: 'personal',
    roles: ['user'],
    expiresAt: '2099-01-01T00:00:00Z',
  });

/** The packet's code route: live or share by the body's kind (a share `via` gets the forward). */
function codesRoute() {
  weapp.server.on('POST /v1/packets/p1/codes', (req) => {
    const b = req.body as { kind: string; via?: string };
    return { status: 201, body: b.kind === 'live' ? LIVE : b.via ? FORWARD : SHARE };
  });
}

describe('share cards', () => {
  test('packet page: 发给朋友 shares the title and the open page with the share code the server returned', async () => {
    login('u-alice', 'Alice');
    weapp.router = { params: { id: 'p1' } };
    weapp.server.on('GET /v1/packets/p1', () => ({ status: 200, body: packet }));
    codesRoute();
    render(<PacketPage />);
    await waitFor(() =>
      expect(weapp.server.to('POST /v1/packets/p1/codes').map((r) => r.body)).toContainEqual({ kind: 'share' }),
    );
    // weapp: the share button (open-type="share"), not the H5 复制链接.
    expect(screen.getByLabelText('发给朋友')).toBeTruthy();
    expect(screen.queryByLabelText('复制链接')).toBeNull();
    await waitFor(async () =>
      expectSharePayload(await weapp.share({ from: 'button' }), { title: 'Alice的红包：新年快乐', code: SHARE.code }),
    );
    expectSharePayload(await weapp.share({ from: 'menu' }), { title: 'Alice的红包：新年快乐', code: SHARE.code });
    expectShareMenu('ordinary');
  });

  test('open page: a claimer forwards with a new share code naming the code it was opened with', async () => {
    login('u-bob', 'Bob');
    weapp.router = { params: { c: OPENED } };
    const opened: OpenCodeResponse = { target: 'packet', packet, claimable: true };
    weapp.server
      .on(`GET /v1/codes/${OPENED}`, () => ({ status: 200, body: opened }))
      .on('POST /v1/claims', () => ({
        status: 201,
        body: { packetId: 'p1', amount: 321, claimedAt: iso(0), repeat: false },
      }))
      .on('GET /v1/packets/p1', () => ({ status: 200, body: { ...packet, claimedCount: 1, claimedAmount: 321 } }));
    codesRoute();
    render(<OpenPage />);
    await waitFor(() => expect(screen.getByLabelText('开红包')).toBeTruthy());
    // Before claiming, the page may only pass on the code it was opened with (no new share code).
    expectSharePayload(await weapp.share({ from: 'menu' }), { title: 'Alice的红包：新年快乐', code: OPENED });
    expect(weapp.server.to('POST /v1/packets/p1/codes')).toEqual([]);
    click('开红包');
    await waitFor(() => expect(weapp.server.to('POST /v1/packets/p1/codes')).toHaveLength(1), { timeout: 5000 });
    expect(weapp.server.to('POST /v1/packets/p1/codes')[0]!.body).toEqual({ kind: 'share', via: OPENED });
    await waitFor(async () =>
      expectSharePayload(await weapp.share({ from: 'button' }), { title: 'Alice的红包：新年快乐', code: FORWARD.code }),
    );
    expectShareMenu('ordinary');
  });

  test('receive page: a 收款码 has no share card', async () => {
    login('u-alice', 'Alice');
    weapp.server.on('GET /v1/receive-code', () => ({ status: 200, body: code('1.k1.r.recv.CCCC', 'receive') }));
    render(<ReceivePage />);
    await flush();
    expect(weapp.shares).toBe(false);
  });
});

describe('WeChat Pay', () => {
  const request = {
    timeStamp: '1764910000',
    nonceStr: 'n0nce5tr1ng',
    package: 'prepay_id=wx05topup77',
    signType: 'RSA' as const,
    paySign: 'c2lnbmVkLWJ5LXRoZS1zZXJ2ZXI=',
  };
  const payment = (state: Payment['state']): Payment => ({ paymentId: 'pay_t1', amount: 5_000, state, request });

  test('top-up: Taro.requestPayment gets exactly the Payment.request the server returned; credited once the API says paid', async () => {
    login('u-alice', 'Alice');
    weapp.server
      .on('GET /v1/wallet', () => ({ status: 200, body: wallet }))
      .on('GET /v1/wallet/ledger', () => ({ status: 200, body: { entries: [], cursor: null } }))
      .on('POST /v1/wallet/topups', () => ({
        status: 202,
        body: { topupId: 't1', amount: 5_000, state: 'pending', payment: payment('pending') },
      }))
      .on('GET /v1/payments/pay_t1', () => ({ status: 200, body: payment('paid') }));
    render(<WalletPage />);
    await flush();
    await flush();
    // weapp without dev features: WeChat Pay is the only way, no sandbox.
    expect(screen.queryByLabelText('沙箱充值（立即到账）')).toBeNull();
    type('充值金额（元）', '50');
    click('充值');
    await waitFor(() => expect(weapp.callsTo('requestPayment')).toHaveLength(1));
    expect(weapp.server.to('POST /v1/wallet/topups')[0]!.body).toEqual({ amount: 5_000, method: 'wechatpay' });
    expect(weapp.callsTo('requestPayment')[0]).toEqual(request);
    await waitFor(() => expect(screen.getByText('已充值 ¥50.00')).toBeTruthy(), { timeout: 5000 });
    expect(weapp.server.to('GET /v1/payments/pay_t1').length).toBeGreaterThanOrEqual(1);
  });
});

describe('withdrawal: WeChat 确认收款', () => {
  const confirm = { mchId: '1900000109', appId: 'wx8888888888888888', package: 'ABBQO+oYAAABAAAAAAAkZm9vYmFy' };
  const created: CreateWithdrawalResponse = {
    withdrawalId: 'wd0123456789abcdef0123456789abcd',
    amount: 1234,
    state: 'wait_user_confirm',
    confirm,
  };

  test('requestMerchantTransfer gets exactly the withdrawal confirm (mchId, appId, package), then the withdrawal is polled', async () => {
    login('u-alice', 'Alice');
    weapp.server
      .on('GET /v1/wallet', () => ({ status: 200, body: wallet }))
      .on('GET /v1/withdrawals', () => ({ status: 200, body: { withdrawals: [], cursor: null } }))
      .on('POST /v1/withdrawals', () => ({ status: 201, body: created }))
      .on(`GET /v1/withdrawals/${created.withdrawalId}`, () => ({
        status: 200,
        body: { withdrawalId: created.withdrawalId, amount: 1234, state: 'success', returned: false },
      }));
    render(<WithdrawPage />);
    await flush();
    await flush();
    type('提现金额（元）', '12.34');
    click('提现');
    await waitFor(() => expect(weapp.callsTo('requestMerchantTransfer')).toHaveLength(1));
    expect(weapp.server.to('POST /v1/withdrawals')[0]!.body).toEqual({ amount: 1234 });
    // Exactly the three fields WeChat requires, as the server returned them (openId is optional and not sent).
    expect(weapp.callsTo('requestMerchantTransfer')[0]).toEqual(confirm);
    await waitFor(() => expect(screen.getByLabelText('提现状态').textContent).toBe('已到账'), { timeout: 5000 });
  });
});

describe('login', () => {
  const session: SessionResponse = {
    token: 'tok-from-server',
    userId: 'u-wx1',
    name: '微信用户',
    tier: 'personal',
    roles: ['user'],
    expiresAt: '2099-01-01T00:00:00Z',
  };

  test("weapp: Taro.login's code goes to POST /v1/session as given (no token), the session is kept, back to the page that asked", async () => {
    weapp.router = { params: { next: encodeURIComponent('/biz/campaigns/index') } };
    weapp.answer('login', () => ({ code: '0a3Xy-wx-code+/=', errMsg: 'login:ok' }));
    weapp.server.on('POST /v1/session', () => ({ status: 201, body: session }));
    render(<LoginPage />);
    // weapp without dev features: WeChat login only.
    expect(screen.queryByLabelText('昵称')).toBeNull();
    click('登录');
    await waitFor(() => expect(weapp.callsTo('reLaunch')).toHaveLength(1));
    expect(weapp.callsTo('login')).toHaveLength(1);
    const sent = weapp.server.to('POST /v1/session');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body).toEqual({ code: '0a3Xy-wx-code+/=' });
    expect(sent[0]!.header.Authorization).toBeUndefined();
    expect(sent[0]!.header['x-device-id']).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    expect(currentSession()?.token).toBe('tok-from-server');
    // A subpackage page is a valid place to return to.
    expect(weapp.callsTo('reLaunch')).toEqual([{ url: '/biz/campaigns/index' }]);
  });

  test('weapp: a failed Taro.login sends nothing and says so', async () => {
    weapp.answer('login', () => ({ code: '', errMsg: 'login:ok' }));
    render(<LoginPage />);
    click('登录');
    await waitFor(() => expect(weapp.callsTo('login')).toHaveLength(1));
    await flush();
    expect(weapp.server.requests).toEqual([]);
    expect(currentSession()).toBeUndefined();
  });
});

describe('仅限本群: share tickets and the group context', () => {
  const groupPacket: PacketView = { ...packet, groupOnly: true };
  const summaryOf = (p: PacketView) => {
    const { claims: _claims, ...rest } = p;
    return rest;
  };

  test('packet page of a group-only packet: the share menu asks for a share ticket (no 朋友圈), the card is the open page with the share code', async () => {
    login('u-alice', 'Alice');
    weapp.router = { params: { id: 'p1' } };
    weapp.server.on('GET /v1/packets/p1', () => ({ status: 200, body: groupPacket }));
    codesRoute();
    render(<PacketPage />);
    await waitFor(() => expect(weapp.callsTo('showShareMenu')).toHaveLength(1));
    expectShareMenu('groupOnly');
    await waitFor(async () =>
      expectSharePayload(await weapp.share({ from: 'button' }), { title: 'Alice的红包：新年快乐', code: SHARE.code }),
    );
    expectSharePayload(await weapp.share({ from: 'menu' }), { title: 'Alice的红包：新年快乐', code: SHARE.code });
  });

  test('open page entered from a group: each request gets fresh group data from getGroupEnterInfo, sent exactly as WeChat gave it; the forward card keeps the ticket', async () => {
    login('u-bob', 'Bob');
    weapp.router = { params: { c: OPENED }, path: 'pages/open/index' };
    const chat = weapp.enterFromGroup('G-family');
    const opened: OpenCodeResponse = {
      target: 'packet',
      packet: summaryOf(groupPacket),
      claimable: true,
      group: 'member',
    };
    weapp.server
      .on(`GET /v1/codes/${OPENED}`, () => ({ status: 200, body: opened }))
      .on('POST /v1/claims', () => ({
        status: 201,
        body: { packetId: 'p1', amount: 321, claimedAt: iso(0), repeat: false },
      }))
      .on('GET /v1/packets/p1', () => ({ status: 200, body: { ...groupPacket, claimedCount: 1, claimedAmount: 321 } }));
    codesRoute();
    render(<OpenPage />);
    await waitFor(() => expect(screen.getByLabelText('开红包')).toBeTruthy());
    expect(weapp.enterOptions).toMatchObject({ scene: 1044, shareTicket: chat.shareTicket });
    // The open: WeChat's data for this chat as query parameters, byte for byte (base64 with + / =).
    expect(weapp.sealed).toHaveLength(1);
    expect(weapp.sealed[0]!.encryptedData).toMatch(/[+/].*=$/);
    expect(weapp.server.to(`GET /v1/codes/${OPENED}`).map((r) => r.query)).toEqual([weapp.sealed[0]]);
    click('开红包');
    await waitFor(() => expect(screen.getByLabelText('领取金额').textContent).toBe('3.21'), { timeout: 5000 });
    // The claim: asked afresh (the open's data is stale by then), right before the claim.
    expect(weapp.sealed).toHaveLength(2);
    expect(weapp.sealed[1]).not.toEqual(weapp.sealed[0]);
    expect(weapp.server.to('POST /v1/claims').map((r) => r.body)).toEqual([{ code: OPENED, group: weapp.sealed[1] }]);
    const order = weapp
      .order()
      .filter((x) => x === 'getGroupEnterInfo' || x.startsWith('GET /v1/codes/') || x === 'POST /v1/claims');
    expect(order).toEqual(['getGroupEnterInfo', `GET /v1/codes/${OPENED}`, 'getGroupEnterInfo', 'POST /v1/claims']);
    // Passing it on from the group: the forward card carries a ticket too.
    await waitFor(async () =>
      expectSharePayload(await weapp.share({ from: 'button' }), { title: 'Alice的红包：新年快乐', code: FORWARD.code }),
    );
    expectShareMenu('groupOnly');
  });

  test('a claim refused with 403 GROUP_ONLY shows the 仅限本群 screen, with no amount', async () => {
    login('u-bob', 'Bob');
    weapp.router = { params: { c: OPENED }, path: 'pages/open/index' };
    weapp.enterFromGroup('G-other');
    weapp.server
      .on(`GET /v1/codes/${OPENED}`, () => ({
        status: 200,
        body: {
          target: 'packet',
          packet: summaryOf(groupPacket),
          claimable: true,
          group: 'member',
        } satisfies OpenCodeResponse,
      }))
      .on('POST /v1/claims', () => ({
        status: 403,
        body: { error: { code: 'GROUP_ONLY', message: 'group only', details: { group: 'other' } } },
      }));
    render(<OpenPage />);
    await waitFor(() => expect(screen.getByLabelText('开红包')).toBeTruthy());
    click('开红包');
    const alert = await screen.findByRole('alert', { name: '仅限本群领取' }, { timeout: 5000 });
    expect(alert.textContent).toContain('其他群或私聊');
    expect(weapp.server.to('POST /v1/claims').map((r) => r.body)).toEqual([{ code: OPENED, group: weapp.sealed[1] }]);
    expect(screen.queryByLabelText('领取金额')).toBeNull();
    expect(screen.queryByLabelText('开红包')).toBeNull();
  });

  test("entered other than from a group: getGroupEnterInfo fails, the open carries no group, and the open view's GROUP_ONLY shows the screen (no 開)", async () => {
    login('u-bob', 'Bob');
    weapp.router = { params: { c: OPENED }, path: 'pages/open/index' };
    weapp.server.on(`GET /v1/codes/${OPENED}`, () => ({
      status: 200,
      body: {
        target: 'packet',
        packet: summaryOf(groupPacket),
        claimable: false,
        reason: 'GROUP_ONLY',
        group: 'none',
      } satisfies OpenCodeResponse,
    }));
    render(<OpenPage />);
    const alert = await screen.findByRole('alert', { name: '仅限本群领取' }, { timeout: 5000 });
    expect(alert.textContent).toContain('回到群聊');
    expect(weapp.callsTo('getGroupEnterInfo')).toHaveLength(1);
    expect(weapp.sealed).toEqual([]);
    expect(weapp.server.to(`GET /v1/codes/${OPENED}`).map((r) => r.query)).toEqual([{}]);
    expect(screen.queryByLabelText('开红包')).toBeNull();
    expect(weapp.server.to('POST /v1/claims')).toEqual([]);
  });

  test('an ordinary packet entered from a group: the claim carries no group data', async () => {
    login('u-bob', 'Bob');
    weapp.router = { params: { c: OPENED }, path: 'pages/open/index' };
    weapp.enterFromGroup('G-family');
    weapp.server
      .on(`GET /v1/codes/${OPENED}`, () => ({
        status: 200,
        body: { target: 'packet', packet: summaryOf(packet), claimable: true } satisfies OpenCodeResponse,
      }))
      .on('POST /v1/claims', () => ({
        status: 201,
        body: { packetId: 'p1', amount: 321, claimedAt: iso(0), repeat: false },
      }))
      .on('GET /v1/packets/p1', () => ({ status: 200, body: { ...packet, claimedCount: 1, claimedAmount: 321 } }));
    codesRoute();
    render(<OpenPage />);
    await waitFor(() => expect(screen.getByLabelText('开红包')).toBeTruthy());
    click('开红包');
    await waitFor(() => expect(screen.getByLabelText('领取金额').textContent).toBe('3.21'), { timeout: 5000 });
    expect(weapp.server.to('POST /v1/claims').map((r) => r.body)).toEqual([{ code: OPENED }]);
    expectShareMenu('ordinary');
  });
});

describe('subscribe messages: asked in the tap, before the money moves, whatever the answer', () => {
  const templates = { packet: ['tmpl-AllClaimed-8xQ', 'tmpl-Refunded-2bZ'], withdrawal: ['tmpl-Withdrawn-5kP'] };
  const session: SessionResponse = {
    token: 'tok-subscribe',
    userId: 'u-alice',
    name: 'Alice',
    tier: 'personal',
    roles: ['user'],
    expiresAt: '2099-01-01T00:00:00Z',
    subscribe: templates,
  };

  /** What the user does with WeChat's subscribe dialog (each template accepted or rejected, or the call fails). */
  const ANSWERS = {
    accept: (o: Record<string, unknown>) => ({
      errMsg: 'requestSubscribeMessage:ok',
      ...Object.fromEntries((o.tmplIds as string[]).map((id) => [id, 'accept'])),
    }),
    reject: (o: Record<string, unknown>) => ({
      errMsg: 'requestSubscribeMessage:ok',
      ...Object.fromEntries((o.tmplIds as string[]).map((id) => [id, 'reject'])),
    }),
    fail: () => {
      throw new WxFail('requestSubscribeMessage:fail can only be invoked by user TAP gesture.');
    },
  } as const;

  /** Logs in through the login page: the session (template ids included) is the server's answer. */
  async function loginThroughPage(): Promise<void> {
    weapp.server.on('POST /v1/session', () => ({ status: 201, body: session }));
    const { unmount } = render(<LoginPage />);
    click('登录');
    await waitFor(() => expect(weapp.callsTo('reLaunch')).toHaveLength(1));
    unmount();
    expect(currentSession()?.token).toBe('tok-subscribe');
  }

  test.each(Object.keys(ANSWERS) as (keyof typeof ANSWERS)[])(
    'send (%s): the packet templates asked first in the 确认支付 tap, then POST /v1/packets',
    async (answer) => {
      await loginThroughPage();
      weapp.answer('requestSubscribeMessage', ANSWERS[answer]);
      const created: CreatePacketResponse = {
        packet: { ...packet, total: 888, count: 2 },
        code: LIVE,
        shareCode: SHARE,
        fee: 0,
      };
      weapp.server
        .on('GET /v1/wallet', () => ({ status: 200, body: wallet }))
        .on('POST /v1/packets', () => ({ status: 201, body: created }));
      render(<SendPage />);
      await waitFor(() => expect(weapp.server.to('GET /v1/wallet')).toHaveLength(1));
      // Typed once the inputs have rendered their native <input> (Stencil loads them asynchronously).
      await waitFor(() =>
        expect(
          document.querySelectorAll('[aria-label="总金额（元）"] input, [aria-label="红包个数"] input'),
        ).toHaveLength(2),
      );
      type('总金额（元）', '8.88');
      type('红包个数', '2');
      click('塞钱进红包');
      const tap = weapp.calls.length;
      click('确认支付');
      await waitFor(() => expect(weapp.callsTo('redirectTo')).toEqual([{ url: '/pages/packet/index?id=p1' }]), {
        timeout: 5000,
      });
      expect(weapp.callsTo('requestSubscribeMessage')).toEqual([{ tmplIds: templates.packet }]);
      expect(weapp.order().slice(tap, tap + 2)).toEqual(['requestSubscribeMessage', 'POST /v1/packets']);
      expect(weapp.server.to('POST /v1/packets').map((r) => r.body)).toEqual([{ total: 888, count: 2, mode: 'lucky' }]);
    },
  );

  test.each(Object.keys(ANSWERS) as (keyof typeof ANSWERS)[])(
    'withdraw (%s): the withdrawal template asked first in the 提现 tap, then POST /v1/withdrawals and 确认收款',
    async (answer) => {
      await loginThroughPage();
      weapp.answer('requestSubscribeMessage', ANSWERS[answer]);
      const confirm = { mchId: '1900000109', appId: 'wx8888888888888888', package: 'ABBQO+oYAAABAAAAAAAkZm9vYmFy' };
      const created: CreateWithdrawalResponse = {
        withdrawalId: 'wd0123456789abcdef0123456789abce',
        amount: 1234,
        state: 'wait_user_confirm',
        confirm,
      };
      weapp.server
        .on('GET /v1/wallet', () => ({ status: 200, body: wallet }))
        .on('GET /v1/withdrawals', () => ({ status: 200, body: { withdrawals: [], cursor: null } }))
        .on('POST /v1/withdrawals', () => ({ status: 201, body: created }))
        .on(`GET /v1/withdrawals/${created.withdrawalId}`, () => ({
          status: 200,
          body: { withdrawalId: created.withdrawalId, amount: 1234, state: 'success', returned: false },
        }));
      render(<WithdrawPage />);
      await flush();
      await flush();
      type('提现金额（元）', '12.34');
      const tap = weapp.calls.length;
      click('提现');
      await waitFor(() => expect(weapp.callsTo('requestMerchantTransfer')).toEqual([confirm]), { timeout: 5000 });
      expect(weapp.callsTo('requestSubscribeMessage')).toEqual([{ tmplIds: templates.withdrawal }]);
      expect(weapp.order().slice(tap, tap + 2)).toEqual(['requestSubscribeMessage', 'POST /v1/withdrawals']);
      expect(weapp.server.to('POST /v1/withdrawals').map((r) => r.body)).toEqual([{ amount: 1234 }]);
      await waitFor(() => expect(screen.getByLabelText('提现状态').textContent).toBe('已到账'), { timeout: 5000 });
    },
  );
});

describe('头像昵称 on weapp: the avatar chooser, the file system, the nickname input', () => {
  /** A small PNG as WeChat's chooser leaves it in a temp file (base64 has + and / in it). */
  const PNG_B64 = Buffer.from([
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0xfb, 0xff, 0xbf, 0x3e,
  ]).toString('base64');
  const TEMP = 'http://tmp/Kq8vPz3xW1aB.png';
  const REF = `/v1/avatars/u-alice/${'7c'.repeat(32)}.png`;

  test('chooseAvatar → the temp file read as base64 → POST /v1/me/avatar with exactly it → PATCH /v1/me with the reference and the typed nickname; the session takes the re-signed token', async () => {
    saveSession({
      token: 't-before',
      userId: 'u-alice',
      name: '微信用户3kq',
      tier: 'personal',
      roles: ['user'],
      expiresAt: '2099-01-01T00:00:00Z',
    });
    weapp.files.set(TEMP, PNG_B64);
    const uploaded: AvatarUploadResponse = { avatar: REF, contentType: 'image/png', bytes: 20 };
    const profile: ProfileResponse = {
      userId: 'u-alice',
      name: '小明',
      avatar: REF,
      token: 't-resigned-by-server',
      expiresAt: '2099-01-01T00:00:00Z',
    };
    weapp.server
      .on('POST /v1/me/avatar', () => ({ status: 201, body: uploaded }))
      .on('PATCH /v1/me', () => ({ status: 200, body: profile }));
    render(<ProfilePage />);
    // weapp: WeChat's chooser and nickname input, not the H5 file input. (In jsdom the chooser is
    // Taro's H5 button, whose React layer listens for the lower-cased event name.)
    expect(screen.queryByLabelText('选择头像图片')).toBeNull();
    const chooser = screen.getByLabelText('选择头像');
    expect(chooser.getAttribute('open-type') ?? (chooser as HTMLElement & { openType?: string }).openType).toBe(
      'chooseAvatar',
    );
    const nickname = screen.getByLabelText('昵称') as HTMLElement & { type?: string };
    expect(nickname.getAttribute('type') ?? nickname.type).toBe('nickname');
    act(() => {
      chooser.dispatchEvent(new CustomEvent('chooseavatar', { detail: { avatarUrl: TEMP } }));
    });
    await waitFor(() => expect(weapp.server.to('POST /v1/me/avatar')).toHaveLength(1));
    expect(weapp.callsTo('readFile')).toEqual([{ filePath: TEMP, encoding: 'base64' }]);
    expect(weapp.server.to('POST /v1/me/avatar')[0]!.body).toEqual({ image: PNG_B64, contentType: 'image/png' });
    await waitFor(() => expect(screen.queryByText('头像上传中…')).toBeNull());
    type('昵称', '小明');
    click('保存');
    await waitFor(() => expect(screen.getByText('已保存')).toBeTruthy());
    expect(weapp.server.to('PATCH /v1/me').map((r) => r.body)).toEqual([{ name: '小明', avatar: REF }]);
    expect(weapp.server.to('PATCH /v1/me')[0]!.header.Authorization).toBe('Bearer t-before');
    expect(weapp.order().filter((x) => x === 'readFile' || x.includes('/v1/me'))).toEqual([
      'readFile',
      'POST /v1/me/avatar',
      'PATCH /v1/me',
    ]);
    expect(currentSession()).toMatchObject({
      token: 't-resigned-by-server',
      name: '小明',
      avatar: REF,
      userId: 'u-alice',
    });
  });
});
