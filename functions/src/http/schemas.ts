import * as z from 'zod/mini';

/**
 * Request schemas of the HTTP contract. The one definition of what a valid request is:
 * the handlers parse with these, and the client imports their inferred types.
 *
 * `zod/mini` (the tree-shakable build: ~15 KB bundled against ~450 KB for the classic API)
 * keeps each Lambda bundle small.
 */

const bounded = (min: number, max: number) => z.int().check(z.minimum(min), z.maximum(max));
/** Integer fen; never a float. */
export const fen = (min: number, max: number) => bounded(min, max);
/** Text a person typed: no control characters. */
const text = (max: number, min = 0) => z.string().check(z.minLength(min), z.maxLength(max), z.regex(/^[^\p{Cc}]*$/u));
/** Printable ASCII tokens (codes, login codes). */
const token = (max: number) => z.string().check(z.minLength(1), z.maxLength(max), z.regex(/^[\x21-\x7e]+$/));

export const IdempotencyKey = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/));

export const TierName = z.enum(['personal', 'enterprise', 'provider']);
export const SessionBody = z.union([
  z.strictObject({ code: token(128) }),
  z.strictObject({
    devUser: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,32}$/)),
    name: z.optional(text(32, 1)),
    tier: z.optional(TierName),
    roles: z.optional(
      z.array(z.enum(['user', 'enterprise', 'provider', 'support', 'risk', 'admin'])).check(z.maxLength(6)),
    ),
    /** The deployed dev stage's dev-login secret (`DEV_LOGIN_SECRET`); not needed locally. */
    devSecret: z.optional(token(256)),
  }),
]);

/** 50,000 yuan per top-up at most. */
export const TopupBody = z.strictObject({
  amount: fen(1, 5_000_000),
  method: z.optional(z.enum(['wechatpay', 'sandbox'])),
});

export const Scenes = ['none', 'birthday', 'wedding', 'new_year', 'thanks'] as const;
export const CreatePacketBody = z.strictObject({
  total: fen(1, 100_000_000_000),
  count: bounded(1, 10_000),
  mode: z.enum(['lucky', 'equal']),
  greeting: z.optional(text(50)),
  scene: z.optional(z.enum(Scenes)),
  ttlSeconds: z.optional(bounded(60, 86_400)),
  /** 专属红包: the only account that may claim (one share). */
  recipient: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/))),
  /** `wechatpay`: paid directly in WeChat's payment sheet (202, no code until paid). */
  funding: z.optional(z.enum(['balance', 'wechatpay'])),
  /** 仅限本群: only the group the packet is first opened from may claim. */
  groupOnly: z.optional(z.boolean()),
});

export const NewCodeBody = z.strictObject({
  kind: z.optional(z.enum(['live', 'share'])),
  via: z.optional(z.string().check(z.maxLength(200))),
});

/**
 * Group context (仅限本群). `encryptedData` + `iv`: what `wx.getGroupEnterInfo` returns (standard
 * base64; a group's data is a few hundred bytes, so 2,048 characters is ample); `devGroup`: a
 * plain group name standing in for it where dev features are on (refused elsewhere).
 */
const base64 = (max: number) => z.string().check(z.minLength(4), z.maxLength(max), z.regex(/^[A-Za-z0-9+/]+={0,2}$/));
const EncryptedGroup = z.strictObject({ encryptedData: base64(2048), iv: base64(64) });
const DevGroup = z.strictObject({ devGroup: text(32, 1).check(z.regex(/\S/)) });
export const GroupContextBody = z.union([EncryptedGroup, DevGroup]);
export type GroupContextRequest = z.infer<typeof GroupContextBody>;

export const ClaimBody = z.strictObject({ code: token(200), group: z.optional(GroupContextBody) });
export type ClaimRequest = z.infer<typeof ClaimBody>;

/** GET /v1/codes/{code}: the group context as query parameters (both encrypted fields, or devGroup, or none). */
export const OpenCodeQuery = z
  .strictObject({
    encryptedData: z.optional(base64(2048)),
    iv: z.optional(base64(64)),
    devGroup: z.optional(text(32, 1).check(z.regex(/\S/))),
  })
  .check(
    z.refine(
      (q) =>
        (q.encryptedData === undefined) === (q.iv === undefined) &&
        !(q.devGroup !== undefined && q.encryptedData !== undefined),
      {
        message: 'encryptedData and iv go together, and not with devGroup',
      },
    ),
  );

/** The group context of an open's query, if any. */
export function groupOfQuery(q: z.infer<typeof OpenCodeQuery>): GroupContextRequest | undefined {
  if (q.encryptedData !== undefined && q.iv !== undefined) return { encryptedData: q.encryptedData, iv: q.iv };
  if (q.devGroup !== undefined) return { devGroup: q.devGroup };
  return undefined;
}
export const TransferBody = z.strictObject({
  code: token(200),
  amount: fen(1, 100_000_000_000),
  note: z.optional(text(50)),
});
export const SweepBody = z.strictObject({ now: z.optional(z.iso.datetime({ offset: true })) });

export const Cursor = z.string().check(z.maxLength(1024), z.regex(/^[A-Za-z0-9_-]*$/));
const pageShape = {
  cursor: z.optional(Cursor),
  limit: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100))),
};
export const PageQuery = z.strictObject(pageShape);
/** Any whole number of fen: the withdrawal limits (1–200 yuan) answer WITHDRAWAL_LIMIT, not a validation error. */
export const WithdrawalBody = z.strictObject({ amount: fen(0, 100_000_000_000) });
export const MePacketsQuery = z.strictObject({ ...pageShape, role: z.optional(z.enum(['sent', 'received'])) });
/** GET /v1/packets/{id}: the cursor of the forwarding tree's next page. */
export const PacketViewQuery = z.strictObject({ forwardsCursor: z.optional(Cursor) });

export const PacketIdParam = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,40}$/));

export type CreatePacketRequest = z.infer<typeof CreatePacketBody>;
export type SessionRequest = z.infer<typeof SessionBody>;
export type TransferRequest = z.infer<typeof TransferBody>;

/** An account id as issued by the API (ids.ts `derivedId`/`randomId`), or a fee ledger (`platform-fees#<k>`). */
export const AccountId = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}(#[0-9]{1,3})?$/));
/** A device id as sent in `x-device-id`. */
export const DeviceId = z.string().check(z.regex(/^[A-Za-z0-9._:-]{1,128}$/));
const isoTime = z.iso.datetime({ offset: true });

/** GET /v1/audit */
export const AuditQuery = z.strictObject({
  ...pageShape,
  userId: z.optional(AccountId),
  from: z.optional(isoTime),
  to: z.optional(isoTime),
});
/** GET /v1/risk/events · GET /v1/risk/reports */
export const RiskRangeQuery = z.strictObject({ ...pageShape, from: z.optional(isoTime), to: z.optional(isoTime) });

/** POST /v1/admin/accounts/{userId}/tier — settings are checked against the tier (money.ts). */
export const SetTierBody = z.strictObject({
  tier: TierName,
  settings: z.optional(
    z.strictObject({
      feeBps: z.optional(bounded(0, 10_000)),
      perPacketLimit: z.optional(fen(1, 100_000_000_000)),
      dailyLimit: z.optional(fen(1, 1_000_000_000_000)),
      codeValiditySeconds: z.optional(bounded(1, 86_400)),
    }),
  ),
});

export const BlacklistKindName = z.enum(['account', 'device']);
/** POST /v1/admin/blacklist */
export const BlacklistBody = z.strictObject({
  kind: BlacklistKindName,
  id: z.string().check(z.regex(/^[A-Za-z0-9._:-]{1,128}$/)),
  reason: text(200, 1),
});

/** GET /v1/admin/ops */
export const OpsQuery = z.strictObject({
  minutes: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(180))),
});

/** POST /v1/api-keys */
export const CreateApiKeyBody = z.strictObject({ name: z.optional(text(40, 1)) });

/** POST /v1/campaigns */
export const CreateCampaignBody = z.strictObject({
  name: text(40, 1),
  packet: z.strictObject({
    total: fen(1, 100_000_000_000),
    count: bounded(1, 10_000),
    mode: z.enum(['lucky', 'equal']),
    greeting: z.optional(text(50)),
  }),
  quantity: bounded(1, 1_000),
  ttlSeconds: z.optional(bounded(60, 86_400)),
});
/** A campaign id as issued (derivedId 'c'). */
/** An API key's id (`DELETE /v1/api-keys/{keyId}`). */
export const ApiKeyIdParam = z.string().check(z.regex(/^k[A-Za-z0-9_-]{16}$/));
/** A code in a path (`GET /v1/codes/{code}`): printable ASCII, at most 200 characters. */
export const CodeParam = token(200);
export const CampaignIdParam = z.string().check(z.regex(/^c[A-Za-z0-9_-]{15}$/));
/** A withdrawal id as issued (`wd` + 30 hex digits, derived from the Idempotency-Key). */
export const WithdrawalIdParam = z.string().check(z.regex(/^wd[0-9a-f]{30}$/));
/** A WeChat Pay payment id as issued (derivedId 'y'). */
export const PaymentIdParam = z.string().check(z.regex(/^y[A-Za-z0-9_-]{15}$/));

// ---- Profiles: names and avatars ----

/**
 * PATCH /v1/me. The schema bounds the raw strings only; the rules of a name (1–20 characters,
 * no control characters, not a default name, the greeting filter) and of an avatar (https URL or
 * an upload's reference) are domain/profile.ts's, so their refusals carry clear messages.
 */
export const ProfileBody = z.strictObject({
  name: z.optional(z.string().check(z.maxLength(200))),
  avatar: z.optional(z.string().check(z.maxLength(1024))),
});
export type ProfileRequest = z.infer<typeof ProfileBody>;

/** POST /v1/me/avatar: the image as base64 (a data: URL prefix is accepted), ≤ 256 KB decoded. */
export const AvatarUploadBody = z.strictObject({
  image: z.string().check(z.minLength(1), z.maxLength(360_000)),
  contentType: z.enum(['image/png', 'image/jpeg', 'image/webp']),
});
export type AvatarUploadRequest = z.infer<typeof AvatarUploadBody>;
/** Body limit of the upload route: the base64 image and a little JSON around it. */
export const AVATAR_UPLOAD_MAX_BODY = 400 * 1024;
