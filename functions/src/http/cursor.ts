import * as z from 'zod/mini';
import { fail } from '../domain/errors';
import type { AuditCursor } from '../app/operations';
import { parseJsonCursor } from '../store/page-cursor';

/*
 * The cursors of the operations views, which are positions rather than store keys. The lists'
 * page cursors belong to the stores that page them (store/page-cursor.ts).
 */

export { encodeJsonCursor } from '../store/page-cursor';

/** A risk event's sort key as the store writes it: `<ISO time>#<event id>`. */
const EventSortKey = z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#[A-Za-z0-9_-]{1,80}$/));

/** A risk-events cursor: the store's sort key, opaque to clients; null on the last page. */
export function encodeEventCursor(next: string | undefined): string | null {
  return next ? Buffer.from(next).toString('base64url') : null;
}

/** The store sort key of a risk-events cursor; VALIDATION_FAILED if it is anything else. */
export function decodeEventCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  const r = EventSortKey.safeParse(Buffer.from(cursor, 'base64url').toString('utf8'));
  return r.success ? r.data : fail('VALIDATION_FAILED', 'invalid cursor');
}

const StreamPosition = z.optional(z.nullable(z.int().check(z.minimum(1), z.maximum(999_999_999_999))));
const AuditCursorShape = z.strictObject({ audit: StreamPosition, ledger: StreamPosition });

/** The audit trail's cursor: a position per stream (see app/operations.ts), opaque to clients. */
export function decodeAuditCursor(cursor: string | undefined): AuditCursor | undefined {
  return cursor ? parseJsonCursor(cursor, AuditCursorShape) : undefined;
}
