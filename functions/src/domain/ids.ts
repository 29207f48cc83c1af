import { createHash, randomBytes } from 'node:crypto';

/**
 * Ids derived from the caller and the idempotency key: a retried request recomputes the same
 * packet, transfer or top-up id, so every conditional write it repeats lands on the same item.
 */
export function derivedId(prefix: string, ...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('base64url');
  return `${prefix}${h.slice(0, 15)}`;
}

/** A fresh random id (96 bits). */
export function randomId(prefix: string): string {
  return `${prefix}${randomBytes(12).toString('base64url')}`;
}

/** Stable JSON (sorted keys) hashed: "same body" means same value, whatever the key order. */
export function requestHash(method: string, route: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${route}\n${canonicalJson(body)}`)
    .digest('base64url');
}

export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}
