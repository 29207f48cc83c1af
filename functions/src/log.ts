/**
 * Structured JSON logs through Powertools for AWS Lambda (Logger): one JSON object per line with
 * level, message, timestamp, service and the request's correlation id, as CloudWatch Logs
 * Insights expects.
 *
 * Every line passes {@link redact} first, whatever the caller handed in (defence in depth: a
 * careless `log(..., { body })` must still not leak). Redaction drops credential-like fields,
 * masks account and device ids, and scrubs credential-shaped substrings out of any string
 * (error messages included): session tokens, bearer headers, signed packet/receive codes and
 * API keys.
 *
 * Env: `LOG_LEVEL` (default INFO). `LOG_REQUESTS=0` silences info/warn lines and `LOG_ERRORS=0`
 * error lines (the test suite's quiet mode).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { mask } from './domain/audit';

/** The process-wide logger (one per Lambda instance). */
export const logger = new Logger({ serviceName: 'hongbao-codes', logLevel: (process.env.LOG_LEVEL ?? 'INFO') as 'INFO' });

export type LogLevel = 'info' | 'warn' | 'error';

/** Field names whose values are credentials: dropped whole. */
const SECRET_KEY = /token|secret|signature|^sig$|password|passwd|authorization|cookie|credential|api[-_]?key|idempotency|^code$|^codes$|qrcode|sharecode|livecode|receivecode/i;
/** Field names holding an account or device id: masked (first 3 + last 2 characters). */
const ID_KEY = /^(id|userId|accountId|deviceId|senderId|payeeId|payerId|toId|fromId|subject|by|owner|ownerId|caller)$/;
/** Operation and request ids stay whole: they trace a request, they identify no person. */
const KEEP_KEY = /^(correlationId|requestId|opId|packetId|transferId|topupId|eventId|keyId|route|runId)$/;

/** Credential-shaped substrings, replaced wherever they appear in a string. */
const SCRUB: ReadonlyArray<[RegExp, string]> = [
  [/Bearer\s+\S+/gi, '[redacted]'],
  [/\bBearer\b/gi, '[redacted]'],
  [/\bs1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g, '[token]'], // session tokens (domain/session.ts)
  [/\b1\.[A-Za-z0-9]{1,4}\.[lsr][A-Za-z0-9_-]+\.[A-Za-z0-9_.-]+/g, '[code]'], // signed codes (domain/codes.ts)
  [/\bhk_[A-Za-z0-9_-]{8,}/g, '[api-key]'],
  [/\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)?/g, '[jwt]'],
  // Account ids (ids.ts derivedId('u', …) / randomId('u')): 'u' + 15 or 16 base64url characters.
  [/(?<![A-Za-z0-9_-])u[A-Za-z0-9_-]{15,16}(?![A-Za-z0-9_-])/g, '[account]'],
];

function scrubString(s: string): string {
  let out = s;
  for (const [re, by] of SCRUB) out = out.replace(re, by);
  return out;
}

/**
 * A copy of `value` fit for a log line: credential fields dropped, id fields masked,
 * credential-shaped substrings scrubbed from every string, nested objects and arrays walked
 * (depth-limited, so a cyclic or huge object cannot stall a request).
 */
export function redact(value: unknown, key = '', depth = 0): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'string') {
    if (ID_KEY.test(key)) return mask(value);
    return KEEP_KEY.test(key) ? value : scrubString(value);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (depth >= 6) return '[truncated]';
  if (value instanceof Error) return { name: value.name, message: scrubString(value.message) };
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redact(v, key, depth + 1));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (SECRET_KEY.test(k)) continue;
      out[k] = redact(v, k, depth + 1);
    }
    return out;
  }
  return undefined; // functions, symbols
}

function enabled(level: LogLevel): boolean {
  return level === 'error' ? process.env.LOG_ERRORS !== '0' : process.env.LOG_REQUESTS !== '0';
}

/**
 * Writes one structured line. `fields.correlationId` becomes the line's `correlation_id` (per
 * call, not shared logger state: one Lambda instance under serverless-offline or in tests runs
 * many requests at once, and a mutated global id would mix them up).
 */
export function log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
  if (!enabled(level)) return;
  const { correlationId, ...rest } = fields;
  const attrs = redact(rest) as Record<string, unknown>;
  if (typeof correlationId === 'string') attrs.correlation_id = correlationId;
  logger[level](scrubString(msg), attrs);
}
