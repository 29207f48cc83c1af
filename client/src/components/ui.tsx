import { Button, Input, Text, View } from '@tarojs/components';
import type { CSSProperties, ReactNode } from 'react';

/**
 * Small building blocks shared by the pages. Every control carries an `aria-label` on the
 * element a person (or a screen reader, or a test) interacts with: on H5 an Input's label goes
 * on the real <input> inside Taro's web component (nativeProps); on weapp it goes on the
 * component (config/a11y-plugin.js lets it reach the template).
 */

/** ARIA attributes Taro's component typings do not declare (passed through to the DOM on H5). */
export function aria(attrs: { role?: string; live?: 'polite' | 'off' | 'assertive' }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (attrs.role) out.role = attrs.role;
  if (attrs.live) out['aria-live'] = attrs.live;
  return out;
}

interface BtnProps {
  label: string;
  children?: ReactNode;
  onClick?: () => void;
  kind?: 'primary' | 'gold' | 'ghost' | 'plain' | 'chip';
  disabled?: boolean;
  loading?: boolean;
  pressed?: boolean;
  className?: string;
  openType?: 'share' | 'getPhoneNumber' | 'contact';
  style?: CSSProperties;
}

export function Btn({
  label,
  children,
  onClick,
  kind = 'primary',
  disabled,
  loading,
  pressed,
  className,
  openType,
  style,
}: BtnProps) {
  const h5 = process.env.TARO_ENV === 'h5';
  const a11y: Record<string, unknown> = { 'aria-label': label };
  if (h5) {
    a11y.role = 'button';
    a11y.tabindex = disabled ? '-1' : '0';
  }
  if (pressed !== undefined) a11y['aria-pressed'] = pressed ? 'true' : 'false';
  if (disabled || loading) a11y['aria-disabled'] = 'true';
  // `disabled` only when set: Taro's H5 button styles match [disabled] whatever its value (and
  // its own `loading` spinner upsets React's children there, hence our own spinner). On H5 a disabled button is aria-disabled and ignores clicks (below);
  // weapp's native button takes `disabled` itself.
  if (disabled && !h5) a11y.disabled = true;
  if (openType) a11y.openType = openType;
  return (
    <Button
      className={`btn btn--${kind}${pressed ? ' is-pressed' : ''}${disabled ? ' is-disabled' : ''} ${className ?? ''}`}
      style={style}
      onClick={() => {
        if (disabled || loading) return;
        onClick?.();
      }}
      {...a11y}
    >
      {loading ? <View className="btn__spinner" aria-hidden="true" /> : null}
      {children ?? label}
    </Button>
  );
}

interface FieldProps {
  label: string;
  /** The visible caption (defaults to the label). */
  caption?: ReactNode;
  value: string;
  onInput: (value: string) => void;
  placeholder?: string;
  kind?: 'text' | 'money' | 'integer';
  maxlength?: number;
  error?: string | undefined;
  suffix?: ReactNode;
  big?: boolean;
  disabled?: boolean;
}

export function Field({
  label,
  caption,
  value,
  onInput,
  placeholder,
  kind = 'text',
  maxlength,
  error,
  suffix,
  big,
  disabled,
}: FieldProps) {
  const h5 = process.env.TARO_ENV === 'h5';
  const inputMode = kind === 'money' ? 'decimal' : kind === 'integer' ? 'numeric' : 'text';
  const labelProps: Record<string, unknown> = h5
    ? {
        nativeProps: { 'aria-label': label, 'aria-invalid': error ? 'true' : 'false', inputMode, autoComplete: 'off' },
        'data-label': label,
      }
    : { 'aria-label': label };
  // weapp: a digit/number keyboard; H5: a text input with a numeric keyboard hint (a number
  // input would hide "12." while it is being typed).
  const type = h5 ? 'text' : kind === 'money' ? 'digit' : kind === 'integer' ? 'number' : 'text';
  return (
    <View className={`field${error ? ' field--error' : ''}${big ? ' field--big' : ''}`}>
      <View className="field__row">
        <Text className="field__caption">{caption ?? label}</Text>
        <Input
          className="field__input"
          type={type as 'text'}
          value={value}
          placeholder={placeholder}
          placeholderClass="field__placeholder"
          maxlength={maxlength ?? 140}
          disabled={disabled}
          onInput={(e) => onInput(String(e.detail.value ?? ''))}
          {...labelProps}
        />
        {suffix ? <Text className="field__suffix">{suffix}</Text> : null}
      </View>
      {error ? (
        <Text className="field__error" {...aria({ role: 'alert' })}>
          {error}
        </Text>
      ) : null}
    </View>
  );
}

export function ErrorNote({ message, onRetry }: { message: string; onRetry?: () => void }) {
  return (
    <View className="note note--error" role="alert">
      <Text className="note__text">{message}</Text>
      {onRetry ? (
        <Btn label="重试" kind="ghost" className="note__retry" onClick={onRetry}>
          重试
        </Btn>
      ) : null}
    </View>
  );
}

export function Loading({ text = '加载中…' }: { text?: string }) {
  return (
    <View className="loading" role="status" aria-live="polite">
      <View className="loading__dot" />
      <Text>{text}</Text>
    </View>
  );
}

export function Empty({ text }: { text: string }) {
  return (
    <View className="empty">
      <Text>{text}</Text>
    </View>
  );
}
