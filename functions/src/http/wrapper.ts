import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ZodMiniType } from 'zod/mini';

type ZodType<T> = ZodMiniType<T>;
import { DomainError, errorBody, fail } from '../domain/errors';
import type { Outcome, Principal } from '../app/context';
import { deps as defaultDeps, type Deps } from '../app/deps';
import { authenticate, isStaffAccess, requestDevice, withCurrentStaffRoles } from '../app/session';
import { IdempotencyKey } from './schemas';
import { bindCorrelationId, log, withLogContext } from '../log';
import { observeRequest } from '../app/observability';
import { isDeviceId } from '../domain/risk';
import { scopeAllows, type ApiScope } from '../domain/api-keys';
import { authenticateApiKey } from '../app/api-keys';

export { log };

export type Access = 'public' | 'user' | readonly string[];

export interface RouteContext<B, Q> {
  d: Deps;
  who: Principal;
  body: B;
  query: Q;
  params: Record<string, string>;
  idemKey: string | undefined;
  /**
   * The device for the risk rules: a session's own (the header, if sent, must match it), else
   * the `x-device-id` header (validated) — the login route and API keys.
   */
  deviceId: string | undefined;
  correlationId: string;
  /** Only on routes with `rawBody`: the body exactly as received (decoded if API Gateway base64-encoded it). */
  rawBody?: string;
  /** The request headers, names lower-cased (every route; `rawBody` routes read signature headers from them). */
  headers?: Record<string, string | undefined>;
}

export interface Route<B = unknown, Q = unknown> {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** API path with `{param}` segments, e.g. `/v1/packets/{id}`. */
  path: string;
  /** `public`: no caller needed; `user`: any signed-in caller; a list: one of these roles. */
  access: Access;
  /**
   * Whether an `x-api-key` may call this route, and the scope it needs (basic: enterprise and
   * provider keys; full: provider keys). Absent: sessions only.
   */
  apiKey?: ApiScope;
  body?: ZodType<B>;
  query?: ZodType<Q>;
  /**
   * The route reads the body itself, unparsed (a signature over the exact bytes, e.g. WeChat
   * Pay's notification): the wrapper passes `rawBody` and `headers` instead of a parsed `body`.
   */
  rawBody?: true;
  /** A larger body limit than the default 16 KB (an avatar upload: a base64 image). */
  maxBodyBytes?: number;
  run(ctx: RouteContext<B, Q>): Promise<Outcome>;
}

/** Declares a route with its body and query types inferred from the schemas. */
export function route<B = undefined, Q = undefined>(r: Route<B, Q>): Route<B, Q> {
  return r;
}

const MAX_BODY_BYTES = 16 * 1024;
const ANONYMOUS: Principal = { userId: '', name: '', tier: 'personal', roles: [] };

function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const a = pattern.split('/');
  const b = path.split('/');
  if (a.length !== b.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    const seg = a[i]!;
    const val = b[i]!;
    if (seg.startsWith('{') && seg.endsWith('}')) {
      if (!val) return undefined;
      try {
        params[seg.slice(1, -1)] = decodeURIComponent(val);
      } catch {
        return undefined;
      }
    } else if (seg !== val) return undefined;
  }
  return params;
}

function json(status: number, body: unknown, correlationId: string, extra: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'x-correlation-id': correlationId, 'cache-control': 'no-store', ...extra },
    body: JSON.stringify(body),
  };
}

function parse<T>(schema: ZodType<T> | undefined, value: unknown): T {
  if (!schema) return undefined as T;
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    fail('VALIDATION_FAILED', `invalid ${issue?.path.join('.') || 'request'}: ${issue?.message ?? 'bad input'}`);
  }
  return (r as { data: T }).data;
}

/**
 * The body as the client sent it. API Gateway (HTTP API, payload 2.0) base64-encodes bodies it
 * does not take for text (by content type), and says so in `isBase64Encoded`.
 */
function rawBodyOf(event: APIGatewayProxyEventV2, maxBytes = MAX_BODY_BYTES): string | undefined {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(raw) > maxBytes) fail('VALIDATION_FAILED', 'request body too large');
  return raw;
}

function readBody(event: APIGatewayProxyEventV2, maxBytes?: number): unknown {
  const raw = rawBodyOf(event, maxBytes);
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return fail('VALIDATION_FAILED', 'request body is not JSON');
  }
}

/**
 * Wraps a function's routes once with everything cross-cutting: routing, authentication and
 * roles, body/query validation (zod), the Idempotency-Key header, the one error map (domain
 * errors → their status and code; anything else → a generic 500 with a correlation id, logged),
 * and a request log line.
 */
export function httpHandler(routes: Route<any, any>[], getDeps: () => Deps = defaultDeps) {
  // Each request in its own log context, so every line it logs (however deep) carries its id.
  return withLogContext(async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const started = Date.now();
    const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const correlationId = /^[A-Za-z0-9-]{8,64}$/.test(headers['x-correlation-id'] ?? '') ? headers['x-correlation-id']! : randomUUID();
    bindCorrelationId(correlationId);
    const method = event.requestContext?.http?.method ?? 'GET';
    const path = event.rawPath ?? '/';
    let routeName = 'unmatched';
    let status = 500;
    let caller: string | undefined;
    let d: Deps | undefined;
    // The answer's body, for the metrics (a repeat claim answers 200 too, but is no claim).
    let answered: unknown;
    try {
      let params: Record<string, string> | undefined;
      const pathMatches = routes.filter((r) => (params = matchPath(r.path, path)) !== undefined);
      const r = pathMatches.find((x) => x.method === method);
      if (!r) fail(pathMatches.length ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND', pathMatches.length ? 'method not allowed' : 'no such route');
      const rt = r!;
      params = matchPath(rt.path, path)!;
      routeName = `${rt.method} ${rt.path}`;
      d = getDeps();
      let who = ANONYMOUS;
      if (rt.access !== 'public') {
        const rawApiKey = headers['x-api-key'];
        if (rawApiKey !== undefined && headers.authorization === undefined) {
          // API keys: the route must take them, at the key's scope (README: route × role).
          const keyed = await authenticateApiKey(d, rawApiKey);
          if (!rt.apiKey || !scopeAllows(keyed.scope, rt.apiKey)) fail('FORBIDDEN', '该 API Key 无权调用此接口');
          who = keyed;
        } else {
          // Staff roles are re-read from the account store (cached briefly), not taken from the token.
          who = await withCurrentStaffRoles(d, authenticate(d, headers.authorization), Array.isArray(rt.access) && isStaffAccess(rt.access));
        }
        caller = who.userId;
        if (Array.isArray(rt.access) && !rt.access.some((role) => who.roles.includes(role))) fail('FORBIDDEN', '没有权限');
      }
      const raw = rt.rawBody ? { rawBody: rawBodyOf(event, rt.maxBodyBytes) ?? '' } : {};
      const body = rt.rawBody ? (undefined as unknown) : parse(rt.body, readBody(event, rt.maxBodyBytes) ?? (rt.body ? {} : undefined));
      const query = parse(rt.query, event.queryStringParameters ?? {});
      const rawKey = headers['idempotency-key'];
      const idemKey = rawKey === undefined ? undefined : parse(IdempotencyKey, rawKey);
      const rawDevice = headers['x-device-id'];
      if (rawDevice !== undefined && !isDeviceId(rawDevice)) fail('VALIDATION_FAILED', 'invalid x-device-id');
      const deviceId = requestDevice(who, rawDevice);
      const out = await rt.run({ d, who, body, query, params, idemKey, deviceId, correlationId, headers, ...raw });
      status = out.status;
      answered = out.body;
      if (out.contentType && typeof out.body === 'string') {
        return { statusCode: out.status, headers: { 'content-type': out.contentType, 'x-correlation-id': correlationId, 'cache-control': 'no-store' }, body: out.body };
      }
      return json(out.status, out.body, correlationId);
    } catch (err) {
      if (err instanceof DomainError) {
        status = err.status;
        const extra: Record<string, string> = err.code === 'RATE_LIMITED' && err.details?.retryAfter ? { 'retry-after': String(err.details.retryAfter) } : {};
        return json(err.status, errorBody(err.code, err.message, { details: err.details }), correlationId, extra);
      }
      status = 500;
      // The error itself (redacted by log.ts) goes to the log, never to the caller.
      log('error', 'unhandled error', { correlationId, route: routeName, method, caller, error: err instanceof Error ? err : 'unknown' });
      return json(500, errorBody('INTERNAL', '服务暂时不可用，请稍后重试', { correlationId }), correlationId);
    } finally {
      // The route pattern, never the raw path (a path can hold a code): e.g. `GET /v1/codes/{code}`.
      const ms = Date.now() - started;
      log('info', 'request', { correlationId, route: routeName, status, ms, caller });
      // Metrics and live figures, published per request; never throws. Without deps (they failed
      // to build) the 5xx is still counted, only the figures wait for the next request.
      await observeRequest(d, routeName, status, ms, d ? d.now() : Date.now(), answered);
    }
  });
}

