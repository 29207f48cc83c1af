import { bindRoutes, httpHandler } from '../src/http/wrapper';
import * as z from 'zod/mini';
import { encodeJsonCursor, parseCursor } from '../src/http/cursor';
import { fail } from '../src/domain/errors';
import {
  auditLog,
  type AuditCursor,
  blacklist,
  blacklistAdd,
  blacklistRemove,
  getAccount,
  riskEvents,
  riskReports,
  setTier,
} from '../src/app/operations';
import { opsView } from '../src/app/observability';

/** A risk-events cursor: the store's sort key (`<ISO time>#<event id>`), opaque to clients. */
function encodeEventCursor(next: string | undefined): string | null {
  return next ? Buffer.from(next).toString('base64url') : null;
}
function decodeEventCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  const sk = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#[A-Za-z0-9_-]{1,80}$/.test(sk)) fail('VALIDATION_FAILED', 'invalid cursor');
  return sk;
}

const StreamPosition = z.optional(z.nullable(z.int().check(z.minimum(1), z.maximum(999_999_999_999))));
const AuditCursorShape = z.strictObject({ audit: StreamPosition, ledger: StreamPosition });

/** The audit trail cursor: per-stream positions (see app/operations.ts), opaque to clients. */
function decodeAuditCursor(cursor: string | undefined): AuditCursor | undefined {
  return cursor ? (parseCursor(cursor, AuditCursorShape) as AuditCursor) : undefined;
}

/**
 * GET /v1/audit · GET /v1/risk/events · GET /v1/risk/reports · GET /v1/admin/ops ·
 * GET /v1/admin/accounts/{userId} ·
 * POST /v1/admin/accounts/{userId}/tier · GET|POST /v1/admin/blacklist ·
 * DELETE /v1/admin/blacklist/{kind}/{id}
 */
export const routes = bindRoutes('operations', {
  // Another account's log needs the support role (checked by auditSubject: the subject is in the query).
  'GET /v1/audit': async ({ d, who, query }) => {
    const out = await auditLog(d, who, { userId: query.userId, from: query.from, to: query.to, limit: query.limit ?? 50, cursor: decodeAuditCursor(query.cursor) });
    const { cursor, ...rest } = out.body as { cursor: AuditCursor | null };
    return { status: 200, body: { ...rest, cursor: cursor ? encodeJsonCursor(cursor) : null } };
  },
  'GET /v1/risk/events': async ({ d, query }) => {
    const out = await riskEvents(d, { from: query.from, to: query.to, limit: query.limit ?? 100, after: decodeEventCursor(query.cursor) });
    const { next, ...rest } = out.body as { next?: string };
    return { status: 200, body: { ...rest, cursor: encodeEventCursor(next) } };
  },
  'GET /v1/risk/reports': ({ d, query }) => riskReports(d, { from: query.from, to: query.to }),
  'GET /v1/admin/blacklist': ({ d }) => blacklist(d),
  'POST /v1/admin/blacklist': ({ d, who, body }) => blacklistAdd(d, who, body.kind, body.id, body.reason),
  'DELETE /v1/admin/blacklist/{kind}/{id}': ({ d, who, params }) => blacklistRemove(d, who, params.kind, params.id),
  'GET /v1/admin/accounts/{userId}': ({ d, params }) => getAccount(d, params.userId),
  'POST /v1/admin/accounts/{userId}/tier': ({ d, who, params, body }) => setTier(d, who, params.userId, body.tier, body.settings ?? {}),
  'GET /v1/admin/ops': async ({ d, query }) => ({ status: 200, body: await opsView(d, query.minutes ?? 30) }),
});

export const handler = httpHandler(routes);
