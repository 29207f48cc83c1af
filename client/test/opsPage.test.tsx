import { act, render, screen, within } from '@testing-library/react';
import type { OpsMinute, OpsResponse } from '../src/api';
import { ApiError } from '../src/api/errors';
import { saveSession } from '../src/api/session';
import { formatYuan } from '../src/lib/money';
import HomePage from '../src/pages/home/index';
import OpsPage from '../src/ops/index';
import { click, flush } from './helpers';

/** Taro's page hooks (wired by the H5 build, absent under jest) stubbed; the API too. */
jest.mock('@tarojs/taro', () =>
  require('./taroMock').taroWith({
    useDidShow: () => undefined,
    useDidHide: () => undefined,
    usePullDownRefresh: () => undefined,
  }),
);

/** uPlot replaced by a fake that records what the chart component does with it. */
interface FakePlot {
  opts: { width: number; height: number; series: { label?: string }[] };
  data: unknown[][];
  el: HTMLElement;
  width: number;
  setData: jest.Mock;
  setSize: jest.Mock;
  destroy: jest.Mock;
}
const mockPlots: FakePlot[] = [];
jest.mock('uplot', () => {
  class Fake {
    opts: unknown;
    data: unknown;
    el: unknown;
    width: number;
    setData = jest.fn();
    setSize = jest.fn();
    destroy = jest.fn();
    constructor(opts: { width: number }, data: unknown, el: unknown) {
      this.opts = opts;
      this.data = data;
      this.el = el;
      this.width = opts.width;
      mockPlots.push(this as unknown as FakePlot);
    }
  }
  return { __esModule: true, default: Fake };
});

const mockApi = {
  ops: jest.fn<Promise<OpsResponse>, [number?]>(),
  wallet: jest.fn(async () => ({ balance: 10_000, sentToday: 0, dailyLimit: 2_000_000, perPacketLimit: 20_000 })),
};
jest.mock('../src/api', () => ({
  get api() {
    return mockApi;
  },
}));

const NOW = '2026-11-28T08:30:20.000Z';
const FIRST_MINUTE = Date.parse('2026-11-28T08:01:00Z');

/** 30 minutes, 08:01 … 08:30 UTC (08:30 is the current, partial minute). */
function minutes(): OpsMinute[] {
  return Array.from({ length: 30 }, (_, i) => ({
    minute: new Date(FIRST_MINUTE + i * 60_000).toISOString(),
    packets: i + 1,
    claims: 2 * (i + 1),
    claimP50Ms: i % 5 === 0 ? null : 20 + i,
    claimP99Ms: i % 5 === 0 ? null : 100 + i,
    conditionalWrites: 10,
    conditionalFailures: 0,
    refunds: 0,
  }));
}

function fixture(over: Partial<OpsResponse> = {}): OpsResponse {
  return {
    now: NOW,
    minutes: minutes(),
    totals: { packets: 465, claims: 930, claimP50Ms: 31, claimP99Ms: 187, contentionBps: 37, refunds: 2 },
    sweep: { oldestDueAgeSeconds: 42 },
    reconciliation: {
      runId: 'r1',
      startedAt: '2026-11-28T08:00:00.000Z',
      finishedAt: '2026-11-28T08:00:03.400Z',
      durationMs: 3_400,
      ok: true,
      mismatches: 0,
      checked: { accounts: 12, ledgerEntries: 340, packets: 25, slots: 120 },
      escrow: 123_456,
      inTransit: 5_000,
      balances: 900_000,
      topups: 1_000_000,
    },
    ...over,
  };
}

const card = (name: RegExp) => screen.getByRole('group', { name });
const advance = async (ms: number) => {
  await act(async () => {
    await jest.advanceTimersByTimeAsync(ms);
  });
};

beforeEach(() => {
  jest.useFakeTimers({
    now: new Date(NOW),
    doNotFake: ['requestAnimationFrame', 'cancelAnimationFrame', 'queueMicrotask', 'nextTick'],
  });
  mockPlots.length = 0;
  mockApi.ops.mockReset();
  saveSession({
    token: 't',
    userId: 'u-ops',
    name: '运营',
    tier: 'personal',
    roles: ['user', 'admin'],
    expiresAt: '2026-11-29T00:00:00Z',
  });
});
afterEach(() => {
  jest.useRealTimers();
});

describe('the operator view', () => {
  test('renders every card from the figures', async () => {
    mockApi.ops.mockResolvedValue(fixture());
    render(<OpsPage />);
    await flush();
    expect(mockApi.ops).toHaveBeenCalledWith(30);

    // The last full minute is 08:29 (index 28: 29 packets, 58 claims); means over 29 full minutes.
    expect(card(/^每分钟红包数/).textContent).toContain('29');
    expect(card(/^每分钟红包数/).getAttribute('aria-label')).toBe('每分钟红包数：上一分钟 29，近 30 分钟平均 15');
    expect(card(/^每分钟领取数/).getAttribute('aria-label')).toBe('每分钟领取数：上一分钟 58，近 30 分钟平均 30');
    expect(card(/^领取耗时/).textContent).toContain('31 ms / 187 ms');
    expect(card(/^冲突率/).textContent).toContain('0.37%');
    expect(formatYuan(123_456)).toBe('¥1234.56');
    expect(card(/^红包托管余额/).textContent).toContain('¥1234.56');
    expect(card(/^在途资金/).textContent).toContain('¥50.00');
    const lag = card(/^退款延迟/);
    expect(lag.textContent).toContain('42 秒');
    expect(lag.className).not.toContain('ops-stat--alert');
    const recon = card(/^最近对账/);
    expect(recon.textContent).toContain('对账通过');
    expect(recon.textContent).toContain('16:00:03'); // Beijing time
    expect(recon.textContent).toContain('3.4 s');
    expect(recon.className).toContain('ops-stat--ok');
    expect(screen.getByText(/更新于 16:30:20/)).toBeTruthy();
  });

  test('red states: refunds late by more than 300 s, a reconciliation with mismatches', async () => {
    const base = fixture();
    mockApi.ops.mockResolvedValue(
      fixture({
        sweep: { oldestDueAgeSeconds: 301 },
        reconciliation: { ...base.reconciliation!, ok: false, mismatches: 3 },
      }),
    );
    render(<OpsPage />);
    await flush();
    const lag = card(/^退款延迟/);
    expect(lag.className).toContain('ops-stat--alert');
    expect(lag.textContent).toContain('5 分 1 秒');
    const recon = card(/^最近对账/);
    expect(recon.className).toContain('ops-stat--alert');
    expect(recon.textContent).toContain('对账异常 3 项');
  });

  test('exactly 300 s is not late; no reconciliation yet', async () => {
    mockApi.ops.mockResolvedValue(fixture({ sweep: { oldestDueAgeSeconds: 300 }, reconciliation: null }));
    render(<OpsPage />);
    await flush();
    expect(card(/^退款延迟/).className).not.toContain('ops-stat--alert');
    expect(card(/^最近对账/).textContent).toContain('暂无对账记录');
    expect(card(/^红包托管余额/).textContent).toContain('—');
  });

  test('403: a 无权限 screen, and no more polling', async () => {
    mockApi.ops.mockRejectedValue(new ApiError('FORBIDDEN', 403));
    render(<OpsPage />);
    await flush();
    const denied = screen.getByRole('alert', { name: '无权限' });
    expect(denied.textContent).toContain('管理员');
    expect(screen.queryByRole('group', { name: /^冲突率/ })).toBeNull();
    await advance(30_000);
    expect(mockApi.ops).toHaveBeenCalledTimes(1);
  });

  test('the charts get series aligned to the minutes, a summary label, and are destroyed on unmount', async () => {
    mockApi.ops.mockResolvedValue(fixture());
    const view = render(<OpsPage />);
    await flush();
    expect(mockPlots).toHaveLength(2);
    const [counts, latency] = mockPlots as [FakePlot, FakePlot];
    const xs = minutes().map((m) => Date.parse(m.minute) / 1000);
    expect(counts.data).toEqual([xs, minutes().map((m) => m.packets), minutes().map((m) => m.claims)]);
    expect(latency.data).toEqual([xs, minutes().map((m) => m.claimP50Ms), minutes().map((m) => m.claimP99Ms)]);
    expect(latency.data[1]![0]).toBeNull(); // a gap where no claim was timed
    expect(counts.opts.series.map((s) => s.label)).toEqual(['时间', '红包数', '领取数']);
    expect(latency.opts.series.map((s) => s.label)).toEqual(['时间', 'p50', 'p99']);
    // x labels in Beijing time
    const values = (counts.opts as unknown as { axes: { values: (u: unknown, s: number[]) => string[] }[] }).axes[0]!
      .values;
    expect(values(null, [xs[0]!, xs[29]!])).toEqual(['16:01', '16:30']);

    const chart = screen.getByRole('img', { name: /^每分钟红包数与领取数折线图/ });
    expect(chart.getAttribute('aria-label')).toContain('16:29 这一分钟：红包 29 个，领取 58 次');
    expect(counts.el).toBe(chart);
    expect(screen.getByRole('img', { name: /^领取耗时折线图/ }).getAttribute('aria-label')).toContain(
      'p50 48 ms，p99 128 ms',
    );

    view.unmount();
    expect(counts.destroy).toHaveBeenCalledTimes(1);
    expect(latency.destroy).toHaveBeenCalledTimes(1);
  });

  test('refreshes every 10 s (new data through setData), by hand too, and stops when unmounted', async () => {
    const first = fixture();
    const second = fixture({
      minutes: minutes().map((m) => ({ ...m, packets: m.packets + 100 })),
      now: '2026-11-28T08:30:30.000Z',
    });
    mockApi.ops.mockResolvedValueOnce(first).mockResolvedValue(second);
    const view = render(<OpsPage />);
    await flush();
    expect(mockApi.ops).toHaveBeenCalledTimes(1);
    await advance(9_000);
    expect(mockApi.ops).toHaveBeenCalledTimes(1);
    await advance(1_000);
    expect(mockApi.ops).toHaveBeenCalledTimes(2);
    expect(screen.getByText(/更新于 16:30:30/)).toBeTruthy();
    const counts = mockPlots[0]!;
    expect(mockPlots).toHaveLength(2); // the same plots, fed new data
    expect(counts.setData).toHaveBeenCalledTimes(1);
    expect((counts.setData.mock.calls[0]![0] as number[][])[1]![0]).toBe(101);

    click('刷新数据');
    await flush();
    expect(mockApi.ops).toHaveBeenCalledTimes(3);
    await advance(10_000);
    expect(mockApi.ops).toHaveBeenCalledTimes(4);

    view.unmount();
    await advance(60_000);
    expect(mockApi.ops).toHaveBeenCalledTimes(4);
  });

  test('pauses while the browser tab is hidden and refreshes on return', async () => {
    mockApi.ops.mockResolvedValue(fixture());
    render(<OpsPage />);
    await flush();
    const setHidden = (hidden: boolean) => {
      Object.defineProperty(document, 'visibilityState', {
        configurable: true,
        get: () => (hidden ? 'hidden' : 'visible'),
      });
      act(() => {
        document.dispatchEvent(new Event('visibilitychange'));
      });
    };
    try {
      setHidden(true);
      await advance(60_000);
      expect(mockApi.ops).toHaveBeenCalledTimes(1);
      setHidden(false);
      await flush();
      expect(mockApi.ops).toHaveBeenCalledTimes(2);
      await advance(10_000);
      expect(mockApi.ops).toHaveBeenCalledTimes(3);
    } finally {
      delete (document as unknown as Record<string, unknown>).visibilityState;
    }
  });
});

describe('the home page entry', () => {
  test('shown to an admin', async () => {
    render(<HomePage />);
    await flush();
    const grid = screen.getByLabelText('零钱').parentElement!;
    expect(within(grid).getByLabelText('运营看板')).toBeTruthy();
  });

  test('hidden from other accounts (and from a session stored without roles)', async () => {
    saveSession({
      token: 't',
      userId: 'u-bob',
      name: 'Bob',
      tier: 'personal',
      roles: ['user'],
      expiresAt: '2026-11-29T00:00:00Z',
    });
    const view = render(<HomePage />);
    await flush();
    expect(screen.getByLabelText('零钱')).toBeTruthy();
    expect(screen.queryByLabelText('运营看板')).toBeNull();
    view.unmount();

    window.localStorage.clear();
    saveSession({
      token: 't',
      userId: 'u-old',
      name: 'Old',
      tier: 'personal',
      expiresAt: '2026-11-29T00:00:00Z',
    } as never);
    render(<HomePage />);
    await flush();
    expect(screen.queryByLabelText('运营看板')).toBeNull();
  });
});
