/**
 * Names and faces: the rules of a nickname, the default name of a new WeChat account, and the
 * avatar references the API hands out. Pure (no I/O, no SDK).
 *
 * A nickname is read by other people (claim lists, the open page, the packet page), so it goes
 * through the same text rules as a greeting: no control characters, and the marketing-word
 * matcher of domain/greeting.ts (folding invisible characters, compatibility forms and
 * traditional characters). Names that could pass for a default name (微信用户…) are refused, so
 * that "微信用户 + suffix" always means an account that never chose a name, and no two of those
 * are alike (see {@link defaultNameCandidates}).
 */
import { createHash } from 'node:crypto';
import { fail } from './errors';
import { findMarketingWord, normalizeGreeting } from './greeting';

/** What WeChat calls a user who has not chosen a nickname; our default names start with it. */
export const DEFAULT_NAME_PREFIX = '微信用户';

/** Longest nickname, in code points (what a person counts as characters, emoji included). */
export const MAX_NAME_CHARS = 20;

/**
 * Characters refused anywhere in a name: C0/C1 controls, line and paragraph separators, and the
 * bidirectional overrides and isolates (they reorder the text around them — a name could make
 * the rest of a claim line read backwards).
 */
const REFUSED = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

/** What a reader does not see: separators, controls and format characters, default-ignorables, marks. */
const INVISIBLE = /[\p{Z}\s\p{C}\p{Default_Ignorable_Code_Point}\p{M}]/gu;

/** Number of code points of `s`. */
export function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/**
 * A nickname as it will be stored (surrounding whitespace trimmed), or a refusal:
 * `VALIDATION_FAILED` (400) for control characters, an empty or over-long name, or a name that
 * reads as a default name; `GREETING_REJECTED` (422) for a listed marketing word, the greeting
 * rule's own code. Nothing is written by the caller before this passes.
 */
export function checkName(raw: string, marketingWords: readonly string[]): string {
  if (REFUSED.test(raw)) fail('VALIDATION_FAILED', '昵称不能包含控制字符');
  const name = raw.trim();
  const n = codePoints(name);
  if (n === 0) fail('VALIDATION_FAILED', '昵称不能为空');
  if (n > MAX_NAME_CHARS) fail('VALIDATION_FAILED', `昵称最多 ${MAX_NAME_CHARS} 个字`, { maxChars: MAX_NAME_CHARS });
  // Only invisible characters, fillers or lone marks: nothing a reader could see (emoji count).
  if (name.replace(INVISIBLE, '').length === 0) fail('VALIDATION_FAILED', '昵称需要包含可见的文字');
  if (normalizeGreeting(name).startsWith(normalizeGreeting(DEFAULT_NAME_PREFIX)))
    fail('VALIDATION_FAILED', `昵称不能以“${DEFAULT_NAME_PREFIX}”开头`);
  const word = findMarketingWord(name, marketingWords);
  if (word !== undefined) fail('GREETING_REJECTED', `昵称含有营销诱导词“${word}”，请修改`, { word });
  return name;
}

/** Suffix letters: no 0/O or 1/I, so a name read aloud or copied by hand stays one name. */
const SUFFIX_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';

/**
 * The default names an account tries, in order: 微信用户 + 4 letters (four tries), then 6, then
 * 8 (32⁴ ≈ 1 million, 32⁶ ≈ 1 billion). Derived from the account id and the attempt, not random,
 * so a login retried after a crash tries the same names and finds its own reservation first.
 * The caller reserves each (a conditional put) until one is free; the store makes it unique.
 */
export function* defaultNameCandidates(userId: string): Generator<string> {
  for (let attempt = 0; attempt < 12; attempt++) {
    const len = attempt < 4 ? 4 : attempt < 8 ? 6 : 8;
    const h = createHash('sha256').update(`default-name\u0000${userId}\u0000${attempt}`).digest();
    let suffix = '';
    for (let i = 0; i < len; i++) suffix += SUFFIX_ALPHABET[h[i]! % SUFFIX_ALPHABET.length];
    yield `${DEFAULT_NAME_PREFIX}${suffix}`;
  }
}

/** Whether `name` is a bare default name from before suffixes (renamed at the account's next login). */
export function isBareDefaultName(name: string): boolean {
  return name === DEFAULT_NAME_PREFIX;
}

// ── avatars ──

/** Image types an avatar may be, with the extension of their object key. */
export const AvatarTypes = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
} as const;
export type AvatarContentType = keyof typeof AvatarTypes;
export type AvatarExt = (typeof AvatarTypes)[AvatarContentType];

/** Largest avatar accepted, decoded: WeChat's chosen avatars are 132×132 to 640×640 images. */
export const MAX_AVATAR_BYTES = 256 * 1024;

/** The image type `bytes` start with (PNG, JPEG, WebP), or undefined. */
export function sniffImage(bytes: Uint8Array): AvatarContentType | undefined {
  const at = (i: number, ...b: number[]) => b.every((x, k) => bytes[i + k] === x);
  if (bytes.length >= 8 && at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  if (bytes.length >= 3 && at(0, 0xff, 0xd8, 0xff)) return 'image/jpeg';
  // RIFF <size> WEBP
  if (bytes.length >= 12 && at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'image/webp';
  return undefined;
}

/**
 * An uploaded avatar: `avatars/<account>/<sha256 hex>.<ext>` in the bucket. Content-addressed, so
 * one image is one object whatever the number of uploads, and an object never changes (served
 * as immutable). Under the account, so an upload can only ever add to its own folder.
 */
export interface AvatarObject {
  userId: string;
  sha256: string;
  ext: AvatarExt;
}

/** Path prefix of an uploaded avatar's reference (and of the route that serves it). */
export const AVATAR_PATH_PREFIX = '/v1/avatars/';

const ACCOUNT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const FILE = /^([0-9a-f]{64})\.(png|jpg|webp)$/;

/** The object key in the bucket. */
export function avatarKey(o: AvatarObject): string {
  return `avatars/${o.userId}/${o.sha256}.${o.ext}`;
}

/** The reference the API returns and accepts: `/v1/avatars/<account>/<sha256>.<ext>` (relative to the API). */
export function avatarRef(o: AvatarObject): string {
  return `${AVATAR_PATH_PREFIX}${o.userId}/${o.sha256}.${o.ext}`;
}

/** The object of an account id and a file name (`<sha256>.<ext>`), or undefined if malformed. */
export function avatarObjectOf(userId: string, file: string): AvatarObject | undefined {
  const m = FILE.exec(file);
  if (!ACCOUNT_ID.test(userId) || !m) return undefined;
  return { userId, sha256: m[1]!, ext: m[2] as AvatarExt };
}

/** The object of a reference, or undefined if it is not one. */
export function parseAvatarRef(ref: string): AvatarObject | undefined {
  if (!ref.startsWith(AVATAR_PATH_PREFIX)) return undefined;
  const parts = ref.slice(AVATAR_PATH_PREFIX.length).split('/');
  return parts.length === 2 ? avatarObjectOf(parts[0]!, parts[1]!) : undefined;
}

/** The content type of an avatar object's extension. */
export function contentTypeOf(ext: AvatarExt): AvatarContentType {
  return ext === 'png' ? 'image/png' : ext === 'jpg' ? 'image/jpeg' : 'image/webp';
}

/** Longest avatar URL accepted. */
export const MAX_AVATAR_URL = 512;

/**
 * Hosts an avatar URL may point at: WeChat's own avatar CDN. Any other host would let a user
 * plant an image that every viewer of a claim list fetches from a server of the user's choosing
 * (a tracking pixel: viewers' addresses and view times); images of our own go through upload.
 */
export const AVATAR_URL_HOSTS = ['qlogo.cn'] as const;

/**
 * An avatar given as a URL: https only, on WeChat's avatar CDN ({@link AVATAR_URL_HOSTS} or a
 * subdomain), no user info, no control or space characters. (An `http:` image would not load in
 * the mini-program; user info in a URL is a credential.)
 */
export function checkAvatarUrl(raw: string): string {
  if (raw.length > MAX_AVATAR_URL || /[\s\p{Cc}]/u.test(raw)) fail('VALIDATION_FAILED', '头像地址无效');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail('VALIDATION_FAILED', '头像地址无效');
  }
  if (url.protocol !== 'https:' || url.username || url.password || !url.hostname)
    fail('VALIDATION_FAILED', '头像地址必须是 https 链接');
  const host = url.hostname.toLowerCase();
  if (!AVATAR_URL_HOSTS.some((h) => host === h || host.endsWith(`.${h}`)))
    fail('VALIDATION_FAILED', '头像请从微信头像选择或上传图片');
  return raw;
}
