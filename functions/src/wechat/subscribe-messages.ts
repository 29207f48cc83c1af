/**
 * The chat app's open API for subscribe messages, on `fetch` (no SDK):
 *   - `POST /cgi-bin/stable_token` {grant_type: client_credential, appid, secret} → the access
 *     token and its lifetime (7,200 s). Normal mode (no force_refresh): while a token is valid
 *     every caller gets the same one, so Lambda instances never invalidate each other's token;
 *   - `POST /cgi-bin/message/subscribe/send?access_token=…` {touser, template_id, page, data,
 *     miniprogram_state, lang} → {errcode, errmsg}.
 * The token is cached per process until shortly before it expires and fetched again once when
 * WeChat calls it invalid or expired (40001, 42001, 40014: another holder refreshed it). Every
 * call is bounded by the caller's timeout, the token fetch included. Nothing here logs: the
 * caller logs outcomes, and the token and the openid never leave this module.
 */
import type { Notifier, SendOutcome, SubscribeMessage } from '../app/ports';

/** `miniprogram_state`: which build of the mini-program a message opens. */
export type MiniprogramState = 'formal' | 'trial' | 'developer';

export interface WeChatOpenApiConfig {
  apiBase: string;
  appId: string;
  secret: string;
  miniprogramState: MiniprogramState;
  /** The process clock (ms); tests move it to expire the cached token. */
  now?: () => number;
}

/** A cached token is renewed this long before WeChat's expiry. */
export const TOKEN_MARGIN_MS = 5 * 60_000;
/** errcodes saying the token we sent is not (any longer) valid. */
const TOKEN_ERRCODES: ReadonlySet<number> = new Set([40001, 40014, 42001]);
/** The user holds no subscription for the template. */
export const ERR_NOT_SUBSCRIBED = 43101;
/** WeChat refused the message itself: a retry sends the same and is refused again. */
const PERMANENT_ERRCODES: ReadonlySet<number> = new Set([40003, 40037, 41030, 47003]);

class TokenError extends Error {
  override readonly name = 'TokenError';
}

/** The WeChat adapter of {@link Notifier}. */
export class WeChatSubscribeMessages implements Notifier {
  private token: { value: string; renewAtMs: number } | undefined;
  private fetching: Promise<string> | undefined;
  private readonly now: () => number;

  constructor(private readonly cfg: WeChatOpenApiConfig) {
    this.now = cfg.now ?? (() => Date.now());
  }

  async send(msg: SubscribeMessage, opts: { timeoutMs: number }): Promise<SendOutcome> {
    const signal = AbortSignal.timeout(Math.max(1, opts.timeoutMs));
    try {
      for (let attempt = 0; ; attempt++) {
        const token = await this.accessToken(signal);
        const url = new URL('/cgi-bin/message/subscribe/send', this.cfg.apiBase);
        url.searchParams.set('access_token', token);
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            touser: msg.touser,
            template_id: msg.templateId,
            page: msg.page,
            data: msg.data,
            miniprogram_state: this.cfg.miniprogramState,
            lang: 'zh_CN',
          }),
          signal,
        });
        if (!res.ok) return { kind: 'failed', reason: `http ${res.status}`, retryable: true };
        const body = (await res.json()) as { errcode?: unknown };
        const errcode = typeof body.errcode === 'number' ? body.errcode : 0;
        if (errcode === 0) return { kind: 'sent' };
        if (errcode === ERR_NOT_SUBSCRIBED) return { kind: 'refused', errcode };
        if (TOKEN_ERRCODES.has(errcode) && attempt === 0) {
          // Someone else renewed it (or it expired early): fetch the current one, once.
          if (this.token?.value === token) this.token = undefined;
          continue;
        }
        return { kind: 'failed', reason: `errcode ${errcode}`, retryable: !PERMANENT_ERRCODES.has(errcode) };
      }
    } catch (err) {
      // An abort is a DOMException, not always an Error of this realm: go by its name.
      const name =
        typeof err === 'object' && err !== null && typeof (err as { name?: unknown }).name === 'string'
          ? (err as { name: string }).name
          : 'error';
      const reason =
        err instanceof TokenError ? err.message : name === 'AbortError' || name === 'TimeoutError' ? 'timeout' : name;
      return { kind: 'failed', reason, retryable: true };
    }
  }

  /** The cached token, or a fresh one (concurrent callers share one fetch). */
  private async accessToken(signal: AbortSignal): Promise<string> {
    if (this.token && this.now() < this.token.renewAtMs) return this.token.value;
    this.fetching ??= this.fetchToken(signal).finally(() => {
      this.fetching = undefined;
    });
    return this.fetching;
  }

  private async fetchToken(signal: AbortSignal): Promise<string> {
    const started = this.now();
    const res = await fetch(new URL('/cgi-bin/stable_token', this.cfg.apiBase), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credential', appid: this.cfg.appId, secret: this.cfg.secret }),
      signal,
    });
    if (!res.ok) throw new TokenError(`token http ${res.status}`);
    const body = (await res.json()) as { access_token?: unknown; expires_in?: unknown; errcode?: unknown };
    if (typeof body.access_token !== 'string' || body.access_token === '' || typeof body.expires_in !== 'number') {
      throw new TokenError(`token errcode ${String(body.errcode ?? 'none')}`);
    }
    this.token = {
      value: body.access_token,
      renewAtMs: started + Math.max(0, body.expires_in * 1000 - TOKEN_MARGIN_MS),
    };
    return body.access_token;
  }
}
