import type { ErrorCode } from '../../../functions/src/domain/errors';

/** Errors the client itself raises (no answer, or an answer that is not the API's). */
export type ClientErrorCode = 'NETWORK_ERROR' | 'TIMEOUT' | 'BAD_RESPONSE';
/**
 * Codes of the HTTP contract that the server's table may not hold yet (they arrive with the group
 * feature): the app knows them already, so the first refusal is in plain words too.
 */
export type ContractErrorCode = 'GROUP_ONLY';
export type AnyErrorCode = ErrorCode | ContractErrorCode | ClientErrorCode;

/**
 * Every API error code (functions/src/domain/errors.ts) as a plain Chinese message — the one
 * map. `Record<ErrorCode, string>` makes a new server code a compile error here until it has
 * its message; a test checks the same at run time.
 */
export const ERROR_MESSAGES: Record<ErrorCode | ContractErrorCode, string> & Record<ClientErrorCode, string> = {
  VALIDATION_FAILED: '填写的内容有误，请检查后再试',
  IDEMPOTENCY_KEY_REQUIRED: '请求缺少防重复标识，请重试',
  CODE_INVALID: '无效的红包码',
  UNAUTHENTICATED: '登录已过期，请重新登录',
  INSUFFICIENT_FUNDS: '零钱余额不足，请先充值',
  FORBIDDEN: '你没有权限进行这个操作',
  DEV_LOGIN_DISABLED: '当前环境不支持测试登录，请使用微信登录',
  RISK_BLOCKED: '账户存在风险，操作已被拦截，请联系客服',
  DEVICE_LIMIT: '这台设备登录的账号过多，请使用常用设备',
  NOT_FOUND: '内容不存在或已被删除',
  METHOD_NOT_ALLOWED: '暂不支持这个操作',
  IDEMPOTENCY_MISMATCH: '这笔操作已提交过且内容不同，请重新发起',
  PACKET_FINISHED: '手慢了，红包派完了',
  CLAIM_IN_PROGRESS: '正在领取中，请稍候',
  CODE_EXPIRED: '二维码已过期，请让对方刷新后再扫',
  PACKET_EXPIRED: '红包已过期',
  LIMIT_PER_PACKET: '超出单个红包的金额上限',
  LIMIT_DAILY: '超出今日发红包的额度',
  EQUAL_SPLIT_UNEVEN: '普通红包的总金额须能被个数整除',
  GREETING_REJECTED: '祝福语含有不允许的内容，请修改',
  CODE_FROZEN: '这个收款码暂时被冻结，请稍后再试',
  WITHDRAWAL_LIMIT: '超出提现限额：单笔 1.00–200.00 元，每天最多 2,000.00 元',
  PAYMENT_REQUIRED: '这个红包还没有支付，请先完成微信支付',
  GROUP_ONLY: '这是群专属红包，只有发红包所在群的成员可以领取',
  RATE_LIMITED: '操作太频繁，请稍后再试',
  INTERNAL: '服务开小差了，请稍后再试',
  UNAVAILABLE: '服务暂时不可用，请稍后再试',
  NETWORK_ERROR: '网络不给力，请检查网络后重试',
  TIMEOUT: '请求超时，请重试',
  BAD_RESPONSE: '服务返回异常，请稍后再试',
};

const FALLBACK = '出了点问题，请稍后再试';

/** The Chinese message for an error code (a code this client does not know gets a generic one). */
export function messageFor(code: string | undefined): string {
  // biome-ignore lint/suspicious/noPrototypeBuiltins: Object.hasOwn is missing on older WeChat runtimes (iOS < 15.4).
  if (code && Object.prototype.hasOwnProperty.call(ERROR_MESSAGES, code)) return ERROR_MESSAGES[code as AnyErrorCode];
  return FALLBACK;
}

/**
 * An API call that failed: its code, HTTP status (0 without an answer), Chinese message, the
 * server's `details`, and for a `429 RATE_LIMITED` the seconds to wait (`Retry-After`).
 */
export class ApiError extends Error {
  readonly code: AnyErrorCode | string;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  /** Whole seconds before the call may be tried again (the Retry-After header or `details.retryAfter`). */
  readonly retryAfter: number | undefined;
  constructor(code: string, status: number, details?: Record<string, unknown>, retryAfter?: number) {
    super(messageFor(code));
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.details = details;
    this.retryAfter = retryAfter ?? secondsOf(details?.retryAfter);
  }
  /**
   * True when the request may not have been processed (no answer, timeout, 5xx, a claim still in
   * flight): retry with the same idempotency key. False for a definite refusal (4xx).
   */
  get retryable(): boolean {
    return this.status === 0 || this.status >= 500 || this.code === 'CLAIM_IN_PROGRESS' || this.code === 'RATE_LIMITED';
  }
}

/** The message to show for anything thrown by an API call. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return FALLBACK;
}

/** A positive whole number of seconds (rounded up), or undefined for anything else. */
export function secondsOf(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.ceil(n) : undefined;
}
