import { render, screen } from '@testing-library/react';
import type { CreatePacketResponse } from '../../functions/src/http/contract';
import type { CreatePacketRequest } from '../../functions/src/http/schemas';
import { ApiError } from '../src/api/errors';
import { SendForm } from '../src/components/SendForm';
import { applyScene, checkSend, EMPTY_FORM, SCENES, type Limits } from '../src/lib/sendRules';
import { click, flush, type } from './helpers';

const personal: Limits = {
  balance: 100_000,
  perPacketLimit: 20_000,
  dailyLimit: 100_000,
  sentToday: 0,
  feeBps: 0,
  maxShares: 100,
};
const enterprise: Limits = {
  balance: 10_000_000,
  perPacketLimit: 200_000,
  dailyLimit: 5_000_000,
  sentToday: 0,
  feeBps: 60,
  maxShares: 1000,
};

const form = (patch: Partial<typeof EMPTY_FORM>) => ({ ...EMPTY_FORM, ...patch });

describe('send rules', () => {
  test('a valid lucky packet gives the request body in fen', () => {
    const c = checkSend(form({ totalYuan: '9.99', count: '3', greeting: ' 端午快乐 ' }), personal);
    expect(c.errors).toEqual({});
    expect(c.ready).toEqual({
      body: { total: 999, count: 3, mode: 'lucky', greeting: '端午快乐' },
      fee: 0,
      debit: 999,
    });
  });

  test('per-packet limit, daily limit, max shares, at least 1 fen a share', () => {
    expect(checkSend(form({ totalYuan: '200.01', count: '1' }), personal).errors.total).toBe('单个红包最多 ¥200.00');
    expect(checkSend(form({ totalYuan: '150', count: '1' }), { ...personal, sentToday: 90_000 }).errors.total).toBe(
      '今日还可发 ¥100.00',
    );
    expect(checkSend(form({ totalYuan: '1', count: '1' }), { ...personal, sentToday: 100_000 }).errors.total).toBe(
      '今日发红包额度已用完',
    );
    expect(checkSend(form({ totalYuan: '10', count: '101' }), personal).errors.count).toBe('一次最多发 100 个红包');
    expect(checkSend(form({ totalYuan: '0.02', count: '3' }), personal).errors.total).toMatch(/每个红包至少 0.01 元/);
    expect(checkSend(form({ totalYuan: '0', count: '1' }), personal).errors.total).toBe('金额至少 0.01 元');
    expect(checkSend(form({ totalYuan: '1', count: '0' }), personal).errors.count).toBe('红包个数至少 1 个');
    expect(checkSend(form({ totalYuan: '1', count: '2.5' }), personal).errors.count).toBe('红包个数须为整数');
  });

  test('equal split must divide; the nearest amounts are suggested', () => {
    const c = checkSend(form({ mode: 'equal', totalYuan: '10', count: '3' }), personal);
    expect(c.errors.total).toBe('普通红包的总金额须能被个数整除，可改为 ¥9.99 或 ¥10.02');
    expect(checkSend(form({ mode: 'equal', totalYuan: '9.99', count: '3' }), personal).ready?.body).toEqual({
      total: 999,
      count: 3,
      mode: 'equal',
    });
  });

  test('a lucky share is at most 200 yuan, whatever the tier', () => {
    expect(checkSend(form({ totalYuan: '1000', count: '4' }), enterprise).errors.total).toBe(
      '拼手气红包每个最多 ¥200.00，请增加个数',
    );
    expect(checkSend(form({ totalYuan: '1000', count: '5' }), enterprise).errors).toEqual({});
    // equal shares are not capped at 200 yuan per share (only by the packet limit)
    expect(checkSend(form({ mode: 'equal', totalYuan: '1000', count: '4' }), enterprise).errors).toEqual({});
  });

  test('the fee is rounded up and added to the debit; insufficient funds flagged', () => {
    const c = checkSend(form({ totalYuan: '9.99', count: '1' }), { ...enterprise, balance: 1000 });
    expect(c.ready).toMatchObject({ fee: 6, debit: 1005 });
    expect(c.insufficient).toBe(true);
  });

  test('greeting: 50 characters at most', () => {
    expect(checkSend(form({ greeting: '福'.repeat(51) }), personal).errors.greeting).toBe('祝福语最多 50 个字');
    expect(checkSend(form({ greeting: '福'.repeat(50) }), personal).errors.greeting).toBeUndefined();
  });

  test('only typed fields are checked until submit', () => {
    expect(checkSend(EMPTY_FORM, personal).errors).toEqual({});
    expect(checkSend(EMPTY_FORM, personal, true).errors).toEqual({ total: '请输入金额', count: '请输入红包个数' });
  });

  test('wedding preset: 200–500 yuan clamped to the tier limit', () => {
    const wedding = SCENES.find((s) => s.scene === 'wedding')!;
    expect(applyScene(wedding, personal, EMPTY_FORM)).toMatchObject({
      scene: 'wedding',
      totalYuan: '200',
      count: '1',
      mode: 'equal',
    });
    const big = applyScene(wedding, enterprise, EMPTY_FORM);
    const total = Number(big.totalYuan);
    expect(total).toBeGreaterThanOrEqual(200);
    expect(total).toBeLessThanOrEqual(500);
    // and by what is left today
    expect(applyScene(wedding, { ...personal, sentToday: 95_000 }, EMPTY_FORM).totalYuan).toBe('50');
    for (const s of SCENES) expect(checkSend(applyScene(s, personal, EMPTY_FORM), personal).errors).toEqual({});
  });
});

function created(body: CreatePacketRequest): CreatePacketResponse {
  const now = new Date().toISOString();
  const code = {
    code: 'c1',
    link: 'http://localhost:10086/o/c1',
    kind: 'live' as const,
    issuedAt: now,
    expiresAt: now,
  };
  return {
    packet: {
      id: 'p1',
      sender: { id: 'u', name: 'A' },
      total: body.total,
      count: body.count,
      mode: body.mode,
      greeting: body.greeting ?? '',
      scene: 'none',
      status: 'active',
      claimedCount: 0,
      claimedAmount: 0,
      refundedAmount: 0,
      createdAt: now,
      expiresAt: now,
    },
    code,
    shareCode: { ...code, kind: 'share' },
    fee: 0,
  };
}

describe('the send form', () => {
  test('inline validation as typed, a confirm step with the fee, one request per click', async () => {
    let resolve: (r: CreatePacketResponse) => void = () => undefined;
    const submit = jest.fn(
      (body: CreatePacketRequest) => new Promise<CreatePacketResponse>((r) => (resolve = () => r(created(body)))),
    );
    const onCreated = jest.fn();
    render(
      <SendForm
        limits={{ ...enterprise, balance: 100_000 }}
        submit={submit}
        onCreated={onCreated}
        onTopUp={jest.fn()}
      />,
    );

    type('总金额（元）', '12.345');
    expect(screen.getByText('金额最多两位小数')).toBeTruthy();
    type('总金额（元）', '2001');
    expect(screen.getByText('单个红包最多 ¥2000.00')).toBeTruthy();
    type('总金额（元）', '10');
    type('红包个数', '3');
    click('普通红包');
    expect(screen.getByText(/须能被个数整除/)).toBeTruthy();
    click('拼手气红包');
    type('祝福语', '恭喜');

    click('塞钱进红包');
    expect(screen.getByLabelText('手续费').textContent).toContain('¥0.06'); // ceil(1000 × 60 / 10000)
    click('确认支付');
    click('确认支付'); // a double tap sends nothing more
    expect(submit).toHaveBeenCalledTimes(1);
    expect(submit.mock.calls[0]![0]).toEqual({ total: 1000, count: 3, mode: 'lucky', greeting: '恭喜' });
    resolve(created(submit.mock.calls[0]![0]));
    await flush();
    expect(onCreated).toHaveBeenCalledTimes(1);
  });

  test('a lost answer keeps the idempotency key for the retry; a refusal does not', async () => {
    const keys: string[] = [];
    const outcomes: Array<() => Promise<CreatePacketResponse>> = [
      () => Promise.reject(new ApiError('NETWORK_ERROR', 0)),
      () => Promise.reject(new ApiError('RATE_LIMITED', 429)),
      () => Promise.reject(new ApiError('INSUFFICIENT_FUNDS', 402)),
      () => Promise.resolve(created({ total: 500, count: 1, mode: 'lucky' })),
    ];
    const submit = jest.fn((_body: CreatePacketRequest, key: string) => {
      keys.push(key);
      return outcomes.shift()!();
    });
    render(<SendForm limits={personal} submit={submit} onCreated={jest.fn()} onTopUp={jest.fn()} />);
    type('总金额（元）', '5');
    type('红包个数', '1');
    click('塞钱进红包');
    click('确认支付');
    await flush();
    expect(screen.getByText(/网络不给力/)).toBeTruthy();
    click('确认支付');
    await flush();
    click('确认支付');
    await flush();
    // the refusal's own panel, with the next step
    expect(screen.getByRole('alert', { name: '零钱余额不足' }).textContent).toContain('请先充值');
    expect(screen.getByLabelText('去充值')).toBeTruthy();
    click('确认支付');
    await flush();
    expect(keys).toHaveLength(4);
    expect(keys[0]).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(keys[1]).toBe(keys[0]); // retried after no answer: same key
    expect(keys[2]).toBe(keys[0]); // 429 is retryable too
    expect(keys[3]).not.toBe(keys[0]); // after a refusal: a new action
  });

  test('scene presets fill the form, clamped to the limits', () => {
    render(<SendForm limits={personal} submit={jest.fn()} onCreated={jest.fn()} onTopUp={jest.fn()} />);
    click('婚礼');
    expect(screen.getByLabelText('婚礼').getAttribute('aria-pressed')).toBe('true');
    expect(document.querySelector('.send__big')!.textContent).toBe('200.00');
    click('新年');
    expect(document.querySelector('.send__big')!.textContent).toBe('88.88');
    click('塞钱进红包');
    expect(screen.getByLabelText('确认支付')).toBeTruthy();
  });

  test('the confirm step offers a top-up when the balance is short', () => {
    const onTopUp = jest.fn();
    render(
      <SendForm limits={{ ...personal, balance: 500 }} submit={jest.fn()} onCreated={jest.fn()} onTopUp={onTopUp} />,
    );
    type('总金额（元）', '9.99');
    type('红包个数', '3');
    click('塞钱进红包');
    expect(screen.getByText(/零钱余额不足，还差 ¥4.99/)).toBeTruthy();
    click('去充值');
    expect(onTopUp).toHaveBeenCalled();
  });
});
