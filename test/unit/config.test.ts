import { devLoginFor, loadAvatars, loadConfig, PaymentProviders, Stages, type Stage } from '../../functions/src/config';
import { generateWxPaySimKeys } from '../../scripts/wxpay-sim/keys';

/** A complete environment for `stage` but for PAYMENT_PROVIDER and DEV_LOGIN_SECRET (fixed test values, no deployment's). */
const envFor = (stage: Stage, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => ({
  STAGE: stage,
  TABLE_NAME: `hongbao-${stage}`,
  CODE_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
  SESSION_SECRET: Buffer.alloc(32, 2).toString('base64'),
  WX_APPID: 'wxapp',
  WX_SECRET: 'wxsecret',
  PUBLIC_BASE_URL: 'https://hb.example.cn',
  ...extra,
});

const SECRET = 'dev-login-secret-0123456789abcdefghij'; // 37 chars, a test value

describe('PAYMENT_PROVIDER, every stage', () => {
  const cases: Array<[Stage, string | undefined, 'sandbox' | RegExp]> = [];
  for (const stage of Stages) {
    const realMoney = stage === 'dev' || stage === 'prod';
    cases.push([stage, undefined, realMoney ? /PAYMENT_PROVIDER is required in/ : 'sandbox']);
    cases.push([stage, '', realMoney ? /PAYMENT_PROVIDER is required in/ : 'sandbox']);
    cases.push([stage, 'sandbox', realMoney ? /PAYMENT_PROVIDER sandbox is refused in/ : 'sandbox']);
    cases.push([stage, 'paypal', /unknown PAYMENT_PROVIDER paypal/]);
    cases.push([stage, 'SANDBOX', /unknown PAYMENT_PROVIDER/]);
    cases.push([stage, 'wechatpay', /WXPAY/]);
  }
  test.each(cases)('stage %s, provider %p → %p', (stage, provider, expected) => {
    const env = envFor(stage, { PAYMENT_PROVIDER: provider });
    if (expected instanceof RegExp) expect(() => loadConfig(env)).toThrow(expected);
    else expect(loadConfig(env).paymentProvider).toBe(expected);
  });

  test('wechatpay with its settings starts on every stage', () => {
    const sim = generateWxPaySimKeys();
    const wxpay = {
      WXPAY_MCHID: sim.mchid,
      WXPAY_MCH_SERIAL: sim.merchantSerialNo,
      WXPAY_MCH_PRIVATE_KEY: sim.merchantPrivateKey,
      WXPAY_APIV3_KEY: sim.apiV3Key,
      WXPAY_PLATFORM_KEYS: JSON.stringify({ [sim.platformPublicKeyId]: sim.platformPublicKey }),
      WXPAY_NOTIFY_URL: 'https://api.example.com/v1/pay/wechat/notify',
    };
    for (const stage of Stages)
      expect(loadConfig(envFor(stage, { PAYMENT_PROVIDER: 'wechatpay', ...wxpay })).paymentProvider).toBe('wechatpay');
  });

  test('the known providers are a list (one line to add one)', () => {
    expect(PaymentProviders).toEqual(['sandbox', 'wechatpay']);
  });
});

describe('dev login, every stage', () => {
  const load = (stage: Stage, secret?: string) =>
    loadConfig(envFor(stage, { PAYMENT_PROVIDER: 'sandbox', DEV_LOGIN_SECRET: secret }));

  test.each(['local', 'test'] as const)('%s: open without a secret, guarded with one', (stage) => {
    expect(load(stage).devLogin).toEqual({ mode: 'open' });
    expect(load(stage, SECRET).devLogin).toEqual({ mode: 'secret', secret: Buffer.from(SECRET) });
  });

  test('sandbox (deployed): off without a secret, guarded with one', () => {
    const off = load('sandbox');
    expect(off.devLogin).toEqual({ mode: 'off' });
    expect(off.devFeatures).toBe(true); // test clocks stay (admin only, and no admin without the secret)
    expect(load('sandbox', SECRET).devLogin).toEqual({ mode: 'secret', secret: Buffer.from(SECRET) });
    // A parameter value often ends in a newline.
    expect(load('sandbox', `${SECRET}\n`).devLogin).toEqual({ mode: 'secret', secret: Buffer.from(SECRET) });
  });

  test('a short secret is a configuration error', () => {
    expect(() => load('sandbox', 'x'.repeat(31))).toThrow(/DEV_LOGIN_SECRET/);
  });

  test.each(['dev', 'prod'] as const)('%s: off, even with a secret', (stage) => {
    expect(devLoginFor(stage, SECRET)).toEqual({ mode: 'off' });
    expect(devLoginFor(stage, undefined)).toEqual({ mode: 'off' });
  });
});

test('the code keyring is bound to the stage', () => {
  expect(loadConfig(envFor('sandbox')).codeKeys.stage).toBe('sandbox');
  expect(loadConfig(envFor('test')).codeKeys.stage).toBe('test');
});

describe('avatar storage', () => {
  test('off without AVATAR_BUCKET; a bucket with an optional http(s) stand-in endpoint; bad values refused', () => {
    expect(loadAvatars({})).toBeUndefined();
    expect(loadAvatars({ AVATAR_BUCKET: 'hongbao-avatars-prod', AWS_REGION: 'ap-east-1' })).toEqual({
      bucket: 'hongbao-avatars-prod',
      region: 'ap-east-1',
      endpoint: undefined,
    });
    expect(loadAvatars({ AVATAR_BUCKET: 'b-local', S3_ENDPOINT: 'http://127.0.0.1:3012' })?.endpoint).toBe(
      'http://127.0.0.1:3012',
    );
    expect(() => loadAvatars({ AVATAR_BUCKET: 'Bad_Bucket' })).toThrow(/AVATAR_BUCKET/);
    expect(() => loadAvatars({ AVATAR_BUCKET: '[object Object]' })).toThrow(/AVATAR_BUCKET/);
    expect(() => loadAvatars({ AVATAR_BUCKET: 'b-local', S3_ENDPOINT: 'ftp://x' })).toThrow(/S3_ENDPOINT/);
  });
});

describe('SHARE_LAYOUT', () => {
  test('recorded by default; slots as the way back; anything else refused at start', () => {
    const env = (v?: string) => envFor('test', { PAYMENT_PROVIDER: 'sandbox', SHARE_LAYOUT: v });
    expect(loadConfig(env()).shareLayout).toBe('recorded');
    expect(loadConfig(env('')).shareLayout).toBe('recorded');
    expect(loadConfig(env('recorded')).shareLayout).toBe('recorded');
    expect(loadConfig(env('slots')).shareLayout).toBe('slots');
    expect(() => loadConfig(env('Slots'))).toThrow(/SHARE_LAYOUT/);
    expect(() => loadConfig(env('sharded'))).toThrow(/SHARE_LAYOUT/);
  });
});
