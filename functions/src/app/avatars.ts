import { avatarKey, avatarObjectOf, contentTypeOf } from '../domain/profile';
import type { AvatarStore } from './ports';
import { errorBody, type ErrorCode } from '../domain/errors';

/**
 * Serving uploaded avatars — a module of its own so the avatars function bundles only this,
 * the domain rules of references and the S3 adapter (not the profile use cases).
 */

/** An HTTP answer of the avatar route (API Gateway payload 2.0: binary bodies go base64). */
export interface AvatarAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

function avatarError(status: number, code: ErrorCode, message: string): AvatarAnswer {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify(errorBody(code, message)),
    isBase64Encoded: false,
  };
}

/**
 * GET /v1/avatars/{userId}/{file} — an uploaded avatar, read from the private bucket through
 * the port and answered as a base64 body (API Gateway sends the bytes). Public: `<Image>` in the
 * mini-program sends no Authorization header, and a claim list shows strangers' faces. The
 * reference is content-addressed (SHA-256 of the bytes), so the answer never changes:
 * `Cache-Control: public, max-age=31536000, immutable` and an ETag of the hash, so a client or a
 * CDN in front fetches each image once. `nosniff` and a `default-src 'none'` policy keep the
 * bytes an image even if opened directly (they were checked by magic bytes at upload).
 */
export async function serveAvatar(
  store: AvatarStore | undefined,
  userId: string,
  file: string,
  ifNoneMatch?: string,
): Promise<AvatarAnswer> {
  const o = avatarObjectOf(userId, file);
  if (!o) return avatarError(404, 'NOT_FOUND', '头像不存在');
  if (!store) return avatarError(503, 'UNAVAILABLE', '头像存储未配置');
  const etag = `"${o.sha256}"`;
  const cacheHeaders = { etag, 'cache-control': 'public, max-age=31536000, immutable' };
  if (ifNoneMatch?.split(',').some((t) => t.trim() === etag)) {
    return { statusCode: 304, headers: cacheHeaders, body: '', isBase64Encoded: false };
  }
  const got = await store.get(avatarKey(o));
  if (!got) return avatarError(404, 'NOT_FOUND', '头像不存在');
  return {
    statusCode: 200,
    headers: {
      ...cacheHeaders,
      'content-type': contentTypeOf(o.ext),
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'",
    },
    body: Buffer.from(got.bytes).toString('base64'),
    isBase64Encoded: true,
  };
}
