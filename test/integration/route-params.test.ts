/**
 * Path parameters are parsed by the route table's schemas, in the wrapper, before the use case
 * runs: a malformed one answers the route's own error (a malformed id names nothing, so most
 * routes answer as for a missing resource) and writes nothing.
 */
import { Clock, login, makeApi, testDeps } from '../helpers/app';

const clock = new Clock(Date.parse('2026-11-28T05:00:00Z'));
const api = makeApi(testDeps({ clock }));

test('each route with a path parameter refuses a malformed one with its own error', async () => {
  const user = await login(api);
  const biz = await login(api, { tier: 'enterprise' });
  const admin = await login(api, { roles: ['admin'] });
  const risk = await login(api, { roles: ['risk'] });
  const cases: Array<[string, 'GET' | 'POST' | 'DELETE', string, { status: number; code: string }, unknown?]> = [
    [user.token, 'GET', '/v1/packets/bad!id', { status: 404, code: 'NOT_FOUND' }],
    [user.token, 'POST', '/v1/packets/bad!id/codes', { status: 404, code: 'NOT_FOUND' }, {}],
    [user.token, 'GET', `/v1/codes/${'A'.repeat(201)}`, { status: 400, code: 'CODE_INVALID' }],
    [user.token, 'GET', '/v1/withdrawals/wd-not-hex', { status: 404, code: 'NOT_FOUND' }],
    [user.token, 'GET', '/v1/payments/bad!id', { status: 404, code: 'NOT_FOUND' }],
    [user.token, 'GET', '/v1/codes/%E7%BA%A2', { status: 400, code: 'CODE_INVALID' }],
    [biz.token, 'GET', '/v1/campaigns/not-a-campaign', { status: 404, code: 'NOT_FOUND' }],
    [biz.token, 'GET', '/v1/campaigns/not-a-campaign/codes.csv', { status: 404, code: 'NOT_FOUND' }],
    [biz.token, 'DELETE', '/v1/api-keys/not-a-key', { status: 404, code: 'NOT_FOUND' }],
    [admin.token, 'GET', '/v1/admin/accounts/bad!id', { status: 400, code: 'VALIDATION_FAILED' }],
    [
      admin.token,
      'POST',
      '/v1/admin/accounts/bad!id/tier',
      { status: 400, code: 'VALIDATION_FAILED' },
      { tier: 'enterprise' },
    ],
    [risk.token, 'DELETE', '/v1/admin/blacklist/nothing/dev-1', { status: 400, code: 'VALIDATION_FAILED' }],
    [risk.token, 'DELETE', '/v1/admin/blacklist/device/bad id', { status: 400, code: 'VALIDATION_FAILED' }],
  ];
  for (const [token, method, path, want, body] of cases) {
    const r = await api(method, path, { token, ...(body === undefined ? {} : { body }) });
    expect({ method, path, status: r.status, code: r.body?.error?.code }).toEqual({ method, path, ...want });
  }
});
