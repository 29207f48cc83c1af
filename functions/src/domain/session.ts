import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Tier } from './money';

export interface SessionClaims {
  sub: string;
  name: string;
  tier: Tier;
  roles: string[];
  /** Unix seconds. */
  iat: number;
  exp: number;
}

const PREFIX = 's1';

/** A session token: `s1.<payload base64url>.<HMAC-SHA256 base64url>`. Stateless, expiring. */
export function signSession(claims: SessionClaims, secret: Buffer): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const sig = createHmac('sha256', secret).update(`${PREFIX}.${payload}`).digest('base64url');
  return `${PREFIX}.${payload}.${sig}`;
}

/** The claims of a valid, unexpired token; undefined for anything else. Never throws. */
export function verifySession(token: string, secret: Buffer, nowSeconds: number): SessionClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) return undefined;
  const [, payload, sig] = parts as [string, string, string];
  const expected = createHmac('sha256', secret).update(`${PREFIX}.${payload}`).digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const c = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as SessionClaims;
    if (typeof c.sub !== 'string' || typeof c.exp !== 'number' || c.exp <= nowSeconds) return undefined;
    return c;
  } catch {
    return undefined;
  }
}
