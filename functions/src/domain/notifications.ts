/**
 * Subscribe messages (订阅消息) the user expects: what each one says, how its values are
 * formatted, and the limits WeChat puts on each keyword kind. Pure: the adapter
 * (wechat/subscribe-messages.ts) sends what this module builds, the use cases
 * (app/notifications.ts) decide when.
 *
 * A subscribe message fills the keywords of a template chosen in the mini-program's admin
 * console (公共模板库). Each keyword has a kind, visible in its id (`thing1`, `amount2`,
 * `time3`…), and WeChat refuses a value outside that kind's rules (errcode 47003):
 *   - thing: at most 20 characters;
 *   - amount: one optional currency sign, at most 10 digits, an optional decimal point, an
 *     optional trailing 元 — we write `8.88元`;
 *   - time: a 24-hour time, optionally with the date — we write `2026年12月5日 14:49` (UTC+8).
 */
import { formatYuan, type Fen } from './money';
import { utc8WallClock } from './time';

/** The three messages. */
export const NotificationKinds = ['packet_finished', 'refund_arrived', 'withdrawal_arrived'] as const;
export type NotificationKind = (typeof NotificationKinds)[number];

/** The keyword kinds our templates use. */
export const KeywordKinds = ['thing', 'amount', 'time'] as const;
export type KeywordKind = (typeof KeywordKinds)[number];

/** A message's fields in order: the kind of each and the keyword id it goes to by default. */
export interface FieldSpec {
  kind: KeywordKind;
  /** The keyword id of the recommended template (README: which template to pick). */
  key: string;
  /** What the field says (documentation; the template's own label is WeChat's). */
  label: string;
}

/**
 * The fields of each message. A configured template may name its keywords differently (its
 * numbering is WeChat's); configuration maps them in this order (see {@link parseTemplateSetting}).
 */
export const MessageFields: Record<NotificationKind, readonly FieldSpec[]> = {
  packet_finished: [
    { kind: 'thing', key: 'thing1', label: '红包' },
    { kind: 'amount', key: 'amount2', label: '红包金额' },
    { kind: 'thing', key: 'thing3', label: '领取情况' },
    { kind: 'time', key: 'time4', label: '领完时间' },
  ],
  refund_arrived: [
    { kind: 'amount', key: 'amount1', label: '退款金额' },
    { kind: 'thing', key: 'thing2', label: '红包' },
    { kind: 'thing', key: 'thing3', label: '退回方式' },
    { kind: 'time', key: 'time4', label: '到账时间' },
  ],
  withdrawal_arrived: [
    { kind: 'amount', key: 'amount1', label: '提现金额' },
    { kind: 'thing', key: 'thing2', label: '到账方式' },
    { kind: 'time', key: 'time3', label: '到账时间' },
  ],
};

/** A configured template: its id and the keyword id of each field, in {@link MessageFields} order. */
export interface TemplateSetting {
  id: string;
  keys: readonly string[];
}

/** The limit of a `thing` value, in characters (code points). */
export const THING_MAX_CHARS = 20;
/** The most digits an `amount` value may have. */
export const AMOUNT_MAX_DIGITS = 10;

const KEYWORD_ID = /^([a-z_]+?)(\d+)$/;
/** WeChat template ids are URL-safe base64-like strings (43 characters today); bounded here. */
const TEMPLATE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The kind of a keyword id (`thing12` → `thing`), or undefined for a malformed one. */
export function keywordKindOf(key: string): string | undefined {
  return KEYWORD_ID.exec(key)?.[1];
}

/**
 * Reads a template setting: `<templateId>` (the recommended template's keyword ids) or
 * `<templateId>:<key>,<key>,…` (one keyword id per field, in order, each of the field's kind).
 * Empty or `off` → undefined (that message is off). Throws on anything else.
 */
export function parseTemplateSetting(kind: NotificationKind, raw: string | undefined): TemplateSetting | undefined {
  const v = raw?.trim();
  if (!v || v === 'off') return undefined;
  const [id, keyList, ...rest] = v.split(':');
  if (rest.length > 0 || !id || !TEMPLATE_ID.test(id))
    throw new Error(`template of ${kind}: expected <templateId> or <templateId>:<keyword>,…`);
  const fields = MessageFields[kind];
  if (keyList === undefined) return { id, keys: fields.map((f) => f.key) };
  const keys = keyList.split(',').map((k) => k.trim());
  if (keys.length !== fields.length)
    throw new Error(
      `template of ${kind}: ${fields.length} keyword ids expected (${fields.map((f) => f.kind).join(', ')})`,
    );
  keys.forEach((k, i) => {
    if (keywordKindOf(k) !== fields[i]!.kind)
      throw new Error(
        `template of ${kind}: keyword ${i + 1} must be a ${fields[i]!.kind} keyword (like ${fields[i]!.key}), got ${JSON.stringify(k)}`,
      );
  });
  if (new Set(keys).size !== keys.length) throw new Error(`template of ${kind}: keyword ids must differ`);
  return { id, keys };
}

/** `888` → `8.88元`: integer arithmetic on fen, never a float. */
export function amountText(fen: Fen): string {
  if (!Number.isSafeInteger(fen) || fen < 0) throw new RangeError(`amountText: not a fen amount: ${fen}`);
  return `${formatYuan(fen)}元`;
}

/** A moment as WeChat's `time` keyword takes it, in UTC+8: `2026年12月5日 14:49`. */
export function timeText(ms: number): string {
  const t = utc8WallClock(ms);
  const hh = String(t.getUTCHours()).padStart(2, '0');
  const mm = String(t.getUTCMinutes()).padStart(2, '0');
  return `${t.getUTCFullYear()}年${t.getUTCMonth() + 1}月${t.getUTCDate()}日 ${hh}:${mm}`;
}

/**
 * A `thing` value: control characters and characters outside the basic plane (emoji, which
 * WeChat refuses) dropped, whitespace collapsed, at most {@link THING_MAX_CHARS} characters
 * (a longer text keeps 19 and ends with …); empty → `fallback`.
 */
export function thingText(s: string, fallback = '红包'): string {
  const chars = [...s.replace(/\s+/g, ' ').trim()].filter(
    (c) => c.codePointAt(0)! <= 0xffff && !/[\p{Cc}\p{Cf}\p{Cs}]/u.test(c),
  );
  const text = chars.join('').trim();
  if (!text) return fallback;
  const cps = [...text];
  return cps.length <= THING_MAX_CHARS ? text : `${cps.slice(0, THING_MAX_CHARS - 1).join('')}…`;
}

/** Why a value breaks its keyword kind's rule, or undefined when WeChat accepts it. */
export function valueProblem(kind: string, value: string): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return 'empty';
  if (kind === 'thing') {
    if ([...value].length > THING_MAX_CHARS) return `longer than ${THING_MAX_CHARS} characters`;
    if ([...value].some((c) => c.codePointAt(0)! > 0xffff)) return 'emoji';
    return undefined;
  }
  if (kind === 'amount') {
    const m = /^[¥￥$]?(\d+)(?:\.(\d+))?元?$/.exec(value);
    if (!m) return 'not an amount';
    if (m[1]!.length + (m[2]?.length ?? 0) > AMOUNT_MAX_DIGITS) return `more than ${AMOUNT_MAX_DIGITS} digits`;
    return undefined;
  }
  if (kind === 'time') {
    return /^(?:\d{4}年\d{1,2}月\d{1,2}日 )?\d{1,2}:\d{2}(?::\d{2})?$/.test(value) ? undefined : 'not a time';
  }
  return undefined;
}

/** What each event knows; turned into the message's values by {@link messageValues}. */
export type NotificationFacts =
  | { kind: 'packet_finished'; packetId: string; greeting: string; total: Fen; count: number; atMs: number }
  | {
      kind: 'refund_arrived';
      packetId: string;
      greeting: string;
      amount: Fen;
      to: 'balance' | 'wechatpay';
      atMs: number;
    }
  | { kind: 'withdrawal_arrived'; withdrawalId: string; amount: Fen; atMs: number };

/** The message's values, in {@link MessageFields} order, each within its kind's limits. */
export function messageValues(f: NotificationFacts): string[] {
  switch (f.kind) {
    case 'packet_finished':
      return [thingText(f.greeting), amountText(f.total), thingText(`${f.count}个红包已全部领完`), timeText(f.atMs)];
    case 'refund_arrived':
      return [
        amountText(f.amount),
        thingText(f.greeting),
        f.to === 'wechatpay' ? '已原路退回微信支付' : '已退回零钱余额',
        timeText(f.atMs),
      ];
    case 'withdrawal_arrived':
      return [amountText(f.amount), '已到账微信零钱', timeText(f.atMs)];
  }
}

/** The mini-program page a message opens (a page of the app, with its parameters). */
export function messagePage(f: NotificationFacts): string {
  // The wallet shows the balance and the withdrawals.
  if (f.kind === 'withdrawal_arrived') return 'pages/wallet/index';
  return `pages/packet/index?id=${encodeURIComponent(f.packetId)}`;
}

/** The `data` of subscribeMessage.send: keyword id → { value }. */
export function messageData(keys: readonly string[], values: readonly string[]): Record<string, { value: string }> {
  if (keys.length !== values.length) throw new Error('messageData: keys and values differ in number');
  return Object.fromEntries(keys.map((k, i) => [k, { value: values[i]! }]));
}

/** A message's deterministic id: one per event, so an event is recorded (and sent) at most once. */
export function notificationIdOf(f: NotificationFacts): string {
  if (f.kind === 'packet_finished') return `fin-${f.packetId}`;
  if (f.kind === 'refund_arrived') return `rfd-${f.packetId}`;
  return `wd-${f.withdrawalId}`;
}
