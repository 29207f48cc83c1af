import { createHash } from 'node:crypto';
import { fail } from '../domain/errors';
import {
  AvatarTypes,
  avatarKey,
  avatarRef,
  checkAvatarUrl,
  checkName,
  contentTypeOf,
  MAX_AVATAR_BYTES,
  parseAvatarRef,
  sniffImage,
  type AvatarContentType,
  type AvatarObject,
} from '../domain/profile';
import { riskRulesFor } from '../domain/risk';
import { signSession, verifySession } from '../domain/session';
import type { AvatarUploadResponse, ProfileResponse } from '../http/contract';
import { iso, seconds, type Outcome, type Principal } from './context';
import type { Deps } from './deps';
import { forgetName } from './names';
import { rateLimit } from './risk-gate';

function avatarStore(d: Deps) {
  if (!d.avatars) fail('UNAVAILABLE', '头像存储未配置');
  return d.avatars!;
}

/**
 * PATCH /v1/me — the caller's nickname and/or avatar. Everything is checked before the one
 * write (an UpdateItem of the profile), so refused input changes nothing:
 *   - name: domain/profile.ts `checkName` (1–20 characters, no controls, not a default name,
 *     the greeting rule's marketing words of the caller's tier list — for every tier: a name is
 *     shown to strangers, a greeting only to those who open the packet);
 *   - avatar: an https URL, or the reference of an image this account uploaded (it must exist).
 * The answer carries a fresh session token with the new name (same device and expiry): the old
 * token's name is stale, and anything that records the session's name (a claim, a forward, a
 * packet) should record the new one. Views show current names regardless (app/names.ts).
 */
export async function updateMe(
  d: Deps,
  who: Principal,
  body: { name?: string | undefined; avatar?: string | undefined },
  authorization: string | undefined,
): Promise<Outcome<ProfileResponse>> {
  if (body.name === undefined && body.avatar === undefined) fail('VALIDATION_FAILED', '请提供昵称或头像');
  const change: { name?: string; avatar?: string } = {};
  if (body.name !== undefined) change.name = checkName(body.name, riskRulesFor(who.tier).marketing.words);
  if (body.avatar !== undefined) change.avatar = await checkAvatar(d, who, body.avatar);
  const p = await d.accounts.setProfile(who.userId, change);
  if (!p) fail('NOT_FOUND', '账户不存在');
  const profile = p;
  forgetName(who.userId);
  // Re-sign the caller's own session with the new name: same claims otherwise, same expiry.
  const m = /^Bearer (.+)$/.exec(authorization ?? '');
  const claims = m ? verifySession(m[1]!, d.cfg.sessionSecret, d.cfg.stage, seconds(d.now())) : undefined;
  if (!claims) fail('UNAUTHENTICATED', '请先登录');
  const token = signSession({ ...claims, name: profile.name }, d.cfg.sessionSecret, d.cfg.stage);
  return {
    status: 200,
    body: {
      userId: profile.userId,
      name: profile.name,
      avatar: profile.avatar ?? null,
      token,
      expiresAt: iso(claims.exp * 1000),
    },
  };
}

/** An avatar value of PATCH /v1/me: a URL as is, or a reference to an existing upload of the caller's. */
async function checkAvatar(d: Deps, who: Principal, raw: string): Promise<string> {
  if (raw.startsWith('/')) {
    const o = parseAvatarRef(raw);
    if (!o) fail('VALIDATION_FAILED', '头像引用无效');
    if (o.userId !== who.userId) fail('VALIDATION_FAILED', '只能使用自己上传的头像');
    if (!(await avatarStore(d).exists(avatarKey(o)))) fail('VALIDATION_FAILED', '头像不存在，请重新上传');
    return avatarRef(o);
  }
  return checkAvatarUrl(raw);
}

/** Strict base64 (the standard alphabet, padded): what FileSystemManager and FileReader produce. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * POST /v1/me/avatar — stores an avatar image and returns its reference (then set with
 * PATCH /v1/me). The bytes must be the declared type by their magic bytes (PNG, JPEG, WebP), at
 * most MAX_AVATAR_BYTES decoded. The key is the SHA-256 of the bytes under the caller's folder:
 * uploading the same image again writes the same object (idempotent without a key), and a
 * reference can never point at different bytes later, so the image is served as immutable.
 * An upload never set as an avatar stays an orphan object. At most `avatarUploadsPerMinute` (10)
 * uploads per account and clock minute (429 RATE_LIMITED after).
 */
export async function uploadAvatar(
  d: Deps,
  who: Principal,
  body: { image: string; contentType: AvatarContentType },
): Promise<Outcome<AvatarUploadResponse>> {
  const store = avatarStore(d);
  const b64 = body.image.replace(/^data:image\/[a-z]+;base64,/, '');
  if (!BASE64.test(b64)) fail('VALIDATION_FAILED', '图片不是有效的 base64');
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length === 0) fail('VALIDATION_FAILED', '图片为空');
  if (bytes.length > MAX_AVATAR_BYTES)
    fail('VALIDATION_FAILED', `图片最大 ${MAX_AVATAR_BYTES / 1024} KB`, { maxBytes: MAX_AVATAR_BYTES });
  const sniffed = sniffImage(bytes);
  if (sniffed === undefined) fail('VALIDATION_FAILED', '只支持 PNG、JPEG、WebP 图片');
  if (sniffed !== body.contentType)
    fail('VALIDATION_FAILED', `图片内容是 ${sniffed}，与声明的 ${body.contentType} 不符`);
  // Counted only once the image is valid (refused input writes nothing); each upload stores up
  // to 256 KB, so uploads are bounded per account and minute.
  await rateLimit(d, who, 'avatar_upload');
  const o: AvatarObject = {
    userId: who.userId,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    ext: AvatarTypes[sniffed!],
  };
  await store.put(avatarKey(o), bytes, contentTypeOf(o.ext));
  return { status: 201, body: { avatar: avatarRef(o), contentType: contentTypeOf(o.ext), bytes: bytes.length } };
}
