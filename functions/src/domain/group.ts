import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Group-only packets (仅限本群): WeChat's encrypted group data, the session key it is decrypted
 * with (kept at rest under our own key), and the group a packet is bound to. Pure: node:crypto
 * only, no store, no clock of its own (callers pass `nowMs`).
 *
 * WeChat's format (开放数据校验与解密, as `wx.getGroupEnterInfo` / `wx.getShareInfo` return it):
 * `encryptedData` and `iv` are base64; the plaintext is AES-128-CBC with PKCS#7 padding under
 * key = base64-decode(session_key) (16 bytes) and iv = base64-decode(iv) (16 bytes); it is JSON
 * with the group id — `opengid` from getGroupEnterInfo, `openGId` from the older getShareInfo —
 * and a `watermark` {appid, timestamp (epoch seconds)} that WeChat adds so a server can tell the
 * data was made for its own mini-program, recently.
 *
 * CBC carries no authentication tag: a tampered ciphertext may still decrypt with valid padding
 * by chance (about 1 in 256 for a flipped last block). What makes forged data useless is that it
 * must then parse as JSON carrying our appid, a fresh timestamp and a group id, which garbage
 * blocks do not; and without the user's session key (never sent to the app by us, never in
 * WeChat's data) nobody can encrypt a chosen group id for that user.
 */

/** How old group data may be: the app fetches it when the open page loads and again before each claim. */
export const GROUP_DATA_MAX_AGE_MS = 10 * 60_000;
/** Watermarks a little ahead of our clock are WeChat's clock, not a forgery. */
export const GROUP_DATA_SKEW_MS = 60_000;

/** Why group data was refused (the API answers VALIDATION_FAILED with a message per reason). */
export type GroupDataRefusal = 'malformed' | 'undecryptable' | 'not_json' | 'foreign_app' | 'stale' | 'no_group';

export type GroupDataResult = { ok: true; openGId: string } | { ok: false; reason: GroupDataRefusal };

/** Standard base64 of exactly `bytes` bytes (WeChat's session_key and iv); undefined otherwise. */
export function base64Bytes(s: string, bytes: number): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s) || s.length % 4 !== 0) return undefined;
  const b = Buffer.from(s, 'base64');
  return b.length === bytes ? b : undefined;
}

/** Whether `s` is a session_key as WeChat issues it: base64 of 16 bytes. */
export function isSessionKey(s: unknown): s is string {
  return typeof s === 'string' && base64Bytes(s, 16) !== undefined;
}

/** Group ids WeChat issues are short opaque strings; anything else in the JSON is refused. */
const OPEN_GID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Decrypts and checks WeChat's group data: AES-128-CBC/PKCS#7 under the user's session key, JSON
 * with a group id, and a watermark naming `appId` no older than {@link GROUP_DATA_MAX_AGE_MS}
 * and no more than {@link GROUP_DATA_SKEW_MS} ahead of `nowMs`.
 */
export function decryptGroupData(input: {
  encryptedData: string;
  iv: string;
  sessionKey: string;
  appId: string;
  nowMs: number;
}): GroupDataResult {
  const key = base64Bytes(input.sessionKey, 16);
  const iv = base64Bytes(input.iv, 16);
  const data = /^[A-Za-z0-9+/]+={0,2}$/.test(input.encryptedData)
    ? Buffer.from(input.encryptedData, 'base64')
    : undefined;
  if (!key || !iv || !data || data.length === 0 || data.length % 16 !== 0) return { ok: false, reason: 'malformed' };
  let text: string;
  try {
    const decipher = createDecipheriv('aes-128-cbc', key, iv);
    text = Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
  } catch {
    // Bad PKCS#7 padding: the wrong key, a wrong iv's last block, or tampering.
    return { ok: false, reason: 'undecryptable' };
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not_json' };
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { ok: false, reason: 'not_json' };
  const b = body as { opengid?: unknown; openGId?: unknown; watermark?: { appid?: unknown; timestamp?: unknown } };
  const mark = b.watermark;
  if (!mark || typeof mark !== 'object' || mark.appid !== input.appId) return { ok: false, reason: 'foreign_app' };
  const ts = mark.timestamp;
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts)) return { ok: false, reason: 'stale' };
  const atMs = ts * 1000;
  if (atMs < input.nowMs - GROUP_DATA_MAX_AGE_MS || atMs > input.nowMs + GROUP_DATA_SKEW_MS)
    return { ok: false, reason: 'stale' };
  const gid = typeof b.opengid === 'string' ? b.opengid : b.openGId;
  if (typeof gid !== 'string' || !OPEN_GID.test(gid)) return { ok: false, reason: 'no_group' };
  return { ok: true, openGId: gid };
}

/**
 * A group as this service knows it: a WeChat group id or, where dev features are on, a dev group
 * name. The prefixes keep the two apart, so no dev name can ever equal a real group.
 */
export function groupIdentity(kind: 'wx' | 'dev', id: string): string {
  return `${kind}:${id}`;
}

/**
 * What a packet item stores of the group it is bound to: SHA-256 over the packet id and the
 * group, 128 bits in base64url (22 characters). Salted by the packet, so the table does not
 * show which packets went to the same group, and the group id itself is never stored; not keyed
 * by a secret, so rotating a secret cannot lock a group out of its own packets (see docs/groups.md).
 */
export function groupBinding(packetId: string, group: string): string {
  return createHash('sha256')
    .update(`hongbao/group-binding/v1\n${packetId}\n${group}`)
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}

/**
 * The 32-byte key session keys are sealed with at rest, derived from the session-signing secret
 * with its own label (HKDF-SHA256), so it is never the signing key itself.
 */
export function sessionKeySealKey(sessionSecret: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', sessionSecret, Buffer.alloc(0), 'hongbao/wx-session-key-at-rest/v1', 32));
}

const SEALED = /^sk1\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22,200})$/;

/**
 * Seals a WeChat session key for the account item: AES-256-GCM, a random 96-bit nonce, the
 * account id as associated data (a sealed key copied onto another account does not open).
 * Format `sk1.<nonce>.<ciphertext+tag>`, base64url.
 */
export function sealSessionKey(key: Buffer, userId: string, sessionKey: string): string {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(Buffer.from(userId, 'utf8'));
  const ct = Buffer.concat([c.update(sessionKey, 'utf8'), c.final(), c.getAuthTag()]);
  return `sk1.${nonce.toString('base64url')}.${ct.toString('base64url')}`;
}

/** The session key of a sealed value, or undefined when it does not open (other key, other account, tampered). */
export function openSessionKey(key: Buffer, userId: string, sealed: string): string | undefined {
  const m = SEALED.exec(sealed);
  if (!m) return undefined;
  const blob = Buffer.from(m[2]!, 'base64url');
  if (blob.length <= 16) return undefined;
  try {
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(m[1]!, 'base64url'));
    d.setAAD(Buffer.from(userId, 'utf8'));
    d.setAuthTag(blob.subarray(blob.length - 16));
    const out = Buffer.concat([d.update(blob.subarray(0, blob.length - 16)), d.final()]).toString('utf8');
    return isSessionKey(out) ? out : undefined;
  } catch {
    return undefined;
  }
}
