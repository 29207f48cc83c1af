import { fail } from '../domain/errors';
import { derivedId, randomId } from '../domain/ids';
import { riskCount } from './risk-gate';
import { signSession, verifySession, type SessionClaims } from '../domain/session';
import type { Tier } from '../domain/money';
import type { Role } from '../store/accounts';
import { iso, seconds, type Outcome, type Principal } from './context';
import type { Deps } from './deps';

export type SessionInput =
  | { code: string }
  | { devUser: string; name?: string | undefined; tier?: Tier | undefined; roles?: Role[] | undefined };

/** POST /v1/session — dev login (local, test, sandbox) or the mini-program code exchange. */
export async function createSession(d: Deps, input: SessionInput, deviceId?: string): Promise<Outcome> {
  const nowMs = d.now();
  let userId: string;
  let profile;
  if ('devUser' in input) {
    if (!d.cfg.devFeatures) fail('DEV_LOGIN_DISABLED', '此环境不允许开发者登录');
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
    userId = derivedId('u', 'wx', (r as { openId: string }).openId);
    profile = await d.accounts.upsert(
      { userId, name: '微信用户', tier: 'personal', roles: ['user'], settings: {}, createdAt: iso(nowMs) },
      false,
    );
    // Withdrawals pay this openid; kept server side only (never in a response or a log line).
    await d.accounts.setOpenid(userId, (r as { openId: string }).openId);
  }
  // Device binding runs on session creation too (SPEC §5): the 4th account on a device is refused.
  const who = { userId, name: profile.name, tier: profile.tier, roles: profile.roles };
  if (deviceId) await riskCount(d, who, profile.tier, { kind: 'topup', amount: 0, opId: randomId('login'), deviceId });
  await d.audit.append(userId, { type: 'login', atMs: nowMs, details: { method: 'devUser' in input ? 'dev' : 'code2session', ...(deviceId ? { deviceId } : {}) } });
  const iat = seconds(nowMs);
  const claims: SessionClaims = {
    sub: userId,
    name: profile.name,
    tier: profile.tier,
    roles: profile.roles,
    iat,
    exp: iat + d.cfg.sessionTtlSeconds,
  };
  return {
    status: 200,
    body: {
      token: signSession(claims, d.cfg.sessionSecret),
      userId,
      name: profile.name,
      tier: profile.tier,
      roles: profile.roles,
      expiresAt: iso(claims.exp * 1000),
    },
  };
}

/** The caller of a `Bearer` token, or UNAUTHENTICATED. */
export function authenticate(d: Deps, authorization: string | undefined): Principal {
  const m = /^Bearer ([A-Za-z0-9._-]{1,2048})$/.exec(authorization ?? '');
  const claims = m ? verifySession(m[1]!, d.cfg.sessionSecret, seconds(d.now())) : undefined;
  if (!claims) fail('UNAUTHENTICATED', '请先登录');
  const c = claims!;
  // A business tier is also a role (enterprise / provider routes); staff roles come from the profile.
  const roles = c.tier !== 'personal' && !c.roles.includes(c.tier) ? [...c.roles, c.tier] : c.roles;
  return { userId: c.sub, name: c.name, tier: c.tier, roles };
}
