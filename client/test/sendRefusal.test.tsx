import { render, screen } from '@testing-library/react';
import type { CreatePacketResponse } from '../../functions/src/http/contract';
import type { CreatePacketRequest } from '../../functions/src/http/schemas';
import { ApiError } from '../src/api/errors';
import { SendForm } from '../src/components/SendForm';
import type { Limits } from '../src/lib/sendRules';
import { click, field, flush, type } from './helpers';

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
const provider: Limits = { ...enterprise, feeBps: 35 };

const never = () => new Promise<CreatePacketResponse>(() => undefined);
const confirmStep = () => screen.queryByRole('dialog', { name: '确认红包' });
const bigAmount = () => document.querySelector('.confirm__big')?.textContent;
const fieldBox = (label: string) => field(label).closest('.field')!;

function fill(total: string, count: string, greeting?: string) {
  type('总金额（元）', total);
  type('红包个数', count);
  if (greeting !== undefined) type('祝福语', greeting);
  click('塞钱进红包');
}

describe('the fee on the confirm step, before the debit', () => {
  test('enterprise: the fee at the account rate (rounded up) and the total debited', async () => {
    const submit = jest.fn((_b: CreatePacketRequest, _k: string) => never());
    render(<SendForm limits={enterprise} submit={submit} onCreated={jest.fn()} onTopUp={jest.fn()} />);
    fill('1000', '10');
    expect(confirmStep()).toBeTruthy();
    const fee = screen.getByLabelText('手续费');
    expect(fee.textContent).toContain('0.6%'); // the account's rate, from GET /v1/wallet
    expect(fee.textContent).toContain('¥6.00'); // ceil(100000 × 60 / 10000) = 600 fen
    expect(screen.getByLabelText('合计扣款').textContent).toContain('¥1006.00');
    expect(bigAmount()).toBe('1006.00');
    expect(screen.getByText(/不足 1 分按 1 分收取/)).toBeTruthy();
    expect(submit).not.toHaveBeenCalled(); // all of it shown before paying
    click('确认支付');
    await flush();
    // the fee is not part of the packet: the server adds it to the debit
    expect(submit.mock.calls[0]![0]).toEqual({ total: 100_000, count: 10, mode: 'lucky' });
  });

  test('provider: 0.35%, a fraction of a fen is charged as a whole fen', () => {
    render(<SendForm limits={provider} submit={jest.fn(never)} onCreated={jest.fn()} onTopUp={jest.fn()} />);
    fill('12.34', '2');
    expect(screen.getByLabelText('手续费').textContent).toContain('0.35%');
    expect(screen.getByLabelText('手续费').textContent).toContain('¥0.05'); // 1234 × 35 / 10000 = 4.319 → 5
    expect(screen.getByLabelText('合计扣款').textContent).toContain('¥12.39');
  });

  test('personal: no fee line, the debit is the total', () => {
    render(<SendForm limits={personal} submit={jest.fn(never)} onCreated={jest.fn()} onTopUp={jest.fn()} />);
    fill('88.88', '8');
    expect(confirmStep()).toBeTruthy();
    expect(screen.queryByLabelText('手续费')).toBeNull();
    expect(screen.queryByLabelText('合计扣款')).toBeNull();
    expect(bigAmount()).toBe('88.88');
  });

  test('enterprise fee that tips the balance over: flagged before paying', () => {
    render(
      <SendForm
        limits={{ ...enterprise, balance: 100_000 }}
        submit={jest.fn(never)}
        onCreated={jest.fn()}
        onTopUp={jest.fn()}
      />,
    );
    fill('1000', '10');
    expect(screen.getByText(/零钱余额不足，还差 ¥6.00/)).toBeTruthy();
    expect(screen.getByLabelText('确认支付').getAttribute('aria-disabled')).toBe('true');
  });
});

describe('refusals on the send form', () => {
  test('GREETING_REJECTED: the word is named and marked, the greeting field is highlighted until changed', async () => {
    const submit = jest
      .fn((_b: CreatePacketRequest, _k: string): Promise<CreatePacketResponse> => never())
      .mockImplementationOnce(() => Promise.reject(new ApiError('GREETING_REJECTED', 422, { word: '免单' })));
    render(<SendForm limits={enterprise} submit={submit} onCreated={jest.fn()} onTopUp={jest.fn()} />);
    fill('100', '10', '周末到店免单大酬宾');
    click('确认支付');
    await flush();

    const panel = screen.getByRole('alert', { name: '祝福语含有营销用语' });
    expect(panel.textContent).toContain('“免单”');
    expect(screen.getByLabelText('营销用语').textContent).toBe('免单'); // marked inside the greeting shown
    click('修改祝福语');
    expect(confirmStep()).toBeNull();
    expect(screen.getByText('祝福语不能含有“免单”，请删除或修改')).toBeTruthy();
    expect(fieldBox('祝福语').classList.contains('field--error')).toBe(true);
    expect(fieldBox('总金额（元）').classList.contains('field--error')).toBe(false);

    // Not sent again as it is: the server would refuse it again.
    click('塞钱进红包');
    expect(confirmStep()).toBeNull();
    // Still containing the word: still highlighted.
    type('祝福语', '免单！周末快乐');
    expect(fieldBox('祝福语').classList.contains('field--error')).toBe(true);
    type('祝福语', '周末快乐');
    expect(fieldBox('祝福语').classList.contains('field--error')).toBe(false);
    expect(screen.queryByText(/祝福语不能含有/)).toBeNull();
    click('塞钱进红包');
    expect(confirmStep()).toBeTruthy();
    expect(screen.queryByRole('alert', { name: '祝福语含有营销用语' })).toBeNull();
    click('确认支付');
    await flush();
    expect(submit).toHaveBeenCalledTimes(2);
    expect(submit.mock.calls[1]![0].greeting).toBe('周末快乐');
  });

  test('LIMIT_DAILY: what is left today, 修改金额 back to the amount, limits reloaded', async () => {
    const onStale = jest.fn();
    const submit = jest.fn(() =>
      Promise.reject(new ApiError('LIMIT_DAILY', 422, { dailyLimit: 100_000, sentToday: 95_000 })),
    );
    render(<SendForm limits={personal} submit={submit} onCreated={jest.fn()} onTopUp={jest.fn()} onStale={onStale} />);
    fill('100', '1');
    click('确认支付');
    await flush();
    expect(onStale).toHaveBeenCalled();
    expect(screen.getByRole('alert', { name: '超出今日发红包额度' }).textContent).toContain('还可发红包 ¥50.00');
    click('修改金额');
    expect(confirmStep()).toBeNull();
    expect(fieldBox('总金额（元）').classList.contains('field--error')).toBe(true);
    type('总金额（元）', '50');
    expect(fieldBox('总金额（元）').classList.contains('field--error')).toBe(false);
  });

  test('RISK_BLOCKED night freeze on the confirm step: when it lifts, no retry loop', async () => {
    jest.useFakeTimers({ now: new Date('2026-11-27T18:15:00Z') }); // 02:15 in Beijing
    try {
      const submit = jest.fn(() =>
        Promise.reject(
          new ApiError('RISK_BLOCKED', 403, { reason: 'night_velocity', until: '2026-11-27T19:15:00.000Z' }),
        ),
      );
      render(<SendForm limits={personal} submit={submit} onCreated={jest.fn()} onTopUp={jest.fn()} />);
      fill('1', '1');
      click('确认支付');
      await flush();
      expect(screen.getByRole('alert', { name: '付款功能已临时冻结' })).toBeTruthy();
      expect(screen.getByLabelText('恢复时间').textContent).toBe('03:15 后恢复');
      click('知道了');
      expect(screen.queryByRole('alert', { name: '付款功能已临时冻结' })).toBeNull();
      expect(submit).toHaveBeenCalledTimes(1);
    } finally {
      jest.useRealTimers();
    }
  });
});
