import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Tier } from './money';
import { isDeviceId } from './risk';

export interface SessionClaims {
  sub: string;
  name: string;
  tier: Tier;
  roles: string[];
  /**
   * The device the session logged in from (`x-device-id` at login, or a device derived from the
   * account for a dev login without one). Money calls run the device rules on it; a request that
   * names another device is refused.
   */
  dvc: string;
  /** Unix seconds. */
  iat: number;
  exp: number;
}

/** `s2`: the signature covers the stage (and the claims carry the device); `s1` tokens are refused. */
const PREFIX = 's2';

/**
 * The MAC of a token: over the prefix, the stage and the payload. The stage is not in the
 * payload but in what is signed, so a token minted on one stage never verifies on another even
 * where the stages share SESSION_SECRET.
 */
function mac(secret: Buffer, stage: string, payload: string): Buffer {
  return createHmac('sha256', secret).update(`${PREFIX}.${stage}.${payload}`).digest();
}

/** A session token for `stage`: `s2.<payload base64url>.<HMAC-SHA256 base64url>`. Stateless, expiring. */
export function signSession(claims: SessionClaims, secret: Buffer, stage: string): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${PREFIX}.${payload}.${mac(secret, stage, payload).toString('base64url')}`;
}

/**
 * The claims of a valid, unexpired token signed for `stage`, bound to a device; undefined for
 * anything else. Never throws.
 */
export function verifySession(
  token: string,
  secret: Buffer,
  stage: string,
  nowSeconds: number,
): SessionClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) return undefined;
  const [, payload, sig] = parts as [string, string, string];
  const expected = mac(secret, stage, payload);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const c = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as SessionClaims;
    if (typeof c.sub !== 'string' || typeof c.exp !== 'number' || c.exp <= nowSeconds) return undefined;
    if (!isDeviceId(c.dvc)) return undefined;
    return c;
  } catch {
    return undefined;
  }
}
