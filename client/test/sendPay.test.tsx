import { render, screen, waitFor } from '@testing-library/react';
import type { Payment } from '../../functions/src/http/contract';
import { saveSession } from '../src/api/session';
import { loadCodes } from '../src/lib/packetCodes';
import SendPage from '../src/pages/send/index';
import { click, flush, type } from './helpers';

/**
 * The send page paying a packet with WeChat Pay (H5 with dev features: the simulator's screen):
 * once the API says paid, the codes come from POST /v1/packets/{id}/codes and the packet page
 * opens, as after a balance-funded packet.
 */
const mockRequest = jest.fn();
const mockRedirectTo = jest.fn(async (_o: { url: string }) => ({ errMsg: 'redirectTo:ok' }));
jest.mock('@tarojs/taro', () =>
  require('./taroMock').taroWith({
    useDidShow: () => undefined,
    useDidHide: () => undefined,
    request: (...a: unknown[]) => mockRequest(...a),
    redirectTo: (o: { url: string }) => mockRedirectTo(o),
  }),
);

const wallet = {
  balance: 0,
  currency: 'CNY',
  tier: 'personal',
  perPacketLimit: 20_000,
  dailyLimit: 100_000,
  sentToday: 0,
  feeBps: 0,
  maxShares: 100,
};
const request = {
  timeStamp: '1764910000',
  nonceStr: 'n0nce',
  package: 'prepay_id=wx05packet',
  signType: 'RSA' as const,
  paySign: 'c2ln',
};
const payment = (state: Payment['state']): Payment => ({ paymentId: 'pay_p1', amount: 888, state, request });
const now = '2026-12-05T05:00:00.000Z';
const packet = {
  id: 'p1',
  sender: { id: 'u-alice', name: 'Alice' },
  total: 888,
  count: 2,
  mode: 'lucky',
  greeting: '',
  scene: 'none',
  status: 'awaiting_payment',
  claimedCount: 0,
  claimedAmount: 0,
  refundedAmount: 0,
  createdAt: now,
  expiresAt: now,
};
const code = (kind: 'live' | 'share') => ({
  code: `${kind}-code`,
  kind,
  issuedAt: now,
  expiresAt: '2099-01-01T00:00:00.000Z',
});
const mockApi = {
  wallet: jest.fn(async () => wallet),
  openCode: jest.fn(),
  createPacket: jest.fn(async (_body: unknown, _key: string) => ({ packet, payment: payment('pending'), fee: 0 })),
  payment: jest.fn(async () => payment('paid')),
  newCode: jest.fn(async (_id: string, kind: 'live' | 'share') => code(kind)),
};
jest.mock('../src/api', () => ({
  get api() {
    return mockApi;
  },
}));

beforeEach(() => {
  saveSession({
    token: 't',
    userId: 'u-alice',
    name: 'Alice',
    tier: 'personal',
    roles: ['user'],
    expiresAt: '2099-01-01T00:00:00Z',
  });
  window.__HONGBAO_WXPAY_SIM__ = 'http://127.0.0.1:3010';
  mockRequest.mockResolvedValue({ statusCode: 200, data: {}, header: {} });
});
afterEach(() => {
  delete window.__HONGBAO_WXPAY_SIM__;
});

test('an empty balance: 微信支付 → 202 → 模拟微信支付 → paid → codes → the packet page', async () => {
  render(<SendPage />);
  await flush();
  await flush();
  type('总金额（元）', '8.88');
  type('红包个数', '2');
  click('塞钱进红包');
  expect(screen.getByLabelText('微信支付').getAttribute('aria-pressed')).toBe('true');
  click('确认支付');
  await flush();
  expect(mockApi.createPacket.mock.calls[0]![0]).toEqual({ total: 888, count: 2, mode: 'lucky', funding: 'wechatpay' });
  expect(mockApi.newCode).not.toHaveBeenCalled(); // no code for an unpaid packet
  click('模拟支付成功');
  await waitFor(() => expect(mockRedirectTo).toHaveBeenCalledTimes(1));
  expect(mockRedirectTo.mock.calls[0]).toEqual([{ url: '/pages/packet/index?id=p1' }]);
  expect(mockApi.newCode.mock.calls.map((c) => c.slice(0, 2))).toEqual([
    ['p1', 'live'],
    ['p1', 'share'],
  ]);
  const stored = loadCodes('p1');
  expect(stored.live?.view.code).toBe('live-code');
  expect(stored.share?.code).toBe('share-code');
});
