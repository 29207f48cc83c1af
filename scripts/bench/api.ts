/**
 * One call shape for the API, in-process (httpHandler with a given Deps, API Gateway v2 events —
 * mirrors test/helpers/app.ts, copied so the bench does not import from test/) or over HTTP.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Deps } from '../../functions/src/app/deps';
import { httpHandler, type Route } from '../../functions/src/http/wrapper';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  idem?: string;
  /** Extra request headers (e.g. x-device-id). */
  headers?: Record<string, string>;
}

export type Api = (method: 'GET' | 'POST', path: string, opts?: CallOptions) => Promise<ApiResponse>;

function headersOf(opts: CallOptions): Record<string, string> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.idem) headers['idempotency-key'] = opts.idem;
  return headers;
}

/** Calls `routes` in this process through the real wrapper (routing, auth, validation, errors). */
export function inProcessApi(routes: Route<any, any>[], d: Deps): Api {
  const handler = httpHandler(routes, () => d);
  return async (method, path, opts = {}) => {
    const event = {
      version: '2.0',
      routeKey: '$default',
      rawPath: path,
      rawQueryString: '',
      headers: { 'content-type': 'application/json', ...headersOf(opts) },
      requestContext: { http: { method, path }, requestId: randomBytes(8).toString('hex') },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    const r = await handler(event);
    return { status: r.statusCode ?? 200, body: r.body ? JSON.parse(r.body) : undefined };
  };
}

/** The same calls over HTTP (keep-alive) to `base`, e.g. http://127.0.0.1:3000. */
export function httpApi(base: string, maxSockets = 64): { api: Api; close(): void } {
  const url = new URL(base);
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const api: Api = (method, path, opts = {}) =>
    new Promise((resolve, reject) => {
      const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          method,
          path,
          agent,
          timeout: 30_000,
          headers: {
            ...headersOf(opts),
            ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = text;
            try {
              body = text ? JSON.parse(text) : undefined;
            } catch {
              /* not JSON: keep the text */
            }
            resolve({ status: res.statusCode ?? 0, body });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${path}`)));
      req.on('error', reject);
      req.end(payload);
    });
  return { api, close: () => agent.destroy() };
}

// ---------------------------------------------------------------------------------------------
// The few flows the bench needs (untimed set-up, and the claim itself).

export interface User {
  token: string;
  userId: string;
  name: string;
}

export const idemKey = () => randomBytes(9).toString('base64url');
export const uniq = (p: string) => `${p}${randomBytes(5).toString('hex')}`;

export async function login(api: Api, devUser = uniq('b')): Promise<User> {
  const r = await api('POST', '/v1/session', { body: { devUser, name: devUser } });
  if (r.status !== 200) throw new Error(`login failed ${r.status} ${JSON.stringify(r.body)}`);
  return { token: r.body.token, userId: r.body.userId, name: r.body.name };
}

export async function topup(api: Api, u: User, amount: number): Promise<void> {
  const r = await api('POST', '/v1/wallet/topups', { token: u.token, idem: idemKey(), body: { amount } });
  if (r.status !== 201) throw new Error(`topup failed ${r.status} ${JSON.stringify(r.body)}`);
}

export interface SentPacket {
  packetId: string;
  code: string;
  shareCode: string;
  total: number;
  count: number;
}

/** A personal-tier packet: lucky 20000 fen / 100 shares by default (the tier's maxima). */
export async function sendPacket(
  api: Api,
  u: User,
  total = 20_000,
  count = 100,
  mode: 'lucky' | 'equal' = 'lucky',
): Promise<SentPacket> {
  const r = await api('POST', '/v1/packets', { token: u.token, idem: idemKey(), body: { total, count, mode } });
  if (r.status !== 201) throw new Error(`send failed ${r.status} ${JSON.stringify(r.body)}`);
  return {
    packetId: r.body.packet.id ?? r.body.packet.packetId,
    code: r.body.code.code,
    shareCode: r.body.shareCode.code,
    total,
    count,
  };
}

/** A fresh sender with enough money for one packet. */
export async function newSenderWithPacket(api: Api, total = 20_000, count = 100): Promise<SentPacket> {
  const sender = await login(api);
  await topup(api, sender, total);
  return sendPacket(api, sender, total, count);
}

export interface ClaimSample {
  ms: number;
  status: number;
  amount: number;
  error?: string;
}

export async function claimOnce(api: Api, u: User, code: string, clock: () => number): Promise<ClaimSample> {
  const t0 = clock();
  try {
    const r = await api('POST', '/v1/claims', { token: u.token, body: { code } });
    const ms = clock() - t0;
    if (r.status === 200) return { ms, status: 200, amount: r.body.amount as number };
    return {
      ms,
      status: r.status,
      amount: 0,
      error: String(r.body?.error?.code ?? JSON.stringify(r.body)).slice(0, 120),
    };
  } catch (err) {
    return { ms: clock() - t0, status: 0, amount: 0, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Error codes of failed samples, counted. */
export function errorsOf(samples: ClaimSample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples)
    if (s.status !== 200) out[`${s.status} ${s.error ?? ''}`] = (out[`${s.status} ${s.error ?? ''}`] ?? 0) + 1;
  return out;
}
