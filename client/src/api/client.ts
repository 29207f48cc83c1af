import Taro from '@tarojs/taro';
import type { ErrorBody } from '../../../functions/src/http/contract';
import { newKey } from '../lib/ids';
import { KEYS, load, save } from '../lib/storage';
import { apiBase } from './config';
import { ApiError } from './errors';
import { clearSession, currentSession, goLogin } from './session';

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  /** Idempotency-Key of the user action (money-moving calls). */
  idempotencyKey?: string;
  /** false: no Bearer token (the login call). */
  auth?: boolean;
  timeoutMs?: number;
}

const TIMEOUT_MS = 15_000;

/**
 * A stable id for this install, sent as x-device-id on weapp (the device-binding risk rule).
 * H5 sends none: a browser is often shared by several test accounts in local development.
 */
function deviceId(): string | undefined {
  if (process.env.TARO_ENV !== 'weapp') return undefined;
  let id = load<string>(KEYS.device);
  if (!id) {
    id = newKey('d');
    save(KEYS.device, id);
  }
  return id;
}

function isErrorBody(x: unknown): x is ErrorBody {
  return typeof x === 'object' && x !== null && typeof (x as ErrorBody).error?.code === 'string';
}

/**
 * The one door to the API: JSON in and out, the Bearer token from storage, the Idempotency-Key
 * when given, and every failure as an {@link ApiError} with a Chinese message. A 401 clears the
 * session and goes to the login page (then back).
 */
export async function request<T>(method: 'GET' | 'POST', path: string, opts: RequestOptions = {}): Promise<T> {
  const header: Record<string, string> = { Accept: 'application/json' };
  if (method === 'POST') header['Content-Type'] = 'application/json';
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
  const device = deviceId();
  if (device) header['x-device-id'] = device;

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
      data: method === 'POST' ? ((opts.body ?? {}) as Record<string, unknown>) : undefined,
      dataType: 'json',
      timeout: opts.timeoutMs ?? TIMEOUT_MS,
    });
  } catch (err) {
    const msg = String((err as { errMsg?: string; message?: string })?.errMsg ?? (err as Error)?.message ?? '');
    throw new ApiError(/timeout|abort/i.test(msg) ? 'TIMEOUT' : 'NETWORK_ERROR', 0);
  }
  const status = res.statusCode;
  if (status >= 200 && status < 300) return res.data as T;
  const body = res.data;
  const code = isErrorBody(body) ? body.error.code : status >= 500 ? 'INTERNAL' : 'BAD_RESPONSE';
  if (status === 401 && auth) {
    clearSession();
    goLogin();
  }
  throw new ApiError(code, status, isErrorBody(body) ? body.error.details : undefined);
}
