import { loadConfig, type Config } from '../../functions/src/config';
import { makeApi, testDeps, uniq, type Api } from '../helpers/app';

/**
 * Dev login (`devUser`: any name, any tier, any role — admin included) on each kind of stage:
 * open locally, behind DEV_LOGIN_SECRET on the deployed sandbox, never in prod.
 */
const SECRET = 'sandbox-dev-login-secret-0123456789'; // a test value, no deployment's

const apiWith = (cfg: Config): Api => makeApi({ ...testDeps(), cfg });
const sandbox = (secret?: string) =>
  apiWith(
    loadConfig({
      ...process.env,
      STAGE: 'sandbox',
      PUBLIC_BASE_URL: 'https://hb.example.cn',
      DEV_LOGIN_SECRET: secret,
    }),
  );
const adminLogin = (extra: Record<string, unknown> = {}) => ({
  body: { devUser: uniq('dev'), roles: ['admin'], tier: 'provider', ...extra },
});
const codeOf = (r: { status: number; body: any }) => ({ status: r.status, code: r.body?.error?.code });

describe('POST /v1/session with devUser', () => {
  test('sandbox with DEV_LOGIN_SECRET: refused without it or with a wrong one, allowed with it', async () => {
    const api = sandbox(SECRET);
    expect(codeOf(await api('POST', '/v1/session', adminLogin()))).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
    expect(codeOf(await api('POST', '/v1/session', adminLogin({ devSecret: 'wrong' })))).toEqual({
      status: 401,
      code: 'UNAUTHENTICATED',
    });
    // Same length, one character off.
    const offByOne = SECRET.slice(0, -1) + (SECRET.endsWith('9') ? '8' : '9');
    expect(codeOf(await api('POST', '/v1/session', adminLogin({ devSecret: offByOne })))).toEqual({
      status: 401,
      code: 'UNAUTHENTICATED',
    });
    expect(codeOf(await api('POST', '/v1/session', adminLogin({ devSecret: `${SECRET}x` })))).toEqual({
      status: 401,
      code: 'UNAUTHENTICATED',
    });

    const ok = await api('POST', '/v1/session', adminLogin({ devSecret: SECRET }));
    expect(ok.status).toBe(200);
    expect(ok.body.roles).toEqual(['user', 'admin']);
    // The token works (the admin console answers it).
    expect((await api('GET', '/v1/admin/ops', { token: ok.body.token })).status).toBe(200);
  });

  test('sandbox without DEV_LOGIN_SECRET: dev login is off, whatever the request carries', async () => {
    const api = sandbox();
    expect(codeOf(await api('POST', '/v1/session', adminLogin()))).toEqual({ status: 403, code: 'DEV_LOGIN_DISABLED' });
    expect(codeOf(await api('POST', '/v1/session', adminLogin({ devSecret: SECRET })))).toEqual({
      status: 403,
      code: 'DEV_LOGIN_DISABLED',
    });
  });

  test('prod: 403 DEV_LOGIN_DISABLED, with or without a secret', async () => {
    // No prod configuration loads today (no real payment provider yet), so this is the test
    // stage's with prod's stage-derived fields, a secret configured all the same.
    const base = loadConfig({ ...process.env, DEV_LOGIN_SECRET: SECRET });
    const api = apiWith({ ...base, stage: 'prod', devFeatures: false, devLogin: { mode: 'off' } });
    expect(codeOf(await api('POST', '/v1/session', adminLogin()))).toEqual({ status: 403, code: 'DEV_LOGIN_DISABLED' });
    expect(codeOf(await api('POST', '/v1/session', adminLogin({ devSecret: SECRET })))).toEqual({
      status: 403,
      code: 'DEV_LOGIN_DISABLED',
    });
    // Even a guard left in secret mode is overruled by a stage without dev features.
    const stray = apiWith({ ...base, stage: 'prod', devFeatures: false });
    expect(codeOf(await stray('POST', '/v1/session', adminLogin({ devSecret: SECRET })))).toEqual({
      status: 403,
      code: 'DEV_LOGIN_DISABLED',
    });
  });

  test('local and test stages: no secret needed (npm start, the e2e tests)', async () => {
    for (const stage of ['local', 'test'] as const) {
      const api = apiWith(loadConfig({ ...process.env, STAGE: stage, DEV_LOGIN_SECRET: '' }));
      expect((await api('POST', '/v1/session', adminLogin())).status).toBe(200);
    }
  });

  test('a malformed devSecret is a validation error, nothing written', async () => {
    const api = sandbox(SECRET);
    expect(codeOf(await api('POST', '/v1/session', adminLogin({ devSecret: '' })))).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
    });
    expect(codeOf(await api('POST', '/v1/session', adminLogin({ devSecret: 'x'.repeat(257) })))).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
    });
  });
});
