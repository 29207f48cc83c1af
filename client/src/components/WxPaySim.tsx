import { Text, View } from '@tarojs/components';
import { useState } from 'react';
import { wxpaySimBase } from '../api/config';
import { formatYuan, type Fen } from '../lib/money';
import { simPayment, simTransfer, type SimPayAction, type SimTransferAction } from '../lib/wxpaySim';
import { aria, Btn } from './ui';

/**
 * Stand-ins for WeChat's own screens on H5 with dev features on (the weapp build never loads
 * this file: its users see WeChat's real sheets). Each shows the amount and calls the local
 * simulator's hook, which does what WeChat would: pay or give up, confirm or decline.
 */

function useSimCall<A extends string>(call: (action: A) => Promise<void>, after: (action: A) => void) {
  const [busy, setBusy] = useState<A | undefined>();
  const [error, setError] = useState<string | undefined>();
  const run = async (action: A) => {
    if (busy) return;
    setBusy(action);
    setError(undefined);
    try {
      await call(action);
      after(action);
    } catch (err) {
      setError(`${(err as Error).message || '调用失败'}：请确认模拟器在 ${wxpaySimBase()} 运行`);
    } finally {
      setBusy(undefined);
    }
  };
  return { busy, error, run };
}

/** 模拟微信支付: `POST {sim}/sim/payments/{prepayId}/pay` or `/cancel`. */
export function SimPaySheet({
  amount,
  prepayId,
  onDone,
}: {
  amount: Fen;
  prepayId: string;
  onDone: (action: SimPayAction) => void;
}) {
  const sim = useSimCall<SimPayAction>((a) => simPayment(prepayId, a), onDone);
  return (
    <View className="sim-sheet" role="dialog" aria-label="模拟微信支付">
      <Text className="sim-sheet__title">模拟微信支付</Text>
      <Text className="sim-sheet__note">本地开发环境：代替微信支付的付款界面，不会产生真实扣款</Text>
      <Text className="sim-sheet__amount" aria-label="支付金额">
        {formatYuan(amount)}
      </Text>
      {sim.error ? (
        <Text className="note note--error" {...aria({ role: 'alert' })}>
          {sim.error}
        </Text>
      ) : null}
      <Btn
        label="模拟支付成功"
        kind="primary"
        className="btn--block"
        loading={sim.busy === 'pay'}
        disabled={!!sim.busy}
        onClick={() => void sim.run('pay')}
      >
        确认支付
      </Btn>
      <Btn
        label="模拟取消支付"
        kind="plain"
        className="btn--block"
        disabled={!!sim.busy}
        onClick={() => void sim.run('cancel')}
      >
        取消
      </Btn>
    </View>
  );
}

/** 模拟确认收款: `POST {sim}/sim/transfers/{outBillNo}/confirm` or `/reject`. */
export function SimTransferSheet({
  amount,
  outBillNo,
  onDone,
}: {
  amount: Fen;
  outBillNo: string;
  onDone: (action: SimTransferAction) => void;
}) {
  const sim = useSimCall<SimTransferAction>((a) => simTransfer(outBillNo, a), onDone);
  return (
    <View className="sim-sheet" role="dialog" aria-label="模拟确认收款">
      <Text className="sim-sheet__title">模拟确认收款</Text>
      <Text className="sim-sheet__note">本地开发环境：代替微信的「确认收款」页面，不会产生真实转账</Text>
      <Text className="sim-sheet__amount" aria-label="收款金额">
        {formatYuan(amount)}
      </Text>
      {sim.error ? (
        <Text className="note note--error" {...aria({ role: 'alert' })}>
          {sim.error}
        </Text>
      ) : null}
      <Btn
        label="模拟收款成功"
        kind="primary"
        className="btn--block"
        loading={sim.busy === 'confirm'}
        disabled={!!sim.busy}
        onClick={() => void sim.run('confirm')}
      >
        确认收款
      </Btn>
      <Btn
        label="模拟拒绝收款"
        kind="plain"
        className="btn--block"
        disabled={!!sim.busy}
        onClick={() => void sim.run('reject')}
      >
        拒绝收款
      </Btn>
    </View>
  );
}
