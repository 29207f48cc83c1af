import { render, screen } from '@testing-library/react';
import type { CreatePacketResponse } from '../../functions/src/http/contract';
import type { CreatePacketRequest } from '../../functions/src/http/schemas';
import { ApiError } from '../src/api/errors';
import { saveSession } from '../src/api/session';
import { SendForm } from '../src/components/SendForm';
import { loadDraft, saveDraft } from '../src/lib/draft';
import { refusalOf } from '../src/lib/refusal';
import { checkSend, EMPTY_FORM, type Limits } from '../src/lib/sendRules';
import { shareMenuOptions } from '../src/lib/shareTicket';
import { wechatGroupContext } from '../src/lib/useGroupContext';
import OpenPage from '../src/pages/open/index';
import { click, flush, type } from './helpers';

jest.mock('@tarojs/taro', () =>
  require('./taroMock').taroWith({
    useRouter: () => ({ params: { c: 'SHARE-CODE-1' } }),
    useDidShow: () => undefined,
    useDidHide: () => undefined,
    useShareAppMessage: () => undefined,
    getGroupEnterInfo: (...a: unknown[]) => mockGroupEnterInfo(...a),
  }),
);
const mockGroupEnterInfo = jest.fn();

const mockApi = { openCode: jest.fn(), claim: jest.fn(), packet: jest.fn(), newCode: jest.fn() };
jest.mock('../src/api', () => ({
  get api() {
    return mockApi;
  },
}));

const limits: Limits = {
  balance: 100_000,
  perPacketLimit: 20_000,
  dailyLimit: 100_000,
  sentToday: 0,
  feeBps: 0,
  maxShares: 100,
};

function created(body: CreatePacketRequest): CreatePacketResponse {
  const now = new Date().toISOString();
  const code = { code: 'c1', link: 'https://hb.example.cn/o/c1', kind: 'live' as const, issuedAt: now, expiresAt: now };
  return {
    packet: {
      id: 'p1',
      sender: { id: 'u-alice', name: 'Alice' },
      total: body.total,
      count: body.count,
      mode: body.mode,
      greeting: '',
      scene: 'none',
      status: 'active',
      claimedCount: 0,
      claimedAmount: 0,
      refundedAmount: 0,
      createdAt: now,
      expiresAt: now,
      groupOnly: body.groupOnly === true,
    },
    code,
    shareCode: { ...code, kind: 'share' },
    fee: 0,
  };
}

describe('仅限本群 on the send form', () => {
  test('the toggle explains itself, shows on the confirm step and sends groupOnly', async () => {
    const submit = jest.fn(async (body: CreatePacketRequest) => created(body));
    render(<SendForm limits={limits} submit={submit} onCreated={jest.fn()} onTopUp={jest.fn()} />);
    type('总金额（元）', '6');
    type('红包个数', '3');
    expect(screen.getByLabelText('仅限本群').getAttribute('aria-pressed')).toBe('false');
    expect(screen.getByLabelText('仅限本群说明').textContent).toContain('只有分享到的那个群里的人可以领取');
    click('仅限本群');
    expect(screen.getByLabelText('仅限本群').getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByLabelText('仅限本群说明').textContent).toContain('转到其他群或私聊都领不了');
    click('塞钱进红包');
    expect(screen.getByLabelText('领取范围').textContent).toContain('仅限本群');
    expect(screen.getByText('拼手气红包 · 仅限本群', { selector: '.confirm__title' })).toBeTruthy();
    click('确认支付');
    await flush();
    expect(submit.mock.calls[0]![0]).toEqual({ total: 600, count: 3, mode: 'lucky', groupOnly: true });
  });

  test('off by default (no field sent), not offered with 专属红包, kept in the draft', () => {
    expect(checkSend({ ...EMPTY_FORM, totalYuan: '6', count: '3' }, limits).ready?.body).toEqual({
      total: 600,
      count: 3,
      mode: 'lucky',
    });
    expect(
      checkSend({ ...EMPTY_FORM, totalYuan: '6', count: '3', groupOnly: true }, limits).ready?.body.groupOnly,
    ).toBe(true);
    render(<SendForm limits={limits} submit={jest.fn()} onCreated={jest.fn()} onTopUp={jest.fn()} />);
    click('专属红包');
    expect(screen.queryByLabelText('仅限本群')).toBeNull();
    saveDraft({ ...EMPTY_FORM, groupOnly: true });
    expect(loadDraft()?.values.groupOnly).toBe(true);
  });

  test('group-only share cards carry a share ticket; others keep the default menu', () => {
    expect(shareMenuOptions(true)).toMatchObject({ withShareTicket: true });
    expect(shareMenuOptions(false)).toMatchObject({ withShareTicket: false });
  });
});

const summary = {
  id: 'p1',
  sender: { id: 'u-alice', name: 'Alice' },
  total: 600,
  count: 3,
  mode: 'lucky' as const,
  greeting: '恭喜发财',
  scene: 'none',
  status: 'active' as const,
  claimedCount: 0,
  refundedAmount: 0,
  createdAt: '2026-11-28T05:00:00Z',
  expiresAt: '2126-11-29T05:00:00Z',
  groupOnly: true,
};

describe('仅限本群 on the open page', () => {
  beforeEach(() => {
    for (const f of Object.values(mockApi)) f.mockReset();
    mockApi.packet.mockResolvedValue({ ...summary, claimedAmount: 0, claims: [] });
    saveSession({
      token: 't',
      userId: 'u-bob',
      name: 'Bob',
      tier: 'personal',
      roles: ['user'],
      expiresAt: '2126-11-29T00:00:00Z',
    });
  });

  test('opened from another group: the 仅限本群 screen, no 開 button, no claim', async () => {
    mockApi.openCode.mockResolvedValue({
      target: 'packet',
      packet: summary,
      claimable: false,
      reason: 'GROUP_ONLY',
      group: 'other',
    });
    render(<OpenPage />);
    await flush();
    const alert = screen.getByRole('alert', { name: '仅限本群领取' });
    expect(alert.textContent).toContain('只有发红包所在群的成员可以领取');
    expect(alert.textContent).toContain('其他群');
    expect(screen.getByLabelText('仅限本群')).toBeTruthy();
    expect(screen.queryByLabelText('开红包')).toBeNull();
    expect(mockApi.claim).not.toHaveBeenCalled();
  });

  test('a claim refused with 403 GROUP_ONLY (no group) shows the same screen, saying where to open it', async () => {
    mockApi.openCode.mockResolvedValue({ target: 'packet', packet: summary, claimable: true, group: 'member' });
    mockApi.claim.mockRejectedValueOnce(new ApiError('GROUP_ONLY', 403, { group: 'none' }));
    render(<OpenPage />);
    await flush();
    click('开红包');
    await flush();
    const alert = screen.getByRole('alert', { name: '仅限本群领取' });
    expect(alert.textContent).toContain('从发红包的那个群聊里打开');
  });

  test('H5 with dev features: the 模拟群聊 chooser opens and claims as a member of the chosen group', async () => {
    mockApi.openCode.mockImplementation(async (_code: string, group?: { devGroup?: string }) =>
      group?.devGroup === '群A'
        ? { target: 'packet', packet: summary, claimable: true, group: 'member' }
        : {
            target: 'packet',
            packet: summary,
            claimable: false,
            reason: 'GROUP_ONLY',
            group: group ? 'other' : 'none',
          },
    );
    mockApi.claim.mockResolvedValue({ packetId: 'p1', amount: 200, claimedAt: '2026-11-28T05:10:00Z', repeat: false });
    render(<OpenPage />);
    await flush();
    click('不在群里打开');
    await flush();
    expect(screen.getByRole('alert', { name: '仅限本群领取' }).textContent).toContain('从发红包的那个群聊里打开');
    click('从群A打开');
    await flush();
    expect(mockApi.openCode).toHaveBeenLastCalledWith('SHARE-CODE-1', { devGroup: '群A' });
    expect(screen.queryByRole('alert')).toBeNull();
    click('开红包');
    await flush();
    expect(mockApi.claim).toHaveBeenLastCalledWith('SHARE-CODE-1', { devGroup: '群A' });
    // The 開 coin spins a moment before the amount shows.
    expect((await screen.findByLabelText('领取金额', {}, { timeout: 3000 })).textContent).toBe('2.00');
    type('群名称', '群B');
    click('从这个群打开');
    await flush();
    expect(mockApi.openCode).toHaveBeenLastCalledWith('SHARE-CODE-1', { devGroup: '群B' });
  });

  test('an ordinary packet: the claim carries no group context, whatever group the page was opened from', async () => {
    mockApi.openCode.mockResolvedValue({ target: 'packet', packet: { ...summary, groupOnly: false }, claimable: true });
    mockApi.claim.mockResolvedValue({ packetId: 'p1', amount: 200, claimedAt: '2026-11-28T05:10:00Z', repeat: false });
    render(<OpenPage />);
    await flush();
    click('从群A打开');
    await flush();
    expect(mockApi.openCode).toHaveBeenLastCalledWith('SHARE-CODE-1', { devGroup: '群A' });
    expect(screen.queryByLabelText('仅限本群')).toBeNull();
    click('开红包');
    await flush();
    expect(mockApi.claim).toHaveBeenCalledTimes(1);
    expect(mockApi.claim.mock.calls[0]![1]).toBeUndefined();
  });

  test('the refusal copy: another group vs no group', () => {
    expect(refusalOf(new ApiError('GROUP_ONLY', 403, { group: 'other' }), { op: 'claim' })?.body).toContain(
      '其他群或私聊',
    );
    expect(refusalOf(new ApiError('GROUP_ONLY', 403), { op: 'claim' })?.body).toContain('回到群聊');
  });
});

describe("the mini-program's group context", () => {
  const env = process.env.TARO_ENV;
  afterEach(() => {
    process.env.TARO_ENV = env;
    mockGroupEnterInfo.mockReset();
  });

  test('getGroupEnterInfo is asked afresh for every request and its data passed on as is; outside a group there is none', async () => {
    process.env.TARO_ENV = 'weapp';
    mockGroupEnterInfo
      .mockResolvedValueOnce({ errMsg: 'getGroupEnterInfo:ok', encryptedData: 'ENC1+/==', iv: 'IV1==' })
      .mockResolvedValueOnce({ errMsg: 'getGroupEnterInfo:ok', encryptedData: 'ENC2', iv: 'IV2' })
      .mockRejectedValueOnce({ errMsg: 'getGroupEnterInfo:fail', errCode: 40097 });
    expect(await wechatGroupContext()).toEqual({ encryptedData: 'ENC1+/==', iv: 'IV1==' });
    expect(await wechatGroupContext()).toEqual({ encryptedData: 'ENC2', iv: 'IV2' });
    expect(await wechatGroupContext()).toBeUndefined();
    expect(mockGroupEnterInfo).toHaveBeenCalledTimes(3);
  });

  test('on H5 WeChat is never asked', async () => {
    expect(await wechatGroupContext()).toBeUndefined();
    expect(mockGroupEnterInfo).not.toHaveBeenCalled();
  });
});
