import { render, screen, waitFor } from '@testing-library/react';
import type { Payment } from '../../functions/src/http/contract';
import * as config from '../src/api/config';
import { saveSession } from '../src/api/session';
import * as wxpay from '../src/lib/wxpay';
import WalletPage from '../src/pages/wallet/index';
import { click, flush, type } from './helpers';

/**
 * The wallet's 充值: WeChat Pay where it can be shown (202 pending → the sheet → polls →
 * credited when paid), the sandbox's instant top-up only where dev features are on.
 */
const mockRequest = jest.fn();
jest.mock('@tarojs/taro', () =>
  require('./taroMock').taroWith({
    useDidShow: () => undefined,
    useDidHide: () => undefined,
    usePullDownRefresh: () => undefined,
    useReachBottom: () => undefined,
    request: (...a: unknown[]) => mockRequest(...a),
  }),
);

const wallet = {
  balance: 1_000,
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
  package: 'prepay_id=wx05topup',
  signType: 'RSA' as const,
  paySign: 'c2ln',
};
const payment = (state: Payment['state']): Payment => ({ paymentId: 'pay_t1', amount: 5_000, state, request });
const mockApi = {
  wallet: jest.fn(async () => wallet),
  ledger: jest.fn(async () => ({ entries: [], cursor: null })),
  topup: jest.fn(),
  payment: jest.fn(async () => payment('paid')),
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
  for (const f of Object.values(mockApi)) f.mockClear();
  mockApi.topup.mockReset();
  mockRequest.mockReset();
  window.__HONGBAO_WXPAY_SIM__ = 'http://127.0.0.1:3010';
});
afterEach(() => {
  jest.restoreAllMocks();
  delete window.__HONGBAO_WXPAY_SIM__;
});

async function ready() {
  render(<WalletPage />);
  await flush();
  await flush();
}

describe('the wallet top-up', () => {
  test('dev features on H5: 微信支付 beside the sandbox → 202 → 模拟微信支付 → polled → credited', async () => {
    mockApi.topup.mockResolvedValue({ topupId: 't1', amount: 5_000, state: 'pending', payment: payment('pending') });
    mockRequest.mockResolvedValue({ statusCode: 200, data: {}, header: {} });
    await ready();
    click('微信支付');
    expect(screen.getByLabelText('微信支付').getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByLabelText('沙箱充值（立即到账）').getAttribute('aria-pressed')).toBe('false');
    type('充值金额（元）', '50');
    click('充值');
    await flush();
    expect(mockApi.topup).toHaveBeenCalledTimes(1);
    expect(mockApi.topup.mock.calls[0]!.slice(0, 3)).toEqual([
      5_000,
      expect.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
      'wechatpay',
    ]);
    expect(screen.getByLabelText('支付状态').textContent).toBe('支付中');
    expect(screen.queryByText('已充值 ¥50.00')).toBeNull(); // nothing credited before the API says paid
    click('模拟支付成功');
    await waitFor(() => expect(screen.getByText('已充值 ¥50.00')).toBeTruthy());
    expect(mockRequest.mock.calls[0]![0]).toMatchObject({
      url: 'http://127.0.0.1:3010/sim/payments/wx05topup/pay',
      method: 'POST',
    });
    expect(mockApi.payment).toHaveBeenCalledWith('pay_t1');
  });

  test('dev features on: the sandbox top-up is preselected and stays one click, instant', async () => {
    mockApi.topup.mockResolvedValue({ topupId: 't2', amount: 5_000, balance: 6_000 });
    await ready();
    expect(screen.getByLabelText('沙箱充值（立即到账）').getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByLabelText('充值').textContent).toBe('充值');
    type('充值金额（元）', '50');
    click('充值');
    await waitFor(() => expect(screen.getByText('已充值 ¥50.00')).toBeTruthy());
    expect(mockApi.topup.mock.calls[0]![2]).toBe('sandbox');
    expect(mockApi.payment).not.toHaveBeenCalled();
  });

  test('weapp without dev features: WeChat Pay only, no sandbox', async () => {
    jest.spyOn(config, 'devFeaturesEnabled').mockReturnValue(false);
    jest.spyOn(wxpay, 'payChannel').mockReturnValue('weapp');
    await ready();
    expect(screen.queryByLabelText('沙箱充值（立即到账）')).toBeNull();
    expect(screen.getByLabelText('充值').textContent).toBe('微信支付充值');
  });
});
