import * as z from 'zod/mini';
import { fail } from '../domain/errors';

const KeyShape = z.record(z.string().check(z.regex(/^(pk|sk|gsi1pk|gsi1sk|gsi2pk|gsi2sk)$/)), z.string().check(z.maxLength(300)));

/** A page cursor: the store's last key, opaque to clients. */
export function encodeCursor(lastKey: Record<string, unknown> | undefined): string | null {
  return lastKey ? Buffer.from(JSON.stringify(lastKey)).toString('base64url') : null;
}

/**
 * The store key of a cursor, checked to belong to the caller's own list (`expect`: attribute →
 * required value), so a cursor can neither page another account's data nor reach the store
 * malformed.
 */
export function decodeCursor(cursor: string | undefined, expect: Record<string, string>): Record<string, string> | undefined {
  if (!cursor) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    fail('VALIDATION_FAILED', 'invalid cursor');
  }
  const key = KeyShape.safeParse(parsed);
  if (!key.success || !key.data.pk || !key.data.sk) fail('VALIDATION_FAILED', 'invalid cursor');
  for (const [attr, value] of Object.entries(expect)) if (key.data![attr] !== value) fail('VALIDATION_FAILED', 'invalid cursor');
  return key.data;
}
