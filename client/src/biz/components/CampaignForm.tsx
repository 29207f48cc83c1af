import { Text, View } from '@tarojs/components';
import { useMemo, useState } from 'react';
import type { CreateCampaignRequest, CreateCampaignResponse } from '../../api';
import { type ApiError, errorText } from '../../api/errors';
import {
  campaignCost,
  checkCampaign,
  EMPTY_CAMPAIGN,
  MAX_CAMPAIGN_QUANTITY,
  type CampaignFormValues,
} from '../lib/campaign';
import { formatBps, formatFen, formatYuan, parseYuan } from '../../lib/money';
import { refusalOf } from '../../lib/refusal';
import { useKeyedAction } from '../../lib/useKeyedAction';
import { DEFAULT_GREETING, MAX_GREETING, type Limits } from '../../lib/sendRules';
import { RefusalNotice } from '../../components/RefusalNotice';
import { aria, Btn, ErrorNote, Field } from '../../components/ui';

interface Props {
  /** From GET /v1/wallet (balance, limits, feeBps); null while loading. */
  limits: Limits | null;
  /** Creates the campaign (POST /v1/campaigns) with this idempotency key. */
  submit: (body: CreateCampaignRequest, idempotencyKey: string) => Promise<CreateCampaignResponse>;
  onCreated: (res: CreateCampaignResponse) => void;
  onTopUp?: () => void;
  /** The wallet changed (a refusal for funds or limits): reload it. */
  onStale?: () => void;
}

/**
 * 创建活动: `quantity` packets of one shape funded by one debit. The fee of each packet and the
 * total debit are shown as typed and again on the confirm step; one Idempotency-Key per
 * action, kept while the request may not have been processed (no answer, 5xx, 429) so that a
 * retry can never create a second campaign, renewed after a success or a definite refusal.
 */
export function CampaignForm({ limits, submit, onCreated, onTopUp, onStale }: Props) {
  const [values, setValues] = useState<CampaignFormValues>(EMPTY_CAMPAIGN);
  const [step, setStep] = useState<'form' | 'confirm'>('form');
  const [strict, setStrict] = useState(false);
  const [submitError, setSubmitError] = useState<ApiError | undefined>();
  const action = useKeyedAction('c');
  const submitting = action.running;

  const check = useMemo(() => checkCampaign(values, limits, strict), [values, limits, strict]);
  const refusal = useMemo(() => refusalOf(submitError, { op: 'packet' }), [submitError]);

  const change = (patch: Partial<CampaignFormValues>) => {
    setSubmitError(undefined);
    setValues((v) => ({ ...v, ...patch }));
  };

  // The fee as soon as the per-packet amount is typed (and the total once the quantity is).
  const typed = parseYuan(values.totalYuan);
  const qty = /^\d+$/.test(values.quantity.trim()) ? Number.parseInt(values.quantity.trim(), 10) : undefined;
  const preview =
    limits && typed.ok && typed.fen > 0 && !check.errors.total
      ? campaignCost(typed.fen, limits.feeBps, qty !== undefined && qty >= 1 && qty <= MAX_CAMPAIGN_QUANTITY ? qty : 1)
      : undefined;

  const toConfirm = () => {
    setStrict(true);
    if (checkCampaign(values, limits, true).ready) {
      setSubmitError(undefined);
      setStep('confirm');
    }
  };

  const create = async () => {
    const ready = check.ready;
    if (!ready || action.inFlight()) return;
    setSubmitError(undefined);
    await action.run(ready.body, submit, {
      done: onCreated,
      failed: (e) => {
        if (['INSUFFICIENT_FUNDS', 'LIMIT_PER_PACKET', 'LIMIT_DAILY'].includes(String(e.code))) onStale?.();
        setSubmitError(e);
      },
    });
  };

  const ready = check.ready;
  return (
    <View className="campaign-form">
      {step === 'form' ? (
        <View className="campaign-form__fields">
          <View className="card">
            <Field
              label="活动名称"
              value={values.name}
              placeholder="例如：双十二门店红包"
              maxlength={MAX_CAMPAIGN_NAME_INPUT}
              error={check.errors.name}
              onInput={(name) => change({ name })}
            />
            <Field
              label="红包数量"
              kind="integer"
              value={values.quantity}
              placeholder={`1–${MAX_CAMPAIGN_QUANTITY}`}
              suffix="个"
              maxlength={5}
              error={check.errors.quantity}
              onInput={(quantity) => change({ quantity })}
            />
          </View>
          <View className="segmented" role="group">
            <Btn
              label="拼手气红包"
              kind="chip"
              pressed={values.mode === 'lucky'}
              onClick={() => change({ mode: 'lucky' })}
            />
            <Btn
              label="普通红包"
              kind="chip"
              pressed={values.mode === 'equal'}
              onClick={() => change({ mode: 'equal' })}
            />
          </View>
          <View className="card">
            <Field
              label="每个红包金额（元）"
              kind="money"
              value={values.totalYuan}
              placeholder="0.00"
              suffix="元"
              maxlength={14}
              error={check.errors.total}
              onInput={(totalYuan) => change({ totalYuan })}
            />
            <Field
              label="每个红包份数"
              kind="integer"
              value={values.count}
              placeholder="可领取的人数"
              suffix="份"
              maxlength={6}
              error={check.errors.count}
              onInput={(count) => change({ count })}
            />
            <Field
              label="祝福语"
              value={values.greeting}
              placeholder={DEFAULT_GREETING}
              maxlength={MAX_GREETING + 10}
              error={check.errors.greeting}
              onInput={(greeting) => change({ greeting })}
            />
          </View>
          {preview && limits ? (
            <View className="campaign-form__preview" {...aria({ role: 'status' })}>
              <Text className="hint" aria-label="每个红包手续费">
                每个红包手续费 {formatYuan(preview.feePerPacket)}（费率 {formatBps(limits.feeBps)}，不足 1 分按 1 分）
              </Text>
              {qty !== undefined && !check.errors.quantity ? (
                <Text className="hint" aria-label="预计扣款">
                  {qty} 个红包共扣款 {formatYuan(preview.debit)}
                </Text>
              ) : null}
            </View>
          ) : null}
          {strict && !limits ? <Text className="hint hint--center">正在读取零钱余额和费率，请稍候再试…</Text> : null}
          <Btn label="下一步" kind="primary" className="btn--block" onClick={toConfirm}>
            下一步：确认扣款
          </Btn>
        </View>
      ) : null}

      {step === 'confirm' && ready && limits ? (
        <View className="confirm" role="dialog" aria-label="确认活动">
          <Text className="confirm__title">{ready.body.name}</Text>
          <View className="confirm__amount">
            <Text className="confirm__currency">¥</Text>
            <Text className="confirm__big">{formatFen(ready.cost.debit)}</Text>
          </View>
          <View className="confirm__rows">
            <Row label="红包数量" value={`${ready.body.quantity} 个`} />
            <Row
              label="每个红包"
              value={`${formatYuan(ready.body.packet.total)} · ${ready.body.packet.count} 份 · ${ready.body.packet.mode === 'lucky' ? '拼手气' : '普通'}`}
            />
            <Row
              label="每个红包手续费"
              value={`${formatYuan(ready.cost.feePerPacket)}（${formatBps(limits.feeBps)}）`}
            />
            <Row label="红包总额" value={formatYuan(ready.cost.totals)} />
            <Row label="手续费合计" value={formatYuan(ready.cost.fees)} />
            <Row label="合计扣款" value={formatYuan(ready.cost.debit)} />
            <Row label="祝福语" value={ready.body.packet.greeting ?? DEFAULT_GREETING} />
            <Row label="零钱余额" value={formatYuan(limits.balance)} />
          </View>
          <Text className="hint">
            合计扣款 = 红包数量 × （每个红包金额 + 每个红包手续费）。创建后一次性扣款，生成 {ready.body.quantity}{' '}
            个红包及其兑换码；未领完的金额到期退回零钱，手续费不退。
          </Text>
          {check.insufficient && refusal?.code !== 'INSUFFICIENT_FUNDS' ? (
            <View className="note note--error" role="alert">
              <Text className="note__text">零钱余额不足，还差 {formatYuan(ready.cost.debit - limits.balance)}</Text>
              {onTopUp ? <Btn label="去充值" kind="ghost" onClick={onTopUp} /> : null}
            </View>
          ) : null}
          {refusal ? (
            <RefusalNotice
              refusal={refusal}
              on={{
                editAmount: () => setStep('form'),
                editGreeting: () => setStep('form'),
                ...(onTopUp ? { topUp: onTopUp } : {}),
                retry: () => void create(),
                dismiss: () => setSubmitError(undefined),
              }}
            />
          ) : submitError ? (
            <ErrorNote
              message={
                submitError.retryable
                  ? `${errorText(submitError)}（可再次点击确认创建，不会重复扣款）`
                  : errorText(submitError)
              }
            />
          ) : null}
          <Btn
            label="确认创建"
            kind="gold"
            className="btn--block"
            loading={submitting}
            disabled={submitting || !!check.insufficient}
            onClick={() => void create()}
          >
            {submitting ? '正在创建…' : `确认创建并支付 ${formatYuan(ready.cost.debit)}`}
          </Btn>
          <Btn
            label="返回修改"
            kind="plain"
            className="btn--block"
            disabled={submitting}
            onClick={() => setStep('form')}
          />
        </View>
      ) : null}
    </View>
  );
}

/** A little longer than the API's 40, so that an over-long name gets a message, not a cut. */
const MAX_CAMPAIGN_NAME_INPUT = 50;

function Row({ label, value }: { label: string; value: string }) {
  return (
    <View className="row" aria-label={label}>
      <Text>{label}</Text>
      <Text className="row__text">{value}</Text>
    </View>
  );
}
