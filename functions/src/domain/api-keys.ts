/**
 * API keys for enterprise and provider integrations (docs/rules.md, API keys): the format, the
 * stored hash, constant-time verification and the scope a tier gets. Pure.
 *
 * Format: `hk_<keyId>_<secret>` — keyId `k` + 16 base64url characters (what we look the key up
 * by, and show), secret 32 random bytes base64url (shown once, only its SHA-256 is stored: a
 * 256-bit random secret needs no slow hash — nothing to brute-force).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Tier } from './money';

/** What a key may do: basic = create campaigns and packets, read, statistics; full = every call. */
export const ApiScopes = { basic: 'basic', full: 'full' } as const;
export type ApiScope = (typeof ApiScopes)[keyof typeof ApiScopes];

/** The scope a tier's keys get (personal accounts get no keys). */
export function scopeForTier(tier: Tier): ApiScope | undefined {
  return tier === 'provider' ? 'full' : tier === 'enterprise' ? 'basic' : undefined;
}

/** Whether a key of scope `have` may call a route that needs `need`. */
export function scopeAllows(have: ApiScope, need: ApiScope): boolean {
  return have === 'full' || need === 'basic';
}

const KEY_RE = /^hk_(k[A-Za-z0-9_-]{16})_([A-Za-z0-9_-]{43})$/;

/** A new key: its id, the full key to show once, and the hash to store. */
export function newApiKey(): { keyId: string; apiKey: string; hash: string } {
  const keyId = `k${randomBytes(12).toString('base64url')}`;
  const secret = randomBytes(32).toString('base64url');
  return { keyId, apiKey: `hk_${keyId}_${secret}`, hash: hashSecret(secret) };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** The key id and secret of a presented key, or undefined when it is not one of ours. */
export function parseApiKey(raw: string | undefined): { keyId: string; secret: string } | undefined {
  const m = KEY_RE.exec(raw ?? '');
  return m ? { keyId: m[1]!, secret: m[2]! } : undefined;
}

/** Constant-time comparison of a presented secret with the stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
