/**
 * Signed compact codes for QR codes and share links (docs/rules.md, Codes).
 *
 * Wire format (URL-safe, only [A-Za-z0-9._-], so it goes into a query string or a QR code in
 * byte mode without escaping):
 *
 *   1.<kid>.<kindChar><target>.<iat>[.<ref>].<sig>
 *
 * - `1`: format version; any other version is refused, so a future format can change freely.
 * - `kid`: signing key id, [a-z0-9]{1,4}, so keys can rotate (verification looks the key up).
 * - `kindChar`: l (live), s (share) or r (receive), immediately followed by the target id
 *   [A-Za-z0-9_-]{1,32}; kind and target share one field to save a separator.
 * - `iat`: issue time, unix seconds in canonical lowercase base 36 (no leading zeros).
 * - `ref`: optional short id [A-Za-z0-9_-]{1,24} (e.g. the share record of a share code).
 * - `sig`: HMAC-SHA256 over a context label, the keyring's stage and every byte before the final
 *   '.', truncated to 128 bits, base64url without padding (22 chars). The stage is signed but not
 *   written: a code minted on one stage (sandbox, say) fails the signature on any other, even
 *   where a signing secret was reused, and costs no character.
 *
 * No field can contain '.', so splitting on '.' is unambiguous. The longest possible code is
 * 100 characters (4-char kid, 32-char target, 11-char iat, 24-char ref), within the 106 that fit
 * a version-6 QR code at level M.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The kinds of code: a packet's live QR code, a packet's share code, a user's receive code. */
export const CodeKinds = { live: 'live', share: 'share', receive: 'receive' } as const;

/** One of {@link CodeKinds}. */
export type CodeKind = (typeof CodeKinds)[keyof typeof CodeKinds];

/** What a code says, once its signature is checked. */
export interface CodeClaims {
  /** What kind of code this is; decides its lifetime (see {@link codeExpiresAt}). */
  kind: CodeKind;
  /** The packet id (live, share) or the payee's account id (receive), [A-Za-z0-9_-]{1,32}. */
  target: string;
  /** Issue time, unix seconds (an integer). */
  issuedAt: number;
  /** Id of the key that signed the code. */
  keyId: string;
  /** Optional short id, e.g. the share record a share code was minted for, [A-Za-z0-9_-]{1,24}. */
  ref?: string;
}

/** One HMAC key. The secret comes from configuration (SSM on AWS), never from the code base. */
export interface SigningKey {
  /** Key id written into each code, [a-z0-9]{1,4}. */
  id: string;
  /** HMAC secret, at least 32 bytes (256 bits, the HMAC-SHA256 output size). */
  secret: Buffer;
}

/**
 * The keys in use: `current` signs new codes; `verifyOnly` keys are old keys kept so that codes
 * they signed keep verifying until those codes can no longer be in validity.
 */
export interface Keyring {
  current: SigningKey;
  verifyOnly: SigningKey[];
  /** The deployment stage whose codes these keys sign and accept, [a-z0-9-]{1,32}; see the wire format. */
  stage: string;
}

/** The only format version this module writes and accepts. */
export const CODE_VERSION = '1';

/** How far in the future an issue time may be (clock skew between servers), in seconds. */
export const MAX_FUTURE_SKEW_SECONDS = 5;

/** Longest code that fits a QR code of version 6 at error-correction level M in byte mode. */
export const MAX_CODE_LENGTH = 106;

/** The result of {@link verifyCode}: the claims, or why the code is refused. */
export type CodeCheck =
  | { ok: true; claims: CodeClaims }
  | { ok: false; reason: 'malformed' | 'unknown_key' | 'bad_signature' | 'future' };

/** Either a fixed validity from issue (live, receive) or an absolute end (share: the packet's expiry). */
export type CodeLifetime = { validitySeconds: number } | { untilSeconds: number };

const KIND_TO_CHAR: { readonly [K in CodeKind]: string } = { live: 'l', share: 's', receive: 'r' };
const CHAR_TO_KIND: { readonly [c: string]: CodeKind | undefined } = { l: 'live', s: 'share', r: 'receive' };

const KEY_ID_RE = /^[a-z0-9]{1,4}$/;
const TARGET_RE = /^[A-Za-z0-9_-]{1,32}$/;
const REF_RE = /^[A-Za-z0-9_-]{1,24}$/;
/** Canonical base 36: "0" or no leading zero; 11 digits already exceed 2^53, checked after parsing. */
const IAT_RE = /^(?:0|[1-9a-z][0-9a-z]{0,10})$/;
const SIG_RE = /^[A-Za-z0-9_-]{22}$/;
const CODE_CHARS_RE = /^[A-Za-z0-9._-]+$/;
const STAGE_RE = /^[a-z0-9-]{1,32}$/;

/** Signature length: 128 bits (the product asks for at least 128). */
const SIG_BYTES = 16;
/** Minimum secret length accepted anywhere. */
const MIN_SECRET_BYTES = 32;
/**
 * Prefixed to the MAC input so that a MAC made with the same secret for another purpose can
 * never be replayed as a code signature (domain separation).
 */
const MAC_CONTEXT = 'hongbao-code\0';

function mac(secret: Buffer, stage: string, signedPart: string): string {
  // The stage cannot contain '\0', so context, stage and code text never run into each other.
  return createHmac('sha256', secret)
    .update(MAC_CONTEXT, 'latin1')
    .update(`${stage}\0`, 'latin1')
    .update(signedPart, 'latin1')
    .digest()
    .subarray(0, SIG_BYTES)
    .toString('base64url');
}

function assertKey(key: SigningKey, where: string): void {
  if (key === null || typeof key !== 'object') throw new TypeError(`${where}: not a signing key`);
  if (typeof key.id !== 'string' || !KEY_ID_RE.test(key.id)) {
    throw new RangeError(`${where}: key id must match [a-z0-9]{1,4}`);
  }
  if (!Buffer.isBuffer(key.secret) || key.secret.length < MIN_SECRET_BYTES) {
    throw new RangeError(`${where}: secret of key ${key.id} must be at least ${MIN_SECRET_BYTES} bytes`);
  }
}

/**
 * A misconfigured keyring is a deployment error, so it throws (loudly, at the first use) instead
 * of making every code look forged. Messages name key ids, never secrets.
 */
function assertKeyring(keyring: Keyring): void {
  if (keyring === null || typeof keyring !== 'object' || !Array.isArray(keyring.verifyOnly)) {
    throw new TypeError('keyring must have current and verifyOnly');
  }
  if (typeof keyring.stage !== 'string' || !STAGE_RE.test(keyring.stage))
    throw new RangeError('keyring: stage must match [a-z0-9-]{1,32}');
  assertKey(keyring.current, 'keyring.current');
  const seen = new Set<string>([keyring.current.id]);
  keyring.verifyOnly.forEach((key, i) => {
    assertKey(key, `keyring.verifyOnly[${i}]`);
    if (seen.has(key.id)) throw new RangeError(`keyring: duplicate key id ${key.id}`);
    seen.add(key.id);
  });
}

/**
 * A new code for `claims`, signed with `keyring.current`.
 *
 * Throws RangeError if a field is invalid (unknown kind, target or ref outside its pattern,
 * issuedAt not a non-negative safe integer), if the keyring is misconfigured, or if the code
 * would exceed {@link MAX_CODE_LENGTH} (impossible with valid fields, but checked so a future
 * field cannot silently break QR rendering). Any `keyId` on `claims` is ignored: the current key
 * decides it.
 */
export function signCode(claims: Omit<CodeClaims, 'keyId'>, keyring: Keyring): string {
  assertKeyring(keyring);
  const kindChar = KIND_TO_CHAR[claims.kind];
  if (kindChar === undefined || !Object.hasOwn(KIND_TO_CHAR, claims.kind)) {
    throw new RangeError(`unknown code kind: ${String(claims.kind)}`);
  }
  if (typeof claims.target !== 'string' || !TARGET_RE.test(claims.target)) {
    throw new RangeError('target must match [A-Za-z0-9_-]{1,32}');
  }
  if (!Number.isSafeInteger(claims.issuedAt) || claims.issuedAt < 0) {
    throw new RangeError('issuedAt must be a non-negative integer (unix seconds)');
  }
  if (claims.ref !== undefined && (typeof claims.ref !== 'string' || !REF_RE.test(claims.ref))) {
    throw new RangeError('ref must match [A-Za-z0-9_-]{1,24}');
  }
  const fields = [CODE_VERSION, keyring.current.id, kindChar + claims.target, claims.issuedAt.toString(36)];
  if (claims.ref !== undefined) fields.push(claims.ref);
  const signedPart = fields.join('.');
  const code = `${signedPart}.${mac(keyring.current.secret, keyring.stage, signedPart)}`;
  if (code.length > MAX_CODE_LENGTH) throw new RangeError(`code would be ${code.length} > ${MAX_CODE_LENGTH} chars`);
  return code;
}

/**
 * Checks a code: length, character set, version, every field's format, the key id (current or
 * verify-only), the signature (constant-time compare), and that it was not issued more than
 * {@link MAX_FUTURE_SKEW_SECONDS} after `nowSeconds`. Lifetime is not checked here, because it
 * depends on the target (tier validity, packet expiry): use {@link isCodeExpired} next.
 *
 * Never throws on any `code` value: every input that is not a well-formed code is 'malformed'
 * (an unknown version included). The signature is checked before the issue time is trusted, so
 * 'future' is only reported for genuine codes. Throws only for caller bugs: a misconfigured
 * keyring or a non-finite `nowSeconds`.
 */
export function verifyCode(code: string, keyring: Keyring, nowSeconds: number): CodeCheck {
  assertKeyring(keyring);
  if (typeof nowSeconds !== 'number' || !Number.isFinite(nowSeconds)) {
    throw new RangeError('nowSeconds must be a finite number');
  }
  // Cheap bounds first, so a hostile megabyte string costs nothing beyond the length read.
  if (typeof code !== 'string' || code.length > MAX_CODE_LENGTH || !CODE_CHARS_RE.test(code)) {
    return { ok: false, reason: 'malformed' };
  }
  const parts = code.split('.');
  if (parts.length !== 5 && parts.length !== 6) return { ok: false, reason: 'malformed' };
  const [version, keyId, kindAndTarget, iat] = parts as [string, string, string, string];
  const ref = parts.length === 6 ? parts[4] : undefined;
  const sig = parts[parts.length - 1] as string;
  if (version !== CODE_VERSION || !KEY_ID_RE.test(keyId) || !IAT_RE.test(iat) || !SIG_RE.test(sig)) {
    return { ok: false, reason: 'malformed' };
  }
  const kind = CHAR_TO_KIND[kindAndTarget.charAt(0)];
  const target = kindAndTarget.slice(1);
  if (kind === undefined || !Object.hasOwn(CHAR_TO_KIND, kindAndTarget.charAt(0)) || !TARGET_RE.test(target)) {
    return { ok: false, reason: 'malformed' };
  }
  if (ref !== undefined && !REF_RE.test(ref)) return { ok: false, reason: 'malformed' };
  const issuedAt = parseInt(iat, 36);
  if (!Number.isSafeInteger(issuedAt)) return { ok: false, reason: 'malformed' };

  const key = keyring.current.id === keyId ? keyring.current : keyring.verifyOnly.find((k) => k.id === keyId);
  if (key === undefined) return { ok: false, reason: 'unknown_key' };

  // Compare the 22-char text, not decoded bytes: the last base64url char carries only 2 bits, so
  // decoding would accept several spellings of one signature (a malleable code).
  const expected = Buffer.from(mac(key.secret, keyring.stage, code.slice(0, code.length - sig.length - 1)), 'latin1');
  const given = Buffer.from(sig, 'latin1');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, reason: 'bad_signature' };
  }
  if (issuedAt > nowSeconds + MAX_FUTURE_SKEW_SECONDS) return { ok: false, reason: 'future' };

  const claims: CodeClaims = { kind, target, issuedAt, keyId };
  if (ref !== undefined) claims.ref = ref;
  return { ok: true, claims };
}

/**
 * The unix second at which a code stops being valid.
 * - live and receive codes: `issuedAt + validitySeconds` (the tier's validity);
 * - share codes: `untilSeconds`, the packet's expiry (cards are opened hours later).
 *
 * Passing the other lifetime for a kind throws RangeError: a live code given the packet's expiry
 * would stay scannable for a day, a share code given the tier validity would die in minutes —
 * both are bugs better caught at once. Also throws for a non-integer or negative lifetime.
 */
export function codeExpiresAt(claims: CodeClaims, lifetime: CodeLifetime): number {
  if ('validitySeconds' in lifetime) {
    if (claims.kind === CodeKinds.share) {
      throw new RangeError('share codes live until their packet expires: pass { untilSeconds }');
    }
    if (!Number.isSafeInteger(lifetime.validitySeconds) || lifetime.validitySeconds < 0) {
      throw new RangeError('validitySeconds must be a non-negative integer');
    }
    return claims.issuedAt + lifetime.validitySeconds;
  }
  if (claims.kind !== CodeKinds.share) {
    throw new RangeError(`${claims.kind} codes live for the tier validity: pass { validitySeconds }`);
  }
  if (!Number.isSafeInteger(lifetime.untilSeconds) || lifetime.untilSeconds < 0) {
    throw new RangeError('untilSeconds must be a non-negative integer');
  }
  return lifetime.untilSeconds;
}

/**
 * Whether the code is past its lifetime at `nowSeconds`. The end is exclusive: a code with
 * 120 s validity issued at t is valid for now in [t, t + 120) and expired from t + 120, the
 * same instant a packet expiring at t + 120 counts as expired. Throws as {@link codeExpiresAt}.
 */
export function isCodeExpired(claims: CodeClaims, lifetime: CodeLifetime, nowSeconds: number): boolean {
  return nowSeconds >= codeExpiresAt(claims, lifetime);
}

/** Standard or URL-safe base64, optional padding. */
const BASE64_RE = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * Parses the signing-key configuration, e.g. from an SSM parameter:
 * `"kid1:base64secret,kid0:base64secret"` — the first key is current (signs), the rest are
 * verify-only (old keys kept through a rotation) — into the keyring of `stage`. Whitespace around entries is ignored (a
 * parameter value often ends in a newline). Secrets may be standard or URL-safe base64.
 *
 * Throws Error on empty input, an entry without ':', a key id not matching [a-z0-9]{1,4}, a
 * duplicate id, a secret that is not base64 or is shorter than 32 bytes. Messages name the entry
 * position and key id, never the secret.
 */
export function parseKeyring(spec: string, stage: string): Keyring {
  if (typeof spec !== 'string' || spec.trim() === '') throw new Error('keyring: empty specification');
  const keys: SigningKey[] = spec.split(',').map((raw, i) => {
    const entry = raw.trim();
    const colon = entry.indexOf(':');
    if (colon < 0) throw new Error(`keyring entry ${i}: expected <id>:<base64 secret>`);
    const id = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1);
    if (!KEY_ID_RE.test(id)) throw new Error(`keyring entry ${i}: key id must match [a-z0-9]{1,4}`);
    const unpadded = encoded.replace(/=+$/, '');
    if (!BASE64_RE.test(encoded) || unpadded.length % 4 === 1) {
      throw new Error(`keyring entry ${i} (${id}): secret is not base64`);
    }
    const secret = Buffer.from(unpadded, 'base64');
    // Buffer.from skips characters it does not understand; a length mismatch means it did.
    if (secret.length !== Math.floor((unpadded.length * 6) / 8)) {
      throw new Error(`keyring entry ${i} (${id}): secret is not base64`);
    }
    if (secret.length < MIN_SECRET_BYTES) {
      throw new Error(`keyring entry ${i} (${id}): secret must be at least ${MIN_SECRET_BYTES} bytes`);
    }
    return { id, secret };
  });
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key.id)) throw new Error(`keyring: duplicate key id ${key.id}`);
    seen.add(key.id);
  }
  if (typeof stage !== 'string' || !STAGE_RE.test(stage)) throw new Error('keyring: stage must match [a-z0-9-]{1,32}');
  const [current, ...verifyOnly] = keys as [SigningKey, ...SigningKey[]];
  return { current, verifyOnly, stage };
}
