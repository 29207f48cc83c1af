import Taro from '@tarojs/taro';
import type { ErrorBody } from '../../../functions/src/http/contract';
import { newKey } from '../lib/ids';
import { KEYS, load, save } from '../lib/storage';
import { apiBase } from './config';
import { ApiError, secondsOf } from './errors';
import { clearSession, currentSession, goLogin } from './session';

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  /** Idempotency-Key of the user action (money-moving calls). */
  idempotencyKey?: string;
  /** false: no Bearer token (the login call). */
  auth?: boolean;
  timeoutMs?: number;
  /** The answer is text (e.g. text/csv), returned as a string; errors are still JSON bodies. */
  text?: boolean;
}

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

const TIMEOUT_MS = 15_000;

/** What the API accepts as `x-device-id`. */
const DEVICE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** This page's id when storage does not keep one (private mode, storage full). */
let unsaved: string | undefined;

/**
 * A stable id for this install (wx storage on weapp, localStorage on H5), sent as x-device-id
 * on every call. The server binds a session to the device it logged in from and runs the device
 * rules (binding, blacklist) on it; a call naming another device is refused with 401, so the id
 * must not change under a session — where storage keeps nothing, one id serves the page's life.
 */
export function deviceId(): string {
  const stored = load<string>(KEYS.device);
  if (typeof stored === 'string' && DEVICE_ID.test(stored)) return stored;
  const id = unsaved ?? newKey('d');
  save(KEYS.device, id);
  unsaved = id;
  return id;
}

function isErrorBody(x: unknown): x is ErrorBody {
  return typeof x === 'object' && x !== null && typeof (x as ErrorBody).error?.code === 'string';
}

/** An error answer read as text (a `text` request): its JSON body when it is one. */
function jsonOf(data: unknown): unknown {
  if (typeof data !== 'string') return data;
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The one door to the API: JSON in and out (or text out, `opts.text`), the Bearer token from
 * storage, the Idempotency-Key when given, and every failure as an {@link ApiError} with a
 * Chinese message. A 401 clears the session and goes to the login page (then back).
 */
export async function request<T>(method: Method, path: string, opts: RequestOptions = {}): Promise<T> {
  const header: Record<string, string> = {
    Accept: opts.text ? 'text/csv, text/plain, application/json' : 'application/json',
  };
  const hasBody = method === 'POST' || method === 'PATCH';
  if (hasBody) header['Content-Type'] = 'application/json';
  const auth = opts.auth !== false;
  if (auth) {
    const s = currentSession();
    if (!s) {
      goLogin();
      throw new ApiError('UNAUTHENTICATED', 401);
    }
    header.Authorization = `Bearer ${s.token}`;
  }
  if (opts.idempotencyKey) header['Idempotency-Key'] = opts.idempotencyKey;
  header['x-device-id'] = deviceId();

  let url = `${apiBase()}${path}`;
  if (opts.query) {
    const q = Object.entries(opts.query)
      .filter(([, v]) => v !== undefined && v !== '')
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join('&');
    if (q) url += `${url.includes('?') ? '&' : '?'}${q}`;
  }

  let res: Taro.request.SuccessCallbackResult<Record<string, unknown>>;
  try {
    res = await Taro.request<Record<string, unknown>>({
      url,
      method,
      header,
      data: hasBody ? ((opts.body ?? {}) as Record<string, unknown>) : undefined,
      dataType: opts.text ? 'text' : 'json',
      ...(opts.text ? { responseType: 'text' as const } : {}),
      timeout: opts.timeoutMs ?? TIMEOUT_MS,
    });
  } catch (err) {
    const msg = String((err as { errMsg?: string; message?: string })?.errMsg ?? (err as Error)?.message ?? '');
    throw new ApiError(/timeout|abort/i.test(msg) ? 'TIMEOUT' : 'NETWORK_ERROR', 0);
  }
  const status = res.statusCode;
  if (status >= 200 && status < 300) {
    if (opts.text) return (typeof res.data === 'string' ? res.data : '') as T;
    return res.data as T;
  }
  if (status === 401 && auth) {
    clearSession();
    goLogin();
  }
  throw errorOf(status, opts.text ? jsonOf(res.data) : res.data, res.header as Record<string, unknown> | undefined);
}

/**
 * The {@link ApiError} for a non-2xx answer: the body's code and details, and the wait before a
 * retry — the `Retry-After` header (seconds or an HTTP date; any letter case) when readable, else
 * the body's `details.retryAfter` (a browser only sees Retry-After cross-origin when the API
 * exposes it, so the body is the fallback).
 */
export function errorOf(status: number, body: unknown, header?: Record<string, unknown>, now = Date.now()): ApiError {
  const code = isErrorBody(body) ? body.error.code : status >= 500 ? 'INTERNAL' : 'BAD_RESPONSE';
  const details = isErrorBody(body) ? body.error.details : undefined;
  return new ApiError(code, status, details, retryAfterOf(header, now));
}

/** Seconds from a Retry-After header: "120", or an HTTP date (seconds from `now`, at least 1). */
export function retryAfterOf(header: Record<string, unknown> | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const key = Object.keys(header).find((k) => k.toLowerCase() === 'retry-after');
  const raw = key === undefined ? undefined : header[key];
  if (typeof raw !== 'string' && typeof raw !== 'number') return undefined;
  const secs = secondsOf(raw);
  if (secs !== undefined) return secs;
  const at = typeof raw === 'string' ? Date.parse(raw) : NaN;
  return Number.isFinite(at) && at > now ? Math.max(1, Math.ceil((at - now) / 1000)) : undefined;
}
