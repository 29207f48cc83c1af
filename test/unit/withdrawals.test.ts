/**
 * Withdrawals' pure rules (domain/withdrawals.ts) and the WeChat Pay settings block of
 * config.ts: limits, fee, ids that are also bill numbers, bill states, the confirm window, and
 * configuration that is all or nothing with keys checked once.
 */
import { loadWeChatPay } from '../../functions/src/config';
import { policyFor } from '../../functions/src/domain/money';
import {
  CONFIRM_WINDOW_MS,
  POLL_INTERVAL_MS,
  confirmWindowOver,
  nextCheckAt,
  outBillNoOf,
  stateOfBill,
  withdrawalFee,
  withdrawalId,
  withdrawalLimitProblem,
} from '../../functions/src/domain/withdrawals';
import { generateWxPaySimKeys } from '../../scripts/wxpay-sim/keys';
import { redact } from '../../functions/src/log';

const policy = policyFor('personal').withdrawal;

describe('withdrawal rules', () => {
  it('1.00–200.00 yuan a withdrawal and 2,000 yuan a day, edges included', () => {
    expect(withdrawalLimitProblem(100, policy, 0)).toBeUndefined();
    expect(withdrawalLimitProblem(20_000, policy, 0)).toBeUndefined();
    expect(withdrawalLimitProblem(20_000, policy, 180_000)).toBeUndefined();
    for (const amount of [0, 10, 99, 20_001, 100.5, Number.NaN])
      expect(withdrawalLimitProblem(amount, policy, 0)).toBeDefined();
    expect(withdrawalLimitProblem(100, policy, 199_901)?.details).toEqual({
      dailyLimit: 200_000,
      withdrawnToday: 199_901,
    });
  });

  it('no fee by default in every tier; a fee is rounded up to the fen', () => {
    for (const tier of ['personal', 'enterprise', 'provider'] as const)
      expect(withdrawalFee(20_000, policyFor(tier).withdrawal)).toBe(0);
    expect(withdrawalFee(10_001, { ...policy, feeBps: 10 })).toBe(11);
  });

  it('the id is 32 letters and digits, the same for the same key, and it is the bill number', () => {
    const a = withdrawalId('u1', 'k1');
    expect(a).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(withdrawalId('u1', 'k1')).toBe(a);
    expect(withdrawalId('u1', 'k2')).not.toBe(a);
    expect(withdrawalId('u2', 'k1')).not.toBe(a);
    expect(outBillNoOf(a)).toBe(a);
  });

  it("WeChat's bill states: only SUCCESS, FAIL and CANCELLED are final; CANCELING is still open", () => {
    expect(
      ['SUCCESS', 'FAIL', 'CANCELLED', 'WAIT_USER_CONFIRM', 'ACCEPTED', 'PROCESSING', 'TRANSFERING', 'CANCELING'].map(
        (s) => stateOfBill(s as never),
      ),
    ).toEqual([
      'success',
      'failed',
      'canceled',
      'wait_user_confirm',
      'processing',
      'processing',
      'processing',
      'processing',
    ]);
  });

  it('the sweeper polls, but never past the 24-hour window', () => {
    const created = Date.parse('2026-12-01T00:00:00Z');
    expect(nextCheckAt(created, created)).toBe(created + POLL_INTERVAL_MS);
    expect(nextCheckAt(created + CONFIRM_WINDOW_MS - 1_000, created)).toBe(created + CONFIRM_WINDOW_MS);
    expect(confirmWindowOver(created + CONFIRM_WINDOW_MS - 1, created)).toBe(false);
    expect(confirmWindowOver(created + CONFIRM_WINDOW_MS, created)).toBe(true);
  });
});

describe('WeChat Pay settings (config.ts)', () => {
  const keys = generateWxPaySimKeys();
  const env = {
    WXPAY_MCHID: keys.mchid,
    WXPAY_APPID: keys.appid,
    WXPAY_MCH_SERIAL: keys.merchantSerialNo,
    WXPAY_MCH_PRIVATE_KEY: keys.merchantPrivateKey,
    WXPAY_APIV3_KEY: keys.apiV3Key,
    WXPAY_PLATFORM_KEYS: JSON.stringify({ [keys.platformPublicKeyId]: keys.platformPublicKey }),
    WXPAY_NOTIFY_URL: 'https://api.example.com/v1/pay/wechat/notify',
  };

  it('none set → not configured; all set → the settings, with defaults', () => {
    expect(loadWeChatPay({})).toBeUndefined();
    expect(loadWeChatPay(env)).toMatchObject({
      baseUrl: 'https://api.mch.weixin.qq.com',
      mchid: keys.mchid,
      appid: keys.appid,
      transferSceneId: '1000',
      notifyUrl: env.WXPAY_NOTIFY_URL,
    });
    const { WXPAY_APPID: _drop, ...noAppid } = env;
    expect(loadWeChatPay({ ...noAppid, WX_APPID: 'wxfromlogin' })?.appid).toBe('wxfromlogin');
  });

  it('partly set, a malformed key list, a bad key or a bad URL throws (at cold start, not at the first withdrawal)', () => {
    const { WXPAY_APIV3_KEY: _k, ...partial } = env;
    expect(() => loadWeChatPay(partial)).toThrow(/partly configured; missing WXPAY_APIV3_KEY/);
    expect(() => loadWeChatPay({ ...env, WXPAY_PLATFORM_KEYS: '["x"]' })).toThrow(/WXPAY_PLATFORM_KEYS/);
    expect(() => loadWeChatPay({ ...env, WXPAY_APIV3_KEY: 'short' })).toThrow(/keys refused/);
    expect(() => loadWeChatPay({ ...env, WXPAY_MCH_PRIVATE_KEY: 'not a pem' })).toThrow(/keys refused/);
    expect(() => loadWeChatPay({ ...env, WXPAY_PLATFORM_KEYS: '{}' })).toThrow(/keys refused/);
    expect(() => loadWeChatPay({ ...env, WXPAY_NOTIFY_URL: 'ftp://x' })).toThrow(/WXPAY_NOTIFY_URL/);
    const { WXPAY_APPID: _a, ...noAppid } = env;
    expect(() => loadWeChatPay(noAppid)).toThrow(/WXPAY_APPID/);
  });
});

describe('logs', () => {
  it('mask an openid field, keep a withdrawal id whole', () => {
    const openid = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o';
    const id = withdrawalId('u1', 'k1');
    const out = JSON.stringify(redact({ openid, withdrawalId: id }));
    expect(out).not.toContain(openid);
    expect(out).toContain(id);
  });
});
