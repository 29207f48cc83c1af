import type { Fen } from '../domain/money';

/** Money in from outside: a card or bank charge behind a payment provider. */
export interface PaymentProvider {
  /** Idempotent by topupId: charging twice with one id charges once. */
  charge(req: { topupId: string; userId: string; amount: Fen }): Promise<{ ok: true; providerRef: string } | { ok: false; reason: string }>;
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

/** Exchanges a mini-program login code (Taro.login / wx.login) for the user's open id. */
export interface Code2Session {
  exchange(code: string): Promise<{ ok: true; openId: string } | { ok: false; reason: string }>;
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
      const body = (await res.json()) as { openid?: unknown; errcode?: unknown; errmsg?: unknown };
      if (typeof body.openid === 'string' && body.openid.length > 0 && !body.errcode) {
        return { ok: true as const, openId: body.openid };
      }
      return { ok: false as const, reason: `errcode ${String(body.errcode ?? 'none')}` };
    } catch (err) {
      return { ok: false as const, reason: err instanceof Error ? err.name : 'error' };
    }
  }
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
export type SendOutcome = { kind: 'sent' } | { kind: 'refused'; errcode: number } | { kind: 'failed'; reason: string; retryable: boolean };

/** Sends subscribe messages (订阅消息). One adapter: wechat/subscribe-messages.ts. */
export interface Notifier {
  /** Never throws; `timeoutMs` bounds the whole call, the access token included. */
  send(msg: SubscribeMessage, opts: { timeoutMs: number }): Promise<SendOutcome>;
}
