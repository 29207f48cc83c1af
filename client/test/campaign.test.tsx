import { render, screen, within } from '@testing-library/react';
import type { CampaignStats, CreateCampaignRequest, CreateCampaignResponse } from '../src/api';
import { ApiError } from '../src/api/errors';
import { saveSession } from '../src/api/session';
import { CampaignForm } from '../src/biz/components/CampaignForm';
import { HourlyTable } from '../src/biz/components/HourlyClaims';
import { bpsToPercent, campaignCost, checkCampaign, EMPTY_CAMPAIGN, hourlySeries } from '../src/biz/lib/campaign';
import type { Limits } from '../src/lib/sendRules';
import CampaignPage from '../src/biz/campaign/index';
import CampaignsPage from '../src/biz/campaigns/index';
import HomePage from '../src/pages/home/index';
import { click, flush, type } from './helpers';

const mockNavigate = jest.fn(async (_o: unknown) => ({ errMsg: 'ok' }));
let mockParams: Record<string, string> = {};
jest.mock('@tarojs/taro', () =>
  require('./taroMock').taroWith({
    useRouter: () => ({ params: mockParams }),
    useDidShow: () => undefined,
    useDidHide: () => undefined,
    usePullDownRefresh: () => undefined,
    navigateTo: (o: unknown) => mockNavigate(o),
  }),
);

/** uPlot replaced by a fake that records what it was given. */
const mockPlots: Array<{
  opts: { series: Array<{ label?: string; fill?: string }> };
  data: unknown[][];
  el: HTMLElement;
}> = [];
jest.mock('uplot', () => {
  class Fake {
    opts: unknown;
    data: unknown;
    el: unknown;
    width: number;
    setData = jest.fn();
    setSize = jest.fn();
    destroy = jest.fn();
    constructor(o: { width: number }, d: unknown, e: unknown) {
      this.opts = o;
      this.data = d;
      this.el = e;
      this.width = o.width;
      mockPlots.push(this as never);
    }
  }
  return { __esModule: true, default: Fake };
});

const mockApi = {
  wallet: jest.fn(),
  campaigns: jest.fn(),
  campaign: jest.fn(),
  campaignCodesCsv: jest.fn(),
};
jest.mock('../src/api', () => ({
  get api() {
    return mockApi;
  },
}));

const business: Limits = {
  balance: 10_000_000_000,
  perPacketLimit: 100_000_000,
  dailyLimit: 100_000_000_000,
  sentToday: 0,
  feeBps: 60,
  maxShares: 10_000,
};

/** (per-packet total in fen, fee bps, quantity) → fee per packet and total debit, worked out by hand. */
const TABLE: Array<[number, number, number, number, number]> = [
  // total, feeBps, quantity, fee/packet, debit
  [1_000, 60, 1, 6, 1_006], // 1000 × 0.006 = 6 exactly
  [999, 60, 3, 6, 3_015], // 5.994 → 6; 3 × 1005
  [1, 60, 1_000, 1, 2_000], // 0.006 → 1 fen; 1000 × 2
  [10_000, 35, 7, 35, 70_245], // 7 × 10035
  [333, 35, 10, 2, 3_350], // 1.1655 → 2; 10 × 335
  [12_345, 100, 1_000, 124, 12_469_000], // 123.45 → 124; 1000 × 12469
  [2_000_000, 80, 1_000, 16_000, 2_016_000_000], // 1000 × 2,016,000
  [20_000, 0, 5, 0, 100_000], // no fee
  [1_001, 99, 13, 10, 13_143], // 9.9099 → 10; 13 × 1011
];

const yuan = (fen: number) => `¥${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;

describe('campaign money', () => {
  test.each(TABLE)('total %i fen at %i bps × %i: fee %i per packet, debit %i', (total, bps, qty, fee, debit) => {
    const c = campaignCost(total, bps, qty);
    expect(c).toEqual({ feePerPacket: fee, fees: fee * qty, totals: total * qty, debit });
    expect(Number.isSafeInteger(c.debit)).toBe(true);
  });

  test('the rules: name, 1–1000 packets, per-packet limit, shares, the daily limit over all packets', () => {
    const v = { ...EMPTY_CAMPAIGN, name: '双十二', totalYuan: '10', count: '5', quantity: '100' };
    expect(checkCampaign(v, business).ready?.body).toEqual({
      name: '双十二',
      packet: { total: 1_000, count: 5, mode: 'lucky' },
      quantity: 100,
    });
    expect(checkCampaign({ ...v, quantity: '1001' }, business).errors.quantity).toBe('红包数量最多 1000 个');
    expect(checkCampaign({ ...v, quantity: '0' }, business).errors.quantity).toBe('红包数量至少 1 个');
    expect(checkCampaign({ ...v, quantity: '2.5' }, business).errors.quantity).toBe('红包数量须为整数');
    expect(checkCampaign({ ...v, name: '' }, business, true).errors.name).toBe('请输入活动名称');
    expect(checkCampaign({ ...v, name: '活'.repeat(41) }, business).errors.name).toBe('活动名称最多 40 个字');
    expect(checkCampaign({ ...v, totalYuan: '1000.01' }, { ...business, perPacketLimit: 100_000 }).errors.total).toBe(
      '每个红包最多 ¥1000.00',
    );
    expect(checkCampaign({ ...v, mode: 'equal', count: '3' }, business).errors.total).toBe(
      '普通红包的金额须能被份数整除',
    );
    expect(checkCampaign({ ...v, totalYuan: '1001', count: '5' }, business).errors.total).toMatch(/每份最多 ¥200.00/);
    // 100 × 10 yuan = 1000 yuan against 999.99 left today
    expect(checkCampaign(v, { ...business, dailyLimit: 99_999 }).errors.quantity).toBe(
      '超出今日额度：今日还可发 ¥999.99，共需 ¥1000.00',
    );
    expect(checkCampaign(v, { ...business, balance: 100_599 }).insufficient).toBe(true); // needs 100 × 1006
    expect(checkCampaign(v, { ...business, balance: 100_600 }).insufficient).toBe(false);
  });

  test('claim rate: basis points to a percentage with two decimals', () => {
    expect([2222, 0, 5, 100, 1250, 9999, 10_000].map(bpsToPercent)).toEqual([
      '22.22%',
      '0.00%',
      '0.05%',
      '1.00%',
      '12.50%',
      '99.99%',
      '100.00%',
    ]);
  });
});

function createdRes(body: CreateCampaignRequest): CreateCampaignResponse {
  return {
    campaignId: 'c123456789012345',
    name: body.name,
    quantity: body.quantity,
    debit: 0,
    fee: 0,
    expiresAt: '2126-01-01T00:00:00Z',
    packets: [],
  };
}

function fill(name: string, totalYuan: string, count: string, quantity: string) {
  type('活动名称', name);
  type('每个红包金额（元）', totalYuan);
  type('每个红包份数', count);
  type('红包数量', quantity);
}

describe('creating a campaign', () => {
  test.each(TABLE)(
    'total %i fen at %i bps × %i: the fee and the total debit shown before confirming, exactly',
    async (total, bps, qty, fee, debit) => {
      const submit = jest.fn(async (body: CreateCampaignRequest) => createdRes(body));
      const onCreated = jest.fn();
      render(<CampaignForm limits={{ ...business, feeBps: bps }} submit={submit} onCreated={onCreated} />);
      click('普通红包'); // one share each: equal mode (a lucky share is capped at 200 yuan)
      fill('门店活动', yuan(total).slice(1), '1', String(qty));
      // Already while typing:
      expect(screen.getByLabelText('每个红包手续费').textContent).toContain(`每个红包手续费 ${yuan(fee)}`);
      expect(screen.getByLabelText('预计扣款').textContent).toBe(`${qty} 个红包共扣款 ${yuan(debit)}`);
      click('下一步');
      const dialog = screen.getByRole('dialog', { name: '确认活动' });
      expect(within(dialog).getByLabelText('每个红包手续费').textContent).toContain(yuan(fee));
      expect(within(dialog).getByLabelText('手续费合计').textContent).toContain(yuan(fee * qty));
      expect(within(dialog).getByLabelText('红包总额').textContent).toContain(yuan(total * qty));
      expect(within(dialog).getByLabelText('合计扣款').textContent).toContain(yuan(debit));
      expect(within(dialog).getByLabelText('红包数量').textContent).toContain(`${qty} 个`);
      click('确认创建');
      await flush();
      expect(submit).toHaveBeenCalledTimes(1);
      expect(submit.mock.calls[0]![0]).toEqual({
        name: '门店活动',
        packet: { total, count: 1, mode: 'equal' },
        quantity: qty,
      });
      expect(onCreated).toHaveBeenCalledTimes(1);
    },
  );

  test('one Idempotency-Key per action: reused on retry after no answer, 5xx or 429; new after a refusal or a success', async () => {
    const keys: string[] = [];
    const bodies: unknown[] = [];
    const outcomes: Array<() => Promise<CreateCampaignResponse>> = [
      () => Promise.reject(new ApiError('NETWORK_ERROR', 0)),
      () => Promise.reject(new ApiError('INTERNAL', 500)),
      () => Promise.reject(new ApiError('RATE_LIMITED', 429)),
      () => Promise.reject(new ApiError('INSUFFICIENT_FUNDS', 402)),
      () => Promise.resolve(createdRes({ name: 'x', packet: { total: 1, count: 1, mode: 'lucky' }, quantity: 1 })),
    ];
    const submit = jest.fn((body: CreateCampaignRequest, key: string) => {
      keys.push(key);
      bodies.push(body);
      return outcomes.shift()!();
    });
    const onCreated = jest.fn();
    render(<CampaignForm limits={business} submit={submit} onCreated={onCreated} />);
    fill('春节活动', '8.88', '8', '200');
    click('下一步');
    click('确认创建');
    await flush();
    expect(screen.getByText(/不会重复扣款/)).toBeTruthy();
    click('确认创建');
    await flush();
    click('确认创建');
    await flush();
    click('确认创建');
    await flush();
    expect(screen.getByRole('alert', { name: '零钱余额不足' })).toBeTruthy();
    click('确认创建');
    await flush();
    expect(onCreated).toHaveBeenCalledTimes(1);
    expect(keys).toHaveLength(5);
    expect(keys[0]).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(keys.slice(1, 4)).toEqual([keys[0], keys[0], keys[0]]); // the same action retried
    expect(keys[4]).not.toBe(keys[0]); // after a definite refusal: a new action
    for (const b of bodies)
      expect(b).toEqual({ name: '春节活动', packet: { total: 888, count: 8, mode: 'lucky' }, quantity: 200 });
  });

  test('nothing to confirm while the form is incomplete', () => {
    const submit = jest.fn();
    render(<CampaignForm limits={business} submit={submit} onCreated={jest.fn()} />);
    type('活动名称', '空');
    click('下一步');
    expect(screen.queryByRole('dialog', { name: '确认活动' })).toBeNull();
    expect(screen.getByText('请输入红包数量')).toBeTruthy();
  });
});

const STATS: CampaignStats = {
  campaignId: 'c123456789012345',
  name: '双十二门店',
  state: 'active',
  createdAt: '2026-11-28T02:00:00Z',
  expiresAt: '2126-11-29T02:00:00Z',
  packets: 100,
  packetsCreated: 100,
  packetsFinished: 12,
  shares: 900,
  claimedShares: 200,
  claimedAmount: 123_456,
  refundedAmount: 7_890,
  total: 900_000,
  fee: 5_400,
  claimRateBps: 2222,
  claimsPerHour: [
    { hour: '2026-11-28T10', claims: 50 },
    { hour: '2026-11-28T11', claims: 120 },
    { hour: '2026-11-28T14', claims: 30 },
  ],
};

describe('the campaign page', () => {
  beforeEach(() => {
    mockPlots.length = 0;
    for (const f of Object.values(mockApi)) f.mockReset();
    mockParams = { id: STATS.campaignId };
    saveSession({
      token: 't',
      userId: 'u-biz',
      name: '商户',
      tier: 'enterprise',
      roles: ['user', 'enterprise'],
      expiresAt: '2126-11-29T00:00:00Z',
    });
  });

  test('renders the figures, the claim rate as a percentage, and gives claimsPerHour to the chart', async () => {
    mockApi.campaign.mockResolvedValue(STATS);
    render(<CampaignPage />);
    await flush();
    expect(mockApi.campaign).toHaveBeenCalledWith(STATS.campaignId);
    expect(screen.getByRole('group', { name: /^领取率/ }).getAttribute('aria-label')).toBe(
      '领取率：22.22%，已领 200 / 900 份',
    );
    expect(screen.getByRole('group', { name: /^红包/ }).textContent).toContain('已创建 100 个，已领完 12 个');
    expect(screen.getByRole('group', { name: /^已领金额/ }).textContent).toContain('¥1234.56');
    expect(screen.getByRole('group', { name: /^已领金额/ }).textContent).toContain('¥9000.00');
    expect(screen.getByRole('group', { name: /^已退款/ }).textContent).toContain('¥78.90');
    expect(screen.getByLabelText('活动状态').textContent).toContain('进行中');

    // One uPlot chart: x = each Beijing hour from 10:00 to 14:00 (UTC 02:00 …), idle hours as 0.
    expect(mockPlots).toHaveLength(1);
    const h = (utcHour: number) => Date.UTC(2026, 10, 28, utcHour) / 1000;
    expect(mockPlots[0]!.data).toEqual([
      [h(2), h(3), h(4), h(5), h(6)],
      [50, 120, 0, 0, 30],
    ]);
    expect(mockPlots[0]!.opts.series.map((s) => s.label)).toEqual(['时间', '领取数']);
    const chart = screen.getByRole('img');
    expect(chart.getAttribute('aria-label')).toBe(
      '每小时领取次数（北京时间），11-28 10:00 至 11-28 14:00，共 200 次；最多的是 11-28 11:00，120 次',
    );
    expect(mockPlots[0]!.el).toBe(chart);
  });

  test('no claims yet: no chart, a sentence', async () => {
    mockApi.campaign.mockResolvedValue({ ...STATS, claimsPerHour: [], claimRateBps: 0 });
    render(<CampaignPage />);
    await flush();
    expect(mockPlots).toHaveLength(0);
    expect(screen.getByText(/还没有人领取/)).toBeTruthy();
    expect(screen.getByRole('group', { name: /^领取率/ }).textContent).toContain('0.00%');
  });

  test('downloads the codes as a CSV file (fetched with the token, saved from a Blob)', async () => {
    mockApi.campaign.mockResolvedValue(STATS);
    const csv = 'index,packet_id,code,expires_at\n1,p1,CODE1,2126-11-29T02:00:00Z\n2,p2,CODE2,2126-11-29T02:00:00Z\n';
    mockApi.campaignCodesCsv.mockResolvedValue(csv);
    const blobs: Blob[] = [];
    const urlApi = URL as unknown as { createObjectURL?: (b: Blob) => string; revokeObjectURL?: (u: string) => void };
    const saved = { create: urlApi.createObjectURL, revoke: urlApi.revokeObjectURL };
    urlApi.createObjectURL = (b: Blob) => {
      blobs.push(b);
      return 'blob:csv-1';
    };
    urlApi.revokeObjectURL = () => undefined;
    const clicks: Array<{ href: string; download: string }> = [];
    const spy = jest.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicks.push({ href: this.href, download: this.download });
    });
    try {
      render(<CampaignPage />);
      await flush();
      click('下载兑换码 CSV');
      await flush();
      expect(mockApi.campaignCodesCsv).toHaveBeenCalledWith(STATS.campaignId);
      expect(clicks).toEqual([{ href: 'blob:csv-1', download: '活动-双十二门店-兑换码.csv' }]);
      expect(blobs).toHaveLength(1);
      expect(blobs[0]!.type).toBe('text/csv;charset=utf-8');
      const text = await new Promise<string>((resolve) => {
        const r = new FileReader();
        r.onload = () => resolve(String(r.result));
        r.readAsText(blobs[0]!);
      });
      expect(text).toBe(csv);
      expect(screen.getByText('已下载 2 个兑换码')).toBeTruthy();
    } finally {
      spy.mockRestore();
      urlApi.createObjectURL = saved.create;
      urlApi.revokeObjectURL = saved.revoke;
    }
  });

  test('a 403 (not a business account) gets the 无权限 screen', async () => {
    mockApi.campaign.mockRejectedValue(new ApiError('FORBIDDEN', 403));
    render(<CampaignPage />);
    await flush();
    expect(screen.getByRole('alert', { name: '无权限' }).textContent).toContain('企业和服务商');
  });

  test('the list: newest first as given, each opens its page', async () => {
    mockApi.campaigns.mockResolvedValue({
      items: [
        {
          campaignId: 'c2',
          name: '第二期',
          state: 'active',
          quantity: 10,
          total: 500,
          count: 2,
          createdAt: '2026-11-28T03:00:00Z',
          expiresAt: '2126-11-29T03:00:00Z',
        },
        {
          campaignId: 'c1',
          name: '第一期',
          state: 'active',
          quantity: 3,
          total: 1_000,
          count: 1,
          createdAt: '2026-11-27T03:00:00Z',
          expiresAt: '2026-11-28T03:00:00Z',
        },
      ],
    });
    render(<CampaignsPage />);
    await flush();
    const items = within(screen.getByRole('list', { name: '活动列表' })).getAllByRole('button');
    expect(items.map((i) => i.getAttribute('aria-label'))).toEqual(['查看活动 第二期', '查看活动 第一期']);
    expect(items[0]!.textContent).toContain('10 个红包 · 每个 ¥5.00 / 2 份 · 共 ¥50.00');
    expect(items[1]!.textContent).toContain('已结束'); // active, but past its expiry
    click('查看活动 第一期');
    expect(mockNavigate).toHaveBeenLastCalledWith({ url: '/biz/campaign/index?id=c1' });
  });
});

describe('the weapp table', () => {
  test('the same figures as rows, newest hour first', () => {
    const s = hourlySeries(STATS.claimsPerHour);
    render(<HourlyTable x={s.x} claims={s.claims} summary="每小时领取次数" />);
    const rows = within(screen.getByRole('table', { name: '每小时领取次数' })).getAllByRole('row');
    expect(rows.map((r) => r.textContent)).toEqual([
      '时间（北京时间）领取次数',
      '11-28 14:0030',
      '11-28 13:000',
      '11-28 12:000',
      '11-28 11:00120',
      '11-28 10:0050',
    ]);
  });
});

describe('the home tile', () => {
  beforeEach(() => {
    mockApi.wallet.mockResolvedValue({ balance: 0, sentToday: 0, dailyLimit: 1, perPacketLimit: 1 });
  });
  test.each([
    ['enterprise', true],
    ['provider', true],
    ['personal', false],
  ] as const)('%s → 活动 tile shown: %s', async (tier, shown) => {
    saveSession({
      token: 't',
      userId: 'u1',
      name: 'U',
      tier,
      roles: ['user', tier],
      expiresAt: '2126-11-29T00:00:00Z',
    });
    render(<HomePage />);
    await flush();
    expect(screen.getByLabelText('零钱')).toBeTruthy();
    expect(!!screen.queryByLabelText('活动')).toBe(shown);
    if (shown) {
      click('活动');
      expect(mockNavigate).toHaveBeenLastCalledWith({ url: '/biz/campaigns/index' });
    }
  });
});
