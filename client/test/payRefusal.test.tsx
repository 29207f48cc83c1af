import { render, screen } from '@testing-library/react';
import { ApiError } from '../src/api/errors';
import { saveSession } from '../src/api/session';
import PayPage from '../src/pages/pay/index';
import { click, field, flush, type } from './helpers';

/**
 * The pay page as a whole: Taro's page hooks (wired by the H5 build, absent under jest) are
 * stubbed, and so is the API (no network).
 */
jest.mock('@tarojs/taro', () =>
  require('./taroMock').taroWith({
    useRouter: () => ({ params: { c: 'RECEIVE-CODE-1' } }),
    useDidShow: () => undefined,
    useDidHide: () => undefined,
  }),
);

const wallet = {
  balance: 100_000,
  currency: 'CNY',
  tier: 'personal',
  perPacketLimit: 20_000,
  dailyLimit: 100_000,
  sentToday: 0,
  feeBps: 0,
  maxShares: 100,
};
const mockApi = {
  wallet: jest.fn(async () => wallet),
  openCode: jest.fn(async () => ({ target: 'receive', payee: { id: 'u-bob', name: 'Bob' } })),
  transfer: jest.fn(),
};
// A getter: the imports below are hoisted above this file's constants.
jest.mock('../src/api', () => ({
  get api() {
    return mockApi;
  },
}));

describe('the pay page', () => {
  beforeEach(() => {
    // Only the clock is fixed (13:10 in Beijing): Taro's input components render on real timers.
    jest.useFakeTimers({
      now: new Date('2026-11-28T05:10:00Z'),
      doNotFake: [
        'setTimeout',
        'clearTimeout',
        'setInterval',
        'clearInterval',
        'setImmediate',
        'clearImmediate',
        'queueMicrotask',
        'nextTick',
        'requestAnimationFrame',
        'cancelAnimationFrame',
        'requestIdleCallback',
        'cancelIdleCallback',
        'performance',
        'hrtime',
      ],
    });
    saveSession({
      token: 't',
      userId: 'u-alice',
      name: 'Alice',
      tier: 'personal',
      roles: ['user'],
      expiresAt: '2026-11-29T00:00:00Z',
    });
    mockApi.transfer.mockReset();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  async function ready() {
    render(<PayPage />);
    await flush();
    await flush();
    expect(screen.getByLabelText('收款人').textContent).toContain('Bob');
  }

  test('CODE_FROZEN: the frozen-code screen with when it lifts, and no pay button until dismissed', async () => {
    mockApi.transfer.mockImplementationOnce(() =>
      Promise.reject(new ApiError('CODE_FROZEN', 423, { until: '2026-11-28T06:10:00.000Z' })),
    );
    await ready();
    type('付款金额（元）', '8.88');
    click('确认付款');
    await flush();

    expect(mockApi.transfer).toHaveBeenCalledTimes(1);
    expect(mockApi.transfer.mock.calls[0]![0]).toEqual({ code: 'RECEIVE-CODE-1', amount: 888 });
    const panel = screen.getByRole('alert', { name: '这个收款码已临时冻结' });
    expect(panel.textContent).toContain('连续收到多笔相同金额的付款');
    expect(panel.textContent).toContain('本次付款没有扣款');
    expect(screen.getByLabelText('恢复时间').textContent).toBe('14:10 后恢复'); // Beijing time
    expect(screen.queryByLabelText('确认付款')).toBeNull(); // the code takes nothing until then
    // not a one-line toast: the old generic message is not what is shown
    expect(screen.queryByText('这个收款码暂时被冻结，请稍后再试')).toBeNull();

    click('知道了');
    expect(screen.queryByRole('alert', { name: '这个收款码已临时冻结' })).toBeNull();
    expect(screen.getByLabelText('确认付款')).toBeTruthy();
  });

  test('LIMIT_PER_PACKET on a transfer: the limit in yuan, 修改金额 marks the amount', async () => {
    mockApi.transfer.mockImplementationOnce(() =>
      Promise.reject(new ApiError('LIMIT_PER_PACKET', 422, { perPacketLimit: 20_000 })),
    );
    await ready();
    type('付款金额（元）', '150');
    click('确认付款');
    await flush();
    expect(screen.getByRole('alert', { name: '超出单笔付款上限' }).textContent).toContain('单笔付款最多 ¥200.00');
    click('修改金额');
    expect(field('付款金额（元）').closest('.field')!.classList.contains('field--error')).toBe(true);
  });

  test('RISK_BLOCKED (blacklist): 联系客服, not a retry hint', async () => {
    mockApi.transfer.mockImplementationOnce(() => Promise.reject(new ApiError('RISK_BLOCKED', 403)));
    await ready();
    type('付款金额（元）', '1');
    click('确认付款');
    await flush();
    const panel = screen.getByRole('alert', { name: '账户暂时无法使用资金功能' });
    expect(panel.textContent).toContain('联系客服');
    expect(panel.textContent).not.toContain('不会重复扣款');
  });
});
