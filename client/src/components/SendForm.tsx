import { Text, View } from '@tarojs/components';
import Taro from '@tarojs/taro';
import { useEffect, useMemo, useState } from 'react';
import type { CreatePacketResponse, Payment } from '../../../functions/src/http/contract';
import type { CreatePacketResult, Funding, PendingPacketResponse, SendBody } from '../api';
import { type ApiError, errorText } from '../api/errors';
import { clearDraft, loadDraft, saveDraft, type Draft } from '../lib/draft';
import { ActionKey } from '../lib/ids';
import { extractCode } from '../lib/links';
import { formatBps, formatFen, formatYuan, parseYuan } from '../lib/money';
import { refusalOf } from '../lib/refusal';
import { useKeyedAction } from '../lib/useKeyedAction';
import {
  applyScene,
  checkSend,
  DEFAULT_GREETING,
  EMPTY_FORM,
  MAX_GREETING,
  SCENES,
  type Limits,
  type SendFormValues,
} from '../lib/sendRules';
import { isPendingPacket, payChannel } from '../lib/wxpay';
import { PaymentFlow } from './PaymentFlow';
import { RefusalNotice } from './RefusalNotice';
import { aria, Btn, ErrorNote, Field } from './ui';

interface Props {
  /** From GET /v1/wallet; null while loading (the form still works, limits checked later). */
  limits: Limits | null;
  /** Creates the packet (POST /v1/packets) with this idempotency key. */
  submit: (body: SendBody, idempotencyKey: string) => Promise<CreatePacketResult>;
  /** Paid from the balance: the packet and its codes. */
  onCreated: (res: CreatePacketResponse) => void;
  /**
   * WeChat Pay (offered only with `onPaid` and `fetchPayment`, where WeChat Pay can be shown):
   * the API confirmed the payment of this packet; its codes come next.
   */
  onPaid?: (res: PendingPacketResponse) => void;
  /** GET /v1/payments/{paymentId}, polled after the sheet. */
  fetchPayment?: (paymentId: string) => Promise<Payment>;
  onTopUp: () => void;
  /** The wallet changed (a refusal for funds or limits): reload the limits. */
  onStale?: () => void;
  /** The signed-in account (a 专属红包 cannot be for oneself). */
  me?: string | undefined;
  /**
   * 专属红包: who a receive code belongs to (GET /v1/codes/{code}), to show the friend's name.
   * Optional and best effort: the account id read from the code is what is sent.
   */
  identify?: (code: string) => Promise<{ id: string; name: string } | undefined>;
}

type Step = 'form' | 'confirm';

/** A refusal tied to what was sent: it marks its field until that field is changed. */
interface Rejected {
  /** GREETING_REJECTED: the greeting sent and the marketing word the server found. */
  greeting?: { text: string; word?: string | undefined };
  /** A limit refusal: the amount, count and mode sent, and the message for the amount field. */
  amount?: { key: string; message: string };
  /** 专属红包: the server refused the recipient (no such account, or oneself). */
  recipient?: { code: string; message: string };
}

/** The server's refusal of a 专属红包's recipient, in words (its own message is not shown). */
const RECIPIENT_REFUSED: Record<string, string> = {
  NOT_FOUND: '找不到这个收款码对应的账号，请让好友重新打开「我的收款码」后再发给你',
  VALIDATION_FAILED: '这个收款码不能用来发专属红包（不能发给自己），请检查后再试',
};

const amountKey = (v: SendFormValues) => `${v.totalYuan}|${v.exclusive ? 'x' : v.count}|${v.exclusive ? 'x' : v.mode}`;

/** The greeting with the rejected word marked (the first occurrence). */
function MarkedGreeting({ text, word }: { text: string; word?: string | undefined }) {
  const i = word ? text.indexOf(word) : -1;
  if (!word || i < 0) return <>{text}</>;
  return (
    <>
      {text.slice(0, i)}
      <Text className="mark" aria-label="营销用语">
        {word}
      </Text>
      {text.slice(i + word.length)}
    </>
  );
}

/**
 * The send form (amount and count, greeting, confirm — the share follows on the packet
 * page). Inline validation with the API's limits; the draft saved as typed and offered back.
 */
export function SendForm({ limits, submit, onCreated, onPaid, fetchPayment, onTopUp, onStale, me, identify }: Props) {
  const [values, setValues] = useState<SendFormValues>(EMPTY_FORM);
  const [offer, setOffer] = useState<Draft | undefined>(() => loadDraft());
  const [step, setStep] = useState<Step>('form');
  const [strict, setStrict] = useState(false);
  const [submitError, setSubmitError] = useState<ApiError | undefined>();
  const [waitingLimits, setWaitingLimits] = useState(false);
  const [rejected, setRejected] = useState<Rejected>({});
  const [recipientName, setRecipientName] = useState<{ id: string; name: string } | undefined>();
  /** The funding the user picked; until then the default follows the balance. */
  const [chosenFunding, setChosenFunding] = useState<Funding | undefined>();
  /** A packet created for WeChat Pay, awaiting its payment. */
  const [pending, setPending] = useState<PendingPacketResponse | undefined>();
  const [abandoned, setAbandoned] = useState(false);
  const action = useKeyedAction('p');
  const actionKey = action.key;
  const submitting = action.running;

  // Save the draft as it is typed — but not while the last one is still being offered.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the key ref is read at save time, it is no trigger.
  useEffect(() => {
    if (offer) return;
    saveDraft(values, actionKey.current.pending());
  }, [values, offer]);

  const check = useMemo(() => checkSend(values, limits, strict, me), [values, limits, strict, me]);
  const recipientId = check.recipientId;

  // 专属红包: the friend's name for the code (best effort; the id is what is sent).
  useEffect(() => {
    if (!values.exclusive || !recipientId || !identify) return undefined;
    let live = true;
    identify(extractCode(values.recipientCode)).then(
      (who) => {
        if (live && who && who.id === recipientId) setRecipientName(who);
      },
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [values.exclusive, values.recipientCode, recipientId, identify]);
  const friend = recipientId ? (recipientName?.id === recipientId ? recipientName.name : undefined) : undefined;
  const refusal = useMemo(() => refusalOf(submitError, { op: 'packet' }), [submitError]);
  // WeChat Pay where it can be shown; preselected when the balance is short of total + fee.
  const wechatOffered = !!onPaid && !!fetchPayment && payChannel() !== 'none';
  const funding: Funding = wechatOffered
    ? (chosenFunding ?? (check.insufficient ? 'wechatpay' : 'balance'))
    : 'balance';
  const shortOfBalance = funding === 'balance' && !!check.insufficient;

  // The server's refusal of a field stays on it until the field is changed.
  const rg = rejected.greeting;
  const greetingRefused =
    rg &&
    rg.text !== '' &&
    (values.greeting.trim() === rg.text || (rg.word !== undefined && values.greeting.includes(rg.word)))
      ? rg.word
        ? `祝福语不能含有“${rg.word}”，请删除或修改`
        : '祝福语含有营销诱导用语，请修改'
      : undefined;
  const amountRefused =
    rejected.amount && rejected.amount.key === amountKey(values) ? rejected.amount.message : undefined;
  const recipientRefused =
    rejected.recipient && rejected.recipient.code === values.recipientCode ? rejected.recipient.message : undefined;
  const greetingError = check.errors.greeting ?? greetingRefused;
  const totalError = check.errors.total ?? amountRefused;
  const recipientError = check.errors.recipient ?? recipientRefused;

  const change = (patch: Partial<SendFormValues>) => {
    setSubmitError(undefined);
    setValues((v) => ({ ...v, ...patch }));
  };

  const restore = () => {
    if (!offer) return;
    setValues(offer.values);
    if (offer.pending) actionKey.current = new ActionKey('p', offer.pending);
    setOffer(undefined);
  };
  const discard = () => {
    clearDraft();
    setOffer(undefined);
  };

  const toConfirm = () => {
    setStrict(true);
    if (!limits) {
      setWaitingLimits(true);
      return;
    }
    const c = checkSend(values, limits, true, me);
    if (c.ready && !greetingRefused && !amountRefused && !recipientRefused) {
      setSubmitError(undefined);
      setStep('confirm');
    }
  };

  const pay = async () => {
    const ready = check.ready;
    if (!ready || action.inFlight() || pending) return;
    setSubmitError(undefined);
    setAbandoned(false);
    const body: SendBody = funding === 'wechatpay' ? { ...ready.body, funding: 'wechatpay' } : ready.body;
    await action.run(body, submit, {
      sending: () => saveDraft(values, action.key.current.pending()),
      done: (res) => {
        if (isPendingPacket(res)) {
          // Created, not paid: the draft (with this action's key) stays until the API says
          // paid, so a crash in the sheet resumes the same packet and payment.
          setPending(res);
          return;
        }
        clearDraft();
        onCreated(res);
      },
      failed: (e, ended) => {
        // A definite refusal ends this action (the next attempt is a new one); a lost answer
        // keeps the key, so paying again returns the first result.
        if (ended) saveDraft(values);
        if (['INSUFFICIENT_FUNDS', 'LIMIT_PER_PACKET', 'LIMIT_DAILY'].includes(String(e.code))) onStale?.();
        const recipientMessage = ready.body.recipient ? RECIPIENT_REFUSED[String(e.code)] : undefined;
        if (recipientMessage) {
          // The friend's code is what to fix: back to the form, the field marked.
          setRejected({ recipient: { code: values.recipientCode, message: recipientMessage } });
          setStep('form');
          return;
        }
        const r = refusalOf(e, { op: 'packet' });
        if (r?.field === 'greeting') setRejected({ greeting: { text: ready.body.greeting ?? '', word: r.word } });
        else if (r?.field === 'amount') setRejected({ amount: { key: amountKey(values), message: r.title } });
        setSubmitError(e);
      },
    });
  };

  const ready = check.ready;
  const typed = parseYuan(values.totalYuan);
  const shownTotal = typed.ok ? typed.fen : 0;
  const total = ready?.body.total;
  const count = ready?.body.count;
  const perShare =
    total !== undefined && count && values.mode === 'equal' && !values.exclusive ? total / count : undefined;
  const kindText = `${values.exclusive ? '专属红包' : values.mode === 'lucky' ? '拼手气红包' : '普通红包'}${ready?.body.groupOnly ? ' · 仅限本群' : ''}`;

  const scanRecipient = async () => {
    try {
      const res = await Taro.scanCode({ onlyFromCamera: false, scanType: ['qrCode'] });
      change({ recipientCode: res.result });
    } catch {
      /* cancelled */
    }
  };

  return (
    <View className="send">
      {offer ? (
        <View className="draft-offer" role="dialog" aria-label="草稿">
          <Text className="draft-offer__title">继续编辑上次的红包？</Text>
          <Text className="draft-offer__detail">
            {offer.values.totalYuan ? `¥${offer.values.totalYuan}` : '未填金额'}
            {offer.values.count ? ` · ${offer.values.count} 个` : ''}
            {offer.values.greeting ? ` · ${offer.values.greeting}` : ''}
          </Text>
          <View className="draft-offer__actions">
            <Btn label="放弃" kind="ghost" onClick={discard} />
            <Btn label="继续编辑" kind="primary" onClick={restore} />
          </View>
        </View>
      ) : null}

      {step === 'form' ? (
        <View className="send__form">
          <View className="segmented" role="group">
            <Btn
              label="拼手气红包"
              kind="chip"
              pressed={!values.exclusive && values.mode === 'lucky'}
              onClick={() => change({ mode: 'lucky', exclusive: false })}
            />
            <Btn
              label="普通红包"
              kind="chip"
              pressed={!values.exclusive && values.mode === 'equal'}
              onClick={() => change({ mode: 'equal', exclusive: false })}
            />
            <Btn label="专属红包" kind="chip" pressed={values.exclusive} onClick={() => change({ exclusive: true })} />
          </View>
          {values.exclusive ? (
            <View className="card send__recipient">
              <Field
                label="好友收款码"
                value={values.recipientCode}
                placeholder="粘贴好友的收款码或链接"
                maxlength={300}
                error={recipientError}
                onInput={(recipientCode) => change({ recipientCode })}
              />
              {process.env.TARO_ENV === 'weapp' ? (
                <Btn label="扫描好友收款码" kind="ghost" className="btn--block" onClick={() => void scanRecipient()}>
                  扫一扫好友的收款码
                </Btn>
              ) : null}
              {recipientId && !recipientError ? (
                <Text className="hint" aria-label="收红包的人" {...aria({ role: 'status' })}>
                  {friend ? `专属红包 · 给 ${friend}（账号 ${recipientId}）` : `专属红包 · 给账号 ${recipientId}`}
                </Text>
              ) : (
                <Text className="hint">
                  请好友打开「我的收款码」，复制后发给你{process.env.TARO_ENV === 'weapp' ? '，或当面扫一扫' : ''}。
                </Text>
              )}
            </View>
          ) : null}
          <View className="card">
            <Field
              label="总金额（元）"
              caption={
                values.mode === 'lucky' ? (
                  <>
                    总金额<Text className="tag-pin">拼</Text>
                  </>
                ) : (
                  '总金额'
                )
              }
              kind="money"
              value={values.totalYuan}
              placeholder="0.00"
              suffix="元"
              maxlength={14}
              error={totalError}
              onInput={(totalYuan) => change({ totalYuan })}
              big
            />
            <Field
              label="红包个数"
              kind="integer"
              value={values.exclusive ? '1' : values.count}
              placeholder="填写个数"
              suffix="个"
              maxlength={6}
              disabled={values.exclusive}
              error={check.errors.count}
              onInput={(count) => change({ count })}
            />
            <Text className="hint">
              {values.exclusive
                ? '专属红包：只有 1 个，只有你指定的好友可以领取'
                : values.mode === 'lucky'
                  ? '拼手气红包：每人抽到的金额随机'
                  : '普通红包：每人金额相同'}
              {perShare !== undefined ? `，每人 ${formatYuan(perShare)}` : ''}
              {limits ? `；单个红包最多 ${formatYuan(limits.perPacketLimit)}，最多 ${limits.maxShares} 个` : ''}
            </Text>
          </View>
          <View className="card">
            <Field
              label="祝福语"
              value={values.greeting}
              placeholder={DEFAULT_GREETING}
              maxlength={MAX_GREETING + 10}
              error={greetingError}
              onInput={(greeting) => change({ greeting })}
            />
            <View className="scenes">
              {SCENES.map((s) => (
                <Btn
                  key={s.scene}
                  label={s.label}
                  kind="chip"
                  pressed={values.scene === s.scene}
                  onClick={() => {
                    setSubmitError(undefined);
                    setValues((v) => (v.scene === s.scene ? { ...v, scene: 'none' } : applyScene(s, limits, v)));
                  }}
                >
                  {s.label}
                </Btn>
              ))}
            </View>
          </View>
          {values.exclusive ? null : (
            <View className="card send__group">
              <Btn
                label="仅限本群"
                kind="chip"
                pressed={values.groupOnly === true}
                onClick={() => change({ groupOnly: !values.groupOnly })}
              >
                {values.groupOnly ? '✓ 仅限本群' : '仅限本群'}
              </Btn>
              <Text className="hint" aria-label="仅限本群说明">
                {values.groupOnly
                  ? '已开启：红包分享到群聊后，只有第一次打开它的那个群的成员可以领取，转到其他群或私聊都领不了。'
                  : '开启后，只有分享到的那个群里的人可以领取。'}
              </Text>
            </View>
          )}
          <View className="send__amount" aria-live="polite">
            <Text className="send__currency">¥</Text>
            <Text className="send__big">{formatFen(shownTotal)}</Text>
          </View>
          {waitingLimits && !limits ? (
            <Text className="hint hint--center">正在读取零钱余额和限额，请稍候再试…</Text>
          ) : null}
          <Btn label="塞钱进红包" kind="primary" className="btn--block" disabled={!!offer} onClick={toConfirm}>
            塞钱进红包
          </Btn>
          <Text className="hint hint--center">未领取的红包，将于 24 小时后退回零钱</Text>
        </View>
      ) : null}

      {step === 'confirm' && ready ? (
        <View className="confirm" role="dialog" aria-label="确认红包">
          <Text className="confirm__title">{kindText}</Text>
          <View className="confirm__amount">
            <Text className="confirm__currency">¥</Text>
            <Text className="confirm__big">{formatFen(ready.debit)}</Text>
          </View>
          <View className="confirm__rows">
            <View className="row">
              <Text>红包金额</Text>
              <Text>{formatYuan(ready.body.total)}</Text>
            </View>
            <View className="row">
              <Text>红包个数</Text>
              <Text>{ready.body.count} 个</Text>
            </View>
            {ready.body.recipient ? (
              <View className="row" aria-label="专属红包给">
                <Text>专属红包给</Text>
                <Text className="row__text">
                  {friend ? `${friend}（${ready.body.recipient}）` : `账号 ${ready.body.recipient}`}
                </Text>
              </View>
            ) : null}
            {ready.body.groupOnly ? (
              <View className="row" aria-label="领取范围">
                <Text>领取范围</Text>
                <Text className="row__text">仅限本群</Text>
              </View>
            ) : null}
            {/* Enterprise and provider accounts pay a fee on top (docs/rules.md); personal accounts none. */}
            {ready.fee > 0 && limits ? (
              <>
                <View className="row" aria-label="手续费">
                  <Text>手续费（{formatBps(limits.feeBps)}）</Text>
                  <Text>{formatYuan(ready.fee)}</Text>
                </View>
                <View className="row" aria-label="合计扣款">
                  <Text>合计扣款</Text>
                  <Text>{formatYuan(ready.debit)}</Text>
                </View>
              </>
            ) : null}
            <View className={`row${refusal?.field === 'greeting' ? ' row--error' : ''}`}>
              <Text>祝福语</Text>
              <Text className="row__text">
                {refusal?.field === 'greeting' ? (
                  <MarkedGreeting text={ready.body.greeting ?? DEFAULT_GREETING} word={refusal.word} />
                ) : (
                  (ready.body.greeting ?? DEFAULT_GREETING)
                )}
              </Text>
            </View>
            {limits ? (
              <View className="row">
                <Text>零钱余额</Text>
                <Text>{formatYuan(limits.balance)}</Text>
              </View>
            ) : null}
          </View>
          {ready.fee > 0 && limits ? (
            <Text className="hint">
              手续费由发红包的人另付，按你账户的费率 {formatBps(limits.feeBps)} 计算，不足 1 分按 1
              分收取；领取的人不扣手续费。
            </Text>
          ) : null}
          {wechatOffered ? (
            <View className="funding" role="group" aria-label="支付方式">
              <Text className="funding__caption">支付方式</Text>
              <View className="segmented">
                <Btn
                  label="零钱"
                  kind="chip"
                  pressed={funding === 'balance'}
                  disabled={submitting || !!pending}
                  onClick={() => setChosenFunding('balance')}
                >
                  {limits ? `零钱（${formatYuan(limits.balance)}）` : '零钱'}
                </Btn>
                <Btn
                  label="微信支付"
                  kind="chip"
                  pressed={funding === 'wechatpay'}
                  disabled={submitting || !!pending}
                  onClick={() => setChosenFunding('wechatpay')}
                >
                  微信支付
                </Btn>
              </View>
              {funding === 'wechatpay' ? (
                <Text className="hint">用微信支付直接付款，无需先充值；未领完的部分将原路退回。</Text>
              ) : null}
            </View>
          ) : null}
          {abandoned ? <Text className="hint">上一个红包未支付，15 分钟后自动取消，不会扣款。</Text> : null}
          {shortOfBalance && refusal?.code !== 'INSUFFICIENT_FUNDS' ? (
            <View className="note note--error" role="alert">
              <Text className="note__text">零钱余额不足，还差 {formatYuan(ready.debit - (limits?.balance ?? 0))}</Text>
              <Btn label="去充值" kind="ghost" onClick={onTopUp} />
            </View>
          ) : null}
          {refusal ? (
            <RefusalNotice
              refusal={refusal}
              on={{
                editGreeting: () => setStep('form'),
                editAmount: () => setStep('form'),
                topUp: onTopUp,
                retry: () => void pay(),
                dismiss: () => setSubmitError(undefined),
              }}
            />
          ) : submitError ? (
            <ErrorNote
              message={
                submitError.retryable
                  ? `${errorText(submitError)}（可再次点击确认支付，不会重复扣款）`
                  : errorText(submitError)
              }
            />
          ) : null}
          {pending && fetchPayment && onPaid ? (
            <PaymentFlow
              key={pending.payment.paymentId}
              payment={pending.payment}
              fetchPayment={fetchPayment}
              subject="红包"
              canceledHint="红包已保留，15 分钟内未支付将自动取消。"
              onPaid={() => {
                clearDraft();
                onPaid(pending);
              }}
              onAbandon={() => {
                setPending(undefined);
                setAbandoned(true);
                saveDraft(values);
              }}
            />
          ) : (
            <>
              <Btn
                label="确认支付"
                kind="gold"
                className="btn--block"
                loading={submitting}
                disabled={submitting || shortOfBalance}
                onClick={pay}
              >
                {submitting ? '支付中…' : funding === 'wechatpay' ? `微信支付 ${formatYuan(ready.debit)}` : '确认支付'}
              </Btn>
              <Btn
                label="返回修改"
                kind="plain"
                className="btn--block"
                disabled={submitting}
                onClick={() => setStep('form')}
              />
            </>
          )}
        </View>
      ) : null}
    </View>
  );
}
