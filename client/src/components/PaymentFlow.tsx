import { Text, View } from '@tarojs/components';
import { useEffect, useRef, useState } from 'react';
import type { Payment } from '../../../functions/src/http/contract';
import { errorText } from '../api/errors';
import { formatYuan } from '../lib/money';
import { openPaymentSheet, payChannel, pollUntil, prepayIdOf, type PollOptions } from '../lib/wxpay';
import { aria, Btn } from './ui';

// The simulator's screens are H5 only: the weapp build drops the module (TARO_ENV is replaced
// at build time, so webpack never resolves the require there).
const SimPaySheet: typeof import('./WxPaySim').SimPaySheet | undefined =
  process.env.TARO_ENV === 'h5' ? (require('./WxPaySim') as typeof import('./WxPaySim')).SimPaySheet : undefined;

/**
 * Where one WeChat Pay payment stands, as the app sees it:
 *   sheet      支付中 — WeChat's sheet (or the simulator's) is open;
 *   confirming 等待微信支付确认 — the sheet closed, the API is being asked (bounded polls);
 *   waiting    the polls ran out with the order still pending (look again, or pay again);
 *   paid       已支付 — the API says so (the only proof);
 *   canceled   已取消 — the user closed the sheet: the order stays open, 继续支付 / 放弃;
 *   failed     the sheet failed (not a cancel): the same choices;
 *   closed     已关闭 — the order is closed, nothing was taken;
 *   error      the API refused the query (e.g. the session ended).
 */
export type PayPhase = 'sheet' | 'confirming' | 'waiting' | 'paid' | 'canceled' | 'failed' | 'closed' | 'error';

export const PAY_PHASE_TEXT: Record<PayPhase, string> = {
  sheet: '支付中',
  confirming: '等待微信支付确认',
  waiting: '等待微信支付确认',
  paid: '已支付',
  canceled: '已取消',
  failed: '支付未完成',
  closed: '已关闭',
  error: '查询支付结果失败',
};

interface Props {
  payment: Payment;
  /** GET /v1/payments/{paymentId}. */
  fetchPayment: (paymentId: string) => Promise<Payment>;
  /** What the money is for, in words ("红包", "充值"). */
  subject: string;
  /** Shown under 已取消: what happens to the unpaid order (e.g. the packet's 15 minutes). */
  canceledHint?: string;
  /** The API says paid (called once). */
  onPaid: (payment: Payment) => void;
  /** The user gives up, or acknowledges a closed order. */
  onAbandon: () => void;
  /** Poll timing (tests). */
  poll?: Pick<PollOptions, 'delays' | 'sleep'>;
}

/**
 * One WeChat Pay payment from sheet to proof: opens the sheet with exactly the server's
 * `request` (weapp) or the 模拟微信支付 screen (H5 with dev features), then polls the payment
 * until the API says paid or closed. The sheet's own success proves nothing.
 */
export function PaymentFlow({ payment, fetchPayment, subject, canceledHint, onPaid, onAbandon, poll }: Props) {
  const [phase, setPhase] = useState<PayPhase>('sheet');
  const [detail, setDetail] = useState<string | undefined>();
  const gone = useRef(false);
  const paidOnce = useRef(false);
  const channel = payChannel();
  const id = payment.paymentId;

  useEffect(() => {
    gone.current = false;
    return () => {
      gone.current = true;
    };
  }, []);

  const settle = (p: Payment | undefined, unsettled: PayPhase) => {
    if (gone.current) return;
    if (p?.state === 'paid') {
      setPhase('paid');
      if (!paidOnce.current) {
        paidOnce.current = true;
        onPaid(p);
      }
    } else if (p?.state === 'closed') setPhase('closed');
    else setPhase(unsettled);
  };

  /** After the sheet said done: ask the API until it knows (bounded). */
  const confirm = async () => {
    setPhase('confirming');
    setDetail(undefined);
    try {
      const p = await pollUntil(
        () => fetchPayment(id),
        (x) => x.state !== 'pending',
        { ...poll, cancelled: () => gone.current },
      );
      settle(p, 'waiting');
    } catch (err) {
      if (gone.current) return;
      setDetail(errorText(err));
      setPhase('error');
    }
  };

  /** After a cancel or a failure: one look (it may have been paid after all), else that phase. */
  const checkOnce = async (phaseIfPending: PayPhase) => {
    let p: Payment | undefined;
    try {
      p = await fetchPayment(id);
    } catch {
      p = undefined;
    }
    settle(p, phaseIfPending);
  };

  const openSheet = async () => {
    // No `request`: nothing is left to pay (the order is paid or closed); only its state to learn.
    if (!payment.request) return confirm();
    setPhase('sheet');
    setDetail(undefined);
    if (channel !== 'weapp') return; // the simulator's screen is rendered below
    const out = await openPaymentSheet(payment.request);
    if (gone.current) return;
    if (out.kind === 'done') await confirm();
    else if (out.kind === 'canceled') await checkOnce('canceled');
    else {
      setDetail(out.message);
      await checkOnce('failed');
    }
  };

  // One payment per mount: a new payment is a new component (keyed by the caller).
  // biome-ignore lint/correctness/useExhaustiveDependencies: the sheet opens once per payment id, not on every new closure.
  useEffect(() => {
    void openSheet();
  }, [id]);

  const again = () => void openSheet();

  return (
    <View className="payflow" role="region" aria-label="微信支付">
      <View className="payflow__head">
        <Text className="payflow__subject">微信支付 · {subject}</Text>
        <Text className="payflow__amount" aria-label="支付金额">
          {formatYuan(payment.amount)}
        </Text>
        <Text
          className={`payflow__state payflow__state--${phase}`}
          aria-label="支付状态"
          {...aria({ role: 'status', live: 'polite' })}
        >
          {PAY_PHASE_TEXT[phase]}
        </Text>
      </View>

      {phase === 'sheet' && channel === 'sim' && SimPaySheet && payment.request ? (
        <SimPaySheet
          amount={payment.amount}
          prepayId={prepayIdOf(payment.request)}
          onDone={(action) => void (action === 'pay' ? confirm() : checkOnce('canceled'))}
        />
      ) : null}
      {phase === 'sheet' && channel === 'weapp' ? (
        <Text className="hint hint--center">请在微信支付中完成付款</Text>
      ) : null}
      {phase === 'sheet' && channel === 'none' ? (
        <Text className="hint hint--center">当前环境无法调起微信支付，请在微信小程序中操作</Text>
      ) : null}
      {phase === 'confirming' ? <Text className="hint hint--center">正在向微信支付确认结果，请稍候…</Text> : null}

      {phase === 'waiting' ? (
        <View className="note" role="alert">
          <Text className="note__text">
            还没有收到微信支付的结果。如果你已付款，结果通常很快到达，请稍后再查；没有付款可以继续支付。
          </Text>
          <Btn label="再查一次" kind="primary" className="btn--block" onClick={() => void confirm()} />
          <Btn label="继续支付" kind="ghost" className="btn--block" onClick={again} />
        </View>
      ) : null}

      {phase === 'canceled' || phase === 'failed' ? (
        <View className="note" role="alert">
          <Text className="note__text">
            {phase === 'canceled'
              ? '你取消了支付，没有扣款。'
              : `支付没有完成${detail ? `（${detail}）` : ''}，没有扣款。`}
            {canceledHint ?? ''}
          </Text>
          <Btn label="继续支付" kind="gold" className="btn--block" onClick={again} />
          <Btn label="放弃" kind="plain" className="btn--block" onClick={onAbandon} />
        </View>
      ) : null}

      {phase === 'closed' ? (
        <View className="note" role="alert">
          <Text className="note__text">这笔{subject}的微信支付订单已关闭，没有扣款。</Text>
          <Btn label="知道了" kind="primary" className="btn--block" onClick={onAbandon} />
        </View>
      ) : null}

      {phase === 'error' ? (
        <View className="note note--error" role="alert">
          <Text className="note__text">{detail ?? '查询支付结果失败'}</Text>
          <Btn label="再查一次" kind="primary" className="btn--block" onClick={() => void confirm()} />
        </View>
      ) : null}

      {phase === 'paid' ? (
        <Text className="note note--ok" {...aria({ role: 'status' })}>
          支付成功
        </Text>
      ) : null}
    </View>
  );
}
