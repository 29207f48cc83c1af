import type { SessionResponse } from '../http/contract';
import { createHash, timingSafeEqual } from 'node:crypto';
import { fail } from '../domain/errors';
import { derivedId, randomId } from '../domain/ids';
import { sealSessionKey } from '../domain/group';
import { riskCount } from './risk-gate';
import { signSession, verifySession, type SessionClaims } from '../domain/session';
import type { Tier } from '../domain/money';
import type { AccountProfile, Role } from '../store/accounts';
import { defaultNameCandidates, isBareDefaultName } from '../domain/profile';
import { iso, seconds, type Outcome, type Principal } from './context';
import type { Deps } from './deps';
import type { Config } from '../config';
import { subscribeTemplates } from './notifications';

export type SessionInput =
  | { code: string }
  | {
      devUser: string;
      name?: string | undefined;
      tier?: Tier | undefined;
      roles?: Role[] | undefined;
      devSecret?: string | undefined;
    };

/**
 * The device of a dev login sent without `x-device-id`: one per account, derived from its id, so
 * its money calls still run the device rules (blacklist, freezes, binding) on a stable device.
 * Dev login exists only where dev features are on (local, test, sandbox).
 */
export function derivedDevice(userId: string): string {
  return derivedId('dev-', 'session-device', userId);
}

/**
 * POST /v1/session — dev login (local, test, sandbox) or the mini-program code exchange. The
 * session is bound to the device it logs in from (`x-device-id`, required for the code
 * exchange): the token carries it under the signature, and money calls use it.
 */
export async function createSession(
  d: Deps,
  input: SessionInput,
  deviceId?: string,
): Promise<Outcome<SessionResponse>> {
  const nowMs = d.now();
  let userId: string;
  let profile: AccountProfile;
  let newAccount = false;
  // Refused before the code is spent: a real login always names its device (the app sends one).
  if (!('devUser' in input) && !deviceId) fail('VALIDATION_FAILED', 'x-device-id is required to log in');
  if ('devUser' in input) {
    checkDevLogin(d.cfg, input.devSecret);
    userId = derivedId('u', 'dev', input.devUser);
    profile = await d.accounts.upsert(
      {
        userId,
        name: input.name ?? input.devUser,
        tier: input.tier ?? 'personal',
        roles: ['user', ...(input.roles ?? []).filter((r) => r !== 'user')],
        settings: {},
        createdAt: iso(nowMs),
      },
      true,
    );
  } else {
    if (!d.code2session) fail('UNAUTHENTICATED', '登录服务未配置');
    const r = await d.code2session!.exchange(input.code);
    if (!r.ok) fail('UNAUTHENTICATED', '登录失败，请重试');
    userId = derivedId('u', 'wx', r.openId);
    const existing = await d.accounts.get(userId);
    if (existing) {
      // An account from before default suffixes is renamed now (its first login since).
      profile = isBareDefaultName(existing.name) ? await upgradeBareName(d, existing) : existing;
    } else {
      // Timeline: reserve a unique default name (NAME#…), then create the profile with it. A
      // crash between leaves the name reserved by this account and no profile: the retried login
      // tries the same candidates, finds its own reservation first and creates the profile.
      // Two first logins of one account at once reserve the same name (ours either way) and one
      // profile put wins; the other reads it back in upsert.
      const name = await reserveDefaultName(d, userId);
      profile = await d.accounts.upsert(
        { userId, name, tier: 'personal', roles: ['user'], settings: {}, createdAt: iso(nowMs) },
        false,
      );
      newAccount = profile.name === name;
    }
    // Withdrawals pay this openid; group data is decrypted with the session key (sealed at rest
    // under the configured key, bound to this account). Both server side only: never in a
    // response or a log line.
    await d.accounts.setOpenid(
      userId,
      r.openId,
      r.sessionKey ? sealSessionKey(d.cfg.sessionKeySeal, userId, r.sessionKey) : undefined,
    );
  }
  // Device binding runs on session creation too (docs/rules.md): the 4th account on a device is refused.
  const who = { userId, name: profile.name, tier: profile.tier, roles: profile.roles };
  if (deviceId) await riskCount(d, who, profile.tier, { kind: 'topup', amount: 0, opId: randomId('login'), deviceId });
  await d.audit.append(userId, {
    type: 'login',
    atMs: nowMs,
    details: { method: 'devUser' in input ? 'dev' : 'code2session', ...(deviceId ? { deviceId } : {}) },
  });
  const iat = seconds(nowMs);
  const subscribe = subscribeTemplates(d.cfg);
  const claims: SessionClaims = {
    sub: userId,
    name: profile.name,
    tier: profile.tier,
    roles: profile.roles,
    dvc: deviceId ?? derivedDevice(userId),
    iat,
    exp: iat + d.cfg.sessionTtlSeconds,
  };
  return {
    status: 200,
    body: {
      token: signSession(claims, d.cfg.sessionSecret, d.cfg.stage),
      userId,
      name: profile.name,
      tier: profile.tier,
      roles: profile.roles,
      expiresAt: iso(claims.exp * 1000),
      ...(profile.avatar ? { avatar: profile.avatar } : {}),
      ...(newAccount ? { newAccount: true } : {}),
      // Additive: which subscribe messages the app may ask for (none configured → no field).
      ...(subscribe ? { subscribe } : {}),
    },
  };
}

/**
 * A default name no other account has: the account's candidates (domain/profile.ts) in order,
 * each reserved by a conditional put until one is free — or already this account's (a retry).
 */
export async function reserveDefaultName(
  d: Deps,
  userId: string,
  candidates: Iterable<string> = defaultNameCandidates(userId),
): Promise<string> {
  for (const name of candidates) {
    if (await d.accounts.reserveName(name, userId)) return name;
  }
  // 12 candidates, the last 8 letters long (32⁸ names): only a broken store gets here.
  throw new Error('no free default name');
}

/**
 * An existing account still called plain 微信用户 (created before default names had a suffix):
 * reserve its default name and set it, but only while the name is still the bare one (a name
 * chosen in between wins). Done at login, the one moment every active account passes through.
 */
async function upgradeBareName(d: Deps, p: AccountProfile): Promise<AccountProfile> {
  const name = await reserveDefaultName(d, p.userId);
  return (await d.accounts.setProfile(p.userId, { name }, p.name)) ?? (await d.accounts.get(p.userId)) ?? p;
}

/**
 * Dev login lets anyone choose their roles (admin included), so it is off wherever
 * `devLogin` says so, and on a deployed stage it takes the configured secret. Both sides are
 * hashed first, so the constant-time compare also hides the secret's length.
 */
function checkDevLogin(cfg: Pick<Config, 'devFeatures' | 'devLogin'>, given: string | undefined): void {
  const login = cfg.devLogin;
  if (!cfg.devFeatures || login.mode === 'off') fail('DEV_LOGIN_DISABLED', '此环境不允许开发者登录');
  if (login.mode === 'open') return;
  const digest = (b: Buffer) => createHash('sha256').update(b).digest();
  const ok = given !== undefined && timingSafeEqual(digest(Buffer.from(given, 'utf8')), digest(login.secret));
  if (!ok) fail('UNAUTHENTICATED', '开发者登录密钥不正确');
}

/** The caller of a `Bearer` token signed for this stage, with the device it is bound to, or UNAUTHENTICATED. */
export function authenticate(d: Deps, authorization: string | undefined): Principal {
  const m = /^Bearer ([A-Za-z0-9._-]{1,2048})$/.exec(authorization ?? '');
  const claims = m ? verifySession(m[1]!, d.cfg.sessionSecret, d.cfg.stage, seconds(d.now())) : undefined;
  if (!claims) fail('UNAUTHENTICATED', '请先登录');
  const c = claims;
  // A business tier is also a role (enterprise / provider routes); staff roles come from the profile.
  const roles = c.tier !== 'personal' && !c.roles.includes(c.tier) ? [...c.roles, c.tier] : c.roles;
  return { userId: c.sub, name: c.name, tier: c.tier, roles, deviceId: c.dvc };
}

/** Roles that open staff routes (support, risk, admin): never trusted from the token alone. */
export const STAFF_ROLES = ['support', 'risk', 'admin'] as const;
const isStaffRole = (r: string) => (STAFF_ROLES as readonly string[]).includes(r);

/** How long a process trusts its last read of an account's roles. */
export const ROLE_CACHE_MS = 30_000;
/** Accounts whose roles this process remembers at most (staff are few; the bound is for safety). */
const ROLE_CACHE_MAX = 1_000;
const roleCache = new Map<string, { roles: readonly string[]; atMs: number }>();

/** Forgets every cached role read (tests; nothing in production needs it). */
export function resetRoleCache(): void {
  roleCache.clear();
}

/** The account's roles as the account store holds them, read at most every ROLE_CACHE_MS. */
async function storedRoles(d: Deps, userId: string): Promise<readonly string[]> {
  const nowMs = d.now();
  const hit = roleCache.get(userId);
  // A clock that went backwards (tests move clocks) also refreshes.
  if (hit && nowMs >= hit.atMs && nowMs - hit.atMs < ROLE_CACHE_MS) return hit.roles;
  const roles = (await d.accounts.get(userId))?.roles ?? [];
  roleCache.delete(userId);
  if (roleCache.size >= ROLE_CACHE_MAX) roleCache.delete(roleCache.keys().next().value!);
  roleCache.set(userId, { roles, atMs: nowMs });
  return roles;
}

/**
 * The session caller with their staff roles as the account store holds them now, for a staff
 * route (`staffRoute`) or any call of a token that claims a staff role (e.g. support reading
 * another account's audit log). A token lives 2 hours, and its roles are a copy taken at login:
 * without this, a removed admin stays admin until the token expires. Now a removal takes effect
 * within ROLE_CACHE_MS (the per-process cache), while the token itself stays valid for the rest.
 * Other roles (user, the tier's enterprise/provider) stay as in the token.
 */
export async function withCurrentStaffRoles(d: Deps, who: Principal, staffRoute: boolean): Promise<Principal> {
  if (who.via === 'api-key') return who; // keys never carry staff roles
  if (!staffRoute && !who.roles.some(isStaffRole)) return who;
  const current = (await storedRoles(d, who.userId)).filter(isStaffRole);
  return { ...who, roles: [...who.roles.filter((r) => !isStaffRole(r)), ...current] };
}

/** Whether a route's access list names a staff role. */
export function isStaffAccess(access: readonly string[]): boolean {
  return access.some(isStaffRole);
}

/**
 * The device a request's risk rules run on. A session is bound to the device it logged in from:
 * a request naming another device is refused (a token carried to another device, or a client
 * shedding a blacklisted or bound device id), and a request naming none uses the session's — so
 * leaving out `x-device-id` no longer skips the device rules. API-key callers (no session) keep
 * the header as sent.
 */
export function requestDevice(who: Principal, header: string | undefined): string | undefined {
  if (who.deviceId === undefined) return header;
  if (header !== undefined && header !== who.deviceId) fail('UNAUTHENTICATED', '登录设备已变化，请重新登录');
  return who.deviceId;
}
