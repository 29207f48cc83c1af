import { ApiError } from '../api/errors';
import { formatYuan, type Fen } from './money';
import { MAX_LUCKY_SHARE } from './sendRules';

/**
 * The app's own copy for the API's risk and limit refusals (docs/rules.md): what happened, why,
 * when it lifts and what to do next — one pure model, shown by `RefusalNotice` on every page
 * where a refusal can happen. The server's Chinese message is not shown: the app owns its copy
 * and renders the server's `details` (Beijing times, yuan amounts, seconds to wait).
 */

/** The refusals that get a screen of their own (the rest stay one-line messages). */
export const REFUSAL_CODES = [
  'RISK_BLOCKED',
  'CODE_FROZEN',
  'DEVICE_LIMIT',
  'RATE_LIMITED',
  'GREETING_REJECTED',
  'LIMIT_PER_PACKET',
  'LIMIT_DAILY',
  'INSUFFICIENT_FUNDS',
  'FORBIDDEN',
  'GROUP_ONLY',
] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];

/** The next step a refusal offers, and its button text (also its accessible label). */
export const REFUSAL_ACTIONS = {
  contact: '联系客服',
  editGreeting: '修改祝福语',
  editAmount: '修改金额',
  topUp: '去充值',
  retry: '再试一次',
  dismiss: '知道了',
  switchAccount: '换用其他账号',
  back: '返回首页',
} as const;
export type RefusalActionKind = keyof typeof REFUSAL_ACTIONS;

/** Where the refusal happened: the same code reads differently when sending, paying, claiming… */
export type RefusalOp = 'packet' | 'transfer' | 'claim' | 'code' | 'topup' | 'login';

export interface Refusal {
  code: RefusalCode;
  /** A short, plain title (no icon). */
  title: string;
  /** What happened and why, with the server's details rendered. */
  body: string;
  /** When a freeze lifts (epoch ms), with its text: "14:06 后恢复" (Beijing time). */
  until?: number;
  untilText?: string;
  /** RATE_LIMITED: whole seconds to wait before trying again (a countdown). */
  retryAfter?: number;
  /** The next step. */
  action: { kind: RefusalActionKind; label: string };
  /** The form field to fix (highlighted by the form). */
  field?: 'greeting' | 'amount';
  /** GREETING_REJECTED: the marketing word found in the greeting. */
  word?: string;
}

export interface RefusalContext {
  op?: RefusalOp;
  /** Claiming a 专属红包: the name of the one person it is for. */
  recipient?: string | undefined;
  /**
   * 仅限本群, when the refusal came from the open view (no error details): whether the caller
   * opened it from another group or from no group. An error's `details.group` wins.
   */
  group?: 'other' | 'none' | undefined;
  /** The clock, for the "后恢复" date (tests pass a fixed one). */
  now?: number;
}

/** Beijing time (UTC+8, no daylight saving): the same on every device whatever its time zone. */
const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;
const MINUTE_MS = 60_000;

const pad = (n: number) => String(n).padStart(2, '0');

/** "HH:mm" in Beijing time; a time with seconds is rounded up to the next minute ("after" stays true). */
export function beijingClock(ms: number): string {
  const d = new Date(Math.ceil(ms / MINUTE_MS) * MINUTE_MS + BEIJING_OFFSET_MS);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** The Beijing calendar day of `ms` as "M月D日". */
function beijingDay(ms: number): string {
  const d = new Date(Math.ceil(ms / MINUTE_MS) * MINUTE_MS + BEIJING_OFFSET_MS);
  return `${d.getUTCMonth() + 1}月${d.getUTCDate()}日`;
}

/**
 * When a freeze lifts: "14:06 后恢复" today (Beijing), "11月30日 14:06 后恢复" on a later day
 * (the 7-day device restriction), "已恢复" once past.
 */
export function untilText(untilMs: number, now = Date.now()): string {
  if (untilMs <= now) return '已恢复，可以再试一次';
  const day = beijingDay(untilMs);
  return day === beijingDay(now) ? `${beijingClock(untilMs)} 后恢复` : `${day} ${beijingClock(untilMs)} 后恢复`;
}

/** A countdown: 45 → "45 秒", 125 → "2 分 05 秒". */
export function countdownText(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} 秒`;
  return `${Math.floor(s / 60)} 分 ${pad(s % 60)} 秒`;
}

/** Seconds left until `deadlineMs` (whole, rounded up, never negative). */
export function secondsLeft(deadlineMs: number, now = Date.now()): number {
  return Math.max(0, Math.ceil((deadlineMs - now) / 1000));
}

export function isRefusalCode(code: unknown): code is RefusalCode {
  return typeof code === 'string' && (REFUSAL_CODES as readonly string[]).includes(code);
}

const fen = (v: unknown): Fen | undefined =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
const int = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : undefined;
const time = (v: unknown): number | undefined => {
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isFinite(t) ? t : undefined;
};
const action = (kind: RefusalActionKind) => ({ kind, label: REFUSAL_ACTIONS[kind] });

/** Adds the freeze end (`details.until`) to a refusal. */
function withUntil(r: Refusal, until: number | undefined, now: number): Refusal {
  return until === undefined ? r : { ...r, until, untilText: untilText(until, now) };
}

/**
 * The refusal screen for an error thrown by an API call, or undefined when it is not one of the
 * {@link REFUSAL_CODES} (show `errorText` then). Pure: the same error, context and clock give the
 * same copy.
 */
export function refusalOf(error: unknown, ctx: RefusalContext = {}): Refusal | undefined {
  if (!(error instanceof ApiError) || !isRefusalCode(error.code)) return undefined;
  const op = ctx.op;
  const now = ctx.now ?? Date.now();
  const d = error.details ?? {};
  const paying = op === 'transfer' ? '付款' : op === 'packet' ? '发红包' : '付款和发红包';

  switch (error.code) {
    case 'RISK_BLOCKED': {
      const until = time(d.until);
      if (d.reason === 'night_velocity') {
        return withUntil(
          {
            code: 'RISK_BLOCKED',
            title: '付款功能已临时冻结',
            body: '凌晨 0 点至 6 点（北京时间），1 小时内 10 元以下的小额转账或红包超过 10 笔。为保障资金安全，付款和发红包已冻结 1 小时，收款和领红包不受影响。',
            action: action('dismiss'),
          },
          until,
          now,
        );
      }
      if (d.reason === 'device_binding') {
        return withUntil(
          {
            code: 'RISK_BLOCKED',
            title: '这台设备的付款功能受限',
            body: '这台设备 7 天内登录的账号过多。为保障资金安全，在这台设备上登录过的账号暂时不能付款和发红包。如是本人操作，请联系客服。',
            action: action('contact'),
          },
          until,
          now,
        );
      }
      if (until !== undefined) {
        return withUntil(
          {
            code: 'RISK_BLOCKED',
            title: '付款功能已临时限制',
            body: `为保障资金安全，你的账户暂时不能${paying}。`,
            action: action('dismiss'),
          },
          until,
          now,
        );
      }
      return {
        code: 'RISK_BLOCKED',
        title: '账户暂时无法使用资金功能',
        body: '为保障资金安全，你的账户或这台设备已被限制收付款、发红包和充值。如有疑问，请联系客服处理。',
        action: action('contact'),
      };
    }

    case 'CODE_FROZEN':
      return withUntil(
        {
          code: 'CODE_FROZEN',
          title: '这个收款码已临时冻结',
          body: '这个收款码连续收到多笔相同金额的付款，为保障双方资金安全，已暂停收款 1 小时。本次付款没有扣款。',
          action: action('dismiss'),
        },
        time(d.until),
        now,
      );

    case 'DEVICE_LIMIT': {
      const max = int(d.maxAccounts);
      const rule = max ? `一台设备 7 天内最多使用 ${max} 个账号` : '一台设备 7 天内使用的账号数有上限';
      if (op === 'login') {
        return {
          code: 'DEVICE_LIMIT',
          title: '这台设备不能再登录新账号',
          body: `为保障账户安全，${rule}。请使用之前在这台设备上登录过的账号，或换一台常用设备登录。`,
          action: action('switchAccount'),
        };
      }
      return {
        code: 'DEVICE_LIMIT',
        title: '这台设备使用的账号过多',
        body: `为保障账户安全，${rule}，这个账号暂时不能在这台设备上${op === 'transfer' || op === 'packet' ? paying : '进行资金操作'}。请使用常用设备，如有疑问请联系客服。`,
        action: action('contact'),
      };
    }

    case 'RATE_LIMITED': {
      const retryAfter = error.retryAfter;
      // The seconds are the notice's countdown, not frozen into the text.
      const wait = retryAfter ? '请稍等片刻，倒计时结束后再试。' : '请稍等片刻再试。';
      const base =
        op === 'claim'
          ? { title: '领取太频繁了', body: `1 分钟内领取红包的次数太多。${wait}` }
          : op === 'code'
            ? { title: '二维码刷新太频繁', body: `1 分钟内刷新二维码的次数太多。${wait}` }
            : { title: '操作太频繁', body: `操作次数太多。${wait}` };
      return { code: 'RATE_LIMITED', ...base, ...(retryAfter ? { retryAfter } : {}), action: action('retry') };
    }

    case 'GREETING_REJECTED': {
      const word = typeof d.word === 'string' && d.word ? d.word : undefined;
      return {
        code: 'GREETING_REJECTED',
        title: '祝福语含有营销用语',
        body: word
          ? `企业和服务商的红包，祝福语不能含有“${word}”这类营销诱导用语。请修改祝福语后再发。`
          : '企业和服务商的红包，祝福语不能含有营销诱导用语（如“免单”“全额返现”）。请修改祝福语后再发。',
        action: action('editGreeting'),
        field: 'greeting',
        ...(word ? { word } : {}),
      };
    }

    case 'LIMIT_PER_PACKET': {
      const limit = fen(d.perPacketLimit);
      if (op === 'transfer') {
        return {
          code: 'LIMIT_PER_PACKET',
          title: '超出单笔付款上限',
          body:
            limit !== undefined
              ? `你的账户单笔付款最多 ${formatYuan(limit)}，请修改金额。`
              : '这笔付款超出了单笔上限，请修改金额。',
          action: action('editAmount'),
          field: 'amount',
        };
      }
      return {
        code: 'LIMIT_PER_PACKET',
        title: '超出单个红包的金额上限',
        body:
          limit !== undefined
            ? `你的账户单个红包最多 ${formatYuan(limit)}，请修改金额。`
            : `红包金额超出上限（拼手气红包每个最多 ${formatYuan(MAX_LUCKY_SHARE)}），请减少金额或增加个数。`,
        action: action('editAmount'),
        field: 'amount',
      };
    }

    case 'LIMIT_DAILY': {
      const daily = fen(d.dailyLimit);
      const sent = fen(d.sentToday);
      const what = op === 'transfer' ? '付款' : op === 'packet' ? '发红包' : '转出';
      let body: string;
      if (daily !== undefined && sent !== undefined) {
        const left = Math.max(0, daily - sent);
        body =
          left > 0
            ? `今日额度 ${formatYuan(daily)}，已用 ${formatYuan(sent)}，还可${what} ${formatYuan(left)}。请修改金额。`
            : `今日额度 ${formatYuan(daily)} 已用完，明天（北京时间 0 点后）恢复。`;
      } else if (daily !== undefined) {
        body = `今日额度 ${formatYuan(daily)}，这笔会超出额度。请修改金额，或明天再${what}。`;
      } else {
        body = `这笔会超出今日${what}额度。请修改金额，或明天再${what}。`;
      }
      return { code: 'LIMIT_DAILY', title: `超出今日${what}额度`, body, action: action('editAmount'), field: 'amount' };
    }

    case 'INSUFFICIENT_FUNDS': {
      const balance = fen(d.balance);
      const needed = fen(d.needed);
      let body: string;
      if (balance !== undefined && needed !== undefined && needed > balance) {
        body = `需支付 ${formatYuan(needed)}，零钱余额 ${formatYuan(balance)}，还差 ${formatYuan(needed - balance)}。请先充值。`;
      } else if (balance !== undefined) {
        body = `零钱余额 ${formatYuan(balance)}，不够这次支付。请先充值，或修改金额。`;
      } else {
        body = '零钱余额不够这次支付。请先充值，或修改金额。';
      }
      return { code: 'INSUFFICIENT_FUNDS', title: '零钱余额不足', body, action: action('topUp') };
    }

    case 'FORBIDDEN':
      if (op === 'claim') {
        return {
          code: 'FORBIDDEN',
          title: '这个红包你不能领取',
          body: ctx.recipient
            ? `这是发给 ${ctx.recipient} 的专属红包，只有 TA 本人可以领取。`
            : '你没有领取这个红包的权限，例如专属红包只能由指定的人领取。',
          action: action('back'),
        };
      }
      if (op === 'code' && int(d.maxForwards)) {
        return {
          code: 'FORBIDDEN',
          title: '转发次数已达上限',
          body: `每个红包你最多可以转发 ${int(d.maxForwards)} 次，已转发出去的链接仍然可以领取。`,
          action: action('dismiss'),
        };
      }
      if (op === 'code') {
        return {
          code: 'FORBIDDEN',
          title: '无法展示这个红包的二维码',
          body: '只有发红包的人可以展示二维码；领取过红包的人才能转发它。',
          action: action('back'),
        };
      }
      return {
        code: 'FORBIDDEN',
        title: '没有权限',
        body: '你的账户没有进行这个操作的权限。如有疑问，请联系客服。',
        action: action('contact'),
      };

    case 'GROUP_ONLY': {
      const where = d.group === 'other' || d.group === 'none' ? d.group : ctx.group;
      return {
        code: 'GROUP_ONLY',
        title: '仅限本群领取',
        body:
          where === 'other'
            ? '这是仅限本群的红包，只有发红包所在群的成员可以领取。你是从其他群或私聊打开的，不能领取。'
            : '这是仅限本群的红包，需要从发红包的那个群聊里打开才能领取。请回到群聊，点开群里的红包卡片再领取。',
        action: action('back'),
      };
    }
  }
  return undefined;
}
