import { act, render, screen, within } from '@testing-library/react';
import type { ForwardView } from '../../functions/src/http/contract';
import { saveSession } from '../src/api/session';
import { ForwardTree } from '../src/components/ForwardTree';
import { forwardRows } from '../src/lib/forwards';
import OpenPage from '../src/pages/open/index';
import PacketPage from '../src/pages/packet/index';
import { click, flush, PACKET_SUMMARY } from './helpers';

const mockClipboard = jest.fn(async (_o: unknown) => ({ errMsg: 'setClipboardData:ok' }));

/** Taro's page hooks stubbed (the router gives both pages their parameter). */
jest.mock('@tarojs/taro', () =>
  require('./taroMock').taroWith({
    useRouter: () => ({ params: { c: 'SHARE-CODE-1', id: 'p1' } }),
    useDidShow: () => undefined,
    useDidHide: () => undefined,
    useShareAppMessage: () => undefined,
    setClipboardData: (o: unknown) => mockClipboard(o),
  }),
);

/**
 * The QR draws on timers (30 and 400 ms after mounting) through a canvas lookup that needs a
 * Taro page, which jsdom has not: a test still mounted then fails on a loaded machine. The tree
 * is what these tests are about, so the QR is a plain stand-in.
 */
jest.mock('../src/components/QrCode', () => ({ QrCode: () => null }));

const summary = PACKET_SUMMARY;
const mockApi = {
  openCode: jest.fn(),
  claim: jest.fn(),
  packet: jest.fn(),
  newCode: jest.fn(),
};
jest.mock('../src/api', () => ({
  get api() {
    return mockApi;
  },
}));

const login = (userId: string, name: string) =>
  saveSession({ token: 't', userId, name, tier: 'personal', roles: ['user'], expiresAt: '2126-11-29T00:00:00Z' });

beforeEach(() => {
  for (const f of Object.values(mockApi)) f.mockReset();
  mockApi.packet.mockResolvedValue({ ...summary, claimedAmount: 321, claims: [] });
  mockApi.newCode.mockResolvedValue({
    code: '1.k1.sp1.abc.FWD_CODE_9',
    kind: 'share',
    issuedAt: summary.createdAt,
    expiresAt: summary.expiresAt,
  });
  mockClipboard.mockClear();
});

describe('转发 on the open page', () => {
  test('after claiming: one share code minted with the code the page was opened with, its link shown and copied', async () => {
    login('u-bob', 'Bob');
    mockApi.openCode.mockResolvedValue({
      target: 'packet',
      packet: summary,
      claimable: false,
      reason: 'ALREADY_CLAIMED',
      myClaim: { amount: 321, claimedAt: summary.createdAt },
    });
    render(<OpenPage />);
    await flush();
    await flush();
    expect(screen.queryByLabelText('转发链接')).toBeNull();
    click('转发红包');
    await flush();
    expect(mockApi.newCode).toHaveBeenCalledTimes(1);
    expect(mockApi.newCode).toHaveBeenCalledWith('p1', 'share', 'SHARE-CODE-1');
    const link = screen.getByLabelText('转发链接').textContent!;
    expect(link).toBe(
      `${window.location.origin}${window.location.pathname}#/pages/open/index?c=1.k1.sp1.abc.FWD_CODE_9`,
    );
    expect(link).not.toContain('SHARE-CODE-1');
    expect(mockClipboard).toHaveBeenLastCalledWith({ data: link });
    // Copying again reuses the same forward (one forward per person and page).
    click('转发红包');
    await flush();
    expect(mockApi.newCode).toHaveBeenCalledTimes(1);
    expect(mockClipboard).toHaveBeenCalledTimes(2);
  });

  test('the sender may forward before claiming; someone who has not claimed may not; nor a 专属红包', async () => {
    login('u-alice', 'Alice');
    mockApi.openCode.mockResolvedValue({ target: 'packet', packet: summary, claimable: true });
    const a = render(<OpenPage />);
    await flush();
    expect(screen.getByLabelText('开红包')).toBeTruthy();
    click('转发红包');
    await flush();
    expect(mockApi.newCode).toHaveBeenCalledWith('p1', 'share', 'SHARE-CODE-1');
    a.unmount();

    login('u-carol', 'Carol');
    const b = render(<OpenPage />);
    await flush();
    expect(screen.getByLabelText('开红包')).toBeTruthy();
    expect(screen.queryByLabelText('转发红包')).toBeNull();
    b.unmount();

    login('u-alice', 'Alice');
    mockApi.openCode.mockResolvedValue({
      target: 'packet',
      packet: { ...summary, count: 1, recipient: { id: 'u-bob', name: 'Bob' } },
      claimable: true,
    });
    render(<OpenPage />);
    await flush();
    expect(screen.queryByLabelText('转发红包')).toBeNull();
  });

  test('a refused forward shows why (rate limit), and no link', async () => {
    const { ApiError } = jest.requireActual('../src/api/errors');
    login('u-bob', 'Bob');
    mockApi.openCode.mockResolvedValue({
      target: 'packet',
      packet: summary,
      claimable: false,
      reason: 'ALREADY_CLAIMED',
      myClaim: { amount: 321, claimedAt: summary.createdAt },
    });
    mockApi.newCode.mockRejectedValueOnce(new ApiError('RATE_LIMITED', 429, { retryAfter: 30 }, 30));
    render(<OpenPage />);
    await flush();
    click('转发红包');
    await flush();
    expect(screen.getByRole('alert').textContent).toMatch(/太频繁|稍后/);
    expect(screen.queryByLabelText('转发链接')).toBeNull();
  });
});

const fwd = (id: string, name: string, at: string, claims: number, parent?: string): ForwardView => ({
  id,
  by: { id: `u-${name}`, name },
  at,
  claims,
  ...(parent ? { parent } : {}),
});

// Given out of order: the tree orders by time under each parent.
const FORWARDS: ForwardView[] = [
  fwd('f3', 'Carol', '2026-11-28T05:03:00Z', 0, 'f2'),
  fwd('f4', 'Dave', '2026-11-28T05:04:00Z', 3),
  fwd('f2', 'Bob2', '2026-11-28T05:02:00Z', 1, 'f1'),
  fwd('f1', 'Bob', '2026-11-28T05:01:00Z', 2),
  fwd('f5', 'Erin', '2026-11-28T05:05:00Z', 1, 'f1'),
  fwd('f6', 'Orphan', '2026-11-28T05:06:00Z', 1, 'gone'),
];

describe('the forwarding tree', () => {
  test('flat list with parent links → depth-first rows with depths, own and subtree counts', () => {
    const rows = forwardRows(FORWARDS);
    expect(rows.map((r) => [r.id, r.depth, r.claims, r.subtotal])).toEqual([
      ['f1', 0, 2, 4],
      ['f2', 1, 1, 1],
      ['f3', 2, 0, 0],
      ['f5', 1, 1, 1],
      ['f4', 0, 3, 3],
      ['f6', 0, 1, 1], // its parent is not in the list: shown as a root, not lost
    ]);
    // a cycle cannot loop and loses nothing
    const cyc = forwardRows([fwd('a', 'A', '1', 1, 'b'), fwd('b', 'B', '2', 2, 'a')]);
    expect(cyc.map((r) => r.id).sort()).toEqual(['a', 'b']);
  });

  test('renders an indented list: parent before its children, with the claims through each code', () => {
    render(<ForwardTree forwards={FORWARDS} claimedCount={10} />);
    const list = screen.getByRole('list', { name: '转发记录' });
    const items = within(list).getAllByRole('listitem');
    expect(items.map((i) => i.getAttribute('aria-label'))).toEqual([
      '你发出的二维码和链接，直接领取 2 个', // 10 − 8 through forwards
      'Bob 转发，经此领取 2 个，含下级转发共 4 个',
      'Bob2 转发（第 2 层），经此领取 1 个，含下级转发共 1 个',
      'Carol 转发（第 3 层），经此领取 0 个',
      'Erin 转发（第 2 层），经此领取 1 个',
      'Dave 转发，经此领取 3 个',
      'Orphan 转发，经此领取 1 个',
    ]);
    expect(items.map((i) => i.getAttribute('data-depth'))).toEqual([null, '0', '1', '2', '1', '0', '0']);
    expect(items[3]!.className).toContain('forwards__row--d3');
    expect(items[1]!.textContent).toContain('领取 2 个');
  });

  test('the sender’s packet page shows it; nothing when nobody forwarded', async () => {
    login('u-alice', 'Alice');
    mockApi.newCode.mockResolvedValue({
      code: 'live-1',
      kind: 'live',
      issuedAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 120_000).toISOString(),
      refreshAfter: new Date(Date.now() + 60_000).toISOString(),
    });
    mockApi.packet.mockResolvedValue({
      ...summary,
      claimedCount: 3,
      claimedAmount: 500,
      claims: [],
      forwards: [fwd('f1', 'Bob', '2026-11-28T05:01:00Z', 2), fwd('f2', 'Carol', '2026-11-28T05:02:00Z', 1, 'f1')],
    });
    const view = render(<PacketPage />);
    await flush();
    await flush();
    const items = within(screen.getByRole('list', { name: '转发记录' })).getAllByRole('listitem');
    expect(items.map((i) => i.getAttribute('aria-label'))).toEqual([
      '你发出的二维码和链接，直接领取 0 个',
      'Bob 转发，经此领取 2 个，含下级转发共 3 个',
      'Carol 转发（第 2 层），经此领取 1 个',
    ]);
    view.unmount();

    mockApi.packet.mockResolvedValue({ ...summary, claimedAmount: 0, claims: [], forwards: [] });
    render(<PacketPage />);
    await flush();
    expect(screen.queryByRole('list', { name: '转发记录' })).toBeNull();
  });
});

describe('the forwarding tree, paged', () => {
  test('the packet page shows the first page, loads the next on request and merges them; the direct count waits for the last page', async () => {
    login('u-alice', 'Alice');
    mockApi.newCode.mockResolvedValue({
      code: 'live-1',
      kind: 'live',
      issuedAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 120_000).toISOString(),
      refreshAfter: new Date(Date.now() + 60_000).toISOString(),
    });
    const base = { ...summary, claimedCount: 4, claimedAmount: 500, claims: [] };
    mockApi.packet.mockImplementation(async (_id: string, cursor?: string) =>
      cursor === 'page-2'
        ? { ...base, forwards: [fwd('f2', 'Carol', '2026-11-28T05:02:00Z', 1, 'f1')], forwardsCursor: null }
        : { ...base, forwards: [fwd('f1', 'Bob', '2026-11-28T05:01:00Z', 2)], forwardsCursor: 'page-2' },
    );
    const view = render(<PacketPage />);
    await flush();
    await flush();
    const labels = () =>
      within(screen.getByRole('list', { name: '转发记录' }))
        .getAllByRole('listitem')
        .map((i) => i.getAttribute('aria-label'));
    expect(labels()).toEqual(['你发出的二维码和链接', 'Bob 转发，经此领取 2 个']);
    click('查看更多转发记录');
    await flush();
    expect(mockApi.packet).toHaveBeenLastCalledWith('p1', 'page-2');
    expect(labels()).toEqual([
      '你发出的二维码和链接，直接领取 1 个',
      'Bob 转发，经此领取 2 个，含下级转发共 3 个',
      'Carol 转发（第 2 层），经此领取 1 个',
    ]);
    expect(screen.queryByLabelText('查看更多转发记录')).toBeNull();
    view.unmount();
  });
});

describe('the packet page poll', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  test('after a 429 it waits out Retry-After instead of polling every 3 s into more refusals', async () => {
    jest.useFakeTimers({ now: new Date('2026-11-28T08:00:00Z') });
    const advance = async (ms: number) => {
      await act(async () => {
        await jest.advanceTimersByTimeAsync(ms);
      });
    };
    const { ApiError } = jest.requireActual('../src/api/errors');
    login('u-alice', 'Alice');
    mockApi.newCode.mockResolvedValue({
      code: 'live-1',
      kind: 'live',
      issuedAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 120_000).toISOString(),
      refreshAfter: new Date(Date.now() + 60_000).toISOString(),
    });
    const ok = { ...summary, claimedAmount: 0, claims: [], forwards: [], forwardsCursor: null };
    mockApi.packet
      .mockResolvedValueOnce(ok)
      .mockRejectedValueOnce(new ApiError('RATE_LIMITED', 429, { retryAfter: 30 }, 30))
      .mockResolvedValue(ok);
    const view = render(<PacketPage />);
    await advance(0);
    expect(mockApi.packet).toHaveBeenCalledTimes(1);
    await advance(3_000); // the poll: refused
    expect(mockApi.packet).toHaveBeenCalledTimes(2);
    await advance(27_000); // nine more ticks inside the 30 s
    expect(mockApi.packet).toHaveBeenCalledTimes(2);
    await advance(3_000); // past Retry-After: polling again
    expect(mockApi.packet).toHaveBeenCalledTimes(3);
    view.unmount();
  });
});

describe('where the unclaimed money went', () => {
  test('a settled packet says whether the rest went back to WeChat Pay or to the balance', async () => {
    login('u-alice', 'Alice');
    const settled = {
      ...summary,
      status: 'refunded',
      claimedAmount: 321,
      refundedAmount: 679,
      claims: [],
      forwards: [],
    };
    mockApi.packet.mockResolvedValue({ ...settled, funding: 'wechatpay', refundedTo: 'wechatpay' });
    const view = render(<PacketPage />);
    await flush();
    expect(
      screen
        .getAllByRole('status')
        .map((e) => e.textContent)
        .join('|'),
    ).toContain('已退回微信支付 ¥6.79');
    view.unmount();
    mockApi.packet.mockResolvedValue({ ...settled, refundedTo: 'balance' });
    render(<PacketPage />);
    await flush();
    expect(
      screen
        .getAllByRole('status')
        .map((e) => e.textContent)
        .join('|'),
    ).toContain('已退回零钱 ¥6.79');
  });
});
