import { Text, View } from '@tarojs/components';
import Taro, { usePullDownRefresh, useReachBottom } from '@tarojs/taro';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, type CreateWithdrawalResponse, type WithdrawalView } from '../../api';
import { type ApiError, errorText } from '../../api/errors';
import { PageShell } from '../../components/PageShell';
import { aria, Btn, Empty, ErrorNote, Field, Loading } from '../../components/ui';
import { formatYuan } from '../../lib/money';
import { useLoad } from '../../lib/useLoad';
import { usePaged } from '../../lib/usePaged';
import { useKeyedAction } from '../../lib/useKeyedAction';
import { checkWithdraw, WITHDRAW_LIMIT_TEXT } from '../../lib/withdraw';
import { askForMessages } from '../../lib/subscribe';
import { openTransferConfirm, payChannel, pollUntil, withdrawalSettled, withdrawalStateText } from '../../lib/wxpay';
import './index.scss';

// The simulator's 模拟确认收款 screen is H5 only: the weapp build drops the module.
const SimTransferSheet: typeof import('../../components/WxPaySim').SimTransferSheet | undefined =
  process.env.TARO_ENV === 'h5'
    ? (require('../../components/WxPaySim') as typeof import('../../components/WxPaySim')).SimTransferSheet
    : undefined;

/** Refusals of a withdrawal, in plain words. */
const REFUSED: Record<string, string> = {
  WITHDRAWAL_LIMIT: `超出提现限额：${WITHDRAW_LIMIT_TEXT}`,
  INSUFFICIENT_FUNDS: '零钱余额不足，请减少提现金额',
};

/**
 * Where the current withdrawal stands on this page:
 *   confirm  — WeChat's 确认收款 (or the simulator's screen) is open;
 *   unconfirmed — the user left it without confirming: the money stays held up to 24 hours;
 *   polling  — asking the API until the withdrawal settles (bounded);
 *   shown    — the last known state (settled, or the polls ran out).
 */
type Phase = 'confirm' | 'unconfirmed' | 'polling' | 'shown';

interface Current {
  created: CreateWithdrawalResponse;
  view: WithdrawalView;
  phase: Phase;
  note?: string | undefined;
}

export default function WithdrawPage() {
  const walletLoad = useLoad(() => api.wallet());
  const { data: wallet, error: walletError, reload: loadWallet } = walletLoad;
  const [amount, setAmount] = useState('');
  const [fieldError, setFieldError] = useState<string | undefined>();
  const [submitError, setSubmitError] = useState<string | undefined>();
  const [current, setCurrent] = useState<Current | undefined>();
  const action = useKeyedAction('w');
  const gone = useRef(false);
  const channel = payChannel();
  const history = usePaged<WithdrawalView>(async (cursor) => {
    const r = await api.withdrawals(cursor);
    return { items: r.withdrawals, cursor: r.cursor };
  });
  const { refresh: refreshHistory, more } = history;

  useEffect(() => {
    gone.current = false;
    return () => {
      gone.current = true;
    };
  }, []);

  const reload = useCallback(async () => {
    await Promise.all([loadWallet(), refreshHistory()]);
  }, [loadWallet, refreshHistory]);
  // The wallet loads itself on mount; the history's first page with it.
  useEffect(() => {
    void refreshHistory();
  }, [refreshHistory]);
  usePullDownRefresh(() => {
    void reload().finally(() => Taro.stopPullDownRefresh());
  });
  useReachBottom(() => {
    void more();
  });

  const patch = (p: Partial<Current>) => setCurrent((c) => (c ? { ...c, ...p } : c));

  /** Ask the API until the withdrawal settles or the polls run out; the confirmation proves nothing. */
  const follow = async (created: CreateWithdrawalResponse) => {
    patch({ phase: 'polling', note: undefined });
    try {
      const w = await pollUntil(() => api.withdrawal(created.withdrawalId), withdrawalSettled, {
        cancelled: () => gone.current,
      });
      if (gone.current) return;
      patch({ phase: 'shown', ...(w ? { view: w } : {}) });
    } catch (err) {
      if (!gone.current) patch({ phase: 'shown', note: errorText(err) });
    }
    if (!gone.current) void reload();
  };

  /** WeChat's 确认收款 with exactly the server's `confirm` (weapp), or the simulator's screen (H5). */
  const openConfirm = async (created: CreateWithdrawalResponse) => {
    // No `confirm`: a retry found the withdrawal past that step; its state is all there is to follow.
    if (!created.confirm) return follow(created);
    patch({ phase: 'confirm', note: undefined });
    if (channel !== 'weapp') return; // the simulator's screen is rendered below
    const out = await openTransferConfirm(created.confirm);
    if (gone.current) return;
    if (out.kind === 'done') await follow(created);
    else
      patch({
        phase: 'unconfirmed',
        note: out.kind === 'failed' ? '无法打开微信的确认收款页面，请升级微信后重试' : undefined,
      });
  };

  const submit = async () => {
    if (action.inFlight() || (current && current.phase !== 'shown')) return;
    const c = checkWithdraw(amount, wallet?.balance);
    if (!c.ok) return setFieldError(c.error);
    setFieldError(undefined);
    setSubmitError(undefined);
    // "Withdrawal arrived": asked in the tap (WeChat's rule); the answer changes nothing here.
    await action.run(
      { amount: c.fen },
      async (body, key) => (await askForMessages('withdrawal', key), api.createWithdrawal(body.amount, key)),
      {
        done: (res) => {
          const cur: Current = {
            created: res,
            view: {
              withdrawalId: res.withdrawalId,
              amount: res.amount,
              state: res.state,
              returned: res.returned ?? false,
            },
            phase: 'confirm',
          };
          setCurrent(cur);
          setAmount('');
          // The balance (the amount is held now) and the history (it lists the new withdrawal
          // while 确认收款 is open, not 还没有提现记录).
          void reload();
          void openConfirm(res);
        },
        failed: (e: ApiError, ended) => {
          if (['INSUFFICIENT_FUNDS', 'WITHDRAWAL_LIMIT'].includes(String(e.code))) void loadWallet();
          const msg = REFUSED[String(e.code)] ?? errorText(e);
          setSubmitError(ended ? msg : `${msg}（再次点击提现不会重复提现）`);
        },
      },
    );
  };

  const busy = action.running || (!!current && current.phase !== 'shown');

  return (
    <PageShell className="withdraw-page" onShowAgain={() => void reload()}>
      <View className="withdraw-head">
        <Text className="withdraw-head__caption">可提现零钱</Text>
        <Text className="withdraw-head__amount" aria-label="零钱余额" {...aria({ role: 'status' })}>
          {wallet ? formatYuan(wallet.balance) : walletError ? '¥--' : '¥…'}
        </Text>
        {walletError ? <ErrorNote message={walletError} onRetry={() => void loadWallet()} /> : null}
      </View>

      <View className="card">
        <Text className="card__title">提现到微信零钱</Text>
        <Field
          label="提现金额（元）"
          caption="金额"
          kind="money"
          value={amount}
          placeholder="0.00"
          suffix="元"
          maxlength={12}
          error={fieldError}
          disabled={busy}
          onInput={(v) => {
            setAmount(v);
            setFieldError(undefined);
            setSubmitError(undefined);
          }}
          big
        />
        <Text className="hint" aria-label="提现限额">
          {WITHDRAW_LIMIT_TEXT}；提现后需在微信中确认收款，24 小时内未确认将退回零钱。
        </Text>
        {submitError ? <ErrorNote message={submitError} /> : null}
        {channel === 'none' ? <Text className="hint">当前环境无法确认收款，请在微信小程序中提现。</Text> : null}
        <Btn
          label="提现"
          className="btn--block"
          loading={action.running}
          disabled={busy || channel === 'none'}
          onClick={() => void submit()}
        >
          {action.running ? '提现中…' : '提现'}
        </Btn>
      </View>

      {current ? (
        <View className="card withdraw-current" role="region" aria-label="本次提现">
          <Text className="card__title">本次提现 {formatYuan(current.view.amount)}</Text>
          <Text className="withdraw-current__state" aria-label="提现状态" {...aria({ role: 'status', live: 'polite' })}>
            {current.phase === 'polling'
              ? '正在确认结果…'
              : withdrawalStateText(current.view.state, current.view.returned)}
          </Text>
          {current.phase === 'confirm' && channel === 'sim' && SimTransferSheet ? (
            <SimTransferSheet
              amount={current.created.amount}
              outBillNo={current.created.withdrawalId}
              onDone={() => void follow(current.created)}
            />
          ) : null}
          {current.phase === 'confirm' && channel === 'weapp' ? (
            <Text className="hint hint--center">请在微信中确认收款</Text>
          ) : null}
          {current.phase === 'unconfirmed' ? (
            <View className="note" role="alert">
              <Text className="note__text">
                {current.note ?? '你还没有确认收款。'}提现金额已从零钱中暂扣，24 小时内未确认将退回零钱。
              </Text>
              <Btn
                label="继续确认收款"
                kind="primary"
                className="btn--block"
                onClick={() => void openConfirm(current.created)}
              />
              <Btn
                label="稍后再说"
                kind="plain"
                className="btn--block"
                onClick={() => patch({ phase: 'shown', note: undefined })}
              />
            </View>
          ) : null}
          {current.phase === 'shown' && current.note ? <ErrorNote message={current.note} /> : null}
          {current.phase === 'shown' && current.view.state === 'wait_user_confirm' ? (
            <Btn
              label="继续确认收款"
              kind="primary"
              className="btn--block"
              onClick={() => void openConfirm(current.created)}
            />
          ) : null}
          {current.phase === 'shown' && !withdrawalSettled(current.view) ? (
            <Btn label="刷新提现状态" kind="ghost" className="btn--block" onClick={() => void follow(current.created)}>
              刷新
            </Btn>
          ) : null}
        </View>
      ) : null}

      <View className="card">
        <Text className="card__title">提现记录</Text>
        {history.items.length === 0 && history.loaded && !history.loading ? <Empty text="还没有提现记录" /> : null}
        <View className="withdraw-list" role="list" aria-label="提现记录">
          {history.items.map((w) => (
            <View key={w.withdrawalId} className="withdraw-list__row" role="listitem">
              <Text className="withdraw-list__amount">{formatYuan(w.amount)}</Text>
              <Text className={`withdraw-list__state${w.state === 'success' ? ' is-success' : ''}`}>
                {withdrawalStateText(w.state, w.returned)}
              </Text>
            </View>
          ))}
        </View>
        {history.loading ? <Loading /> : null}
        {history.error ? (
          <ErrorNote message={history.error} onRetry={() => void (history.items.length ? more() : refreshHistory())} />
        ) : null}
        {history.hasMore && !history.loading ? (
          <Btn label="加载更多" kind="plain" className="btn--block" onClick={() => void more()} />
        ) : null}
      </View>
    </PageShell>
  );
}
