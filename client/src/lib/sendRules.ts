import type { CreatePacketRequest } from '../../../functions/src/http/schemas';
import type { WalletResponse } from '../../../functions/src/http/contract';
import { feeFor, formatYuan, parseYuan, type Fen } from './money';
import { parseReceiveCode } from './receiveCode';
import { hasControlChars } from './text';

/** A lucky share is at most 200 yuan whatever the tier (docs/rules.md). */
export const MAX_LUCKY_SHARE: Fen = 20_000;
/** The API's greeting limit (schemas.ts CreatePacketBody: text(50)). */
export const MAX_GREETING = 50;
export const DEFAULT_GREETING = '恭喜发财，大吉大利';

export type Mode = 'lucky' | 'equal';
export type Scene = 'none' | 'birthday' | 'wedding' | 'new_year' | 'thanks';

/** What the send form holds: the text as typed (also the saved draft). */
export interface SendFormValues {
  totalYuan: string;
  count: string;
  mode: Mode;
  greeting: string;
  scene: Scene;
  /** 专属红包: one share, for the account named by `recipientCode` only. */
  exclusive: boolean;
  /** The friend's 收款码 (or a link to it) as pasted or scanned. */
  recipientCode: string;
  /**
   * 仅限本群: only the group chat the packet is first opened from may claim (not with 专属红包,
   * which has its one recipient). Optional: drafts saved before the toggle existed lack it.
   */
  groupOnly?: boolean;
}

export const EMPTY_FORM: SendFormValues = {
  totalYuan: '',
  count: '',
  mode: 'lucky',
  greeting: '',
  scene: 'none',
  exclusive: false,
  recipientCode: '',
};

/** The limits the form checks against, from GET /v1/wallet. */
export type Limits = Pick<
  WalletResponse,
  'balance' | 'perPacketLimit' | 'dailyLimit' | 'sentToday' | 'feeBps' | 'maxShares'
>;

export interface SendCheck {
  /** Field errors to show inline (only for fields with text, unless `strict`). */
  errors: { total?: string; count?: string; greeting?: string; recipient?: string };
  /** 专属红包: the account id read from the receive code. */
  recipientId?: string;
  /** Set when the packet can be sent: the request body, the fee and the debit. */
  ready?: { body: CreatePacketRequest; fee: Fen; debit: Fen };
  /** The debit exceeds the balance (shown on the confirm step, with a top-up link). */
  insufficient?: boolean;
}

/**
 * The send form's rules, the same ones the API applies (so a refusal is rare and explained
 * before the request): total ≥ 1 fen and at most two decimals; count 1..maxShares; total ≤ the
 * per-packet limit and ≤ what is left of today's limit; ≥ 1 fen per share; equal mode divisible;
 * lucky ≤ 200 yuan per share; greeting ≤ 50 characters without control characters.
 * `strict`: report empty fields too (on submit); otherwise only what was typed.
 */
export function checkSend(v: SendFormValues, limits: Limits | null, strict = false, me?: string): SendCheck {
  const errors: SendCheck['errors'] = {};
  let total: Fen | undefined;
  let count: number | undefined;
  let recipientId: string | undefined;
  // 专属红包: exactly one share (the whole amount is the friend's), so the split is "equal".
  const countText = v.exclusive ? '1' : v.count;
  const mode: Mode = v.exclusive ? 'equal' : v.mode;
  if (v.exclusive && (v.recipientCode.trim() !== '' || strict)) {
    const r = parseReceiveCode(v.recipientCode, me);
    if (r.ok) recipientId = r.accountId;
    else errors.recipient = r.error;
  }

  if (v.totalYuan.trim() !== '' || strict) {
    const p = parseYuan(v.totalYuan);
    if (!p.ok) errors.total = p.error;
    else if (p.fen < 1) errors.total = '金额至少 0.01 元';
    else total = p.fen;
  }
  if (countText.trim() !== '' || strict) {
    const c = countText.trim();
    if (c === '') errors.count = '请输入红包个数';
    else if (!/^\d+$/.test(c)) errors.count = '红包个数须为整数';
    else {
      const n = Number.parseInt(c, 10);
      const max = limits?.maxShares ?? 100;
      if (n < 1) errors.count = '红包个数至少 1 个';
      else if (n > max) errors.count = `一次最多发 ${max} 个红包`;
      else count = n;
    }
  }
  if (total !== undefined && limits) {
    const leftToday = Math.max(0, limits.dailyLimit - limits.sentToday);
    if (total > limits.perPacketLimit) errors.total = `单个红包最多 ${formatYuan(limits.perPacketLimit)}`;
    else if (total > leftToday)
      errors.total = leftToday > 0 ? `今日还可发 ${formatYuan(leftToday)}` : '今日发红包额度已用完';
  }
  if (total !== undefined && count !== undefined && !errors.total && !errors.count) {
    if (total < count) errors.total = `每个红包至少 0.01 元（${count} 个至少 ${formatYuan(count)}）`;
    else if (mode === 'equal' && total % count !== 0) {
      const down = total - (total % count);
      const up = down + count;
      errors.total = `普通红包的总金额须能被个数整除，可改为 ${down > 0 ? `${formatYuan(down)} 或 ` : ''}${formatYuan(up)}`;
    } else if (mode === 'lucky' && total > count * MAX_LUCKY_SHARE) {
      errors.total = `拼手气红包每个最多 ${formatYuan(MAX_LUCKY_SHARE)}，请增加个数`;
    }
  }
  if ([...v.greeting].length > MAX_GREETING) errors.greeting = `祝福语最多 ${MAX_GREETING} 个字`;
  else if (hasControlChars(v.greeting)) errors.greeting = '祝福语含有不支持的字符';

  const result: SendCheck = { errors };
  if (recipientId) result.recipientId = recipientId;
  const recipientReady = !v.exclusive || (recipientId !== undefined && !errors.recipient);
  if (
    total !== undefined &&
    count !== undefined &&
    !errors.total &&
    !errors.count &&
    !errors.greeting &&
    recipientReady &&
    limits
  ) {
    const fee = feeFor(total, limits.feeBps);
    const body: CreatePacketRequest = { total, count, mode };
    if (recipientId) body.recipient = recipientId;
    const greeting = v.greeting.trim();
    if (greeting) body.greeting = greeting;
    if (v.scene !== 'none') body.scene = v.scene;
    if (v.groupOnly && !v.exclusive) body.groupOnly = true;
    result.ready = { body, fee, debit: total + fee };
    result.insufficient = total + fee > limits.balance;
  }
  return result;
}

export interface ScenePreset {
  scene: Exclude<Scene, 'none'>;
  label: string;
  greeting: string;
  mode: Mode;
  count: number;
  /** Preferred total and the range it is kept in (fen), before the tier's limits. */
  total: Fen;
  min: Fen;
  max: Fen;
}

export const SCENES: ScenePreset[] = [
  {
    scene: 'wedding',
    label: '婚礼',
    greeting: '百年好合，永结同心',
    mode: 'equal',
    count: 1,
    total: 28_800,
    min: 20_000,
    max: 50_000,
  },
  {
    scene: 'birthday',
    label: '生日',
    greeting: '生日快乐，心想事成',
    mode: 'equal',
    count: 1,
    total: 6_600,
    min: 600,
    max: 20_000,
  },
  {
    scene: 'new_year',
    label: '新年',
    greeting: '新年快乐，恭喜发财',
    mode: 'lucky',
    count: 8,
    total: 8_888,
    min: 800,
    max: 20_000,
  },
  {
    scene: 'thanks',
    label: '感谢',
    greeting: '谢谢你，辛苦啦',
    mode: 'equal',
    count: 1,
    total: 2_000,
    min: 100,
    max: 20_000,
  },
];

/**
 * The form values a scene preset fills in: its total kept in the preset's range (婚礼 200–500
 * yuan), then clamped to the tier's per-packet limit and to what is left of today's limit; an
 * equal split rounded down to a multiple of the count.
 */
export function applyScene(preset: ScenePreset, limits: Limits | null, current: SendFormValues): SendFormValues {
  let total = Math.min(Math.max(preset.total, preset.min), preset.max);
  if (limits) total = Math.min(total, limits.perPacketLimit, Math.max(0, limits.dailyLimit - limits.sentToday));
  let count = preset.count;
  if (preset.mode === 'lucky' && total < count) count = Math.max(1, total);
  if (preset.mode === 'equal' && count > 1) total -= total % count;
  return {
    ...current,
    scene: preset.scene,
    mode: preset.mode,
    count: String(count),
    totalYuan: total > 0 ? formatFenPlain(total) : '',
    greeting: preset.greeting,
  };
}

/** 28800 → "288", 8888 → "88.88" (what a person would type). */
function formatFenPlain(fen: Fen): string {
  const yuan = Math.floor(fen / 100);
  const cents = fen % 100;
  return cents === 0 ? String(yuan) : `${yuan}.${String(cents).padStart(2, '0')}`;
}

export function isEmptyForm(v: SendFormValues): boolean {
  return (
    v.totalYuan.trim() === '' &&
    v.count.trim() === '' &&
    v.greeting.trim() === '' &&
    v.scene === 'none' &&
    !v.exclusive &&
    v.recipientCode.trim() === '' &&
    !v.groupOnly
  );
}
