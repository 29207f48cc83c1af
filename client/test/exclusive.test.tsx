import { render, screen } from '@testing-library/react';
import type { CreatePacketResponse } from '../../functions/src/http/contract';
import type { CreatePacketRequest } from '../../functions/src/http/schemas';
import { ApiError } from '../src/api/errors';
import { saveSession } from '../src/api/session';
import { SendForm } from '../src/components/SendForm';
import { loadDraft, saveDraft } from '../src/lib/draft';
import { parseReceiveCode, RECEIVE_CODE_ERRORS } from '../src/lib/receiveCode';
import { checkSend, EMPTY_FORM, type Limits } from '../src/lib/sendRules';
import OpenPage from '../src/pages/open/index';
import { click, field, flush, type, fieldValue } from './helpers';

jest.mock('@tarojs/taro', () =>
  require('./taroMock').taroWith({
    useRouter: () => ({ params: { c: 'SHARE-CODE-1' } }),
    useDidShow: () => undefined,
    useDidHide: () => undefined,
    useShareAppMessage: () => undefined,
  }),
);

const mockApi = { openCode: jest.fn(), claim: jest.fn(), packet: jest.fn(), newCode: jest.fn() };
jest.mock('../src/api', () => ({
  get api() {
    return mockApi;
  },
}));

const SIG = 'AbCdEfGhIjKlMnOpQrStU_'; // 22 characters
const receiveCode = (account: string, extra = '') => `1.k1.r${account}.mabc12${extra}.${SIG}`;

describe('reading a 收款码', () => {
  test.each([
    [receiveCode('u-bob'), 'u-bob'],
    [receiveCode('Ab_9-z'), 'Ab_9-z'],
    [`1.k1.ru-bob.mabc12.ref_1.${SIG}`, 'u-bob'], // with the optional ref field
    [`  ${receiveCode('u-bob')}\n`, 'u-bob'], // pasted with spaces
    [`https://hongbao.example/#/pages/pay/index?c=${encodeURIComponent(receiveCode('u-bob'))}`, 'u-bob'], // a link to it
  ])('%s → account %s', (text, id) => {
    expect(parseReceiveCode(text)).toMatchObject({ ok: true, accountId: id });
  });

  test.each([
    ['', RECEIVE_CODE_ERRORS.empty],
    ['   ', RECEIVE_CODE_ERRORS.empty],
    [`1.k1.sp1.mabc12.${SIG}`, RECEIVE_CODE_ERRORS.packet], // a packet's share code
    [`1.k1.lp1.mabc12.${SIG}`, RECEIVE_CODE_ERRORS.packet], // a packet's live code
    ['hello', RECEIVE_CODE_ERRORS.malformed],
    ['1.k1.ru-bob.mabc12', RECEIVE_CODE_ERRORS.malformed], // no signature
    [`2.k1.ru-bob.mabc12.${SIG}`, RECEIVE_CODE_ERRORS.malformed], // another format version
    [`1.k1.ru-bob.mabc12.${SIG.slice(1)}`, RECEIVE_CODE_ERRORS.malformed], // signature too short
    [`1.K1.ru-bob.mabc12.${SIG}`, RECEIVE_CODE_ERRORS.malformed], // key id in capitals
    [`1.k1.r.mabc12.${SIG}`, RECEIVE_CODE_ERRORS.malformed], // no account
    [`1.k1.r${'a'.repeat(33)}.mabc12.${SIG}`, RECEIVE_CODE_ERRORS.malformed], // account too long
    [`1.k1.ru+bob.mabc12.${SIG}`, RECEIVE_CODE_ERRORS.malformed],
    [`1.k1.ru-bob.0abc.${SIG}`, RECEIVE_CODE_ERRORS.malformed], // non-canonical time
  ])('%j is refused: %s', (text, error) => {
    expect(parseReceiveCode(text)).toEqual({ ok: false, error });
  });

  test('one’s own code is refused', () => {
    expect(parseReceiveCode(receiveCode('u-alice'), 'u-alice')).toEqual({ ok: false, error: RECEIVE_CODE_ERRORS.self });
  });
});

const limits: Limits = {
  balance: 100_000,
  perPacketLimit: 20_000,
  dailyLimit: 100_000,
  sentToday: 0,
  feeBps: 0,
  maxShares: 100,
};

describe('专属红包 in the send rules', () => {
  test('count fixed at 1 whatever was typed, one equal share, the recipient id in the body', () => {
    const c = checkSend(
      {
        ...EMPTY_FORM,
        exclusive: true,
        totalYuan: '88',
        count: '8',
        mode: 'lucky',
        recipientCode: receiveCode('u-bob'),
      },
      limits,
    );
    expect(c.errors).toEqual({});
    expect(c.ready?.body).toEqual({ total: 8_800, count: 1, mode: 'equal', recipient: 'u-bob' });
  });

  test('no packet without a readable code; the error only once typed (or on submit)', () => {
    const base = { ...EMPTY_FORM, exclusive: true, totalYuan: '5' };
    expect(checkSend(base, limits).errors.recipient).toBeUndefined();
    expect(checkSend(base, limits).ready).toBeUndefined();
    expect(checkSend(base, limits, true).errors.recipient).toBe(RECEIVE_CODE_ERRORS.empty);
    expect(checkSend({ ...base, recipientCode: 'xyz' }, limits).errors.recipient).toBe(RECEIVE_CODE_ERRORS.malformed);
    expect(checkSend({ ...base, recipientCode: receiveCode('me') }, limits, false, 'me').errors.recipient).toBe(
      RECEIVE_CODE_ERRORS.self,
    );
  });

  test('the draft keeps the option and the code', () => {
    saveDraft({ ...EMPTY_FORM, exclusive: true, recipientCode: receiveCode('u-bob') });
    expect(loadDraft()?.values).toMatchObject({ exclusive: true, recipientCode: receiveCode('u-bob') });
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
    },
    code,
    shareCode: { ...code, kind: 'share' },
    fee: 0,
  };
}

describe('专属红包 in the send form', () => {
  test('the option fixes the count at 1, reads the pasted code, names the friend and sends the recipient', async () => {
    const submit = jest.fn(async (body: CreatePacketRequest) => created(body));
    const identify = jest.fn(async (code: string) =>
      code === receiveCode('u-bob') ? { id: 'u-bob', name: 'Bob' } : undefined,
    );
    render(
      <SendForm
        limits={limits}
        submit={submit}
        onCreated={jest.fn()}
        onTopUp={jest.fn()}
        me="u-alice"
        identify={identify}
      />,
    );
    type('红包个数', '6');
    click('专属红包');
    expect(screen.getByLabelText('专属红包').getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByLabelText('拼手气红包').getAttribute('aria-pressed')).toBe('false');
    expect(fieldValue('红包个数')).toBe('1');
    expect((field('红包个数') as HTMLElement & { disabled?: boolean }).disabled).toBe(true);
    type('总金额（元）', '52');

    // A malformed code: a clear message, and no confirm step.
    type('好友收款码', '1.k1.ru-bob.mabc12');
    expect(screen.getByText(RECEIVE_CODE_ERRORS.malformed)).toBeTruthy();
    click('塞钱进红包');
    expect(screen.queryByLabelText('确认支付')).toBeNull();
    // A packet code pasted by mistake says so.
    type('好友收款码', `1.k1.sp1.mabc12.${SIG}`);
    expect(screen.getByText(RECEIVE_CODE_ERRORS.packet)).toBeTruthy();

    type('好友收款码', `请付款给我 https://hb.example/#/pages/pay/index?c=${receiveCode('u-bob')}`);
    await flush();
    expect(screen.queryByText(RECEIVE_CODE_ERRORS.malformed)).toBeNull();
    expect(identify).toHaveBeenLastCalledWith(receiveCode('u-bob'));
    expect(screen.getByLabelText('收红包的人').textContent).toBe('专属红包 · 给 Bob（账号 u-bob）');
    click('塞钱进红包');
    expect(screen.getByText('专属红包', { selector: '.confirm__title' })).toBeTruthy();
    expect(screen.getByLabelText('专属红包给').textContent).toContain('Bob');
    click('确认支付');
    await flush();
    expect(submit).toHaveBeenCalledTimes(1);
    expect(submit.mock.calls[0]![0]).toEqual({ total: 5_200, count: 1, mode: 'equal', recipient: 'u-bob' });
  });

  test('the server refuses the recipient (404 / 400): back to the form with the reason on the field', async () => {
    const submit = jest
      .fn<Promise<CreatePacketResponse>, [CreatePacketRequest, string]>()
      .mockRejectedValueOnce(new ApiError('NOT_FOUND', 404))
      .mockRejectedValueOnce(new ApiError('VALIDATION_FAILED', 400));
    render(<SendForm limits={limits} submit={submit} onCreated={jest.fn()} onTopUp={jest.fn()} />);
    click('专属红包');
    type('总金额（元）', '1');
    type('好友收款码', receiveCode('ghost'));
    click('塞钱进红包');
    click('确认支付');
    await flush();
    expect(screen.queryByLabelText('确认支付')).toBeNull();
    expect(screen.getByRole('alert').textContent).toBe(
      '找不到这个收款码对应的账号，请让好友重新打开「我的收款码」后再发给你',
    );
    // The mark stays until the code is changed.
    click('塞钱进红包');
    expect(screen.queryByLabelText('确认支付')).toBeNull();
    type('好友收款码', receiveCode('u-me'));
    expect(screen.queryByRole('alert')).toBeNull();
    click('塞钱进红包');
    click('确认支付');
    await flush();
    expect(screen.getByRole('alert').textContent).toMatch(/不能发给自己/);
    expect(submit.mock.calls.map((c) => c[0].recipient)).toEqual(['ghost', 'u-me']);
  });
});

const exclusivePacket = {
  id: 'p1',
  sender: { id: 'u-alice', name: 'Alice' },
  total: 5_200,
  count: 1,
  mode: 'equal',
  greeting: '生日快乐',
  scene: 'none',
  status: 'active',
  claimedCount: 0,
  refundedAmount: 0,
  createdAt: '2026-11-28T05:00:00Z',
  expiresAt: '2126-11-29T05:00:00Z',
  recipient: { id: 'u-bob', name: 'Bob' },
};
const login = (userId: string) =>
  saveSession({
    token: 't',
    userId,
    name: userId,
    tier: 'personal',
    roles: ['user'],
    expiresAt: '2126-11-29T00:00:00Z',
  });

describe('专属红包 on the open page', () => {
  beforeEach(() => {
    for (const f of Object.values(mockApi)) f.mockReset();
    mockApi.openCode.mockResolvedValue({ target: 'packet', packet: exclusivePacket, claimable: true });
    mockApi.packet.mockResolvedValue({ ...exclusivePacket, claimedAmount: 0, claims: [] });
  });

  test('the recipient sees who it is for and may open it', async () => {
    login('u-bob');
    mockApi.claim.mockResolvedValue({
      packetId: 'p1',
      amount: 5_200,
      claimedAt: '2026-11-28T05:10:00Z',
      repeat: false,
    });
    render(<OpenPage />);
    await flush();
    expect(screen.getByLabelText('专属红包').textContent).toBe('专属红包 · 给 Bob');
    expect(screen.getByLabelText('开红包')).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
  });

  test('anyone else gets the FORBIDDEN screen naming the recipient, without a claim', async () => {
    login('u-carol');
    render(<OpenPage />);
    await flush();
    const alert = screen.getByRole('alert', { name: '这个红包你不能领取' });
    expect(alert.textContent).toContain('这是发给 Bob 的专属红包，只有 TA 本人可以领取。');
    expect(screen.queryByLabelText('开红包')).toBeNull();
    expect(mockApi.claim).not.toHaveBeenCalled();
  });

  test('a claim the server refuses (FORBIDDEN) reads the same', async () => {
    login('u-bob');
    mockApi.claim.mockRejectedValueOnce(new ApiError('FORBIDDEN', 403));
    render(<OpenPage />);
    await flush();
    click('开红包');
    await flush();
    expect(screen.getByRole('alert', { name: '这个红包你不能领取' }).textContent).toContain('这是发给 Bob 的专属红包');
  });
});
