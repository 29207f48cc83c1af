import { apiBase } from '../api/config';
import { hasControlChars } from './text';

/**
 * The URL an `<Image>` loads for an avatar: an uploaded image's reference is a path on the API
 * (`/v1/avatars/<account>/<sha256>.<ext>`, served publicly and immutable), an https URL is used
 * as is. Anything else (absent, malformed) shows no image: the initial stands in.
 */
export function avatarSrc(avatar: string | undefined | null): string | undefined {
  if (!avatar) return undefined;
  if (/^\/v1\/avatars\/[A-Za-z0-9_-]{1,64}\/[0-9a-f]{64}\.(png|jpg|webp)$/.test(avatar)) return `${apiBase()}${avatar}`;
  if (/^https:\/\/[^\s]+$/.test(avatar)) return avatar;
  return undefined;
}

/** The first character of a name (an emoji counts as one), the stand-in for a missing avatar. */
export function initialOf(name: string): string {
  return [...name][0] ?? '?';
}

/** Largest avatar the API takes (decoded bytes): the server refuses more with 400. */
export const MAX_AVATAR_BYTES = 256 * 1024;
/** Image types the API takes, by their magic bytes. */
export const AVATAR_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const;
export type AvatarType = (typeof AVATAR_TYPES)[number];

/** The type of an image file from its name or the type a browser reports, if the API takes it. */
export function avatarTypeOf(nameOrType: string): AvatarType | undefined {
  const s = nameOrType.toLowerCase();
  if (s === 'image/png' || s.endsWith('.png')) return 'image/png';
  if (s === 'image/jpeg' || s === 'image/jpg' || s.endsWith('.jpg') || s.endsWith('.jpeg')) return 'image/jpeg';
  if (s === 'image/webp' || s.endsWith('.webp')) return 'image/webp';
  return undefined;
}

/** Bytes a base64 string decodes to. */
export function base64Bytes(b64: string): number {
  const clean = b64.replace(/^data:[^,]*,/, '');
  const pad = clean.endsWith('==') ? 2 : clean.endsWith('=') ? 1 : 0;
  return Math.floor((clean.length * 3) / 4) - pad;
}

/** Longest nickname (code points), as the API counts. */
export const MAX_NAME_CHARS = 20;

/** The nickname check the app runs before asking the API (which checks again, and more). */
export function nameProblem(name: string): string | undefined {
  const n = name.trim();
  if (!n) return '请输入昵称';
  if ([...n].length > MAX_NAME_CHARS) return `昵称最多 ${MAX_NAME_CHARS} 个字`;
  if (hasControlChars(n)) return '昵称不能包含控制字符';
  if (n.replace(/\s/g, '').startsWith('微信用户')) return '昵称不能以“微信用户”开头';
  return undefined;
}
