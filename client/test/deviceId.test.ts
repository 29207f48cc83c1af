/**
 * The H5 app sends a stable device id, as the mini-program does: the server binds the session
 * to the device it logged in from, and a real login without one is refused.
 */
import { saveSession } from '../src/api/session';

const mockRequest = jest.fn();
jest.mock('@tarojs/taro', () => require('./taroMock').taroWith({ request: (o: unknown) => mockRequest(o) }));

type Call = { url: string; header: Record<string, string> };
const sent = (i: number) => (mockRequest.mock.calls[i]![0] as Call).header['x-device-id'];

beforeEach(() => {
  localStorage.clear();
  mockRequest.mockReset();
  mockRequest.mockResolvedValue({ statusCode: 200, data: {}, header: {} });
});

describe('x-device-id on H5', () => {
  test('the login call and later calls send the same device id, kept in storage across reloads', async () => {
    expect(process.env.TARO_ENV).toBe('h5');
    const { request } = jest.requireActual('../src/api/client') as typeof import('../src/api/client');
    await request('POST', '/v1/session', { auth: false, body: { code: 'c' } });
    saveSession({
      token: 'tok-1',
      userId: 'u1',
      name: 'A',
      tier: 'personal',
      roles: ['user'],
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    await request('GET', '/v1/wallet');
    const first = sent(0);
    expect(first).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    expect(sent(1)).toBe(first);
    // A new page load (fresh module state) reads the same id back from storage.
    let again: string | undefined;
    await jest.isolateModulesAsync(async () => {
      const fresh = (await import('../src/api/client')) as typeof import('../src/api/client');
      again = fresh.deviceId();
    });
    expect(again).toBe(first);
  });

  test('a stored id that is not a valid device id is replaced once, then kept', async () => {
    localStorage.setItem('hb.device', JSON.stringify('not valid!'));
    const { deviceId } = jest.requireActual('../src/api/client') as typeof import('../src/api/client');
    const id = deviceId();
    expect(id).not.toBe('not valid!');
    expect(deviceId()).toBe(id);
  });
});
