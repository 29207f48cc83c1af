import { render, screen } from '@testing-library/react';
import type { CreateWithdrawalResponse } from '../../functions/src/http/contract';
import { saveSession, currentSession } from '../src/api/session';
import { askForMessages } from '../src/lib/subscribe';
import * as wxpay from '../src/lib/wxpay';
import WithdrawPage from '../src/pages/withdraw/index';
import SendPage from '../src/pages/send/index';
import { click, flush, type } from './helpers';

/**
 * Subscribe messages in the app: `Taro.requestSubscribeMessage` with exactly the template ids
 * the session carried, once per action, on weapp only; whatever the user answers (or a client
 * without the API), the withdrawal goes on.
 */
const mockSubscribe = jest.fn();
jest.mock('@tarojs/taro', () =>
  require('./taroMock').taroWith({
    useDidShow: () => undefined,
    useDidHide: () => undefined,
    usePullDownRefresh: () => undefined,
    useReachBottom: () => undefined,
    requestSubscribeMessage: (...a: unknown[]) => mockSubscribe(...a),
    redirectTo: async () => ({ errMsg: 'redirectTo:ok' }),
  }),
);

const created: CreateWithdrawalResponse = {
  withdrawalId: 'wd0123456789abcdef0123456789abcd',
  amount: 1234,
  state: 'wait_user_confirm',
  confirm: { mchId: '1900000109', appId: 'wx8888888888888888', package: 'pkg' },
};
const mockApi = {
  wallet: jest.fn(async () => ({
    balance: 50_000,
    currency: 'CNY',
    tier: 'personal',
    perPacketLimit: 20_000,
    dailyLimit: 100_000,
    sentToday: 0,
    feeBps: 0,
    maxShares: 100,
  })),
  withdrawals: jest.fn(async () => ({ withdrawals: [], cursor: null })),
  createWithdrawal: jest.fn(async (): Promise<CreateWithdrawalResponse> => created),
  withdrawal: jest.fn(async () => ({
    withdrawalId: created.withdrawalId,
    amount: 1234,
    state: 'success',
    returned: false,
  })),
  openCode: jest.fn(),
  createPacket: jest.fn(async (_body: unknown, _key: string) => ({
    packet: { id: 'p1', status: 'active' },
    code: { code: 'live' },
    shareCode: { code: 'share' },
    fee: 0,
  })),
};
jest.mock('../src/api', () => ({
  get api() {
    return mockApi;
  },
}));

const subscribe = { packet: ['tmplFinished', 'tmplRefund'], withdrawal: ['tmplWithdrawal'] };
const g = globalThis as { wx?: unknown };

beforeEach(() => {
  saveSession({
    token: 't',
    userId: 'u-alice',
    name: 'Alice',
    tier: 'personal',
    roles: ['user'],
    expiresAt: '2099-01-01T00:00:00Z',
    subscribe,
  });
  mockSubscribe.mockReset();
  for (const f of Object.values(mockApi)) f.mockClear();
});
afterEach(() => {
  jest.restoreAllMocks();
  delete g.wx;
});

describe('askForMessages', () => {
  test('the session keeps the template ids it came with', () => {
    expect(currentSession()?.subscribe).toEqual(subscribe);
  });

  test('weapp: the moment’s template ids, once per action; declining is no error', async () => {
    jest.spyOn(wxpay, 'payChannel').mockReturnValue('weapp');
    mockSubscribe.mockResolvedValueOnce({
      errMsg: 'requestSubscribeMessage:ok',
      tmplFinished: 'accept',
      tmplRefund: 'reject',
    });
    expect(await askForMessages('packet', 'key-1')).toBe('asked');
    expect(mockSubscribe).toHaveBeenCalledTimes(1);
    expect(mockSubscribe.mock.calls[0]![0]).toEqual({ tmplIds: ['tmplFinished', 'tmplRefund'] });
    // The retry of the same action asks nothing.
    expect(await askForMessages('packet', 'key-1')).toBe('skipped');
    expect(mockSubscribe).toHaveBeenCalledTimes(1);
    mockSubscribe.mockRejectedValueOnce({
      errMsg: 'requestSubscribeMessage:fail can only be invoked by user TAP gesture.',
    });
    expect(await askForMessages('withdrawal', 'key-2')).toBe('skipped');
    expect(mockSubscribe.mock.calls[1]![0]).toEqual({ tmplIds: ['tmplWithdrawal'] });
  });

  test('H5 has no such API, and a session without templates asks nothing', async () => {
    jest.spyOn(wxpay, 'payChannel').mockReturnValue('sim');
    expect(await askForMessages('packet', 'key-3')).toBe('skipped');
    jest.spyOn(wxpay, 'payChannel').mockReturnValue('weapp');
    saveSession({
      token: 't',
      userId: 'u-alice',
      name: 'Alice',
      tier: 'personal',
      roles: ['user'],
      expiresAt: '2099-01-01T00:00:00Z',
    });
    expect(await askForMessages('packet', 'key-4')).toBe('skipped');
    expect(mockSubscribe).not.toHaveBeenCalled();
  });
});

describe('the 提现 page asks, then withdraws whatever the answer', () => {
  test('weapp: requestSubscribeMessage with the withdrawal template, rejected — the withdrawal is still created and confirmed', async () => {
    jest.spyOn(wxpay, 'payChannel').mockReturnValue('weapp');
    const requestMerchantTransfer = jest.fn((o: { success?: (r: unknown) => void }) =>
      o.success?.({ errMsg: 'requestMerchantTransfer:ok' }),
    );
    g.wx = { requestMerchantTransfer };
    mockSubscribe.mockRejectedValue({ errMsg: 'requestSubscribeMessage:fail cancel' });
    render(<WithdrawPage />);
    await flush();
    await flush();
    type('提现金额（元）', '12.34');
    click('提现');
    await flush();
    await flush();
    expect(mockSubscribe).toHaveBeenCalledTimes(1);
    expect(mockSubscribe.mock.calls[0]![0]).toEqual({ tmplIds: ['tmplWithdrawal'] });
    expect(mockApi.createWithdrawal).toHaveBeenCalledTimes(1);
    expect((mockApi.createWithdrawal.mock.calls[0] as unknown as [number, string])[0]).toBe(1234);
    expect(requestMerchantTransfer).toHaveBeenCalledTimes(1);
    expect(screen.queryByText(/失败/)).toBeNull();
  });
});

describe('the send page asks, then sends', () => {
  test('weapp: the packet templates asked in the tap, the packet created after the answer (declined here too)', async () => {
    jest.spyOn(wxpay, 'payChannel').mockReturnValue('weapp');
    const order: string[] = [];
    mockSubscribe.mockImplementation(async () => {
      order.push('subscribe');
      throw { errMsg: 'requestSubscribeMessage:fail cancel' };
    });
    mockApi.createPacket.mockImplementation(async () => {
      order.push('createPacket');
      return { packet: { id: 'p1', status: 'active' }, code: { code: 'live' }, shareCode: { code: 'share' }, fee: 0 };
    });
    render(<SendPage />);
    await flush();
    await flush();
    type('总金额（元）', '8.88');
    type('红包个数', '2');
    click('塞钱进红包');
    click('确认支付');
    await flush();
    await flush();
    expect(mockSubscribe.mock.calls.map((c) => c[0])).toEqual([{ tmplIds: ['tmplFinished', 'tmplRefund'] }]);
    expect(order).toEqual(['subscribe', 'createPacket']);
    expect((mockApi.createPacket.mock.calls[0] as unknown as [unknown, string])[0]).toEqual({
      total: 888,
      count: 2,
      mode: 'lucky',
    });
  });
});
