import { errorOf, retryAfterOf } from '../src/api/client';
import { ApiError } from '../src/api/errors';
import { feeFor, formatBps } from '../src/lib/money';
import {
  beijingClock,
  countdownText,
  REFUSAL_ACTIONS,
  REFUSAL_CODES,
  refusalOf,
  secondsLeft,
  untilText,
} from '../src/lib/refusal';

const CJK = /[\u4e00-\u9fff]/;
/** 2026-11-28 13:10 Beijing time. */
const NOW = Date.parse('2026-11-28T05:10:00Z');
const err = (code: string, status: number, details?: Record<string, unknown>, retryAfter?: number) =>
  new ApiError(code, status, details, retryAfter);

describe('refusalOf', () => {
  test('every refusal code gets Chinese copy and a next step; other errors are not refusals', () => {
    const status: Record<string, number> = {
      RISK_BLOCKED: 403,
      CODE_FROZEN: 423,
      DEVICE_LIMIT: 403,
      RATE_LIMITED: 429,
      GREETING_REJECTED: 422,
      LIMIT_PER_PACKET: 422,
      LIMIT_DAILY: 422,
      INSUFFICIENT_FUNDS: 402,
      FORBIDDEN: 403,
      GROUP_ONLY: 403,
    };
    expect([...REFUSAL_CODES].sort()).toEqual(Object.keys(status).sort());
    for (const code of REFUSAL_CODES) {
      for (const op of [undefined, 'packet', 'transfer', 'claim', 'code', 'topup', 'login'] as const) {
        const r = refusalOf(err(code, status[code]!), { op, now: NOW })!;
        expect(r.code).toBe(code);
        expect(r.title).toMatch(CJK);
        expect(r.body).toMatch(CJK);
        expect(r.body).not.toContain('undefined');
        expect(r.body).not.toContain('NaN');
        expect(r.action.label).toBe(REFUSAL_ACTIONS[r.action.kind]);
      }
    }
    expect(refusalOf(err('PACKET_FINISHED', 409))).toBeUndefined();
    expect(refusalOf(err('NETWORK_ERROR', 0))).toBeUndefined();
    expect(refusalOf(new Error('RISK_BLOCKED'))).toBeUndefined();
    expect(refusalOf(undefined)).toBeUndefined();
  });

  test('RISK_BLOCKED without details: the blacklist, 联系客服, no end time', () => {
    const r = refusalOf(err('RISK_BLOCKED', 403), { op: 'transfer', now: NOW })!;
    expect(r.title).toBe('账户暂时无法使用资金功能');
    expect(r.body).toContain('联系客服');
    expect(r.action).toEqual({ kind: 'contact', label: '联系客服' });
    expect(r.until).toBeUndefined();
    expect(r.untilText).toBeUndefined();
  });

  test('RISK_BLOCKED night_velocity: frozen 1 h, lifts at HH:mm Beijing time', () => {
    const now = Date.parse('2026-11-27T18:15:00Z'); // 02:15 in Beijing
    const r = refusalOf(err('RISK_BLOCKED', 403, { reason: 'night_velocity', until: '2026-11-27T19:15:00.000Z' }), {
      op: 'packet',
      now,
    })!;
    expect(r.title).toBe('付款功能已临时冻结');
    expect(r.body).toContain('10 元以下');
    expect(r.body).toContain('10 笔');
    expect(r.body).toContain('冻结 1 小时');
    expect(r.until).toBe(Date.parse('2026-11-27T19:15:00Z'));
    expect(r.untilText).toBe('03:15 后恢复');
    expect(r.action.kind).toBe('dismiss');
  });

  test('RISK_BLOCKED device_binding: restricted 7 days, the date is shown', () => {
    const r = refusalOf(err('RISK_BLOCKED', 403, { reason: 'device_binding', until: '2026-12-05T05:10:00Z' }), {
      op: 'transfer',
      now: NOW,
    })!;
    expect(r.title).toBe('这台设备的付款功能受限');
    expect(r.body).toContain('7 天');
    expect(r.untilText).toBe('12月5日 13:10 后恢复');
    expect(r.action.kind).toBe('contact');
  });

  test('CODE_FROZEN: the receive code, HH:mm (rounded up to the minute), nothing debited', () => {
    const r = refusalOf(err('CODE_FROZEN', 423, { until: '2026-11-28T06:05:30Z' }), { op: 'transfer', now: NOW })!;
    expect(r.title).toBe('这个收款码已临时冻结');
    expect(r.body).toContain('相同金额');
    expect(r.body).toContain('没有扣款');
    expect(r.untilText).toBe('14:06 后恢复');
    expect(r.action).toEqual({ kind: 'dismiss', label: '知道了' });
  });

  test('DEVICE_LIMIT: at login names the limit and offers another account; at payment 联系客服', () => {
    const login = refusalOf(err('DEVICE_LIMIT', 403, { maxAccounts: 3 }), { op: 'login', now: NOW })!;
    expect(login.title).toBe('这台设备不能再登录新账号');
    expect(login.body).toContain('7 天内最多使用 3 个账号');
    expect(login.action.kind).toBe('switchAccount');
    const pay = refusalOf(err('DEVICE_LIMIT', 403, { maxAccounts: 3 }), { op: 'transfer', now: NOW })!;
    expect(pay.body).toContain('3 个账号');
    expect(pay.body).toContain('付款');
    expect(pay.action.kind).toBe('contact');
    // no number invented when the server gives none
    expect(refusalOf(err('DEVICE_LIMIT', 403), { op: 'login' })!.body).not.toMatch(/\d 个账号/);
  });

  test('RATE_LIMITED: retryAfter from the error (header or details), per place', () => {
    const claim = refusalOf(err('RATE_LIMITED', 429, { retryAfter: 42 }), { op: 'claim' })!;
    expect(claim.title).toBe('领取太频繁了');
    expect(claim.retryAfter).toBe(42);
    expect(claim.action).toEqual({ kind: 'retry', label: '再试一次' });
    const code = refusalOf(err('RATE_LIMITED', 429, undefined, 7), { op: 'code' })!;
    expect(code.title).toBe('二维码刷新太频繁');
    expect(code.retryAfter).toBe(7);
    // the header wins over the body
    expect(refusalOf(err('RATE_LIMITED', 429, { retryAfter: 42 }, 9))!.retryAfter).toBe(9);
    // no wait known: no countdown
    expect(refusalOf(err('RATE_LIMITED', 429))!.retryAfter).toBeUndefined();
  });

  test('GREETING_REJECTED: says which word, points at the greeting', () => {
    const r = refusalOf(err('GREETING_REJECTED', 422, { word: '全额返现' }), { op: 'packet' })!;
    expect(r.title).toBe('祝福语含有营销用语');
    expect(r.body).toContain('“全额返现”');
    expect(r.word).toBe('全额返现');
    expect(r.field).toBe('greeting');
    expect(r.action).toEqual({ kind: 'editGreeting', label: '修改祝福语' });
    expect(refusalOf(err('GREETING_REJECTED', 422))!.word).toBeUndefined();
  });

  test('LIMIT_PER_PACKET: the limit in yuan, or the lucky-share cap without details', () => {
    const r = refusalOf(err('LIMIT_PER_PACKET', 422, { perPacketLimit: 200_000 }), { op: 'packet' })!;
    expect(r.body).toContain('单个红包最多 ¥2000.00');
    expect(r.action).toEqual({ kind: 'editAmount', label: '修改金额' });
    expect(r.field).toBe('amount');
    expect(refusalOf(err('LIMIT_PER_PACKET', 422), { op: 'packet' })!.body).toContain('¥200.00');
    expect(refusalOf(err('LIMIT_PER_PACKET', 422, { perPacketLimit: 20_000 }), { op: 'transfer' })!.body).toContain(
      '单笔付款最多 ¥200.00',
    );
  });

  test('LIMIT_DAILY: the day limit, what was used and what is left, in yuan', () => {
    const r = refusalOf(err('LIMIT_DAILY', 422, { dailyLimit: 100_000, sentToday: 95_050 }), { op: 'packet' })!;
    expect(r.title).toBe('超出今日发红包额度');
    expect(r.body).toBe('今日额度 ¥1000.00，已用 ¥950.50，还可发红包 ¥49.50。请修改金额。');
    const used = refusalOf(err('LIMIT_DAILY', 422, { dailyLimit: 100_000, sentToday: 100_000 }), { op: 'transfer' })!;
    expect(used.title).toBe('超出今日付款额度');
    expect(used.body).toContain('已用完');
    expect(used.body).toContain('北京时间 0 点');
  });

  test('INSUFFICIENT_FUNDS: how much is missing, 去充值', () => {
    const r = refusalOf(err('INSUFFICIENT_FUNDS', 402, { balance: 1_000, needed: 1_006 }), { op: 'packet' })!;
    expect(r.title).toBe('零钱余额不足');
    expect(r.body).toBe('需支付 ¥10.06，零钱余额 ¥10.00，还差 ¥0.06。请先充值。');
    expect(r.action).toEqual({ kind: 'topUp', label: '去充值' });
    expect(refusalOf(err('INSUFFICIENT_FUNDS', 402, { balance: 500 }), { op: 'transfer' })!.body).toContain(
      '零钱余额 ¥5.00',
    );
  });

  test('FORBIDDEN: a packet not for you, the sender-only QR, no permission', () => {
    expect(refusalOf(err('FORBIDDEN', 403), { op: 'claim' })!.title).toBe('这个红包你不能领取');
    expect(refusalOf(err('FORBIDDEN', 403), { op: 'code' })!.body).toContain('只有发红包的人');
    // The forward bound: its own copy, with the number from the details.
    const bound = refusalOf(err('FORBIDDEN', 403, { maxForwards: 10 }), { op: 'code' })!;
    expect({ title: bound.title, action: bound.action.kind }).toEqual({ title: '转发次数已达上限', action: 'dismiss' });
    expect(bound.body).toContain('最多可以转发 10 次');
    expect(refusalOf(err('FORBIDDEN', 403), { op: 'topup' })!.action.kind).toBe('contact');
  });

  test('malformed details are ignored, never rendered', () => {
    const r = refusalOf(err('LIMIT_DAILY', 422, { dailyLimit: '1000', sentToday: 1.5 }), { op: 'packet' })!;
    expect(r.body).not.toContain('¥');
    const f = refusalOf(err('CODE_FROZEN', 423, { until: 'soon' }))!;
    expect(f.untilText).toBeUndefined();
  });
});

describe('times and countdowns', () => {
  test('Beijing time whatever the device time zone; across midnight the date is shown', () => {
    expect(beijingClock(Date.parse('2026-11-28T16:00:00Z'))).toBe('00:00');
    expect(beijingClock(Date.parse('2026-11-28T15:59:01Z'))).toBe('00:00'); // rounded up
    const now = Date.parse('2026-11-28T15:30:00Z'); // 23:30 in Beijing
    expect(untilText(Date.parse('2026-11-28T15:50:00Z'), now)).toBe('23:50 后恢复');
    expect(untilText(Date.parse('2026-11-28T16:30:00Z'), now)).toBe('11月29日 00:30 后恢复');
    expect(untilText(now - 1, now)).toBe('已恢复，可以再试一次');
  });

  test('countdown text and seconds left', () => {
    expect(countdownText(45)).toBe('45 秒');
    expect(countdownText(125)).toBe('2 分 05 秒');
    expect(countdownText(-3)).toBe('0 秒');
    expect(secondsLeft(10_500, 10_000)).toBe(1);
    expect(secondsLeft(70_000, 10_000)).toBe(60);
    expect(secondsLeft(9_000, 10_000)).toBe(0);
  });
});

describe('the API client carries Retry-After to the error', () => {
  const body = (details?: Record<string, unknown>) => ({
    error: { code: 'RATE_LIMITED', message: '领取过于频繁，请稍后再试', ...(details ? { details } : {}) },
  });

  test('the header in any letter case, seconds or an HTTP date', () => {
    expect(retryAfterOf({ 'retry-after': '30' })).toBe(30);
    expect(retryAfterOf({ 'Retry-After': 12 })).toBe(12);
    const now = Date.parse('2026-11-28T05:10:00Z');
    expect(retryAfterOf({ 'RETRY-AFTER': 'Sat, 28 Nov 2026 05:10:45 GMT' }, now)).toBe(45);
    expect(retryAfterOf({ 'retry-after': 'later' })).toBeUndefined();
    expect(retryAfterOf({})).toBeUndefined();
    expect(retryAfterOf(undefined)).toBeUndefined();
  });

  test('errorOf: code, details and retryAfter (header first, then details)', () => {
    const e = errorOf(429, body({ retryAfter: 20, limit: 20 }), { 'retry-after': '18' });
    expect(e).toBeInstanceOf(ApiError);
    expect(e.code).toBe('RATE_LIMITED');
    expect(e.status).toBe(429);
    expect(e.details).toEqual({ retryAfter: 20, limit: 20 });
    expect(e.retryAfter).toBe(18);
    // a browser that cannot read the header (CORS) still gets the body's value
    expect(errorOf(429, body({ retryAfter: 20 }), { 'content-type': 'application/json' }).retryAfter).toBe(20);
    expect(errorOf(429, body()).retryAfter).toBeUndefined();
    expect(errorOf(502, 'Bad gateway').code).toBe('INTERNAL');
    expect(errorOf(404, 'nope').code).toBe('BAD_RESPONSE');
  });
});

describe('the fee', () => {
  test('ceil(total × feeBps / 10000), exact for large amounts too', () => {
    expect(feeFor(1_000, 60)).toBe(6);
    expect(feeFor(999, 60)).toBe(6); // 5.994 → 6
    expect(feeFor(10_000, 60)).toBe(60);
    expect(feeFor(10_001, 60)).toBe(61);
    expect(feeFor(200_000, 100)).toBe(2_000);
    expect(feeFor(12_345, 35)).toBe(44); // 43.2075 → 44
    expect(feeFor(1_000, 0)).toBe(0);
    // total × bps leaves the exact range of a float product here (the naive formula gives
    // …591); the split keeps it exact: ceil(9007199254740000 × 35 / 10000) = 31525197391590
    expect(feeFor(9_007_199_254_740_000, 35)).toBe(31_525_197_391_590);
  });

  test('the rate as a percentage', () => {
    expect(formatBps(60)).toBe('0.6%');
    expect(formatBps(35)).toBe('0.35%');
    expect(formatBps(100)).toBe('1%');
    expect(formatBps(80)).toBe('0.8%');
  });
});
