import { Text, View } from '@tarojs/components';
import Taro, { useRouter } from '@tarojs/taro';
import { useCallback, useEffect, useState } from 'react';
import { api, type TransferResponse, type WalletResponse } from '../../api';
import { ApiError, errorText } from '../../api/errors';
import { PageShell } from '../../components/PageShell';
import { RefusalNotice } from '../../components/RefusalNotice';
import { Btn, ErrorNote, Field } from '../../components/ui';
import { extractCode, openPath, paramText } from '../../lib/links';
import { formatYuan, parseYuan } from '../../lib/money';
import { refusalOf, type Refusal } from '../../lib/refusal';
import { useKeyedAction } from '../../lib/useKeyedAction';
import './index.scss';

/** Pay into someone's 收款码: scan it (weapp) or paste it (H5), then amount, note, pay. */
export default function PayPage() {
  const { params } = useRouter();
  const [raw, setRaw] = useState(paramText(params.c));
  const [code, setCode] = useState<string | undefined>();
  const [payee, setPayee] = useState<{ id: string; name: string } | undefined>();
  const [identifying, setIdentifying] = useState(false);
  const [codeError, setCodeError] = useState<string | undefined>();
  const [amount, setAmount] = useState('');
  const [note, setNote] = useState('');
  const [amountError, setAmountError] = useState<string | undefined>();
  const [payError, setPayError] = useState<string | undefined>();
  const [refusal, setRefusal] = useState<Refusal | undefined>();
  const action = useKeyedAction('x');
  const paying = action.running;
  const [done, setDone] = useState<TransferResponse | undefined>();
  const [wallet, setWallet] = useState<WalletResponse | undefined>();

  useEffect(() => {
    api.wallet().then(setWallet, () => undefined);
  }, []);

  const identify = useCallback(async (text: string) => {
    const c = extractCode(text);
    if (!c) {
      setCodeError('请粘贴收款码或链接');
      return;
    }
    setIdentifying(true);
    setCodeError(undefined);
    setPayee(undefined);
    try {
      const v = await api.openCode(c);
      if (v.target === 'packet') {
        void Taro.redirectTo({ url: openPath(c) });
        return;
      }
      setCode(c);
      setPayee(v.payee);
      setRefusal(undefined);
    } catch (err) {
      setCodeError(err instanceof ApiError && err.code === 'CODE_INVALID' ? '无效的收款码' : errorText(err));
    } finally {
      setIdentifying(false);
    }
  }, []);

  useEffect(() => {
    if (params.c) void identify(paramText(params.c));
  }, [params.c, identify]);

  const scan = async () => {
    try {
      const res = await Taro.scanCode({ onlyFromCamera: false, scanType: ['qrCode'] });
      setRaw(res.result);
      void identify(res.result);
    } catch {
      /* cancelled */
    }
  };

  const pay = async () => {
    if (action.inFlight() || !code || !payee) return;
    const p = parseYuan(amount);
    if (!p.ok) return setAmountError(p.error);
    if (p.fen < 1) return setAmountError('金额至少 0.01 元');
    if (wallet && p.fen > wallet.perPacketLimit) return setAmountError(`单笔最多 ${formatYuan(wallet.perPacketLimit)}`);
    if (wallet && p.fen > wallet.balance) return setAmountError(`零钱余额不足（${formatYuan(wallet.balance)}）`);
    if ([...note].length > 50) return setAmountError('备注最多 50 个字');
    setAmountError(undefined);
    setPayError(undefined);
    setRefusal(undefined);
    const body = note.trim() ? { code, amount: p.fen, note: note.trim() } : { code, amount: p.fen };
    await action.run(body, api.transfer, {
      done: setDone,
      failed: (e, ended) => {
        const r = refusalOf(e, { op: 'transfer' });
        if (r) {
          setRefusal(r);
          if (r.field === 'amount' || r.code === 'INSUFFICIENT_FUNDS') api.wallet().then(setWallet, () => undefined);
          return;
        }
        setPayError(
          e.code === 'CODE_EXPIRED'
            ? '收款码已过期，请让对方刷新后重新粘贴或扫码'
            : ended
              ? errorText(e)
              : `${errorText(e)}（再次点击付款不会重复扣款）`,
        );
      },
    });
  };

  if (done) {
    return (
      <PageShell className="pay-page">
        <View className="pay-done" role="status">
          <Text className="pay-done__icon" aria-hidden="true">
            ✓
          </Text>
          <Text className="pay-done__title">付款成功</Text>
          <Text className="pay-done__amount">{formatYuan(done.amount)}</Text>
          <Text className="pay-done__to">已付给 {done.to.name}</Text>
          <Btn label="完成" className="btn--block" onClick={() => void Taro.reLaunch({ url: '/pages/home/index' })} />
        </View>
      </PageShell>
    );
  }

  return (
    <PageShell className="pay-page">
      <View className="card">
        <Text className="card__title">扫码付款</Text>
        {process.env.TARO_ENV === 'weapp' ? (
          <Btn label="扫描收款码" kind="gold" className="btn--block" onClick={() => void scan()}>
            扫一扫
          </Btn>
        ) : null}
        <Field
          label="收款码或链接"
          caption="收款码"
          value={raw}
          placeholder="粘贴对方的收款码或红包链接"
          maxlength={600}
          error={codeError}
          onInput={(v) => setRaw(v)}
        />
        <Btn
          label="识别"
          kind="ghost"
          loading={identifying}
          disabled={identifying || !raw.trim()}
          onClick={() => void identify(raw)}
        >
          {identifying ? '识别中…' : '识别'}
        </Btn>
        {payee ? (
          <View className="payee" role="status">
            <View className="payee__avatar" aria-hidden="true">
              <Text>{[...payee.name][0] ?? '?'}</Text>
            </View>
            <Text className="payee__name" aria-label="收款人">
              付款给 {payee.name}
            </Text>
          </View>
        ) : null}
      </View>
      {payee ? (
        <View className="card">
          <Field
            label="付款金额（元）"
            caption="金额"
            kind="money"
            value={amount}
            placeholder="0.00"
            suffix="元"
            maxlength={12}
            error={amountError ?? (refusal?.field === 'amount' ? refusal.title : undefined)}
            onInput={(v) => {
              setAmount(v);
              if (refusal?.field === 'amount' || refusal?.code === 'INSUFFICIENT_FUNDS') setRefusal(undefined);
            }}
            big
          />
          <Field label="备注" value={note} placeholder="添加备注（选填）" maxlength={60} onInput={(v) => setNote(v)} />
          {refusal ? (
            <RefusalNotice
              refusal={refusal}
              on={{
                editAmount: () => {
                  setAmountError(refusal.title);
                  setRefusal(undefined);
                },
                topUp: () => void Taro.navigateTo({ url: '/pages/wallet/index' }),
                retry: () => void pay(),
                dismiss: () => setRefusal(undefined),
              }}
            />
          ) : null}
          {payError ? <ErrorNote message={payError} /> : null}
          {/* A frozen receive code takes no payment until it lifts: no button to try again now. */}
          {refusal?.code === 'CODE_FROZEN' ? null : (
            <Btn label="确认付款" className="btn--block" loading={paying} disabled={paying} onClick={() => void pay()}>
              {paying ? '付款中…' : '付款'}
            </Btn>
          )}
          {wallet ? <Text className="hint hint--center">零钱余额 {formatYuan(wallet.balance)}</Text> : null}
        </View>
      ) : null}
    </PageShell>
  );
}
