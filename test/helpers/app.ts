import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { ShareLayout } from '../../functions/src/domain/share-counters';
import { loadConfig } from '../../functions/src/config';
import { buildDeps, type Deps } from '../../functions/src/app/deps';
import { DynamoDb, type Db, type ReadInfo, type WriteInfo } from '../../functions/src/store/db';
import { httpHandler } from '../../functions/src/http/wrapper';
import { routes as sessionRoutes } from '../../functions/handlers/session';
import { routes as walletRoutes } from '../../functions/handlers/wallet';
import { routes as packetRoutes } from '../../functions/handlers/packets';
import { routes as codeRoutes } from '../../functions/handlers/codes';
import { routes as claimRoutes } from '../../functions/handlers/claims';
import { routes as transferRoutes } from '../../functions/handlers/transfers';
import { routes as sweepRoutes } from '../../functions/handlers/sweep';
import { routes as operationsRoutes } from '../../functions/handlers/operations';
import { routes as campaignRoutes } from '../../functions/handlers/campaigns';
import { routes as withdrawalRoutes } from '../../functions/handlers/withdrawals';
import { routes as paymentRoutes } from '../../functions/handlers/payments';
import { routes as profileRoutes } from '../../functions/handlers/profiles';
import { S3AvatarStore } from '../../functions/src/store/avatars';

process.env.LOG_REQUESTS = '0';
process.env.LOG_ERRORS = process.env.LOG_ERRORS ?? '0';

export const allRoutes = [
  ...sessionRoutes,
  ...walletRoutes,
  ...packetRoutes,
  ...codeRoutes,
  ...claimRoutes,
  ...transferRoutes,
  ...sweepRoutes,
  ...operationsRoutes,
  ...campaignRoutes,
  ...withdrawalRoutes,
  ...paymentRoutes,
  ...profileRoutes,
];

/**
 * Gives `d` (in place: tests change their deps later) the avatar store — the S3 adapter against
 * the stand-in global-setup starts — as the profiles function adds it: buildDeps never carries
 * the S3 client.
 */
export function withAvatars<D extends Deps>(d: D): D {
  if (!d.avatars && d.cfg.avatars) d.avatars = new S3AvatarStore(d.cfg.avatars);
  return d;
}

/** A clock tests can move. */
export class Clock {
  constructor(public t = Date.now()) {}
  now = () => this.t;
  advance(ms: number) {
    this.t += ms;
  }
}

export function baseDb(
  hooks: {
    beforeWrite?: (i: WriteInfo) => void;
    afterWrite?: (i: WriteInfo) => void;
    afterRead?: (i: ReadInfo) => void;
    returnCapacity?: boolean;
  } = {},
): DynamoDb {
  const cfg = loadConfig();
  return new DynamoDb({ tableName: cfg.tableName, region: cfg.region, endpoint: cfg.dynamoEndpoint, ...hooks });
}

/**
 * The use cases' deps plus the table door itself: tests read and forge items under the stores
 * through `db` (the use cases have no door of their own, only their stores).
 */
export type TestDeps = Deps & { db: Db };

/**
 * The app's dependencies on the test table. `layout`: how new packets record their takers
 * (default: the configured one, `recorded`); `slots` for tests of packets stored before it.
 */
export function testDeps(opts: { db?: Db; clock?: Clock; layout?: ShareLayout } = {}): TestDeps {
  const cfg = { ...loadConfig(), ...(opts.layout ? { shareLayout: opts.layout } : {}) };
  const db = opts.db ?? baseDb();
  return { ...buildDeps(cfg, db, opts.clock ? { now: opts.clock.now } : {}), db };
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Record<string, string>;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  idem?: string;
}

export type Api = (
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  opts?: CallOptions,
) => Promise<ApiResponse>;

/** Calls the real handlers in-process with API Gateway v2 events. */
export function makeApi(d: Deps): Api {
  const handler = httpHandler(allRoutes, () => withAvatars(d));
  return async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.idem) headers['idempotency-key'] = opts.idem;
    const event = {
      version: '2.0',
      routeKey: '$default',
      rawPath: path,
      rawQueryString: new URLSearchParams(opts.query ?? {}).toString(),
      headers,
      queryStringParameters: opts.query,
      requestContext: { http: { method, path }, requestId: randomBytes(8).toString('hex') },
      body: opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    const r = await handler(event);
    const out = (r.headers ?? {}) as Record<string, string>;
    const isJson = (out['content-type'] ?? 'application/json').startsWith('application/json');
    return {
      status: r.statusCode ?? 200,
      body: r.body ? (isJson ? JSON.parse(r.body) : r.body) : undefined,
      headers: out,
    };
  };
}

export const uniq = (p = 'u') => `${p}${randomBytes(5).toString('hex')}`;
export const idem = () => randomBytes(9).toString('base64url');

export interface TestUser {
  token: string;
  userId: string;
  name: string;
}

/** A dev login; `device`: the x-device-id it logs in from (the session is bound to it). */
export async function login(
  api: Api,
  opts: { name?: string; tier?: string; roles?: string[]; device?: string } = {},
): Promise<TestUser> {
  const devUser = uniq();
  const r = await api('POST', '/v1/session', {
    body: {
      devUser,
      name: opts.name ?? devUser,
      ...(opts.tier ? { tier: opts.tier } : {}),
      ...(opts.roles ? { roles: opts.roles } : {}),
    },
    ...(opts.device ? { headers: { 'x-device-id': opts.device } } : {}),
  });
  if (r.status !== 200) throw new Error(`login failed ${r.status} ${JSON.stringify(r.body)}`);
  return { token: r.body.token, userId: r.body.userId, name: r.body.name };
}

export async function topup(api: Api, u: TestUser, amount: number): Promise<void> {
  const r = await api('POST', '/v1/wallet/topups', { token: u.token, idem: idem(), body: { amount } });
  if (r.status !== 201) throw new Error(`topup failed ${r.status} ${JSON.stringify(r.body)}`);
}

export async function balance(api: Api, u: TestUser): Promise<number> {
  const r = await api('GET', '/v1/wallet', { token: u.token });
  return r.body.balance;
}

export async function sendPacket(api: Api, u: TestUser, body: Record<string, unknown>) {
  const r = await api('POST', '/v1/packets', { token: u.token, idem: idem(), body });
  if (r.status !== 201) throw new Error(`send failed ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as { packet: any; code: any; shareCode: any; fee: number };
}

/** Runs f(0..n-1), `size` at a time (bounded concurrency for many accounts or claims). */
export async function inBatches<T>(n: number, size: number, f: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += size)
    out.push(...(await Promise.all(Array.from({ length: Math.min(size, n - i) }, (_, j) => f(i + j)))));
  return out;
}
