import { act, render, screen, within } from '@testing-library/react';
import type { ApiKeyView } from '../src/api';
import { ApiError } from '../src/api/errors';
import { saveSession } from '../src/api/session';
import ApiKeysPage from '../src/biz/apikeys/index';
import { click, flush, type } from './helpers';

/** Taro: the page hooks recorded (to leave and come back), the clipboard and request stubbed. */
const mockHide = new Set<() => void>();
const mockShow = new Set<() => void>();
const mockClipboard = jest.fn(async (_o: unknown) => ({ errMsg: 'ok' }));
const mockRequest = jest.fn();
jest.mock('@tarojs/taro', () =>
  require('./taroMock').taroWith({
    useDidShow: (cb: () => void) => mockShow.add(cb),
    useDidHide: (cb: () => void) => mockHide.add(cb),
    setClipboardData: (o: unknown) => mockClipboard(o),
    request: (o: unknown) => mockRequest(o),
  }),
);

const mockApi = { apiKeys: jest.fn(), createApiKey: jest.fn(), revokeApiKey: jest.fn() };
jest.mock('../src/api', () => ({
  get api() {
    return mockApi;
  },
}));

const SECRET = 'hbk_kAAAAAAAAAAAAAAAA_s3cr3t-0123456789abcdefghijklmnopqrstuv';
const KEYS: ApiKeyView[] = [
  {
    keyId: 'kAAAAAAAAAAAAAAAA',
    name: '门店系统',
    scopes: ['basic'],
    createdAt: '2026-11-28T02:00:00Z',
    lastUsedAt: null,
    revokedAt: null,
  },
  {
    keyId: 'kBBBBBBBBBBBBBBBB',
    name: '报表',
    scopes: ['full'],
    createdAt: '2026-11-27T02:00:00Z',
    lastUsedAt: '2026-11-28T01:00:00Z',
    revokedAt: null,
  },
  {
    keyId: 'kCCCCCCCCCCCCCCCC',
    name: '旧系统',
    scopes: ['basic'],
    createdAt: '2026-11-20T02:00:00Z',
    lastUsedAt: null,
    revokedAt: '2026-11-21T02:00:00Z',
  },
];

const leaveAndComeBack = async () => {
  act(() => {
    for (const cb of [...mockHide]) cb();
  });
  act(() => {
    for (const cb of [...mockShow]) cb();
  });
  await flush();
};

beforeEach(() => {
  mockHide.clear();
  mockShow.clear();
  mockClipboard.mockClear();
  mockRequest.mockReset();
  for (const f of Object.values(mockApi)) f.mockReset();
  mockApi.apiKeys.mockResolvedValue({ items: KEYS });
  saveSession({
    token: 'tok-1',
    userId: 'u-biz',
    name: '商户',
    tier: 'enterprise',
    roles: ['user', 'enterprise'],
    expiresAt: '2126-11-29T00:00:00Z',
  });
});

describe('开发者密钥', () => {
  test('the list: name, scope as 基础/全部, created, last used, revoked', async () => {
    render(<ApiKeysPage />);
    await flush();
    const items = within(screen.getByRole('list', { name: '密钥列表' })).getAllByRole('listitem');
    expect(items).toHaveLength(3);
    expect(items[0]!.textContent).toContain('权限：基础');
    expect(items[0]!.textContent).toContain('从未使用');
    expect(items[0]!.textContent).toContain('有效');
    expect(items[1]!.textContent).toContain('权限：全部');
    expect(items[1]!.textContent).toMatch(/最近使用 \d\d-\d\d \d\d:\d\d/);
    expect(items[2]!.textContent).toContain('已撤销');
    expect(items[2]!.textContent).toMatch(/撤销于/);
    // no revoke button on a revoked key
    expect(within(items[2]!).queryByRole('button')).toBeNull();
  });

  test('a new key is shown once, with a copy button and the warning; gone after leaving and coming back', async () => {
    mockApi.createApiKey.mockResolvedValue({ keyId: 'kDDDDDDDDDDDDDDDD', apiKey: SECRET, scopes: ['basic'] });
    render(<ApiKeysPage />);
    await flush();
    type('密钥名称', '  收银台 ');
    click('创建密钥');
    await flush();
    expect(mockApi.createApiKey).toHaveBeenCalledWith({ name: '收银台' });
    const box = screen.getByRole('alert', { name: '新密钥' });
    expect(within(box).getByLabelText('密钥').textContent).toBe(SECRET);
    expect(box.textContent).toContain('密钥只显示这一次');
    expect(box.textContent).toContain('离开本页后无法再次查看');
    expect(box.textContent).toContain('权限：基础');
    click('复制密钥');
    await flush();
    expect(mockClipboard).toHaveBeenCalledWith({ data: SECRET });
    expect(screen.getByText('已复制，请粘贴到安全的地方保存')).toBeTruthy();
    expect(mockApi.apiKeys).toHaveBeenCalledTimes(2); // the list reloaded after creating

    await leaveAndComeBack();
    expect(screen.queryByRole('alert', { name: '新密钥' })).toBeNull();
    expect(document.body.textContent).not.toContain(SECRET);
    expect(mockApi.apiKeys).toHaveBeenCalledTimes(3); // fresh list on return
    // and nothing kept in storage
    expect(JSON.stringify({ ...window.localStorage })).not.toContain(SECRET);
  });

  test('an unnamed key sends no name; 我已保存 hides it', async () => {
    mockApi.createApiKey.mockResolvedValue({ keyId: 'kDDDDDDDDDDDDDDDD', apiKey: SECRET, scopes: ['full'] });
    render(<ApiKeysPage />);
    await flush();
    click('创建密钥');
    await flush();
    expect(mockApi.createApiKey).toHaveBeenCalledWith({});
    click('我已保存');
    expect(screen.queryByText(SECRET)).toBeNull();
  });

  test('revoke asks first, then calls DELETE for that key and reloads', async () => {
    mockApi.revokeApiKey.mockResolvedValue({ keyId: 'kBBBBBBBBBBBBBBBB', revokedAt: '2026-11-28T03:00:00Z' });
    render(<ApiKeysPage />);
    await flush();
    click('撤销密钥 报表（kBBBBBBBBBBBBBBBB）');
    const dialog = screen.getByRole('alertdialog', { name: '撤销密钥「报表」' });
    expect(dialog.textContent).toContain('确定撤销「报表」');
    click('取消');
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(mockApi.revokeApiKey).not.toHaveBeenCalled();

    mockApi.apiKeys.mockResolvedValue({
      items: KEYS.map((k) => (k.keyId === 'kBBBBBBBBBBBBBBBB' ? { ...k, revokedAt: '2026-11-28T03:00:00Z' } : k)),
    });
    click('撤销密钥 报表（kBBBBBBBBBBBBBBBB）');
    click('确认撤销');
    await flush();
    expect(mockApi.revokeApiKey).toHaveBeenCalledTimes(1);
    expect(mockApi.revokeApiKey).toHaveBeenCalledWith('kBBBBBBBBBBBBBBBB');
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(screen.queryByLabelText('撤销密钥 报表（kBBBBBBBBBBBBBBBB）')).toBeNull();
    const items = within(screen.getByRole('list', { name: '密钥列表' })).getAllByRole('listitem');
    expect(items[1]!.textContent).toContain('已撤销');
  });

  test('a personal account (403) gets the 无权限 screen', async () => {
    mockApi.apiKeys.mockRejectedValue(new ApiError('FORBIDDEN', 403));
    render(<ApiKeysPage />);
    await flush();
    expect(screen.getByRole('alert', { name: '无权限' }).textContent).toContain('开发者密钥仅对企业和服务商账户开放');
  });
});

describe('the API client: DELETE and text answers', () => {
  const { request } = jest.requireActual('../src/api/client') as typeof import('../src/api/client');
  const realApi = (jest.requireActual('../src/api') as typeof import('../src/api')).api;

  test('DELETE /v1/api-keys/{keyId} with the token, no body', async () => {
    mockRequest.mockResolvedValue({ statusCode: 200, data: { keyId: 'kB', revokedAt: 'x' }, header: {} });
    await expect(realApi.revokeApiKey('kBBBBBBBBBBBBBBBB')).resolves.toEqual({ keyId: 'kB', revokedAt: 'x' });
    const call = mockRequest.mock.calls[0]![0] as {
      url: string;
      method: string;
      header: Record<string, string>;
      data: unknown;
    };
    expect(call.method).toBe('DELETE');
    expect(call.url).toMatch(/\/v1\/api-keys\/kBBBBBBBBBBBBBBBB$/);
    expect(call.header.Authorization).toBe('Bearer tok-1');
    expect(call.header['Content-Type']).toBeUndefined();
    expect(call.data).toBeUndefined();
  });

  test('a CSV answer comes back as text; an error answer read as text is still an ApiError', async () => {
    mockRequest.mockResolvedValueOnce({
      statusCode: 200,
      data: 'index,packet_id,code,expires_at\n1,p,c,t\n',
      header: { 'content-type': 'text/csv' },
    });
    await expect(realApi.campaignCodesCsv('c123456789012345')).resolves.toBe(
      'index,packet_id,code,expires_at\n1,p,c,t\n',
    );
    const call = mockRequest.mock.calls[0]![0] as { url: string; dataType: string; header: Record<string, string> };
    expect(call.url).toMatch(/\/v1\/campaigns\/c123456789012345\/codes\.csv$/);
    expect(call.dataType).toBe('text');
    expect(call.header.Accept).toContain('text/csv');
    expect(call.header.Authorization).toBe('Bearer tok-1');

    mockRequest.mockResolvedValueOnce({
      statusCode: 404,
      data: '{"error":{"code":"NOT_FOUND","message":"活动不存在"}}',
      header: {},
    });
    const err = await request<string>('GET', '/v1/campaigns/cX/codes.csv', { text: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('NOT_FOUND');
    expect((err as ApiError).status).toBe(404);
  });
});
