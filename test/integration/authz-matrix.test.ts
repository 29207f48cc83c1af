/**
 * The authorization matrix: the route table's route × role marks (functions/src/http/routes.ts,
 * shown in README) are the contract. This test takes them, checks that they cover exactly the
 * routes the handlers serve, and calls every route as every role with a REAL request (real ids, real bodies — one that succeeds when allowed):
 *   - ✗: 401 without a session, 403 FORBIDDEN with one (a real request, so a broken gate would
 *     show as a success);
 *   - ✓: the request succeeds (its 2xx);
 *   - own: the request on the caller's own resources succeeds, and the same route on a real
 *     resource owned by another account is refused (403 FORBIDDEN or 404 NOT_FOUND, as the route's
 *     contract says) or shows nothing of it;
 *   - any, masked: another account's data, masked.
 * WeChat Pay is configured against the simulator in this process: payments and withdrawals are
 * real orders and transfer bills there, and the notify route gets genuine signed notifications.
 */
import { handler as healthHandler } from '../../functions/handlers/health';
import { handler as avatarsHandler } from '../../functions/handlers/avatars';
import { Columns, Marks, roleMatrix, type Column, type Mark } from '../../functions/src/http/routes';
import { decryptResource } from '../../functions/src/wechatpay/protocol';
import {
  allRoutes,
  Clock,
  idem,
  login,
  makeApi,
  sendPacket,
  topup,
  uniq,
  type Api,
  type ApiResponse,
  type CallOptions,
  type TestUser,
} from '../helpers/app';
import {
  startNotificationInbox,
  startWxPayStack,
  waitFor,
  type CapturedNotification,
  type WxPayStack,
} from '../helpers/wxpay';

/** The route × role table from the route table (README shows the same, generated from it). */
function readTable(): Map<string, Record<Column, Mark>> {
  return new Map(roleMatrix().map(({ route, marks }) => [route, marks]));
}

const table = readTable();
const clock = new Clock(Date.parse('2026-11-28T04:00:00Z'));
/** WeChat Pay against the simulator: its notifications land in `inbox`, the probes deliver them. */
let wx: WxPayStack;
let inbox: Awaited<ReturnType<typeof startNotificationInbox>>;
let api: Api;

/** A caller: a session token, or an API key (the key columns), and the account it acts as. */
interface Caller {
  token?: string;
  apiKey?: string;
  /** The account whose resources are "own" (a key's owner for the key columns). */
  owner: TestUser;
}
const callers = {} as Record<Column, Caller | undefined>;
/** Other accounts' real resources: a personal stranger and an enterprise one. */
let stranger: TestUser;
let bizStranger: TestUser;
let strangerPacket: { id: string; shareCode: string };
let strangerCampaign: string;
let strangerKey: { keyId: string; apiKey: string };
let admin: TestUser;
let strangerPayment: string;
let strangerWithdrawal: string;
/** An avatar the stranger uploaded (its reference). */
let strangerAvatar: string;
/** A minimal PNG (1×1) for the avatar routes. */
const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

const auth = (c: Caller | undefined): CallOptions => ({
  ...(c?.token ? { token: c.token } : {}),
  ...(c?.apiKey ? { headers: { 'x-api-key': c.apiKey } } : {}),
});

async function ok(r: Promise<ApiResponse> | ApiResponse, status: number, what: string): Promise<ApiResponse> {
  const res = await r;
  expect({ what, status: res.status, error: res.body?.error }).toEqual({ what, status, error: undefined });
  return res;
}

beforeAll(async () => {
  wx = await startWxPayStack();
  inbox = await startNotificationInbox();
  wx.settings.notifyUrl = inbox.url;
  api = makeApi(wx.deps(clock));
  const user = await login(api);
  const enterprise = await login(api, { tier: 'enterprise' });
  const provider = await login(api, { tier: 'provider' });
  const support = await login(api, { roles: ['support'] });
  const risk = await login(api, { roles: ['risk'] });
  admin = await login(api, { roles: ['admin'] });
  for (const [col, u] of [
    ['user', user],
    ['enterprise', enterprise],
    ['provider', provider],
    ['support', support],
    ['risk', risk],
    ['admin', admin],
  ] as const) {
    callers[col] = { token: u.token, owner: u };
    await topup(api, u, 200_000);
  }
  for (const [col, who] of [
    ['key: basic', enterprise],
    ['key: full', provider],
  ] as const) {
    const r = await ok(api('POST', '/v1/api-keys', { token: who.token, body: { name: col } }), 201, `key for ${col}`);
    callers[col] = { apiKey: r.body.apiKey, owner: who };
  }

  stranger = await login(api);
  bizStranger = await login(api, { tier: 'enterprise' });
  await topup(api, stranger, 50_000);
  await topup(api, bizStranger, 50_000);
  const sent = await sendPacket(api, stranger, { total: 5_000, count: 50, mode: 'lucky', greeting: '别人的' });
  strangerPacket = { id: sent.packet.id, shareCode: sent.shareCode.code };
  // Someone has claimed it: there is a claim list a stranger must not see.
  const claimer = await login(api);
  await ok(
    api('POST', '/v1/claims', { token: claimer.token, body: { code: strangerPacket.shareCode } }),
    200,
    'claim of the stranger packet',
  );
  const camp = await ok(
    api('POST', '/v1/campaigns', {
      token: bizStranger.token,
      idem: idem(),
      body: { name: '别人的活动', packet: { total: 100, count: 1, mode: 'equal' }, quantity: 2 },
    }),
    201,
    'stranger campaign',
  );
  strangerCampaign = camp.body.campaignId;
  const key = await ok(
    api('POST', '/v1/api-keys', { token: bizStranger.token, body: { name: '别人的' } }),
    201,
    'stranger key',
  );
  strangerKey = { keyId: key.body.keyId, apiKey: key.body.apiKey };
  strangerPayment = await wechatTopup(stranger);
  const wd = await ok(
    api('POST', '/v1/withdrawals', { token: stranger.token, idem: idem(), body: { amount: 1_000 } }),
    201,
    'stranger withdrawal',
  );
  strangerWithdrawal = wd.body.withdrawalId;
  const av = await ok(
    api('POST', '/v1/me/avatar', { token: stranger.token, body: { image: PNG_BASE64, contentType: 'image/png' } }),
    201,
    'stranger avatar',
  );
  strangerAvatar = av.body.avatar;
});

afterAll(async () => {
  await wx?.close();
  await inbox?.close();
});

// One clock minute per route: no account comes near a per-minute limit, whatever the limits are.
let lastRoute = '';
beforeEach(() => {
  const route = expect.getState().currentTestName ?? '';
  const name = route.split(' as ')[0]!;
  if (name !== lastRoute) clock.advance(61_000);
  lastRoute = name;
});

/** Memoized per account: its own packet, campaign. */
const ownPackets = new Map<string, string>();
async function ownPacket(c: Caller): Promise<string> {
  const have = ownPackets.get(c.owner.userId);
  if (have) return have;
  const r = await ok(
    api('POST', '/v1/packets', {
      token: c.owner.token,
      idem: idem(),
      body: { total: 2_000, count: 20, mode: 'lucky' },
    }),
    201,
    'own packet',
  );
  // A claim by someone else, so the owner's view has a claim list to show.
  const claimer = await login(api);
  await ok(
    api('POST', '/v1/claims', { token: claimer.token, body: { code: r.body.shareCode.code } }),
    200,
    'claim of own packet',
  );
  ownPackets.set(c.owner.userId, r.body.packet.id);
  return r.body.packet.id;
}
const ownCampaigns = new Map<string, string>();
async function ownCampaign(c: Caller): Promise<string> {
  const have = ownCampaigns.get(c.owner.userId);
  if (have) return have;
  const r = await ok(
    api('POST', '/v1/campaigns', {
      token: c.owner.token,
      idem: idem(),
      body: { name: '自己的活动', packet: { total: 100, count: 1, mode: 'equal' }, quantity: 1 },
    }),
    201,
    'own campaign',
  );
  ownCampaigns.set(c.owner.userId, r.body.campaignId);
  return r.body.campaignId;
}
const anyPacket = async (c: Caller | undefined) => (c ? ownPacket(c) : strangerPacket.id);

/** A WeChat Pay top-up order of `u` (pending until paid at the simulator): its payment id. */
async function wechatTopup(u: TestUser, amount = 1_000): Promise<string> {
  const r = await ok(
    api('POST', '/v1/wallet/topups', { token: u.token, idem: idem(), body: { amount, method: 'wechatpay' } }),
    202,
    'wechatpay top-up',
  );
  return r.body.payment.paymentId;
}
/** Memoized per account: its own WeChat Pay payment, withdrawal. */
const ownPayments = new Map<string, string>();
async function ownPayment(c: Caller): Promise<string> {
  const have = ownPayments.get(c.owner.userId);
  if (have) return have;
  const id = await wechatTopup(c.owner);
  ownPayments.set(c.owner.userId, id);
  return id;
}
const ownWithdrawals = new Map<string, string>();
async function ownWithdrawal(c: Caller): Promise<string> {
  const have = ownWithdrawals.get(c.owner.userId);
  if (have) return have;
  const r = await ok(
    api('POST', '/v1/withdrawals', { token: c.owner.token, idem: idem(), body: { amount: 1_000 } }),
    201,
    'own withdrawal',
  );
  ownWithdrawals.set(c.owner.userId, r.body.withdrawalId);
  return r.body.withdrawalId;
}

/**
 * A genuine notification: a fresh top-up by a new account (no per-account limit comes near),
 * paid at the simulator, which signs and sends TRANSACTION.SUCCESS to the inbox (in real time, so
 * within WeChat's 5-minute skew when delivered).
 */
async function paidNotification(): Promise<{ payer: TestUser; paymentId: string; n: CapturedNotification }> {
  const payer = await login(api);
  const paymentId = await wechatTopup(payer, 100);
  const prepayId = wx.sim.state().payments.find((p) => p.outTradeNo === paymentId)!.prepayId;
  expect((await wx.hook(`/sim/payments/${prepayId}/pay`)).status).toBe(200);
  const n = await waitFor('the payment notification', async () =>
    inbox.received.find((x) => {
      const resource = JSON.parse(x.body).resource;
      const plain = decryptResource(wx.keys.apiV3Key, resource);
      return plain.ok && JSON.parse(plain.plaintext).out_trade_no === paymentId;
    }),
  );
  return { payer, paymentId, n };
}
const paymentState = async (payer: TestUser, id: string) =>
  (await ok(api('GET', `/v1/payments/${id}`, { token: payer.token }), 200, 'payment read by its payer')).body.state;

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
interface Probe {
  /** The real request on the caller's own resources (or a neutral real request): succeeds when allowed. */
  own(c: Caller | undefined): Promise<{
    path: string;
    opts?: CallOptions;
    status: number;
    check?: (r: ApiResponse, c: Caller) => Promise<void> | void;
  }>;
  /** Real requests on another account's resources, with the refusal the contract promises. */
  foreign?: (c: Caller) => Promise<
    {
      path: string;
      opts?: CallOptions;
      status?: number;
      code?: string;
      check?: (r: ApiResponse) => Promise<void> | void;
    }[]
  >;
}

let transfers = 0;
const receiveCodeOf = async (u: TestUser) =>
  (await ok(api('GET', '/v1/receive-code', { token: u.token }), 200, 'receive code')).body.code as string;

/** Every route of the table: how to call it for real. */
const probes: Record<string, Probe> = {
  'GET /v1/health': { own: async () => ({ path: '/v1/health', status: 200 }) },
  'POST /v1/session': {
    own: async () => ({ path: '/v1/session', opts: { body: { devUser: uniq(), name: '新用户' } }, status: 200 }),
  },
  'GET /v1/wallet': {
    own: async () => ({ path: '/v1/wallet', status: 200, check: (r) => expect(typeof r.body.balance).toBe('number') }),
  },
  'POST /v1/wallet/topups': {
    own: async () => ({ path: '/v1/wallet/topups', opts: { idem: idem(), body: { amount: 100 } }, status: 201 }),
  },
  'GET /v1/wallet/ledger': {
    own: async () => ({
      path: '/v1/wallet/ledger',
      status: 200,
      // Only the caller's own movements: the stranger's packet debit never shows.
      check: (r) => expect(JSON.stringify(r.body)).not.toContain(strangerPacket.id),
    }),
  },
  'POST /v1/packets': {
    own: async () => ({
      path: '/v1/packets',
      opts: { idem: idem(), body: { total: 100, count: 1, mode: 'equal' } },
      status: 201,
    }),
  },
  'GET /v1/packets/{id}': {
    own: async (c) => ({
      path: `/v1/packets/${await anyPacket(c)}`,
      status: 200,
      check: (r) => expect(Array.isArray(r.body.claims) && r.body.claims.length > 0).toBe(true),
    }),
    // Allowed for anyone (the open view), but a stranger sees the summary only.
    foreign: async () => [
      {
        path: `/v1/packets/${strangerPacket.id}`,
        status: 200,
        check: (r) => {
          expect(r.body.id).toBe(strangerPacket.id);
          expect(r.body.claims).toBeUndefined();
          expect(r.body.forwards).toBeUndefined();
        },
      },
    ],
  },
  'POST /v1/packets/{id}/codes': {
    own: async (c) => ({
      path: `/v1/packets/${await anyPacket(c)}/codes`,
      opts: { body: { kind: 'live' } },
      status: 201,
    }),
    // Live codes are the sender's; share codes the sender's or a claimer's — not a stranger's,
    // not even one who holds a share code of it (`via`).
    foreign: async () =>
      [{ kind: 'live' }, { kind: 'share' }, { kind: 'share', via: strangerPacket.shareCode }, {}].map((body) => ({
        path: `/v1/packets/${strangerPacket.id}/codes`,
        opts: { body },
        status: 403,
        code: 'FORBIDDEN',
      })),
  },
  'GET /v1/me/packets': {
    own: async (c) => {
      const mine = c ? await ownPacket(c) : '';
      return {
        path: '/v1/me/packets',
        opts: { query: { role: 'sent' } },
        status: 200,
        check: (r, who) => {
          const ids = r.body.items.map((p: { id: string }) => p.id);
          expect(ids).toContain(mine);
          expect(ids).not.toContain(strangerPacket.id);
          for (const p of r.body.items) expect(p.sender.id).toBe(who.owner.userId);
        },
      };
    },
  },
  'POST /v1/withdrawals': {
    own: async () => ({
      path: '/v1/withdrawals',
      opts: { idem: idem(), body: { amount: 100 } },
      status: 201,
      check: (r) => expect(r.body).toMatchObject({ amount: 100, state: 'wait_user_confirm' }),
    }),
  },
  'GET /v1/withdrawals': {
    own: async (c) => {
      const mine = c ? await ownWithdrawal(c) : '';
      return {
        path: '/v1/withdrawals',
        status: 200,
        check: (r) => {
          const ids = r.body.withdrawals.map((w: { withdrawalId: string }) => w.withdrawalId);
          expect(ids).toContain(mine);
          expect(ids).not.toContain(strangerWithdrawal);
        },
      };
    },
  },
  'GET /v1/withdrawals/{id}': {
    own: async (c) => {
      const id = c ? await ownWithdrawal(c) : strangerWithdrawal;
      return { path: `/v1/withdrawals/${id}`, status: 200, check: (r) => expect(r.body.withdrawalId).toBe(id) };
    },
    // Another account's withdrawal does not exist for the caller.
    foreign: async () => [{ path: `/v1/withdrawals/${strangerWithdrawal}`, status: 404, code: 'NOT_FOUND' }],
  },
  'GET /v1/payments/{paymentId}': {
    own: async (c) => {
      const id = c ? await ownPayment(c) : strangerPayment;
      return {
        path: `/v1/payments/${id}`,
        status: 200,
        check: (r) => expect(r.body).toMatchObject({ paymentId: id, state: 'pending' }),
      };
    },
    // The payer only: another account's payment does not exist for the caller.
    foreign: async () => [{ path: `/v1/payments/${strangerPayment}`, status: 404, code: 'NOT_FOUND' }],
  },
  'POST /v1/pay/wechat/notify': {
    // Public: whoever calls (a session, a key, nobody), the signature is the authentication.
    own: async () => {
      const { payer, paymentId, n } = await paidNotification();
      expect(await paymentState(payer, paymentId)).toBe('pending');
      return {
        path: '/v1/pay/wechat/notify',
        opts: { rawBody: n.body, headers: n.headers },
        status: 204,
        check: async () => expect(await paymentState(payer, paymentId)).toBe('paid'),
      };
    },
    // A genuine notification with its signature broken: the route's own 401 {"code":"FAIL"}
    // (nothing recorded), which the gate check must not mistake for its refusal.
    foreign: async () => {
      const { payer, paymentId, n } = await paidNotification();
      const sig = n.headers['wechatpay-signature']!;
      const forged = `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
      return [
        {
          path: '/v1/pay/wechat/notify',
          opts: { rawBody: n.body, headers: { ...n.headers, 'wechatpay-signature': forged } },
          status: 401,
          check: async (r) => {
            expect(r.body.code).toBe('FAIL');
            expect(refusedByGate(r)).toBe(false);
            expect(await paymentState(payer, paymentId)).toBe('pending');
          },
        },
      ];
    },
  },
  'GET /v1/codes/{code}': {
    own: async () => ({
      path: `/v1/codes/${encodeURIComponent(strangerPacket.shareCode)}`,
      status: 200,
      check: (r) => expect(r.body.target).toBe('packet'),
    }),
  },
  'POST /v1/claims': {
    own: async () => ({
      path: '/v1/claims',
      opts: { body: { code: strangerPacket.shareCode } },
      status: 200,
      check: (r) => expect(r.body.amount).toBeGreaterThan(0),
    }),
  },
  'GET /v1/receive-code': {
    own: async () => ({
      path: '/v1/receive-code',
      status: 200,
      // The code pays the caller, nobody else.
      check: async (r, who) => {
        const open = await ok(
          api('GET', `/v1/codes/${encodeURIComponent(r.body.code)}`, { token: stranger.token }),
          200,
          'open receive code',
        );
        expect(open.body.payee.id).toBe(who.owner.userId);
      },
    }),
  },
  'POST /v1/transfers': {
    own: async () => ({
      path: '/v1/transfers',
      // A new amount each time: five equal payments in a row would trip the receive-code breaker.
      opts: { idem: idem(), body: { code: await receiveCodeOf(stranger), amount: 100 + ++transfers } },
      status: 201,
      check: (r) => expect(r.body.to.id).toBe(stranger.userId),
    }),
  },
  'POST /v1/campaigns': {
    own: async () => ({
      path: '/v1/campaigns',
      opts: { idem: idem(), body: { name: '活动', packet: { total: 100, count: 1, mode: 'equal' }, quantity: 1 } },
      status: 201,
    }),
  },
  'GET /v1/campaigns': {
    own: async (c) => {
      const mine = c && isBusiness(c) ? await ownCampaign(c) : undefined;
      return {
        path: '/v1/campaigns',
        status: 200,
        check: (r) => {
          const ids = r.body.items.map((x: { campaignId: string }) => x.campaignId);
          if (mine) expect(ids).toContain(mine);
          expect(ids).not.toContain(strangerCampaign);
        },
      };
    },
  },
  'GET /v1/campaigns/{id}': {
    own: async (c) => ({
      path: `/v1/campaigns/${c && isBusiness(c) ? await ownCampaign(c) : strangerCampaign}`,
      status: 200,
    }),
    // Another owner's campaign does not exist for the caller.
    foreign: async () => [{ path: `/v1/campaigns/${strangerCampaign}`, status: 404, code: 'NOT_FOUND' }],
  },
  'GET /v1/campaigns/{id}/codes.csv': {
    own: async (c) => ({
      path: `/v1/campaigns/${c && isBusiness(c) ? await ownCampaign(c) : strangerCampaign}/codes.csv`,
      status: 200,
      check: (r) => expect(String(r.body)).toMatch(/^index,packet_id,code,expires_at,link\n1,/),
    }),
    foreign: async () => [
      {
        path: `/v1/campaigns/${strangerCampaign}/codes.csv`,
        status: 404,
        code: 'NOT_FOUND',
        check: (r) => expect(JSON.stringify(r.body)).not.toContain('packet_id'),
      },
    ],
  },
  'POST /v1/api-keys': { own: async () => ({ path: '/v1/api-keys', opts: { body: { name: '新密钥' } }, status: 201 }) },
  'GET /v1/api-keys': {
    own: async () => ({
      path: '/v1/api-keys',
      status: 200,
      check: (r) => expect(r.body.items.map((k: { keyId: string }) => k.keyId)).not.toContain(strangerKey.keyId),
    }),
  },
  'DELETE /v1/api-keys/{keyId}': {
    own: async (c) => {
      // A throwaway key of the caller's own (or of the stranger's, for callers refused anyway).
      const owner = c && isBusiness(c) ? c.owner : bizStranger;
      const k = await ok(
        api('POST', '/v1/api-keys', { token: owner.token, body: { name: '待撤销' } }),
        201,
        'throwaway key',
      );
      return { path: `/v1/api-keys/${k.body.keyId}`, status: 200 };
    },
    // Another owner's key: not found, and it keeps working.
    foreign: async () => [
      {
        path: `/v1/api-keys/${strangerKey.keyId}`,
        status: 404,
        code: 'NOT_FOUND',
        check: async () => {
          await ok(
            api('GET', '/v1/wallet', { headers: { 'x-api-key': strangerKey.apiKey } }),
            200,
            'the stranger key still works',
          );
        },
      },
    ],
  },
  'GET /v1/audit': {
    own: async (c) => ({
      path: '/v1/audit',
      opts: { query: { userId: c?.owner.userId ?? stranger.userId } },
      status: 200,
      check: (r, who) => {
        expect(r.body.items.length).toBeGreaterThan(0);
        for (const x of r.body.items) expect(x.accountId).toBe(who.owner.userId);
      },
    }),
    foreign: async () => [
      { path: '/v1/audit', opts: { query: { userId: stranger.userId } }, status: 403, code: 'FORBIDDEN' },
    ],
  },
  'GET /v1/risk/events': { own: async () => ({ path: '/v1/risk/events', status: 200 }) },
  'GET /v1/risk/reports': { own: async () => ({ path: '/v1/risk/reports', status: 200 }) },
  'GET /v1/admin/blacklist': { own: async () => ({ path: '/v1/admin/blacklist', status: 200 }) },
  'POST /v1/admin/blacklist': {
    own: async () => ({
      path: '/v1/admin/blacklist',
      opts: { body: { kind: 'device', id: `dev-${uniq()}`, reason: '测试' } },
      status: 201,
    }),
  },
  'DELETE /v1/admin/blacklist/{kind}/{id}': {
    own: async () => {
      const id = `dev-${uniq()}`;
      await ok(
        api('POST', '/v1/admin/blacklist', { token: admin.token, body: { kind: 'device', id, reason: '测试' } }),
        201,
        'listed device',
      );
      return { path: `/v1/admin/blacklist/device/${id}`, status: 200 };
    },
  },
  'GET /v1/admin/accounts/{userId}': {
    own: async () => ({ path: `/v1/admin/accounts/${stranger.userId}`, status: 200 }),
  },
  'POST /v1/admin/accounts/{userId}/tier': {
    own: async () => ({
      path: `/v1/admin/accounts/${(await login(api)).userId}/tier`,
      opts: { body: { tier: 'personal' } },
      status: 200,
    }),
  },
  'GET /v1/admin/ops': { own: async () => ({ path: '/v1/admin/ops', status: 200 }) },
  'POST /v1/admin/sweep': { own: async () => ({ path: '/v1/admin/sweep', opts: { body: {} }, status: 200 }) },
  // ---- Profiles: names and avatars
  'PATCH /v1/me': {
    own: async () => ({ path: '/v1/me', opts: { body: { name: `昵称${uniq('')}`.slice(0, 12) } }, status: 200 }),
    // Only one's own uploads may become one's avatar.
    foreign: async () => [
      { path: '/v1/me', opts: { body: { avatar: strangerAvatar } }, status: 400, code: 'VALIDATION_FAILED' },
    ],
  },
  'POST /v1/me/avatar': {
    own: async () => ({
      path: '/v1/me/avatar',
      opts: { body: { image: PNG_BASE64, contentType: 'image/png' } },
      status: 201,
      // Stored under the caller's own folder, whoever else uploaded the same bytes.
      check: (r, c) => expect(r.body.avatar.startsWith(`/v1/avatars/${c.owner.userId}/`)).toBe(true),
    }),
  },
  // Public: images in claim lists load without a session (the mini-program's <Image> sends none).
  'GET /v1/avatars/{userId}/{file}': { own: async () => ({ path: strangerAvatar, status: 200 }) },
};

function isBusiness(c: Caller): boolean {
  return c.owner === callers.enterprise?.owner || c.owner === callers.provider?.owner;
}

async function call(
  route: string,
  path: string,
  who: Caller | undefined,
  opts: CallOptions = {},
): Promise<ApiResponse> {
  const [method] = route.split(' ') as [Method, string];
  if (route === 'GET /v1/health') {
    const r = await healthHandler();
    return { status: r.statusCode ?? 200, body: JSON.parse(r.body ?? '{}'), headers: {} };
  }
  if (route === 'GET /v1/avatars/{userId}/{file}') {
    // Standalone like health (no wrapper, no session): called with whatever the caller sends.
    const a = auth(who);
    const headers = { ...(a.token ? { authorization: `Bearer ${a.token}` } : {}), ...(a.headers ?? {}) };
    const r = await avatarsHandler({
      rawPath: path,
      headers,
      requestContext: { http: { method: 'GET', path } },
    } as never);
    return { status: r.statusCode ?? 200, body: r.isBase64Encoded ? r.body : JSON.parse(r.body ?? '{}'), headers: {} };
  }
  const a = auth(who);
  return api(method, path, { ...opts, ...a, headers: { ...(opts.headers ?? {}), ...(a.headers ?? {}) } });
}

/**
 * The wrapper's refusal. (WeChat Pay's notify route is public: its 401 `{"code":"FAIL"}` is the
 * signature check's answer to an unsigned call, not the gate's.)
 */
const refusedByGate = (r: ApiResponse) =>
  (r.status === 401 && r.body?.code !== 'FAIL') || (r.status === 403 && r.body?.error?.code === 'FORBIDDEN');

describe('authorization matrix (README route × role)', () => {
  test('the table lists exactly the routes the handlers serve, each with a real probe', () => {
    const served = new Set([
      'GET /v1/health',
      'GET /v1/avatars/{userId}/{file}',
      ...allRoutes.map((r) => `${r.method} ${r.path}`),
    ]);
    expect([...table.keys()].sort()).toEqual([...served].sort());
    expect(Object.keys(probes).sort()).toEqual([...served].sort());
    for (const marks of table.values()) for (const c of Columns) expect(Marks).toContain(marks[c]);
  });

  const cells = [...table.entries()].flatMap(([route, marks]) =>
    Columns.map((role) => ({ route, role, mark: marks[role] as Mark })),
  );
  test.each(cells)('$route as $role: $mark', async ({ route, role, mark }) => {
    const who = callers[role];
    const probe = probes[route]!;
    const own = await probe.own(who);
    const r = await call(route, own.path, who, own.opts);
    if (mark === '✗') {
      expect({ status: r.status, code: r.body?.error?.code, refused: refusedByGate(r) }).toMatchObject({
        refused: true,
      });
      expect(r.status).toBe(role === 'anonymous' ? 401 : 403);
      return;
    }
    // Allowed: the real request succeeds.
    expect({ route, role, status: r.status, error: r.body?.error }).toEqual({
      route,
      role,
      status: own.status,
      error: undefined,
    });
    if (own.check) await own.check(r, who!);
    if (!probe.foreign || !who) return;
    // Another account's real resources.
    for (const f of await probe.foreign(who)) {
      const fr = await call(route, f.path, who, f.opts);
      if (mark === 'any, masked') {
        expect(fr.status).toBe(200);
        expect(fr.body.masked).toBe(true);
        expect(JSON.stringify(fr.body)).not.toContain(stranger.userId);
        continue;
      }
      if (mark === 'own')
        expect({ path: f.path, body: f.opts?.body, status: fr.status, code: fr.body?.error?.code }).toEqual({
          path: f.path,
          body: f.opts?.body,
          status: f.status,
          code: f.code,
        });
      else expect({ path: f.path, status: fr.status }).toEqual({ path: f.path, status: f.status });
      if (f.check) await f.check(fr);
    }
  });
});

describe('BOLA: no account reads or acts on another one', () => {
  test('packets, codes, audit and cursors of someone else', async () => {
    const alice = callers.user!.owner;
    // A claimer of the stranger's packet may forward it (share code), never refresh its live code.
    const claimer = await login(api);
    await ok(
      api('POST', '/v1/claims', { token: claimer.token, body: { code: strangerPacket.shareCode } }),
      200,
      'claim',
    );
    await ok(
      api('POST', `/v1/packets/${strangerPacket.id}/codes`, { token: claimer.token, body: { kind: 'share' } }),
      201,
      'forward by a claimer',
    );
    const live = await api('POST', `/v1/packets/${strangerPacket.id}/codes`, {
      token: claimer.token,
      body: { kind: 'live' },
    });
    expect({ status: live.status, code: live.body.error?.code }).toEqual({ status: 403, code: 'FORBIDDEN' });
    // A claimer sees the claim list; a stranger does not.
    const insider = await ok(
      api('GET', `/v1/packets/${strangerPacket.id}`, { token: claimer.token }),
      200,
      'insider view',
    );
    expect(insider.body.claims.length).toBeGreaterThan(0);

    // Another account's audit log: refused for users and every staff role but support.
    for (const role of ['user', 'enterprise', 'provider', 'risk', 'admin'] as const) {
      const r = await api('GET', '/v1/audit', { token: callers[role]!.token, query: { userId: stranger.userId } });
      expect({ role, status: r.status, code: r.body.error?.code }).toEqual({ role, status: 403, code: 'FORBIDDEN' });
    }
    // Support sees it, masked: no full id of the subject anywhere in the answer.
    const sup = await ok(
      api('GET', '/v1/audit', { token: callers.support!.token, query: { userId: stranger.userId } }),
      200,
      'support read',
    );
    expect(sup.body.masked).toBe(true);
    expect(sup.body.items.length).toBeGreaterThan(0);
    expect(JSON.stringify(sup.body)).not.toContain(stranger.userId);
    expect(sup.body.accountId).toBe(`${stranger.userId.slice(0, 3)}***${stranger.userId.slice(-2)}`);

    // A cursor is only positions in the caller's own trail; a key-shaped one is refused.
    const foreign = Buffer.from(JSON.stringify({ pk: `AUDIT#${stranger.userId}`, sk: '000000000002' })).toString(
      'base64url',
    );
    const r = await api('GET', '/v1/audit', { token: alice.token, query: { cursor: foreign } });
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
  });

  test('an exclusive packet (专属红包) is claimed by its recipient only', async () => {
    const sender = callers.user!.owner;
    const recipient = await login(api);
    const sent = await sendPacket(api, sender, { total: 300, count: 1, mode: 'equal', recipient: recipient.userId });
    const other = await api('POST', '/v1/claims', { token: stranger.token, body: { code: sent.shareCode.code } });
    expect({ status: other.status, code: other.body.error?.code }).toEqual({ status: 403, code: 'FORBIDDEN' });
    await ok(
      api('POST', '/v1/claims', { token: recipient.token, body: { code: sent.shareCode.code } }),
      200,
      'the recipient claims',
    );
  });

  test('a staff role on a business account reaches no other owner’s campaign', async () => {
    // Enterprise and admin at once: the campaign routes are "own" for the enterprise side and
    // closed to admins (README), so another owner's campaign stays not found.
    const both = await login(api, { tier: 'enterprise', roles: ['admin'] });
    for (const path of [`/v1/campaigns/${strangerCampaign}`, `/v1/campaigns/${strangerCampaign}/codes.csv`]) {
      const r = await api('GET', path, { token: both.token });
      expect({ path, status: r.status, code: r.body?.error?.code }).toEqual({ path, status: 404, code: 'NOT_FOUND' });
    }
  });
});
