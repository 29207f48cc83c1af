import { Text, View } from '@tarojs/components';
import { useEffect, useState } from 'react';
import { countdownText, secondsLeft, type Refusal, type RefusalActionKind } from '../lib/refusal';
import { Btn } from './ui';

interface Props {
  /** The refusal; a new object (not a re-render with the same one) restarts the countdown. */
  refusal: Refusal;
  /**
   * The next steps this page can take. The refusal's step is shown only when the page handles it
   * — except 联系客服, which opens WeChat's customer service on weapp without a handler.
   */
  on?: Partial<Record<RefusalActionKind, () => void>>;
  className?: string;
}

const TICK_MS = 1000;

/**
 * A refusal's own panel (role="alert", named by its title): what happened and why, when it lifts
 * ("14:06 后恢复" for a freeze; a seconds countdown for RATE_LIMITED that keeps 再试一次 disabled
 * until it reaches 0), and the next step. No icon: the title says it.
 */
export function RefusalNotice({ refusal, on = {}, className }: Props) {
  const wait = refusal.retryAfter ?? 0;
  const [left, setLeft] = useState(wait);

  // A new refusal (even with the same seconds) starts its own countdown.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `refusal` is the trigger: a new one restarts the countdown.
  useEffect(() => {
    setLeft(wait);
    if (wait <= 0) return undefined;
    const end = Date.now() + wait * 1000;
    const t = setInterval(() => {
      const l = secondsLeft(end);
      setLeft(l);
      if (l <= 0) clearInterval(t);
    }, TICK_MS);
    return () => clearInterval(t);
  }, [refusal, wait]);

  const { kind, label } = refusal.action;
  const handler = on[kind];
  let step = null;
  if (kind === 'retry') {
    step = handler ? (
      <Btn label={label} kind="gold" className="btn--block" disabled={left > 0} onClick={handler} />
    ) : null;
  } else if (handler) {
    step = <Btn label={label} kind={kind === 'dismiss' ? 'ghost' : 'gold'} className="btn--block" onClick={handler} />;
  } else if (kind === 'contact') {
    step =
      process.env.TARO_ENV === 'weapp' ? (
        <Btn label={label} kind="gold" className="btn--block" openType="contact" />
      ) : (
        <Text className="refusal__step">请在微信小程序「红包码」中点击「联系客服」</Text>
      );
  }

  return (
    <View
      className={`refusal refusal--${refusal.code.toLowerCase()} ${className ?? ''}`}
      role="alert"
      aria-label={refusal.title}
      data-code={refusal.code}
    >
      <Text className="refusal__title">{refusal.title}</Text>
      <Text className="refusal__body">{refusal.body}</Text>
      {refusal.untilText ? (
        <Text className="refusal__when" aria-label="恢复时间">
          {refusal.untilText}
        </Text>
      ) : null}
      {wait > 0 ? (
        <Text className="refusal__when" aria-label="重试倒计时" aria-live="off">
          {left > 0 ? `${countdownText(left)}后可再试` : '现在可以再试一次'}
        </Text>
      ) : null}
      {step}
    </View>
  );
}
