import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ZodMiniType } from 'zod/mini';

type ZodType<T> = ZodMiniType<T>;
import { DomainError, errorBody, fail, type ErrorCode } from '../domain/errors';
import type { Outcome, Principal } from '../app/context';
import { deps as defaultDeps, type Deps } from '../app/deps';
import { authenticate, isStaffAccess, requestDevice, withCurrentStaffRoles } from '../app/session';
import type { ErrorBody } from './contract';
import { IdempotencyKey } from './schemas';
import { isStoreUnavailable } from '../store/db';
import { bindCorrelationId, log, withLogContext } from '../log';
import { observeRequest } from '../app/observability';
import { isDeviceId } from '../domain/risk';
import { scopeAllows, type ApiScope } from '../domain/api-keys';
import { authenticateApiKey } from '../app/api-keys';
import {
  routesOf,
  splitKey,
  type Access,
  type FunctionName,
  type Method,
  type RouteKey,
  type RoutesTable,
} from './routes';

export { log };
export type { Access };

export interface RouteContext<B, Q, P = Record<string, string>> {
  d: Deps;
  who: Principal;
  body: B;
  query: Q;
  /** The path parameters: parsed by the route's `params` schema when it has one. */
  params: P;
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

/**
 * A route of any body, query and path types: what a function's list of routes holds once each
 * route's own types have been checked where it was bound.
 */
// biome-ignore lint/suspicious/noExplicitAny: an existential type — each element keeps its own B, Q and P.
export type AnyRoute = Route<any, any, any>;

export interface Route<B = unknown, Q = unknown, P = Record<string, string>> {
  method: Method;
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
  /** The path parameters' schema and the error a malformed one answers. */
  params?: { schema: ZodType<P>; invalid: { code: ErrorCode; message: string } };
  /**
   * The route reads the body itself, unparsed (a signature over the exact bytes, e.g. WeChat
   * Pay's notification): the wrapper passes `rawBody` and `headers` instead of a parsed `body`.
   */
  rawBody?: true;
  /** A larger body limit than the default 16 KB (an avatar upload: a base64 image). */
  maxBodyBytes?: number;
  run(ctx: RouteContext<B, Q, P>): Promise<Outcome>;
}

/** Declares a route with its body and query types inferred from the schemas. */
export function route<B = undefined, Q = undefined>(r: Route<B, Q>): Route<B, Q> {
  return r;
}

type SpecOf<K extends RouteKey> = RoutesTable[K];
/** The parsed body of a route of the table (undefined without a body schema). */
export type BodyOf<K extends RouteKey> = SpecOf<K> extends { body: ZodType<infer B> } ? B : undefined;
/** The parsed query of a route of the table (undefined without a query schema). */
export type QueryOf<K extends RouteKey> = SpecOf<K> extends { query: ZodType<infer Q> } ? Q : undefined;
/** The parsed path parameters of a route of the table (the raw strings without a schema). */
export type ParamsOf<K extends RouteKey> =
  SpecOf<K> extends { params: { schema: ZodType<infer P> } } ? P : Record<string, string>;
/** The 2xx body a route of the table answers (its contract type; the text itself where it is not JSON). */
export type ResponseOf<K extends RouteKey> = SpecOf<K>['response'];
/** The content type an answer of media `M` (the route table's `media`) carries, parameters allowed. */
type ContentTypeOf<M extends string> = M extends `${infer T}/*` ? `${T}/${string}` : `${M}${string}`;
/** What a route's use case answers: an answer that is not JSON says its content type, of the route's media. */
export type OutcomeOf<K extends RouteKey> = Outcome<ResponseOf<K> | ErrorBody> &
  (SpecOf<K> extends { media: infer M extends string } ? { contentType: ContentTypeOf<M> } : unknown);
/** The routes of a function that go through this wrapper (not the standalone ones). */
export type WrappedRouteOf<F extends FunctionName> = {
  [K in RouteKey]: SpecOf<K> extends { fn: F } ? (SpecOf<K> extends { standalone: true } ? never : K) : never;
}[RouteKey];
/** A use case bound to a route of the table. Its body is the route's contract type, or (an idempotent replay of a refusal) an error body. */
export type Runner<K extends RouteKey> = (
  ctx: RouteContext<BodyOf<K>, QueryOf<K>, ParamsOf<K>>,
) => Promise<OutcomeOf<K>>;

/**
 * A function's routes: each entry of the route table served by `fn`, bound to its use case.
 * Method, path, access, API-key scope, body and query schemas come from the table; the compiler
 * requires a runner for every wrapped route of `fn` and for nothing else.
 */
export function bindRoutes<F extends FunctionName>(
  fn: F,
  runners: { [K in WrappedRouteOf<F>]: Runner<K> },
): AnyRoute[] {
  const bound = runners as Record<string, Runner<RouteKey> | undefined>;
  return routesOf(fn)
    .filter(([, spec]) => !spec.standalone)
    .map(([key, spec]) => {
      const run = bound[key];
      if (!run) throw new Error(`route ${key} of ${fn} has no use case`);
      const r: AnyRoute = { ...splitKey(key), access: spec.access, run: run as AnyRoute['run'] };
      if (spec.apiKey) r.apiKey = spec.apiKey;
      if (spec.body) r.body = spec.body as ZodType<unknown>;
      if (spec.query) r.query = spec.query as ZodType<unknown>;
      if (spec.params) r.params = spec.params as AnyRoute['params'];
      if (spec.rawBody) r.rawBody = true;
      if (spec.maxBodyBytes) r.maxBodyBytes = spec.maxBodyBytes;
      return r;
    });
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

function json(
  status: number,
  body: unknown,
  correlationId: string,
  extra: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'x-correlation-id': correlationId,
      'cache-control': 'no-store',
      ...extra,
    },
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
  return r.data;
}

/** Path parameters by the route's schema; a malformed one answers the route's own error. */
function parseParams<P>(
  spec: { schema: ZodType<P>; invalid: { code: ErrorCode; message: string } },
  raw: Record<string, string>,
): P {
  const r = spec.schema.safeParse(raw);
  return r.success ? r.data : fail(spec.invalid.code, spec.invalid.message);
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
export function httpHandler(routes: AnyRoute[], getDeps: () => Deps = defaultDeps) {
  // Each request in its own log context, so every line it logs (however deep) carries its id.
  return withLogContext(async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const started = Date.now();
    const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const correlationId = /^[A-Za-z0-9-]{8,64}$/.test(headers['x-correlation-id'] ?? '')
      ? headers['x-correlation-id']!
      : randomUUID();
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
      if (!r)
        fail(
          pathMatches.length ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND',
          pathMatches.length ? 'method not allowed' : 'no such route',
        );
      const rt = r;
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
          who = await withCurrentStaffRoles(
            d,
            authenticate(d, headers.authorization),
            Array.isArray(rt.access) && isStaffAccess(rt.access),
          );
        }
        caller = who.userId;
        if (Array.isArray(rt.access) && !rt.access.some((role) => who.roles.includes(role)))
          fail('FORBIDDEN', '没有权限');
      }
      const raw = rt.rawBody ? { rawBody: rawBodyOf(event, rt.maxBodyBytes) ?? '' } : {};
      const body = rt.rawBody
        ? (undefined as unknown)
        : parse(rt.body, readBody(event, rt.maxBodyBytes) ?? (rt.body ? {} : undefined));
      const query = parse(rt.query, event.queryStringParameters ?? {});
      const rawKey = headers['idempotency-key'];
      const idemKey = rawKey === undefined ? undefined : parse(IdempotencyKey, rawKey);
      const rawDevice = headers['x-device-id'];
      if (rawDevice !== undefined && !isDeviceId(rawDevice)) fail('VALIDATION_FAILED', 'invalid x-device-id');
      const deviceId = requestDevice(who, rawDevice);
      const pathParams = rt.params ? parseParams(rt.params, params) : params;
      const out = await rt.run({
        d,
        who,
        body,
        query,
        params: pathParams,
        idemKey,
        deviceId,
        correlationId,
        headers,
        ...raw,
      });
      status = out.status;
      answered = out.body;
      if (out.contentType && typeof out.body === 'string') {
        return {
          statusCode: out.status,
          headers: { 'content-type': out.contentType, 'x-correlation-id': correlationId, 'cache-control': 'no-store' },
          body: out.body,
        };
      }
      return json(out.status, out.body, correlationId);
    } catch (err) {
      if (err instanceof DomainError) {
        status = err.status;
        const extra: Record<string, string> =
          err.code === 'RATE_LIMITED' && err.details?.retryAfter
            ? { 'retry-after': String(err.details.retryAfter) }
            : {};
        return json(err.status, errorBody(err.code, err.message, { details: err.details }), correlationId, extra);
      }
      if (isStoreUnavailable(err)) {
        // The table could not answer (throttled, unreachable, an unknown write outcome): the
        // request is retry-safe, so the caller is told to come back, not that we failed.
        status = 503;
        log('warn', 'store unavailable', {
          correlationId,
          route: routeName,
          method,
          caller,
          error: err instanceof Error ? err : 'unknown',
        });
        return json(503, errorBody('UNAVAILABLE', '服务繁忙，请稍后重试', { correlationId }), correlationId, {
          'retry-after': '1',
        });
      }
      status = 500;
      // The error itself (redacted by log.ts) goes to the log, never to the caller.
      log('error', 'unhandled error', {
        correlationId,
        route: routeName,
        method,
        caller,
        error: err instanceof Error ? err : 'unknown',
      });
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
