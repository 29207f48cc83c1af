import { isSessionKey } from '../domain/group';
import type { Fen } from '../domain/money';

/** Money in from outside: a card or bank charge behind a payment provider. */
export interface PaymentProvider {
  /** Idempotent by topupId: charging twice with one id charges once. */
  charge(req: {
    topupId: string;
    userId: string;
    amount: Fen;
  }): Promise<{ ok: true; providerRef: string } | { ok: false; reason: string }>;
  /** The outcome of a charge whose answer was lost (crash recovery). */
  status(topupId: string): Promise<'succeeded' | 'failed' | 'unknown'>;
}

/** The sandbox provider of the local and sandbox stages: every charge succeeds at once. */
export const sandboxProvider: PaymentProvider = {
  async charge(req) {
    return { ok: true, providerRef: `sandbox_${req.topupId}` };
  },
  async status() {
    return 'succeeded';
  },
};

/**
 * Exchanges a mini-program login code (Taro.login / wx.login) for the user's open id and
 * WeChat's `session_key` (the key of the user's encrypted open data, e.g. group data). The
 * session key is a secret: kept server side, sealed at rest, never returned or logged.
 */
export interface Code2Session {
  exchange(code: string): Promise<{ ok: true; openId: string; sessionKey?: string } | { ok: false; reason: string }>;
}

/**
 * The HTTP adapter of {@link Code2Session}: the chat app's `jscode2session` endpoint. The base
 * URL is configuration, so tests point it at a stub server on 127.0.0.1.
 */
export class HttpCode2Session implements Code2Session {
  constructor(private readonly opts: { apiBase: string; appId: string; secret: string; timeoutMs?: number }) {}

  async exchange(code: string) {
    const url = new URL('/sns/jscode2session', this.opts.apiBase);
    url.searchParams.set('appid', this.opts.appId);
    url.searchParams.set('secret', this.opts.secret);
    url.searchParams.set('js_code', code);
    url.searchParams.set('grant_type', 'authorization_code');
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.opts.timeoutMs ?? 3000) });
      if (!res.ok) return { ok: false as const, reason: `http ${res.status}` };
      const body = (await res.json()) as {
        openid?: unknown;
        session_key?: unknown;
        errcode?: unknown;
        errmsg?: unknown;
      };
      if (typeof body.openid === 'string' && body.openid.length > 0 && !body.errcode) {
        // A session_key that is not WeChat's 16 bytes in base64 is dropped: login still works,
        // only group data cannot be decrypted for this session.
        return {
          ok: true as const,
          openId: body.openid,
          ...(isSessionKey(body.session_key) ? { sessionKey: body.session_key } : {}),
        };
      }
      return { ok: false as const, reason: `errcode ${String(body.errcode ?? 'none')}` };
    } catch (err) {
      return { ok: false as const, reason: err instanceof Error ? err.name : 'error' };
    }
  }
}

/**
 * Where uploaded avatars live: an object store keyed by `avatars/<account>/<sha256>.<ext>`
 * (domain/profile.ts `avatarKey`). Objects are content-addressed and never change. Its one
 * adapter (store/avatars.ts, on the S3 client) is imported only by the functions that upload
 * or serve avatars, so no other bundle carries the S3 client.
 */
export interface AvatarStore {
  /** Stores an image under `key` (writing the same bytes again is harmless: same key, same content). */
  put(key: string, bytes: Uint8Array, contentType: string): Promise<void>;
  /** The image under `key`, or undefined when there is none. */
  get(key: string): Promise<{ bytes: Uint8Array; contentType: string } | undefined>;
  /** Whether an image exists under `key`. */
  exists(key: string): Promise<boolean>;
}

/** One subscribe message, as the chat app's subscribeMessage.send takes it. */
export interface SubscribeMessage {
  /** The recipient's openid. */
  touser: string;
  templateId: string;
  /** The mini-program page the message opens, with its query. */
  page: string;
  /** Keyword id → value. */
  data: Record<string, { value: string }>;
}

/**
 * What became of a send: `sent`; `refused` — the user holds no subscription for the template
 * (never asked, declined, or the one-time consent already used: errcode 43101), nothing to
 * retry; `failed` — not sent, `retryable` unless WeChat refused the message itself (a bad
 * template, page, openid or value, which no retry mends).
 */
export type SendOutcome =
  | { kind: 'sent' }
  | { kind: 'refused'; errcode: number }
  | { kind: 'failed'; reason: string; retryable: boolean };

/** Sends subscribe messages (订阅消息). One adapter: wechat/subscribe-messages.ts. */
export interface Notifier {
  /** Never throws; `timeoutMs` bounds the whole call, the access token included. */
  send(msg: SubscribeMessage, opts: { timeoutMs: number }): Promise<SendOutcome>;
}
