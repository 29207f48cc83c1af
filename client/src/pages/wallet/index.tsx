import { Text, View } from '@tarojs/components';
import Taro, { usePullDownRefresh, useReachBottom } from '@tarojs/taro';
import { useCallback, useEffect, useState } from 'react';
import { api, type LedgerLine, type PendingTopupResponse, type TopupMethod } from '../../api';
import { devFeaturesEnabled } from '../../api/config';
import { errorText } from '../../api/errors';
import { PageShell } from '../../components/PageShell';
import { PaymentFlow } from '../../components/PaymentFlow';
import { RefusalNotice } from '../../components/RefusalNotice';
import { aria, Btn, Empty, ErrorNote, Field, Loading } from '../../components/ui';
import { LEDGER_TEXT, shortTime } from '../../lib/format';
import { formatSigned, formatYuan, parseYuan } from '../../lib/money';
import { refusalOf, type Refusal } from '../../lib/refusal';
import { useLoad } from '../../lib/useLoad';
import { usePaged } from '../../lib/usePaged';
import { useKeyedAction } from '../../lib/useKeyedAction';
import { isPendingTopup, payChannel } from '../../lib/wxpay';
import './index.scss';

const QUICK = [1_000, 5_000, 10_000, 20_000];
/** schemas.ts TopupBody: 50,000 yuan at most per top-up. */
const MAX_TOPUP = 5_000_000;

/**
 * The top-up methods this build offers, the preselected one first: the sandbox's instant top-up
 * only where dev features are on, and there first, so a developer's top-up stays one click;
 * WeChat Pay wherever it can be shown (WeChat, or the simulator on H5 with dev features).
 */
function topupMethods(): TopupMethod[] {
  const out: TopupMethod[] = [];
  if (devFeaturesEnabled()) out.push('sandbox');
  if (payChannel() !== 'none') out.push('wechatpay');
  return out;
}

const METHOD_TEXT: Record<TopupMethod, string> = { wechatpay: '微信支付', sandbox: '沙箱充值（立即到账）' };

export default function WalletPage() {
  const [methods] = useState(topupMethods);
  const [method, setMethod] = useState<TopupMethod | undefined>(() => methods[0]);
  const [pendingTopup, setPendingTopup] = useState<PendingTopupResponse | undefined>();
  const walletLoad = useLoad(() => api.wallet());
  const { data: wallet, error: walletError, setData: setWallet, reload: loadWallet } = walletLoad;
  const [amount, setAmount] = useState('');
  const [fieldError, setFieldError] = useState<string | undefined>();
  const [topupError, setTopupError] = useState<string | undefined>();
  const [refusal, setRefusal] = useState<Refusal | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const action = useKeyedAction('t');
  const paying = action.running;
  const ledger = usePaged<LedgerLine>(async (cursor) => {
    const r = await api.ledger(cursor);
    return { items: r.entries, cursor: r.cursor };
  });
  const { refresh: refreshLedger, more } = ledger;

  const reload = useCallback(async () => {
    await Promise.all([loadWallet(), refreshLedger()]);
  }, [loadWallet, refreshLedger]);

  // The wallet loads itself on mount; the ledger's first page with it.
  useEffect(() => {
    void refreshLedger();
  }, [refreshLedger]);

  usePullDownRefresh(() => {
    void reload().finally(() => Taro.stopPullDownRefresh());
  });
  useReachBottom(() => {
    void more();
  });

  const topup = async () => {
    if (action.inFlight() || pendingTopup || !method) return;
    const p = parseYuan(amount);
    if (!p.ok) return setFieldError(p.error);
    if (p.fen < 1) return setFieldError('金额至少 0.01 元');
    if (p.fen > MAX_TOPUP) return setFieldError(`单次最多充值 ${formatYuan(MAX_TOPUP)}`);
    setFieldError(undefined);
    setTopupError(undefined);
    setRefusal(undefined);
    setDone(undefined);
    await action.run({ amount: p.fen, method }, (body, key) => api.topup(body.amount, key, body.method), {
      done: (res) => {
        if (isPendingTopup(res)) {
          // Nothing is credited until the API says the payment is paid.
          setPendingTopup(res);
          return;
        }
        setWallet((w) => (w ? { ...w, balance: res.balance } : w));
        setDone(`已充值 ${formatYuan(res.amount)}`);
        setAmount('');
        void reload();
      },
      failed: (e, ended) => {
        const r = refusalOf(e, { op: 'topup' });
        if (r) return setRefusal(r);
        setTopupError(ended ? errorText(e) : `${errorText(e)}（再次点击充值不会重复扣款）`);
      },
    });
  };

  return (
    <PageShell className="wallet-page" onShowAgain={() => void reload()}>
      <View className="wallet-head">
        <View className="wallet-head__icon" aria-hidden="true">
          <Text>¥</Text>
        </View>
        <Text className="wallet-head__caption">我的零钱</Text>
        {wallet || walletError ? (
          <Text className="wallet-head__amount" aria-label="余额" {...aria({ role: 'status' })}>
            {wallet ? formatYuan(wallet.balance) : '¥--'}
          </Text>
        ) : (
          <Text className="wallet-head__amount" aria-hidden="true">
            ¥…
          </Text>
        )}
        {walletError ? <ErrorNote message={walletError} onRetry={() => void loadWallet()} /> : null}
      </View>

      <View className="card">
        <Text className="card__title">充值</Text>
        {methods.length > 1 ? (
          <View className="segmented" role="group" aria-label="充值方式">
            {methods.map((m) => (
              <Btn
                key={m}
                label={METHOD_TEXT[m]}
                kind="chip"
                pressed={method === m}
                disabled={paying || !!pendingTopup}
                onClick={() => setMethod(m)}
              />
            ))}
          </View>
        ) : null}
        {methods.length === 0 ? <Text className="hint">当前环境无法调起微信支付，请在微信小程序中充值。</Text> : null}
        <Field
          label="充值金额（元）"
          caption="金额"
          kind="money"
          value={amount}
          placeholder="0.00"
          suffix="元"
          maxlength={12}
          error={fieldError}
          onInput={(v) => setAmount(v)}
          big
        />
        <View className="chips">
          {QUICK.map((f) => (
            <Btn key={f} label={`${f / 100} 元`} kind="chip" onClick={() => setAmount(String(f / 100))}>
              {`¥${f / 100}`}
            </Btn>
          ))}
        </View>
        {refusal ? (
          <RefusalNotice refusal={refusal} on={{ retry: () => void topup(), dismiss: () => setRefusal(undefined) }} />
        ) : null}
        {topupError ? <ErrorNote message={topupError} /> : null}
        {done ? (
          <Text className="note note--ok" {...aria({ role: 'status' })}>
            {done}
          </Text>
        ) : null}
        {pendingTopup ? (
          <PaymentFlow
            key={pendingTopup.payment.paymentId}
            payment={pendingTopup.payment}
            fetchPayment={(id) => api.payment(id)}
            subject="充值"
            onPaid={() => {
              setPendingTopup(undefined);
              setDone(`已充值 ${formatYuan(pendingTopup.amount)}`);
              setAmount('');
              void reload();
            }}
            onAbandon={() => setPendingTopup(undefined)}
          />
        ) : (
          <Btn
            label="充值"
            className="btn--block"
            loading={paying}
            disabled={paying || !method}
            onClick={() => void topup()}
          >
            {paying ? '充值中…' : method === 'wechatpay' ? '微信支付充值' : '充值'}
          </Btn>
        )}
      </View>

      <View className="card wallet-actions">
        <Btn
          label="提现"
          kind="ghost"
          className="btn--block"
          onClick={() => void Taro.navigateTo({ url: '/pages/withdraw/index' })}
        >
          提现到微信零钱
        </Btn>
      </View>

      <View className="card">
        <Text className="card__title">零钱明细</Text>
        {ledger.items.length === 0 && ledger.loaded && !ledger.loading ? <Empty text="还没有记录" /> : null}
        <View className="ledger" role="list">
          {ledger.items.map((e) => (
            <View key={e.id} className="ledger__row" role="listitem">
              <View className="ledger__left">
                <Text className="ledger__type">{LEDGER_TEXT[e.type] ?? e.type}</Text>
                <Text className="ledger__time">{shortTime(e.at)}</Text>
              </View>
              <View className="ledger__right">
                <Text className={`ledger__amount${e.amount > 0 ? ' is-in' : ''}`}>{formatSigned(e.amount)}</Text>
                <Text className="ledger__after">余 {formatYuan(e.balanceAfter)}</Text>
              </View>
            </View>
          ))}
        </View>
        {ledger.loading ? <Loading /> : null}
        {ledger.error ? (
          <ErrorNote message={ledger.error} onRetry={() => void (ledger.items.length ? more() : refreshLedger())} />
        ) : null}
        {ledger.hasMore && !ledger.loading ? (
          <Btn label="加载更多" kind="plain" className="btn--block" onClick={() => void more()} />
        ) : null}
        {process.env.TARO_ENV === 'h5' ? (
          <Btn label="刷新明细" kind="plain" className="btn--block" onClick={() => void reload()}>
            下拉或点此刷新
          </Btn>
        ) : null}
      </View>
    </PageShell>
  );
}
