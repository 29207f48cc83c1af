import { render, screen, waitFor } from '@testing-library/react';
import type { Payment } from '../../functions/src/http/contract';
import type { CreatePacketResult, PendingPacketResponse, SendBody } from '../src/api';
import { PaymentFlow } from '../src/components/PaymentFlow';
import { SendForm } from '../src/components/SendForm';
import { SimPaySheet, SimTransferSheet } from '../src/components/WxPaySim';
import type { Limits } from '../src/lib/sendRules';
import * as wxpay from '../src/lib/wxpay';
import { click, flush, type } from './helpers';

/**
 * WeChat Pay in the app: the funding choice, the sheet with exactly the server's request, the
 * polls that follow it (the sheet proves nothing), a canceled sheet, and the simulator's
 * stand-in screens on H5. Taro's requestPayment and request are stubbed (no WeChat, no network).
 */
const mockRequestPayment = jest.fn();
const mockRequest = jest.fn();
jest.mock('@tarojs/taro', () =>
  require('./taroMock').taroWith({
    requestPayment: (...a: unknown[]) => mockRequestPayment(...a),
    request: (...a: unknown[]) => mockRequest(...a),
  }),
);

const limits: Limits = {
  balance: 500,
  perPacketLimit: 20_000,
  dailyLimit: 100_000,
  sentToday: 0,
  feeBps: 0,
  maxShares: 100,
};

const request = {
  timeStamp: '1764910000',
  nonceStr: 'n0nce5tr',
  package: 'prepay_id=wx05123456789',
  signType: 'RSA' as const,
  paySign: 'c2lnbmVk',
};
const payment = (state: Payment['state']): Payment => ({ paymentId: 'pay_1', amount: 999, state, request });

function pending(body: SendBody): PendingPacketResponse {
  const now = new Date().toISOString();
  return {
    packet: {
      id: 'p1',
      sender: { id: 'u', name: 'A' },
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
    payment: payment('pending'),
    fee: 0,
  };
}

function sendForm(opts: { balance?: number; fetchPayment?: jest.Mock; onPaid?: jest.Mock } = {}) {
  const submit = jest.fn(async (body: SendBody): Promise<CreatePacketResult> => pending(body));
  const fetchPayment = opts.fetchPayment ?? jest.fn(async () => payment('paid'));
  const onPaid = opts.onPaid ?? jest.fn();
  render(
    <SendForm
      limits={{ ...limits, balance: opts.balance ?? limits.balance }}
      submit={submit}
      onCreated={jest.fn()}
      onPaid={onPaid}
      fetchPayment={fetchPayment}
      onTopUp={jest.fn()}
    />,
  );
  type('总金额（元）', '9.99');
  type('红包个数', '3');
  click('塞钱进红包');
  return { submit, fetchPayment, onPaid };
}

const pressed = (label: string) => screen.getByLabelText(label).getAttribute('aria-pressed');

beforeEach(() => {
  mockRequestPayment.mockReset();
  mockRequest.mockReset();
  delete window.__HONGBAO_WXPAY_SIM__;
});
afterEach(() => {
  jest.restoreAllMocks();
});

describe('the send form: funding', () => {
  test('the balance is short of total + fee: 微信支付 is preselected, no top-up needed', () => {
    sendForm({ balance: 500 });
    expect(pressed('微信支付')).toBe('true');
    expect(pressed('零钱')).toBe('false');
    expect(screen.queryByText(/零钱余额不足/)).toBeNull();
    expect(screen.getByLabelText('确认支付').getAttribute('aria-disabled')).toBeNull();
  });

  test('enough balance: 零钱 stays the default; picking 零钱 when short shows the shortfall', () => {
    sendForm({ balance: 100_000 });
    expect(pressed('零钱')).toBe('true');
    expect(pressed('微信支付')).toBe('false');
  });

  test('零钱 picked while short: the shortfall and a disabled pay button', () => {
    sendForm({ balance: 500 });
    click('零钱');
    expect(pressed('零钱')).toBe('true');
    expect(screen.getByText(/零钱余额不足，还差 ¥4.99/)).toBeTruthy();
    expect(screen.getByLabelText('确认支付').getAttribute('aria-disabled')).toBe('true');
  });

  test('a balance-funded packet is sent as before (no funding field)', async () => {
    const { submit } = sendForm({ balance: 100_000 });
    click('确认支付');
    await flush();
    expect(submit.mock.calls[0]![0]).toEqual({ total: 999, count: 3, mode: 'lucky' });
  });
});

describe('the send form: paying in WeChat', () => {
  test('weapp: requestPayment gets exactly the server request, then the payment is polled; paid → onPaid', async () => {
    jest.spyOn(wxpay, 'payChannel').mockReturnValue('weapp');
    mockRequestPayment.mockResolvedValue({ errMsg: 'requestPayment:ok' });
    // The second poll answers only when the test says so (no race with the poll's backoff).
    let answer: (p: Payment) => void = () => undefined;
    const fetchPayment = jest
      .fn()
      .mockResolvedValueOnce(payment('pending'))
      .mockImplementationOnce(() => new Promise<Payment>((r) => (answer = r)));
    const { submit, onPaid } = sendForm({ balance: 500, fetchPayment });
    click('确认支付');
    await flush();
    expect(submit).toHaveBeenCalledTimes(1);
    expect(submit.mock.calls[0]![0]).toEqual({ total: 999, count: 3, mode: 'lucky', funding: 'wechatpay' });
    expect(mockRequestPayment).toHaveBeenCalledTimes(1);
    expect(mockRequestPayment.mock.calls[0]![0]).toEqual(request);
    // The sheet's success proves nothing: polled, still pending, no onPaid.
    await waitFor(() => expect(fetchPayment).toHaveBeenCalledTimes(2), { timeout: 5000 });
    expect(fetchPayment.mock.calls).toEqual([['pay_1'], ['pay_1']]);
    expect(screen.getByLabelText('支付状态').textContent).toBe('等待微信支付确认');
    expect(onPaid).not.toHaveBeenCalled();
    answer(payment('paid'));
    await waitFor(() => expect(screen.getByLabelText('支付状态').textContent).toBe('已支付'));
    expect(fetchPayment).toHaveBeenCalledTimes(2);
    expect(onPaid).toHaveBeenCalledTimes(1);
    expect(onPaid.mock.calls[0]![0].packet.id).toBe('p1');
  });

  test('weapp: a sheet that says ok but a payment the API calls closed is 已关闭, never paid', async () => {
    jest.spyOn(wxpay, 'payChannel').mockReturnValue('weapp');
    mockRequestPayment.mockResolvedValue({ errMsg: 'requestPayment:ok' });
    const fetchPayment = jest.fn(async () => payment('closed'));
    const { onPaid } = sendForm({ balance: 500, fetchPayment });
    click('确认支付');
    await waitFor(() => expect(screen.getByLabelText('支付状态').textContent).toBe('已关闭'));
    expect(onPaid).not.toHaveBeenCalled();
  });

  test('weapp: a canceled sheet is 已取消 with 继续支付 (the same request again) and 放弃', async () => {
    jest.spyOn(wxpay, 'payChannel').mockReturnValue('weapp');
    mockRequestPayment
      .mockRejectedValueOnce({ errMsg: 'requestPayment:fail cancel' })
      .mockResolvedValueOnce({ errMsg: 'requestPayment:ok' });
    const fetchPayment = jest.fn().mockResolvedValueOnce(payment('pending')).mockResolvedValue(payment('paid'));
    const { submit, onPaid } = sendForm({ balance: 500, fetchPayment });
    click('确认支付');
    await waitFor(() => expect(screen.getByLabelText('支付状态').textContent).toBe('已取消'));
    expect(screen.getByText(/15 分钟内未支付将自动取消/)).toBeTruthy();
    expect(screen.getByLabelText('放弃')).toBeTruthy();
    expect(onPaid).not.toHaveBeenCalled();

    click('继续支付');
    await waitFor(() => expect(screen.getByLabelText('支付状态').textContent).toBe('已支付'));
    expect(mockRequestPayment).toHaveBeenCalledTimes(2);
    expect(mockRequestPayment.mock.calls[1]![0]).toEqual(request);
    expect(submit).toHaveBeenCalledTimes(1); // the same packet, not a second one
    expect(onPaid).toHaveBeenCalledTimes(1);
  });

  test('放弃 after a cancel: back to the confirm step, the packet left to expire unpaid', async () => {
    jest.spyOn(wxpay, 'payChannel').mockReturnValue('weapp');
    mockRequestPayment.mockRejectedValue({ errMsg: 'requestPayment:fail cancel' });
    sendForm({ balance: 500, fetchPayment: jest.fn(async () => payment('pending')) });
    click('确认支付');
    await waitFor(() => expect(screen.getByLabelText('放弃')).toBeTruthy());
    click('放弃');
    expect(screen.queryByLabelText('支付状态')).toBeNull();
    expect(screen.getByText(/上一个红包未支付，15 分钟后自动取消/)).toBeTruthy();
    expect(screen.getByLabelText('确认支付')).toBeTruthy();
  });

  test('H5 with dev features: the 模拟微信支付 screen pays through the simulator, then the payment is polled', async () => {
    window.__HONGBAO_WXPAY_SIM__ = 'http://127.0.0.1:3010';
    mockRequest.mockResolvedValue({ statusCode: 200, data: { state: 'SUCCESS' }, header: {} });
    const fetchPayment = jest.fn(async () => payment('paid'));
    const { onPaid } = sendForm({ balance: 500, fetchPayment });
    click('确认支付');
    await flush();
    expect(mockRequestPayment).not.toHaveBeenCalled(); // no WeChat in a browser
    expect(screen.getByRole('dialog', { name: '模拟微信支付' })).toBeTruthy();
    expect(screen.getByLabelText('支付状态').textContent).toBe('支付中');
    expect(fetchPayment).not.toHaveBeenCalled();
    click('模拟支付成功');
    await waitFor(() => expect(onPaid).toHaveBeenCalledTimes(1));
    expect(mockRequest).toHaveBeenCalledTimes(1);
    expect(mockRequest.mock.calls[0]![0]).toMatchObject({
      url: 'http://127.0.0.1:3010/sim/payments/wx05123456789/pay',
      method: 'POST',
    });
    expect(fetchPayment).toHaveBeenCalledWith('pay_1');
  });
});

describe('the payment flow: bounded polls', () => {
  test('a payment still pending after the last poll: 等待微信支付确认 with 再查一次, no endless polling', async () => {
    jest.spyOn(wxpay, 'payChannel').mockReturnValue('weapp');
    mockRequestPayment.mockResolvedValue({ errMsg: 'requestPayment:ok' });
    const fetchPayment = jest.fn(async () => payment('pending'));
    const onPaid = jest.fn();
    render(
      <PaymentFlow
        payment={payment('pending')}
        fetchPayment={fetchPayment}
        subject="充值"
        onPaid={onPaid}
        onAbandon={jest.fn()}
        poll={{ delays: [0, 1, 1], sleep: async () => undefined }}
      />,
    );
    await waitFor(() => expect(screen.getByLabelText('再查一次')).toBeTruthy());
    expect(screen.getByLabelText('支付状态').textContent).toBe('等待微信支付确认');
    expect(fetchPayment).toHaveBeenCalledTimes(3);
    fetchPayment.mockResolvedValue(payment('paid'));
    click('再查一次');
    await waitFor(() => expect(onPaid).toHaveBeenCalledTimes(1));
  });

  test.each(['weapp', 'sim'] as const)(
    '%s: a payment without request (paid before its prepay id was known): no sheet, its state is asked, paid → onPaid',
    async (channel) => {
      jest.spyOn(wxpay, 'payChannel').mockReturnValue(channel);
      mockRequestPayment.mockClear();
      const { request: _none, ...withoutRequest } = payment('pending');
      const fetchPayment = jest.fn(async () => ({ ...withoutRequest, state: 'paid' as const }));
      const onPaid = jest.fn();
      render(
        <PaymentFlow
          payment={withoutRequest}
          fetchPayment={fetchPayment}
          subject="充值"
          onPaid={onPaid}
          onAbandon={jest.fn()}
          poll={{ delays: [0, 1, 1], sleep: async () => undefined }}
        />,
      );
      await waitFor(() => expect(onPaid).toHaveBeenCalledTimes(1));
      expect(screen.getByLabelText('支付状态').textContent).toBe('已支付');
      expect(screen.queryByRole('dialog', { name: '模拟微信支付' })).toBeNull();
      expect(mockRequestPayment).not.toHaveBeenCalled();
    },
  );

  test('pollUntil: a lost answer is tried again, a refusal ends the poll', async () => {
    const { ApiError } = await import('../src/api/errors');
    const get = jest.fn().mockRejectedValueOnce(new ApiError('NETWORK_ERROR', 0)).mockResolvedValue('paid');
    await expect(
      wxpay.pollUntil(get, (x) => x === 'paid', { delays: [0, 0, 0], sleep: async () => undefined }),
    ).resolves.toBe('paid');
    expect(get).toHaveBeenCalledTimes(2);
    const refused = jest.fn().mockRejectedValue(new ApiError('NOT_FOUND', 404));
    await expect(
      wxpay.pollUntil(refused, () => true, { delays: [0, 0, 0], sleep: async () => undefined }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(refused).toHaveBeenCalledTimes(1);
  });
});

describe('the simulator screens call its hooks', () => {
  test('模拟微信支付: pay and cancel by prepay id (from the package)', async () => {
    window.__HONGBAO_WXPAY_SIM__ = 'http://127.0.0.1:3010/';
    mockRequest.mockResolvedValue({ statusCode: 200, data: {}, header: {} });
    const onDone = jest.fn();
    render(<SimPaySheet amount={999} prepayId={wxpay.prepayIdOf(request)} onDone={onDone} />);
    expect(screen.getByLabelText('支付金额').textContent).toBe('¥9.99');
    click('模拟取消支付');
    await waitFor(() => expect(onDone).toHaveBeenCalledWith('cancel'));
    click('模拟支付成功');
    await waitFor(() => expect(onDone).toHaveBeenCalledWith('pay'));
    expect(mockRequest.mock.calls.map((c) => [c[0].method, c[0].url])).toEqual([
      ['POST', 'http://127.0.0.1:3010/sim/payments/wx05123456789/cancel'],
      ['POST', 'http://127.0.0.1:3010/sim/payments/wx05123456789/pay'],
    ]);
  });

  test('模拟确认收款: confirm and reject by out_bill_no (the withdrawal id); the default address is the API host on 3010', async () => {
    mockRequest.mockResolvedValue({ statusCode: 200, data: {}, header: {} });
    const onDone = jest.fn();
    render(<SimTransferSheet amount={1234} outBillNo="wd0123456789abcdef0123456789abcd" onDone={onDone} />);
    expect(screen.getByLabelText('收款金额').textContent).toBe('¥12.34');
    click('模拟收款成功');
    await waitFor(() => expect(onDone).toHaveBeenCalledWith('confirm'));
    click('模拟拒绝收款');
    await waitFor(() => expect(onDone).toHaveBeenCalledWith('reject'));
    expect(mockRequest.mock.calls.map((c) => [c[0].method, c[0].url])).toEqual([
      ['POST', 'http://localhost:3010/sim/transfers/wd0123456789abcdef0123456789abcd/confirm'],
      ['POST', 'http://localhost:3010/sim/transfers/wd0123456789abcdef0123456789abcd/reject'],
    ]);
  });

  test('a simulator that does not answer: the screen says where it looked, nothing is reported done', async () => {
    window.__HONGBAO_WXPAY_SIM__ = 'http://127.0.0.1:3010';
    mockRequest.mockRejectedValue({ errMsg: 'request:fail' });
    const onDone = jest.fn();
    render(<SimPaySheet amount={999} prepayId="wx1" onDone={onDone} />);
    click('模拟支付成功');
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('http://127.0.0.1:3010'));
    expect(onDone).not.toHaveBeenCalled();
  });
});
