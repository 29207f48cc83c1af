import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import type { ClaimView, ProfileResponse } from '../../functions/src/http/contract';
import { ApiError } from '../src/api/errors';
import { currentSession, saveSession } from '../src/api/session';
import { ClaimList } from '../src/components/ClaimList';
import { avatarSrc, nameProblem } from '../src/lib/avatar';
import ProfilePage from '../src/pages/profile/index';
import { click, flush, type, fieldValue } from './helpers';

/**
 * 头像和昵称: the profile page (H5 build: a file input and a text field; the weapp build uses
 * WeChat's avatar chooser and nickname input with the same upload and PATCH), the first-login
 * prompt, and avatars in claim lists. The API is stubbed; the session is the real storage.
 */
const mockParams: Record<string, string> = {};
const mockReLaunch = jest.fn(async (_: { url: string }) => undefined);
jest.mock('@tarojs/taro', () =>
  require('./taroMock').taroWith({
    useRouter: () => ({ params: mockParams }),
    useDidShow: () => undefined,
    useDidHide: () => undefined,
    reLaunch: (o: { url: string }) => mockReLaunch(o),
  }),
);

const REF = `/v1/avatars/u-alice/${'a'.repeat(64)}.png`;
const mockApi = {
  updateMe: jest.fn(
    async (body: { name?: string; avatar?: string }): Promise<ProfileResponse> => ({
      userId: 'u-alice',
      name: body.name ?? 'Alice',
      avatar: body.avatar ?? null,
      token: 'new-token',
      expiresAt: '2099-01-01T00:00:00Z',
    }),
  ),
  uploadAvatar: jest.fn(async (_: { image: string; contentType: string }) => ({
    avatar: REF,
    contentType: 'image/png',
    bytes: 12,
  })),
};
jest.mock('../src/api', () => ({
  get api() {
    return mockApi;
  },
}));

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

beforeEach(() => {
  for (const k of Object.keys(mockParams)) delete mockParams[k];
  saveSession({
    token: 't',
    userId: 'u-alice',
    name: 'Alice',
    tier: 'personal',
    roles: ['user'],
    expiresAt: '2099-01-01T00:00:00Z',
  });
  mockApi.updateMe.mockClear();
  mockApi.uploadAvatar.mockClear();
  mockReLaunch.mockClear();
});

function pick(file: File) {
  fireEvent.change(screen.getByLabelText('选择头像图片'), { target: { files: [file] } });
}

describe('the profile page', () => {
  test('a new nickname is saved with PATCH /v1/me; the session takes the new name and the re-signed token', async () => {
    render(<ProfilePage />);
    expect(fieldValue('昵称')).toBe('Alice');
    type('昵称', '  小红 ');
    click('保存');
    await flush();
    expect(mockApi.updateMe).toHaveBeenCalledWith({ name: '小红' });
    expect(currentSession()).toMatchObject({ name: '小红', token: 'new-token' });
    expect(screen.getByText('已保存')).toBeTruthy();
  });

  test('over-long, control-character and default names are refused here, nothing sent', async () => {
    render(<ProfilePage />);
    for (const [bad, msg] of [
      ['红'.repeat(21), '昵称最多 20 个字'],
      ['小\u0007红', '昵称不能包含控制字符'],
      ['微信用户ABCD', '昵称不能以“微信用户”开头'],
    ] as const) {
      type('昵称', bad);
      click('保存');
      await flush();
      expect(screen.getByRole('alert').textContent).toBe(msg);
    }
    expect(mockApi.updateMe).not.toHaveBeenCalled();
  });

  test("the API's refusal (the greeting word filter) is shown", async () => {
    mockApi.updateMe.mockRejectedValueOnce(new ApiError('GREETING_REJECTED', 422, { word: '免单' }));
    render(<ProfilePage />);
    type('昵称', '免单王');
    click('保存');
    await flush();
    expect(screen.getByRole('alert').textContent).toBe('昵称含有不允许的词“免单”，请修改');
    expect(currentSession()?.name).toBe('Alice');
  });

  test('an image file is uploaded as base64 with its type, then set as the avatar', async () => {
    render(<ProfilePage />);
    pick(new File([PNG], 'me.png', { type: 'image/png' }));
    await waitFor(() => expect(mockApi.uploadAvatar).toHaveBeenCalled());
    expect(mockApi.uploadAvatar).toHaveBeenCalledWith({
      image: Buffer.from(PNG).toString('base64'),
      contentType: 'image/png',
    });
    await flush();
    // The chosen face shows at once, loaded from the API.
    expect(screen.getByTestId('avatar-img').getAttribute('src')).toBe(avatarSrc(REF));
    click('保存');
    await flush();
    expect(mockApi.updateMe).toHaveBeenCalledWith({ avatar: REF });
    expect(currentSession()?.avatar).toBe(REF);
  });

  test('too large or not an image: refused before uploading', async () => {
    render(<ProfilePage />);
    pick(new File([new Uint8Array(300 * 1024)], 'big.png', { type: 'image/png' }));
    await flush();
    expect(screen.getByRole('alert').textContent).toContain('图片太大');
    pick(new File(['GIF89a'], 'x.gif', { type: 'image/gif' }));
    await flush();
    expect(screen.getByRole('alert').textContent).toContain('只支持 PNG、JPEG、WebP');
    expect(mockApi.uploadAvatar).not.toHaveBeenCalled();
  });
});

describe('the first-login prompt', () => {
  beforeEach(() => {
    saveSession({
      token: 't',
      userId: 'u-alice',
      name: '微信用户K7QM',
      tier: 'personal',
      roles: ['user'],
      expiresAt: '2099-01-01T00:00:00Z',
    });
    mockParams.welcome = '1';
    mockParams.next = encodeURIComponent('/pages/open/index?c=CODE1');
  });

  test('offers an empty nickname (not the default name) and can be skipped to where login was going', async () => {
    render(<ProfilePage />);
    expect(screen.getByText('设置你的头像和昵称')).toBeTruthy();
    expect(fieldValue('昵称')).toBe('');
    click('跳过');
    expect(mockReLaunch).toHaveBeenCalledWith({ url: '/pages/open/index?c=CODE1' });
    expect(mockApi.updateMe).not.toHaveBeenCalled();
  });

  test('saving a name continues to where login was going', async () => {
    render(<ProfilePage />);
    type('昵称', '阿明');
    click('保存');
    await flush();
    expect(mockApi.updateMe).toHaveBeenCalledWith({ name: '阿明' });
    expect(mockReLaunch).toHaveBeenCalledWith({ url: '/pages/open/index?c=CODE1' });
  });
});

describe('avatars in claim lists', () => {
  const claims: ClaimView[] = [
    { userId: 'u1', name: '小红', avatar: REF, amount: 100, claimedAt: '2026-12-01T02:00:00Z', best: false },
    {
      userId: 'u2',
      name: '阿明',
      avatar: 'https://thirdwx.qlogo.cn/mmopen/x/132',
      amount: 200,
      claimedAt: '2026-12-01T02:00:01Z',
      best: true,
    },
    { userId: 'u3', name: '😀小李', amount: 300, claimedAt: '2026-12-01T02:00:02Z', best: false },
    {
      userId: 'u4',
      name: '怪',
      avatar: 'javascript:alert(1)',
      amount: 400,
      claimedAt: '2026-12-01T02:00:03Z',
      best: false,
    },
  ];

  test('each line: the avatar image (API reference or https) or the initial; names as the API sent them', () => {
    render(<ClaimList claims={claims} finished />);
    const lines = screen.getAllByRole('listitem');
    expect(lines[0]!.querySelector('[data-testid="avatar-img"]')?.getAttribute('src')).toBe(avatarSrc(REF));
    expect(avatarSrc(REF)).toMatch(/^https?:\/\/.+\/v1\/avatars\/u-alice\/a{64}\.png$/);
    expect(lines[1]!.querySelector('[data-testid="avatar-img"]')?.getAttribute('src')).toBe(
      'https://thirdwx.qlogo.cn/mmopen/x/132',
    );
    expect(lines[2]!.querySelector('[data-testid="avatar-img"]')).toBeNull();
    expect(lines[2]!.textContent).toContain('😀');
    // Not an image URL the app accepts: the initial instead, nothing loaded.
    expect(lines[3]!.querySelector('[data-testid="avatar-img"]')).toBeNull();
    expect(lines.map((l) => l.textContent)).toEqual([
      expect.stringContaining('小红'),
      expect.stringContaining('阿明'),
      expect.stringContaining('小李'),
      expect.stringContaining('怪'),
    ]);
  });

  test("name rules of the app match the API's", () => {
    expect(nameProblem('红'.repeat(20))).toBeUndefined();
    expect(nameProblem('😀'.repeat(20))).toBeUndefined();
    expect(nameProblem('😀'.repeat(21))).toBe('昵称最多 20 个字');
    expect(nameProblem(' ')).toBe('请输入昵称');
  });
});
