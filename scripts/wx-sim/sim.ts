/**
 * A local stand-in for the chat app's open API (api.weixin.qq.com), the parts the server calls:
 *   - `POST /cgi-bin/stable_token` {grant_type: client_credential, appid, secret,
 *     force_refresh?} → {access_token, expires_in}: one token per app, the same while it is
 *     valid (normal mode), a new one on force_refresh or after expiry; a wrong appid → 40013,
 *     a wrong secret → 40125;
 *   - `POST /cgi-bin/message/subscribe/send?access_token=…` → {errcode, errmsg}: the token
 *     (unknown → 40001, expired → 42001), the openid (40003), the template id (40037), the data
 *     (exactly the template's keywords, each {value} within its kind's limits, else 47003), the
 *     page (41030) and miniprogram_state are checked like WeChat does; an accepted message is
 *     recorded;
 *   - `GET /sns/jscode2session?appid&secret&js_code&grant_type=authorization_code` →
 *     {openid, session_key}: a login code is good once; an unknown or used one → 40029. The
 *     openid is stable per user and app; the session key is 16 random bytes (base64), stable
 *     per user for the simulator's life.
 * Test hooks (local only, no auth): `POST /sim/login {user}` → {code} (a fresh one-time login
 * code of that user, what wx.login would give the app), `GET /sim/messages` (what was sent),
 * `GET /sim/state` (counts), `POST /sim/faults {"subscribe": "fail"|"timeout"|"refuse",
 * "times"?}` — the next sends answer errcode -1 (system busy), never answer, or answer 43101
 * (the user has no subscription) —, `POST /sim/expire-token` (the current token stops working:
 * the next send gets 42001), `POST /sim/reset` (messages and faults cleared).
 * Simpler than WeChat (so nobody relies on it): every user has consented to every template
 * unless a `refuse` fault says otherwise (consent is the app's business: requestSubscribeMessage).
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WxSimOptions {
  appId: string;
  secret: string;
  /** Template id → its keyword ids in order (`thing1`, `amount2`, …). */
  templates: Record<string, readonly string[]>;
  /** 0 = any free port. */
  port?: number;
  host?: string;
  /** Lifetime of an access token (default 7,200 s). */
  tokenTtlSeconds?: number;
  /** The simulator's clock (ms). */
  now?: () => number;
  log?: (line: string) => void;
}

export interface SimMessage {
  touser: string;
  template_id: string;
  page?: string;
  data: Record<string, { value: string }>;
  miniprogram_state?: string;
  lang?: string;
  at: string;
}

export const SubscribeFaults = ['fail', 'timeout', 'refuse'] as const;
export type SubscribeFault = (typeof SubscribeFaults)[number];

export interface WxSim {
  baseUrl: string;
  /** Messages accepted so far, oldest first. */
  messages: SimMessage[];
  /** Send calls answered (any errcode), token fetches made. */
  stats: { sends: number; tokens: number; refused: number; failed: number; hung: number };
  /** A fresh one-time login code of `user`. */
  loginCode(user: string): string;
  /** The openid `user` has in this app. */
  openidOf(user: string): string;
  fault(kind: SubscribeFault, times?: number): void;
  expireToken(): void;
  reset(): void;
  close(): Promise<void>;
}

/** Keyword kinds and their rules (WeChat's 订阅消息参数值内容限制). */
function valueInvalid(key: string, value: unknown): boolean {
  if (typeof value !== 'string' || value.length === 0) return true;
  const kind = /^([a-z_]+?)\d+$/.exec(key)?.[1];
  const chars = [...value];
  switch (kind) {
    case 'thing':
      return chars.length > 20 || chars.some((c) => c.codePointAt(0)! > 0xffff);
    case 'amount': {
      const m = /^[¥￥$]?(\d+)(?:\.(\d+))?元?$/.exec(value);
      return !m || m[1]!.length + (m[2]?.length ?? 0) > 10;
    }
    case 'time':
      return !/^(?:\d{4}年\d{1,2}月\d{1,2}日 )?\d{1,2}:\d{2}(?::\d{2})?$/.test(value);
    case 'character_string':
      return chars.length > 32 || !/^[\x21-\x7e]+$/.test(value);
    case 'phrase':
      return chars.length > 5 || !/^\p{Script=Han}+$/u.test(value);
    case 'number':
      return !/^\d{1,32}(\.\d+)?$/.test(value);
    default:
      return chars.length > 20;
  }
}

export async function startWxSim(opts: WxSimOptions): Promise<WxSim> {
  const now = opts.now ?? (() => Date.now());
  const ttlMs = (opts.tokenTtlSeconds ?? 7200) * 1000;
  const say = opts.log ?? (() => undefined);
  let token: { value: string; expiresAtMs: number } | undefined;
  const retired = new Set<string>();
  const codes = new Map<string, string>(); // code → user (deleted when used)
  const sessionKeys = new Map<string, string>(); // user → session_key
  const faults: Array<SubscribeFault> = [];
  const hanging = new Set<http.ServerResponse>();
  const sim: WxSim = {
    baseUrl: '',
    messages: [],
    stats: { sends: 0, tokens: 0, refused: 0, failed: 0, hung: 0 },
    loginCode(user) {
      const code = randomBytes(16).toString('base64url');
      codes.set(code, user);
      return code;
    },
    openidOf(user) {
      return `o${createHash('sha256').update(`${opts.appId}:${user}`).digest('base64url').slice(0, 27)}`;
    },
    fault(kind, times = 1) {
      for (let i = 0; i < times; i++) faults.push(kind);
    },
    expireToken() {
      if (token) token.expiresAtMs = now() - 1;
    },
    reset() {
      sim.messages.length = 0;
      faults.length = 0;
    },
    async close() {
      for (const r of hanging) r.destroy();
      hanging.clear();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };

  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res
      .writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'access-control-allow-origin': '*' })
      .end(text);
  };
  const err = (res: http.ServerResponse, errcode: number, errmsg: string) => json(res, 200, { errcode, errmsg });

  const stableToken = (body: Record<string, unknown>, res: http.ServerResponse) => {
    if (body.grant_type !== 'client_credential') return err(res, 40002, 'invalid grant_type');
    if (body.appid !== opts.appId) return err(res, 40013, 'invalid appid');
    if (body.secret !== opts.secret) return err(res, 40125, 'invalid appsecret');
    sim.stats.tokens++;
    if (!token || now() >= token.expiresAtMs || body.force_refresh === true) {
      if (token) retired.add(token.value);
      token = { value: randomBytes(48).toString('base64url'), expiresAtMs: now() + ttlMs };
    }
    return json(res, 200, {
      access_token: token.value,
      expires_in: Math.max(1, Math.floor((token.expiresAtMs - now()) / 1000)),
    });
  };

  const send = (accessToken: string | null, body: Record<string, unknown>, res: http.ServerResponse) => {
    if (!accessToken || (token?.value !== accessToken && !retired.has(accessToken)))
      return err(res, 40001, 'invalid credential, access_token is invalid or not latest');
    if (retired.has(accessToken) || !token || now() >= token.expiresAtMs)
      return err(res, 42001, 'access_token expired');
    const fault = faults.shift();
    if (fault === 'timeout') {
      sim.stats.hung++;
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return; // never answers
    }
    if (fault === 'fail') {
      sim.stats.failed++;
      return err(res, -1, 'system error');
    }
    sim.stats.sends++;
    if (typeof body.touser !== 'string' || !/^o[A-Za-z0-9_-]{20,40}$/.test(body.touser))
      return err(res, 40003, 'invalid openid');
    const keys = typeof body.template_id === 'string' ? opts.templates[body.template_id] : undefined;
    if (!keys) return err(res, 40037, 'invalid template_id');
    if (fault === 'refuse') {
      sim.stats.refused++;
      return err(res, 43101, 'user refuse to accept the msg');
    }
    const data = body.data as Record<string, unknown> | undefined;
    if (!data || typeof data !== 'object' || Array.isArray(data))
      return err(res, 47003, 'argument invalid! data invalid');
    const given = Object.keys(data);
    for (const k of keys) {
      const v = data[k] as { value?: unknown } | undefined;
      if (!v || typeof v !== 'object' || valueInvalid(k, v.value))
        return err(res, 47003, `argument invalid! data.${k}.value invalid`);
    }
    const extra = given.find((k) => !keys.includes(k));
    if (extra) return err(res, 47003, `argument invalid! data.${extra} not in template`);
    if (body.page !== undefined && (typeof body.page !== 'string' || !/^pages\/[\w-]+\/index(\?.*)?$/.test(body.page)))
      return err(res, 41030, 'invalid page');
    if (
      body.miniprogram_state !== undefined &&
      !['formal', 'trial', 'developer'].includes(String(body.miniprogram_state))
    )
      return err(res, 47001, 'data format error (miniprogram_state)');
    const msg: SimMessage = {
      touser: body.touser,
      template_id: body.template_id as string,
      ...(typeof body.page === 'string' ? { page: body.page } : {}),
      data: data as SimMessage['data'],
      ...(typeof body.miniprogram_state === 'string' ? { miniprogram_state: body.miniprogram_state } : {}),
      ...(typeof body.lang === 'string' ? { lang: body.lang } : {}),
      at: new Date(now()).toISOString(),
    };
    sim.messages.push(msg);
    say(`message ${msg.template_id} → ${msg.touser.slice(0, 4)}…`);
    return err(res, 0, 'ok');
  };

  const code2session = (q: URLSearchParams, res: http.ServerResponse) => {
    if (q.get('appid') !== opts.appId) return err(res, 40013, 'invalid appid');
    if (q.get('secret') !== opts.secret) return err(res, 40125, 'invalid appsecret');
    if (q.get('grant_type') !== 'authorization_code') return err(res, 40002, 'invalid grant_type');
    const code = q.get('js_code') ?? '';
    const user = codes.get(code);
    if (user === undefined) return err(res, 40029, 'invalid code');
    codes.delete(code);
    let sessionKey = sessionKeys.get(user);
    if (!sessionKey) {
      sessionKey = randomBytes(16).toString('base64');
      sessionKeys.set(user, sessionKey);
    }
    return json(res, 200, { openid: sim.openidOf(user), session_key: sessionKey });
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 64 * 1024) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      let body: Record<string, unknown> = {};
      if (chunks.length > 0) {
        try {
          const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
        } catch {
          return err(res, 47001, 'data format error');
        }
      }
      const route = `${req.method} ${url.pathname}`;
      if (req.method === 'OPTIONS') {
        res
          .writeHead(204, {
            'access-control-allow-origin': '*',
            'access-control-allow-methods': 'GET, POST',
            'access-control-allow-headers': 'content-type',
          })
          .end();
        return;
      }
      switch (route) {
        case 'POST /cgi-bin/stable_token':
          return stableToken(body, res);
        case 'POST /cgi-bin/message/subscribe/send':
          return send(url.searchParams.get('access_token'), body, res);
        case 'GET /sns/jscode2session':
          return code2session(url.searchParams, res);
        case 'POST /sim/login':
          if (typeof body.user !== 'string' || body.user === '') return json(res, 400, { error: 'user required' });
          return json(res, 200, { code: sim.loginCode(body.user), openid: sim.openidOf(body.user) });
        case 'GET /sim/messages':
          return json(res, 200, { messages: sim.messages });
        case 'GET /sim/state':
          return json(res, 200, {
            ...sim.stats,
            messages: sim.messages.length,
            faults: faults.length,
            templates: Object.keys(opts.templates).length,
          });
        case 'POST /sim/faults': {
          const kind = SubscribeFaults.find((f) => f === body.subscribe);
          const times = body.times === undefined ? 1 : Number(body.times);
          if (!kind || !Number.isInteger(times) || times < 1 || times > 1000)
            return json(res, 400, { error: `subscribe must be one of ${SubscribeFaults.join(', ')}; times 1..1000` });
          sim.fault(kind, times);
          return json(res, 200, { queued: faults.length });
        }
        case 'POST /sim/expire-token':
          sim.expireToken();
          return json(res, 200, {});
        case 'POST /sim/reset':
          sim.reset();
          return json(res, 200, {});
        default:
          return json(res, 404, { errcode: 404, errmsg: 'not found' });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  sim.baseUrl = `http://${opts.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;
  return sim;
}
