import * as z from 'zod/mini';
import { fail } from '../domain/errors';

/**
 * Page cursors of the store's lists. A cursor is the Query's LastEvaluatedKey as base64url JSON:
 * opaque to everything above the store, and the same bytes clients have always been given, so a
 * cursor handed out before a deploy still pages after it. Every adapter that pages encodes and
 * checks its cursors here and nowhere else.
 */

/** What a cursor may hold: key attributes of the table and its indexes, as short strings. */
const KeyShape = z.record(
  z.string().check(z.regex(/^(pk|sk|gsi1pk|gsi1sk|gsi2pk|gsi2sk)$/)),
  z.string().check(z.maxLength(300)),
);

/**
 * The list a cursor must belong to: key attribute → the value every key of that list has
 * (the partition of the table, or of the index, that the Query reads).
 */
export type CursorScope = Readonly<Record<string, string>>;

/** A value as an opaque cursor: base64url JSON. */
export function encodeJsonCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A base64url JSON cursor checked against `schema`; VALIDATION_FAILED if it is anything else. */
export function parseJsonCursor<T>(cursor: string, schema: z.ZodMiniType<T>): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    fail('VALIDATION_FAILED', 'invalid cursor');
  }
  const r = schema.safeParse(parsed);
  if (!r.success) fail('VALIDATION_FAILED', 'invalid cursor');
  return r.data;
}

/** The cursor of the next page: the Query's last key, absent on the last page. */
export function pageCursorOf(lastKey: Record<string, unknown> | undefined): string | undefined {
  return lastKey ? encodeJsonCursor(lastKey) : undefined;
}

/**
 * The start key of a cursor, checked to belong to `scope`, so a cursor can neither page another
 * account's (or packet's) list nor reach the table malformed; VALIDATION_FAILED 'invalid cursor'
 * for anything else. No cursor: from the start of the list.
 */
export function startKeyOf(cursor: string | undefined, scope: CursorScope): Record<string, string> | undefined {
  if (!cursor) return undefined;
  const key = parseJsonCursor(cursor, KeyShape);
  // Exactly the attributes of the list's key: the table's pk and sk, plus the index's own pair
  // for an index list. DynamoDB refuses any other start key with an error, which must be this
  // 400 and never reach the table.
  const index = Object.keys(scope)
    .find((a) => a.startsWith('gsi'))
    ?.replace(/pk$/, '');
  const attrs = index ? ['pk', 'sk', `${index}pk`, `${index}sk`] : ['pk', 'sk'];
  if (attrs.some((a) => !key[a]) || Object.keys(key).some((a) => !attrs.includes(a)))
    fail('VALIDATION_FAILED', 'invalid cursor');
  for (const [attr, value] of Object.entries(scope))
    if (key[attr] !== value) fail('VALIDATION_FAILED', 'invalid cursor');
  return key;
}
