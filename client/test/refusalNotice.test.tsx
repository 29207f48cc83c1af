import { act, render, screen } from '@testing-library/react';
import { useMemo, useState } from 'react';
import { ApiError } from '../src/api/errors';
import { RefusalNotice } from '../src/components/RefusalNotice';
import { refusalOf } from '../src/lib/refusal';
import { click } from './helpers';

const advance = async (ms: number) => {
  await act(async () => {
    await jest.advanceTimersByTimeAsync(ms);
  });
};
const disabled = (label: string) => screen.getByLabelText(label).getAttribute('aria-disabled') === 'true';

describe('RefusalNotice', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2026-11-28T05:10:00Z') });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  test('RATE_LIMITED: a countdown that re-enables 再试一次 when it reaches 0', async () => {
    const retry = jest.fn();
    const refusal = refusalOf(new ApiError('RATE_LIMITED', 429, { retryAfter: 3 }), { op: 'claim' })!;
    render(<RefusalNotice refusal={refusal} on={{ retry }} />);

    const panel = screen.getByRole('alert', { name: '领取太频繁了' });
    expect(panel.textContent).toContain('1 分钟内领取红包的次数太多');
    expect(screen.getByLabelText('重试倒计时').textContent).toBe('3 秒后可再试');
    expect(disabled('再试一次')).toBe(true);
    click('再试一次');
    expect(retry).not.toHaveBeenCalled(); // disabled: the click does nothing

    await advance(1_000);
    expect(screen.getByLabelText('重试倒计时').textContent).toBe('2 秒后可再试');
    await advance(1_000);
    expect(screen.getByLabelText('重试倒计时').textContent).toBe('1 秒后可再试');
    expect(disabled('再试一次')).toBe(true);
    await advance(1_000);
    expect(screen.getByLabelText('重试倒计时').textContent).toBe('现在可以再试一次');
    expect(disabled('再试一次')).toBe(false);
    click('再试一次');
    expect(retry).toHaveBeenCalledTimes(1);
  });

  test('a new refusal restarts the countdown; a re-render with the same one does not', async () => {
    let again: () => void = () => undefined;
    let rerender: () => void = () => undefined;
    // biome-ignore lint/correctness/noComponentHookFactories: a test host that hands its setters out to the test body.
    function Host() {
      const [n, setN] = useState(0);
      const [, setTick] = useState(0);
      again = () => setN((x) => x + 1);
      rerender = () => setTick((x) => x + 1);
      // biome-ignore lint/correctness/useExhaustiveDependencies: `n` stands for a new refusal arriving; the test needs a new object exactly then.
      const refusal = useMemo(
        () => refusalOf(new ApiError('RATE_LIMITED', 429, { retryAfter: 5 }), { op: 'code' })!,
        [n],
      );
      return <RefusalNotice refusal={refusal} on={{ retry: jest.fn() }} />;
    }
    render(<Host />);
    await advance(3_000);
    act(() => rerender());
    expect(screen.getByLabelText('重试倒计时').textContent).toBe('2 秒后可再试');
    act(() => again());
    expect(screen.getByLabelText('重试倒计时').textContent).toBe('5 秒后可再试');
    expect(disabled('再试一次')).toBe(true);
  });

  test("a freeze: when it lifts in Beijing time, and the page's next step", () => {
    const dismiss = jest.fn();
    const refusal = refusalOf(
      new ApiError('RISK_BLOCKED', 403, { reason: 'night_velocity', until: '2026-11-27T19:15:00Z' }),
      {
        op: 'transfer',
        now: Date.parse('2026-11-27T18:15:00Z'),
      },
    )!;
    render(<RefusalNotice refusal={refusal} on={{ dismiss }} />);
    expect(screen.getByRole('alert', { name: '付款功能已临时冻结' })).toBeTruthy();
    expect(screen.getByLabelText('恢复时间').textContent).toBe('03:15 后恢复');
    expect(screen.queryByLabelText('重试倒计时')).toBeNull();
    click('知道了');
    expect(dismiss).toHaveBeenCalledTimes(1);
  });

  test('the blacklist: 联系客服 (on H5 a pointer to the mini-program), no button the page cannot handle', () => {
    render(<RefusalNotice refusal={refusalOf(new ApiError('RISK_BLOCKED', 403), { op: 'packet' })!} />);
    const panel = screen.getByRole('alert', { name: '账户暂时无法使用资金功能' });
    expect(panel.textContent).toContain('联系客服');
    expect(screen.queryByRole('button')).toBeNull();
  });

  test('a step the page handles is a labelled button', () => {
    const topUp = jest.fn();
    render(
      <RefusalNotice
        refusal={refusalOf(new ApiError('INSUFFICIENT_FUNDS', 402, { balance: 100, needed: 1_006 }))!}
        on={{ topUp }}
      />,
    );
    expect(screen.getByRole('alert', { name: '零钱余额不足' }).textContent).toContain('还差 ¥9.06');
    click('去充值');
    expect(topUp).toHaveBeenCalledTimes(1);
  });
});
