import { render, screen, waitFor, within } from '@testing-library/react';
import type { CreateWithdrawalResponse, WithdrawalView } from '../../functions/src/http/contract';
import { ApiError } from '../src/api/errors';
import { saveSession } from '../src/api/session';
import { checkWithdraw } from '../src/lib/withdraw';
import * as wxpay from '../src/lib/wxpay';
import WithdrawPage from '../src/pages/withdraw/index';
import { click, flush, type } from './helpers';

/**
 * The 提现 page: yuan typed → integer fen, the limits refused before any request, WeChat's
 * 确认收款 with exactly the server's `confirm`, the polls after it, and every state in words.
 * Taro's page hooks and the API are stubbed; `wx.requestMerchantTransfer` is a test double.
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
  balance: 50_000,
  currency: 'CNY',
  tier: 'personal',
  perPacketLimit: 20_000,
  dailyLimit: 100_000,
  sentToday: 0,
  feeBps: 0,
  maxShares: 100,
};
const confirm = { mchId: '1900000109', appId: 'wx8888888888888888', package: 'ABBQO+oYAAABAAAAAAAkZm9vYmFy' };
const created: CreateWithdrawalResponse = {
  withdrawalId: 'wd0123456789abcdef0123456789abcd',
  amount: 1234,
  state: 'wait_user_confirm',
  confirm,
};
const view = (state: WithdrawalView['state'], returned = false, id = created.withdrawalId): WithdrawalView => ({
  withdrawalId: id,
  amount: 1234,
  state,
  returned,
});

const mockApi = {
  wallet: jest.fn(async () => wallet),
  withdrawals: jest.fn(
    async (): Promise<{ withdrawals: WithdrawalView[]; cursor: string | null }> => ({ withdrawals: [], cursor: null }),
  ),
  createWithdrawal: jest.fn(async (): Promise<CreateWithdrawalResponse> => created),
  withdrawal: jest.fn(async () => view('success')),
};
// A getter: the imports above are hoisted above this file's constants.
jest.mock('../src/api', () => ({
  get api() {
    return mockApi;
  },
}));

type WxDouble = { requestMerchantTransfer?: jest.Mock };
const g = globalThis as { wx?: WxDouble };

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
  mockRequest.mockReset();
  delete g.wx;
});
afterEach(() => {
  jest.restoreAllMocks();
  delete g.wx;
});

async function ready() {
  render(<WithdrawPage />);
  await flush();
  await flush();
  expect(screen.getByLabelText('零钱余额').textContent).toBe('¥500.00');
}

describe('withdrawal amounts', () => {
  test('yuan with two decimals → integer fen; the limits 1.00–200.00 and the balance', () => {
    expect(checkWithdraw('12.34')).toEqual({ ok: true, fen: 1234 });
    expect(checkWithdraw('1')).toEqual({ ok: true, fen: 100 });
    expect(checkWithdraw('200.00')).toEqual({ ok: true, fen: 20_000 });
    expect(checkWithdraw('0.99')).toEqual({ ok: false, error: '单笔提现金额须在 ¥1.00–¥200.00 之间' });
    expect(checkWithdraw('200.01')).toEqual({ ok: false, error: '单笔提现金额须在 ¥1.00–¥200.00 之间' });
    expect(checkWithdraw('1.234')).toEqual({ ok: false, error: '金额最多两位小数' });
    expect(checkWithdraw('150', 10_000)).toEqual({ ok: false, error: '零钱余额不足，最多可提现 ¥100.00' });
  });
});

describe('the 提现 page', () => {
  test('shows the limits; refuses 0.99 and 200.01 元 locally with the limit message, nothing sent', async () => {
    await ready();
    expect(screen.getByLabelText('提现限额').textContent).toContain('单笔提现 ¥1.00–¥200.00，每天最多 ¥2000.00');
    type('提现金额（元）', '0.99');
    click('提现');
    await flush();
    expect(screen.getByText('单笔提现金额须在 ¥1.00–¥200.00 之间')).toBeTruthy();
    type('提现金额（元）', '200.01');
    click('提现');
    await flush();
    expect(screen.getByText('单笔提现金额须在 ¥1.00–¥200.00 之间')).toBeTruthy();
    expect(mockApi.createWithdrawal).not.toHaveBeenCalled();
  });

  test('weapp: 12.34 元 → 1234 fen with a key; requestMerchantTransfer gets exactly confirm; polled to 已到账', async () => {
    jest.spyOn(wxpay, 'payChannel').mockReturnValue('weapp');
    const requestMerchantTransfer = jest.fn((o: { success?: (r: unknown) => void }) =>
      o.success?.({ errMsg: 'requestMerchantTransfer:ok' }),
    );
    g.wx = { requestMerchantTransfer };
    mockApi.withdrawal.mockResolvedValueOnce(view('processing')).mockResolvedValue(view('success'));
    await ready();
    type('提现金额（元）', '12.34');
    click('提现');
    await flush();
    expect(mockApi.createWithdrawal).toHaveBeenCalledTimes(1);
    const [amount, key] = mockApi.createWithdrawal.mock.calls[0] as unknown as [number, string];
    expect(amount).toBe(1234);
    expect(key).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    await waitFor(() => expect(requestMerchantTransfer).toHaveBeenCalledTimes(1));
    const arg = requestMerchantTransfer.mock.calls[0]![0] as unknown as Record<string, unknown>;
    expect({ mchId: arg.mchId, appId: arg.appId, package: arg.package }).toEqual(confirm);
    await waitFor(() => expect(screen.getByLabelText('提现状态').textContent).toBe('已到账'), { timeout: 5000 });
    expect(mockApi.withdrawal).toHaveBeenCalledWith(created.withdrawalId);
  });

  test('weapp: a 201 without confirm (a retry finding the withdrawal past that step): no confirmation opened, only polled', async () => {
    jest.spyOn(wxpay, 'payChannel').mockReturnValue('weapp');
    const requestMerchantTransfer = jest.fn((o: { success?: (r: unknown) => void }) =>
      o.success?.({ errMsg: 'requestMerchantTransfer:ok' }),
    );
    g.wx = { requestMerchantTransfer };
    mockApi.createWithdrawal.mockResolvedValueOnce({
      withdrawalId: created.withdrawalId,
      amount: 1234,
      state: 'processing',
      returned: false,
    });
    mockApi.withdrawal.mockResolvedValue(view('success'));
    await ready();
    type('提现金额（元）', '12.34');
    click('提现');
    await waitFor(() => expect(screen.getByLabelText('提现状态').textContent).toBe('已到账'), { timeout: 5000 });
    expect(mockApi.withdrawal).toHaveBeenCalledWith(created.withdrawalId);
    expect(requestMerchantTransfer).not.toHaveBeenCalled();
  });

  test('weapp: the confirmation left unconfirmed: 待确认收款 and 继续确认收款 with the same confirm', async () => {
    jest.spyOn(wxpay, 'payChannel').mockReturnValue('weapp');
    const requestMerchantTransfer = jest.fn((o: { fail?: (e: { errMsg: string }) => void }) =>
      o.fail?.({ errMsg: 'requestMerchantTransfer:fail cancel' }),
    );
    g.wx = { requestMerchantTransfer };
    await ready();
    type('提现金额（元）', '12.34');
    click('提现');
    await waitFor(() => expect(screen.getByLabelText('继续确认收款')).toBeTruthy());
    expect(screen.getByLabelText('提现状态').textContent).toBe('待确认收款');
    expect(mockApi.withdrawal).not.toHaveBeenCalled();
    click('继续确认收款');
    await waitFor(() => expect(requestMerchantTransfer).toHaveBeenCalledTimes(2));
    const again = requestMerchantTransfer.mock.calls[1]![0] as unknown as Record<string, unknown>;
    expect({ mchId: again.mchId, appId: again.appId, package: again.package }).toEqual(confirm);
    expect(mockApi.createWithdrawal).toHaveBeenCalledTimes(1); // the same withdrawal
    // 稍后再说: the state stays shown (no polling of an unconfirmed transfer), the confirmation still offered
    await waitFor(() => expect(screen.getByLabelText('稍后再说')).toBeTruthy());
    click('稍后再说');
    expect(screen.getByLabelText('提现状态').textContent).toBe('待确认收款');
    expect(screen.getByLabelText('继续确认收款')).toBeTruthy();
    expect(mockApi.withdrawal).not.toHaveBeenCalled();
  });

  test('H5 with dev features: 模拟确认收款 confirms the withdrawal id at the simulator, then polls', async () => {
    window.__HONGBAO_WXPAY_SIM__ = 'http://127.0.0.1:3010';
    mockRequest.mockResolvedValue({ statusCode: 200, data: {}, header: {} });
    mockApi.withdrawal.mockResolvedValue(view('success'));
    await ready();
    // Once created, the history lists the withdrawal while its confirmation is open.
    mockApi.withdrawals.mockResolvedValueOnce({ withdrawals: [view('wait_user_confirm')], cursor: null });
    type('提现金额（元）', '12.34');
    click('提现');
    await flush();
    const sheet = screen.getByRole('dialog', { name: '模拟确认收款' });
    expect(within(sheet).getByLabelText('收款金额').textContent).toBe('¥12.34');
    await waitFor(() =>
      expect(
        within(screen.getByRole('list', { name: '提现记录' }))
          .getAllByRole('listitem')
          .map((r) => r.textContent),
      ).toEqual(['¥12.34待确认收款']),
    );
    click('模拟收款成功');
    await waitFor(() => expect(screen.getByLabelText('提现状态').textContent).toBe('已到账'));
    expect(mockRequest.mock.calls[0]![0]).toMatchObject({
      url: `http://127.0.0.1:3010/sim/transfers/${created.withdrawalId}/confirm`,
      method: 'POST',
    });
    delete window.__HONGBAO_WXPAY_SIM__;
  });

  test('WITHDRAWAL_LIMIT and INSUFFICIENT_FUNDS from the server in plain Chinese', async () => {
    mockApi.createWithdrawal
      .mockRejectedValueOnce(new ApiError('WITHDRAWAL_LIMIT', 422))
      .mockRejectedValueOnce(new ApiError('INSUFFICIENT_FUNDS', 402));
    await ready();
    type('提现金额（元）', '150');
    click('提现');
    await flush();
    expect(screen.getByText(/超出提现限额：单笔提现 ¥1.00–¥200.00，每天最多 ¥2000.00/)).toBeTruthy();
    click('提现');
    await flush();
    expect(screen.getByText('零钱余额不足，请减少提现金额')).toBeTruthy();
    expect(mockApi.createWithdrawal).toHaveBeenCalledTimes(2);
  });

  test('the history shows each state in Chinese', async () => {
    mockApi.withdrawals.mockResolvedValueOnce({
      withdrawals: [
        view('wait_user_confirm', false, 'w1'),
        view('processing', false, 'w2'),
        view('success', false, 'w3'),
        view('failed', true, 'w4'),
        view('canceled', true, 'w5'),
        view('failed', false, 'w6'),
      ],
      cursor: null,
    });
    await ready();
    const rows = within(screen.getByRole('list', { name: '提现记录' })).getAllByRole('listitem');
    expect(rows.map((r) => r.textContent)).toEqual([
      '¥12.34待确认收款',
      '¥12.34处理中',
      '¥12.34已到账',
      '¥12.34失败，已退回零钱',
      '¥12.34已取消，已退回零钱',
      '¥12.34失败，正在退回零钱',
    ]);
  });
});
