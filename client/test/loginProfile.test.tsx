import { render } from '@testing-library/react';
import type { SessionResponse } from '../../functions/src/http/contract';
import LoginPage from '../src/pages/login/index';
import { click, flush } from './helpers';

/**
 * The WeChat login of the mini-program: a new account (the API says `newAccount`, its name a
 * default 微信用户…) is offered 头像和昵称 once, then continues where login was going; an
 * existing account goes straight on.
 */
const mockReLaunch = jest.fn(async (_: { url: string }) => undefined);
jest.mock('@tarojs/taro', () =>
  require('./taroMock').taroWith({
    useRouter: () => ({ params: { next: encodeURIComponent('/pages/open/index?c=CODE1') } }),
    useDidShow: () => undefined,
    useDidHide: () => undefined,
    login: async () => ({ code: 'wx-login-code' }),
    reLaunch: (o: { url: string }) => mockReLaunch(o),
  }),
);
jest.mock('../src/api/config', () => ({ ...jest.requireActual('../src/api/config'), devLoginEnabled: () => false }));

const session = (extra: Partial<SessionResponse>): SessionResponse => ({
  token: 't',
  userId: 'u-wx',
  name: '微信用户K7QM',
  tier: 'personal',
  roles: ['user'],
  expiresAt: '2099-01-01T00:00:00Z',
  ...extra,
});
const mockApi = { login: jest.fn(async (_: unknown) => session({})) };
jest.mock('../src/api', () => ({
  get api() {
    return mockApi;
  },
}));

beforeEach(() => {
  mockReLaunch.mockClear();
  mockApi.login.mockClear();
});

test('a new account: the profile prompt first, carrying where login was going', async () => {
  mockApi.login.mockResolvedValueOnce(session({ newAccount: true }));
  render(<LoginPage />);
  click('登录');
  await flush();
  await flush();
  expect(mockApi.login).toHaveBeenCalledWith({ code: 'wx-login-code' });
  expect(mockReLaunch).toHaveBeenCalledWith({
    url: `/pages/profile/index?welcome=1&next=${encodeURIComponent('/pages/open/index?c=CODE1')}`,
  });
});

test('an existing account: straight on', async () => {
  mockApi.login.mockResolvedValueOnce(session({ name: '小红' }));
  render(<LoginPage />);
  click('登录');
  await flush();
  await flush();
  expect(mockReLaunch).toHaveBeenCalledWith({ url: '/pages/open/index?c=CODE1' });
});
