/**
 * Structured JSON logs through Powertools for AWS Lambda (Logger): one JSON object per line with
 * level, message, timestamp, service and the request's correlation id, as CloudWatch Logs
 * Insights expects.
 *
 * Redaction happens in ONE place, the logger's formatter ({@link RedactingFormatter}), so it
 * applies to every line whatever the caller handed in and whichever way it logged (`log()`, the
 * exported `logger`, a child logger, keys appended with `appendKeys`): defence in depth, a careless
 * `log(..., { body })` must still not leak. It drops credential-named fields, masks account and
 * device ids, and scrubs credential-shaped substrings out of every string (error messages and
 * stacks included): session tokens, bearer headers, signed packet/receive codes, API keys, JWTs,
 * long opaque secrets and account ids.
 *
 * Correlation: a line's `correlation_id` is the one its caller passed (`correlationId` field),
 * else the one bound to the current request by {@link withLogContext} + {@link bindCorrelationId}
 * (AsyncLocalStorage: per request, never shared logger state — tests and serverless-offline run
 * many requests at once in one process, and a mutated global id would mix them up).
 *
 * Env: `LOG_LEVEL` (default INFO). `LOG_REQUESTS=0` silences lines below ERROR and
 * `LOG_ERRORS=0` ERROR lines (the test suite's quiet mode); both are read per line, so a test can
 * switch logging on after this module loaded.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { LogFormatter, LogItem, Logger, LogLevelThreshold } from '@aws-lambda-powertools/logger';
import type {
  ConstructorOptions,
  LogAttributes,
  LogItemExtraInput,
  LogItemMessage,
  UnformattedAttributes,
} from '@aws-lambda-powertools/logger/types';
import { mask } from './domain/audit';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Field names whose values are credentials: dropped whole, with everything nested under them. */
const SECRET_KEY =
  /token|secret|signature|^sig$|hmac|password|passwd|authorization|bearer|cookie|credential|jwt|^otp$|^pin$|private|api[-_]?key|idempotency|(^|[a-z_-])keys?$|^codes?$|(qr|share|live|receive|packet|claim|raw)[-_]?codes?$/i;
/** Operation and request ids stay whole: they trace a request, they identify no person. */
const KEEP_KEY =
  /^(correlationId|correlation_id|requestId|opId|packetId|transferId|topupId|withdrawalId|eventId|keyId|shareId|campaignId|route|runId)$/;
/** Field names holding an account or device id: masked (first 3 + last 2 characters). */
const ID_KEY =
  /(^|[-_])(id|Id|ID)$|[a-z]Id$|^(subject|by|owner|caller|recipient|sender|payee|payer|account|user|device|openid)$/;

/** Account ids (ids.ts: derivedId('u', …) is 'u' + 15 base64url chars, randomId('u') 'u' + 16). */
const ACCOUNT_ID = /(?<![A-Za-z0-9_-])u[A-Za-z0-9_-]{15,16}(?![A-Za-z0-9_-])/g;
/** Long base64 / base64url / hex runs (secrets, keys, digests); UUIDs (36) stay readable. */
const OPAQUE = /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{40,}={0,2}/g;

/** Credential-shaped substrings, replaced wherever they appear in a string (in this order). */
const SCRUB: ReadonlyArray<[RegExp, string | ((m: string) => string)]> = [
  // The header value with whatever follows it, then the bare word (no line may say "Bearer").
  [/\bBearer\s+\S+/gi, '[redacted]'],
  [/bearer/gi, '[redacted]'],
  // API keys (domain/api-keys.ts: hk_<keyId>_<secret>), before the account rule eats a piece.
  [/\bhk_[A-Za-z0-9_-]{8,}/g, '[api-key]'],
  // Session tokens (domain/session.ts: s1.<payload>.<hmac>), the payload alone included.
  [/(?<![A-Za-z0-9_-])s1\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)?/g, '[token]'],
  // Signed codes (domain/codes.ts: 1.<kid>.<kind><target>.<iat>[.<ref>].<sig>), truncated ones too.
  [/(?<![A-Za-z0-9])1\.[a-z0-9]{1,4}\.[lsr][A-Za-z0-9_-]{1,32}(\.[A-Za-z0-9_-]+)*/g, '[code]'],
  [/\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)?/g, '[jwt]'],
  // Only runs mixing letters and digits: a long word or path segment is no secret.
  [OPAQUE, (m) => (/\d/.test(m) && /[A-Za-z]/.test(m) ? '[opaque]' : m)],
  // Random base64url has an upper-case letter, digit, '_' or '-' in 15 characters all but
  // always; an English word starting with 'u' has none, so it is left alone.
  [ACCOUNT_ID, (m) => (/[A-Z0-9_-]/.test(m.slice(1)) ? mask(m) : m)],
];

/** `s` with every credential-shaped substring replaced (see {@link SCRUB}). */
export function scrubString(s: string): string {
  let out = s;
  for (const [re, by] of SCRUB) out = out.replace(re, (m) => (typeof by === 'string' ? by : by(m)));
  return out;
}

const MAX_DEPTH = 6;
const MAX_ITEMS = 50;
const MAX_STACK_LINES = 8;

function redactError(err: Error, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = { name: err.name, message: scrubString(err.message) };
  // The first frames are what on-call needs; the stack's first line repeats the message, so it is scrubbed too.
  if (err.stack) out.stack = scrubString(err.stack.split('\n').slice(0, MAX_STACK_LINES).join('\n'));
  if (err.cause !== undefined) out.cause = redact(err.cause, 'cause', depth + 1);
  return out;
}

/**
 * A copy of `value` fit for a log line: credential-named fields dropped, id fields masked,
 * credential-shaped substrings scrubbed from every string (errors become name, message and a
 * short stack, all scrubbed), nested objects and arrays walked. Depth and breadth are capped, so
 * a cyclic or huge object cannot stall a request. `key` is the field name `value` sits under.
 */
export function redact(value: unknown, key = '', depth = 0): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'string') {
    if (KEEP_KEY.test(key)) return keptId(value);
    return ID_KEY.test(key) ? mask(value) : scrubString(value);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return undefined; // functions, symbols
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (value instanceof Error) return redactError(value, depth);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return '[binary]';
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map((v) => redact(v, key, depth + 1));
  const entries =
    value instanceof Map ? [...value.entries()].map(([k, v]) => [String(k), v] as const) : Object.entries(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries.slice(0, MAX_ITEMS)) {
    if (SECRET_KEY.test(k)) continue;
    out[k] = redact(v, k, depth + 1);
  }
  return out;
}

/** Id-shaped: one run of base64url/UUID characters; codes and tokens have dots, API keys a prefix. */
const PLAIN_ID = /^(?!hk_)[A-Za-z0-9_-]{1,64}$/;

/**
 * Kept ids (operation ids, correlation ids) stay whole, so a line can be joined to its request and
 * money movement; anything else under such a key (a code or token put where an id belongs, a
 * route) is scrubbed like any string.
 */
function keptId(value: string): string {
  return PLAIN_ID.test(value) ? value : scrubString(value);
}

interface LogContext {
  correlationId?: string;
}

/** The current request's log context (AsyncLocalStorage: follows the request through its awaits). */
const context = new AsyncLocalStorage<LogContext>();

/**
 * `fn` wrapped so that each call runs in its own log context: {@link bindCorrelationId} inside
 * it reaches every line the call logs, however deep, and no other call's.
 */
export function withLogContext<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return (...args) => context.run({}, () => fn(...args));
}

/** Binds the current request's correlation id (no effect outside {@link withLogContext}). */
export function bindCorrelationId(correlationId: string): void {
  const store = context.getStore();
  if (store) store.correlationId = correlationId;
}

/**
 * The one redaction point: every line's fields pass {@link redact} and its message
 * {@link scrubString} here, whichever logger method produced it. Output keys are Powertools'
 * defaults (level, message, timestamp, service, Lambda context, X-Ray id) plus `correlation_id`.
 */
export class RedactingFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    const { correlationId, correlation_id, ...rest } = additional;
    const given =
      typeof correlationId === 'string'
        ? correlationId
        : typeof correlation_id === 'string'
          ? correlation_id
          : context.getStore()?.correlationId;
    const ctx = attributes.lambdaContext;
    const base: LogAttributes = {
      level: attributes.logLevel,
      message: scrubString(attributes.message),
      timestamp: this.formatTimestamp(attributes.timestamp),
      service: attributes.serviceName,
      correlation_id: given === undefined ? undefined : keptId(given),
      cold_start: ctx?.coldStart,
      function_name: ctx?.functionName,
      function_memory_size: ctx?.memoryLimitInMB,
      function_request_id: ctx?.awsRequestId,
      xray_trace_id: attributes.xRayTraceId,
    };
    return new LogItem({ attributes: base }).addAttributes(redact(rest) as LogAttributes);
  }
}

/** Whether the quiet-mode env flags let a line of this Powertools level threshold through. */
function enabled(threshold: number): boolean {
  return threshold >= LogLevelThreshold.ERROR ? process.env.LOG_ERRORS !== '0' : process.env.LOG_REQUESTS !== '0';
}

/**
 * Powertools' Logger with the redacting formatter forced (whatever the options say, so no child
 * logger can opt out of redaction) and the quiet-mode gate in front of every line.
 */
class AppLogger extends Logger {
  constructor(options: ConstructorOptions = {}) {
    // The cast: ConstructorOptions makes logFormatter and logRecordOrder exclusive, and options
    // handed down by createChild may carry either; ours wins (Powertools ignores the order then).
    super({ ...options, logFormatter: new RedactingFormatter() } as ConstructorOptions);
  }

  protected override processLogItem(logLevel: number, input: LogItemMessage, extraInput: LogItemExtraInput): void {
    if (enabled(logLevel)) super.processLogItem(logLevel, input, extraInput);
  }

  /** Children (`createChild`) are AppLoggers too: same gate, same formatter. */
  protected override createLogger(options?: ConstructorOptions): Logger {
    return new AppLogger(options);
  }
}

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
type Level = (typeof LEVELS)[number];
const envLevel = (process.env.LOG_LEVEL ?? 'INFO').toUpperCase();

/** The process-wide logger (one per Lambda instance); its lines pass {@link RedactingFormatter}. */
export const logger: Logger = new AppLogger({
  serviceName: 'hongbao-codes',
  logLevel: (LEVELS as readonly string[]).includes(envLevel) ? (envLevel as Level) : 'INFO',
});

/** Keys Powertools owns: it would drop them from the fields with a warning line each; renamed instead. */
const RESERVED = new Set(['level', 'message', 'sampling_rate', 'service', 'timestamp']);

/**
 * Writes one structured line (the call sites' API, kept from before Powertools). A
 * `fields.correlationId` becomes the line's `correlation_id`; without one, the current request's
 * (see {@link bindCorrelationId}).
 */
export function log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
  const attrs: LogAttributes = {};
  for (const [k, v] of Object.entries(fields)) attrs[RESERVED.has(k) ? `field_${k}` : k] = v;
  logger[level](msg, attrs);
}
