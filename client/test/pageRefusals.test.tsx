import { act, render, screen } from '@testing-library/react';
import { ApiError } from '../src/api/errors';
import { saveSession } from '../src/api/session';
import LoginPage from '../src/pages/login/index';
import OpenPage from '../src/pages/open/index';
import { click, flush, type } from './helpers';

/** Taro's page hooks (wired by the H5 build, absent under jest) stubbed; the API too. */
jest.mock('@tarojs/taro', () =>
  require('./taroMock').taroWith({
    useRouter: () => ({ params: { c: 'SHARE-CODE-1' } }),
    useDidShow: () => undefined,
    useDidHide: () => undefined,
    useShareAppMessage: () => undefined,
  }),
);

const packet = {
  id: 'p1',
  sender: { id: 'u-alice', name: 'Alice' },
  total: 1_000,
  count: 3,
  mode: 'lucky',
  greeting: '新年快乐',
  scene: 'none',
  status: 'active',
  claimedCount: 0,
  refundedAmount: 0,
  createdAt: '2026-11-28T05:00:00Z',
  expiresAt: '2026-11-29T05:00:00Z',
};
const mockApi = {
  openCode: jest.fn(async () => ({ target: 'packet', packet, claimable: true })),
  claim: jest.fn(),
  packet: jest.fn(async () => ({ ...packet, claimedAmount: 0, claims: [] })),
  login: jest.fn(),
};
// A getter: the imports above are hoisted above this file's constants.
jest.mock('../src/api', () => ({
  get api() {
    return mockApi;
  },
}));

const advance = async (ms: number) => {
  await act(async () => {
    await jest.advanceTimersByTimeAsync(ms);
  });
};

describe('the open page: a claim refused for its rate', () => {
  beforeEach(() => {
    // Timers faked for the countdown; not the frame and microtask queues Taro's web components
    // render on (a frame faked and then dropped would stall their render for the later tests).
    jest.useFakeTimers({
      now: new Date('2026-11-28T05:10:00Z'),
      doNotFake: ['requestAnimationFrame', 'cancelAnimationFrame', 'queueMicrotask', 'nextTick'],
    });
    saveSession({
      token: 't',
      userId: 'u-bob',
      name: 'Bob',
      tier: 'personal',
      roles: ['user'],
      expiresAt: '2026-11-29T00:00:00Z',
    });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  test('RATE_LIMITED: the refusal screen counts down, then 再试一次 claims again', async () => {
    mockApi.claim
      .mockImplementationOnce(() => Promise.reject(new ApiError('RATE_LIMITED', 429, { retryAfter: 2 }, 2)))
      .mockImplementationOnce(async () => ({
        packetId: 'p1',
        amount: 321,
        claimedAt: '2026-11-28T05:10:03Z',
        repeat: false,
      }));
    render(<OpenPage />);
    await flush();
    click('开红包');
    await flush();

    expect(screen.getByRole('alert', { name: '领取太频繁了' })).toBeTruthy();
    expect(screen.queryByLabelText('开红包')).toBeNull();
    expect(screen.getByLabelText('重试倒计时').textContent).toBe('2 秒后可再试');
    click('再试一次');
    expect(mockApi.claim).toHaveBeenCalledTimes(1); // still counting down
    await advance(2_000);
    expect(screen.getByLabelText('再试一次').getAttribute('aria-disabled')).toBeNull();
    click('再试一次');
    await advance(1_000); // the 開 coin's spin
    expect(mockApi.claim).toHaveBeenCalledTimes(2);
    expect(screen.getByLabelText('领取金额').textContent).toBe('3.21');
  });

  test('FORBIDDEN: not yours to claim, its own screen', async () => {
    mockApi.claim.mockImplementationOnce(() => Promise.reject(new ApiError('FORBIDDEN', 403)));
    render(<OpenPage />);
    await flush();
    click('开红包');
    await flush();
    expect(screen.getByRole('alert', { name: '这个红包你不能领取' }).textContent).toContain('专属红包');
  });
});

describe('the login page: a 4th account on this device', () => {
  test('DEVICE_LIMIT: the limit from the server, and another account offered', async () => {
    mockApi.login.mockImplementationOnce(() => Promise.reject(new ApiError('DEVICE_LIMIT', 403, { maxAccounts: 3 })));
    render(<LoginPage />);
    type('昵称', 'dave');
    click('登录');
    await flush();
    const panel = screen.getByRole('alert', { name: '这台设备不能再登录新账号' });
    expect(panel.textContent).toContain('7 天内最多使用 3 个账号');
    click('换用其他账号');
    expect(screen.queryByRole('alert', { name: '这台设备不能再登录新账号' })).toBeNull();
  });
});
