import { bindRoutes, httpHandler } from '../src/http/wrapper';
import { decodeAuditCursor, decodeEventCursor, encodeEventCursor, encodeJsonCursor } from '../src/http/cursor';
import {
  auditLog,
  blacklist,
  blacklistAdd,
  blacklistRemove,
  getAccount,
  riskEvents,
  riskReports,
  setTier,
} from '../src/app/operations';
import { opsView } from '../src/app/observability';

/**
 * GET /v1/audit · GET /v1/risk/events · GET /v1/risk/reports · GET /v1/admin/ops ·
 * GET /v1/admin/accounts/{userId} ·
 * POST /v1/admin/accounts/{userId}/tier · GET|POST /v1/admin/blacklist ·
 * DELETE /v1/admin/blacklist/{kind}/{id}
 */
export const routes = bindRoutes('operations', {
  // Another account's log needs the support role (checked by auditSubject: the subject is in the query).
  'GET /v1/audit': async ({ d, who, query }) => {
    const out = await auditLog(d, who, {
      userId: query.userId,
      from: query.from,
      to: query.to,
      limit: query.limit ?? 50,
      cursor: decodeAuditCursor(query.cursor),
    });
    const { cursor, ...rest } = out.body;
    return { status: 200, body: { ...rest, cursor: cursor ? encodeJsonCursor(cursor) : null } };
  },
  'GET /v1/risk/events': async ({ d, query }) => {
    const out = await riskEvents(d, {
      from: query.from,
      to: query.to,
      limit: query.limit ?? 100,
      after: decodeEventCursor(query.cursor),
    });
    const { next, ...rest } = out.body;
    return { status: 200, body: { ...rest, cursor: encodeEventCursor(next) } };
  },
  'GET /v1/risk/reports': ({ d, query }) => riskReports(d, { from: query.from, to: query.to }),
  'GET /v1/admin/blacklist': ({ d }) => blacklist(d),
  'POST /v1/admin/blacklist': ({ d, who, body }) => blacklistAdd(d, who, body.kind, body.id, body.reason),
  'DELETE /v1/admin/blacklist/{kind}/{id}': ({ d, who, params }) => blacklistRemove(d, who, params.kind, params.id),
  'GET /v1/admin/accounts/{userId}': ({ d, params }) => getAccount(d, params.userId),
  'POST /v1/admin/accounts/{userId}/tier': ({ d, who, params, body }) =>
    setTier(d, who, params.userId, body.tier, body.settings ?? {}),
  'GET /v1/admin/ops': async ({ d, query }) => ({ status: 200, body: await opsView(d, query.minutes ?? 30) }),
});

export const handler = httpHandler(routes);
