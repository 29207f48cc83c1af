/**
 * The one table of API error codes and their HTTP statuses. Domain code throws
 * {@link DomainError}; the HTTP wrapper is the one place that turns it into a response.
 */
export const ErrorCodes = {
  VALIDATION_FAILED: 400,
  IDEMPOTENCY_KEY_REQUIRED: 400,
  CODE_INVALID: 400,
  UNAUTHENTICATED: 401,
  INSUFFICIENT_FUNDS: 402,
  FORBIDDEN: 403,
  DEV_LOGIN_DISABLED: 403,
  RISK_BLOCKED: 403,
  DEVICE_LIMIT: 403,
  /** A group-only packet (仅限本群) claimed from another group or from no group. */
  GROUP_ONLY: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  IDEMPOTENCY_MISMATCH: 409,
  PACKET_FINISHED: 409,
  /** A claim by the same account is still being processed; retry shortly. */
  CLAIM_IN_PROGRESS: 409,
  /** A packet paid by WeChat Pay whose payment has not been confirmed: no code yet. */
  PAYMENT_REQUIRED: 409,
  CODE_EXPIRED: 410,
  PACKET_EXPIRED: 410,
  LIMIT_PER_PACKET: 422,
  LIMIT_DAILY: 422,
  EQUAL_SPLIT_UNEVEN: 422,
  GREETING_REJECTED: 422,
  /** A withdrawal outside 1.00–200.00 yuan, or past 2,000 yuan in a UTC+8 day. */
  WITHDRAWAL_LIMIT: 422,
  CODE_FROZEN: 423,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** A refusal the caller can act on: it carries an API error code and a plain message. */
export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.status = ErrorCodes[code];
    if (details) this.details = details;
  }
}

/**
 * Refuses with a domain error. A function declaration returning `never`, so that the compiler
 * narrows after `if (!x.ok) fail(...)` as after a `throw` (an arrow in a const would not).
 */
export function fail(code: ErrorCode, message: string, details?: Record<string, unknown>): never {
  throw new DomainError(code, message, details);
}

/**
 * The one error body of the API (`{ error: { code, message, details?, correlationId? } }`):
 * every refusal, 5xx and standalone function answers with it.
 */
export function errorBody(
  code: ErrorCode,
  message: string,
  extra: { details?: Record<string, unknown> | undefined; correlationId?: string | undefined } = {},
): { error: { code: ErrorCode; message: string; details?: Record<string, unknown>; correlationId?: string } } {
  return {
    error: {
      code,
      message,
      ...(extra.details ? { details: extra.details } : {}),
      ...(extra.correlationId !== undefined ? { correlationId: extra.correlationId } : {}),
    },
  };
}
