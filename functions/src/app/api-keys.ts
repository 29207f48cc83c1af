/**
 * API keys (docs/rules.md, API keys): enterprise accounts get basic keys, providers full keys;
 * shown once, stored hashed, revocable, last use recorded; every create, revoke and (at most
 * once a minute per key) use is audited.
 */
import type { ApiKeysResponse, CreateApiKeyResponse, RevokeApiKeyResponse } from '../http/contract';
import { fail } from '../domain/errors';
import { newApiKey, parseApiKey, scopeForTier, secretMatches, type ApiScope } from '../domain/api-keys';
import { iso, type Outcome, type Principal } from './context';
import type { Deps } from './deps';

/** Most active keys one account may hold. */
export const MAX_KEYS = 20;

/** POST /v1/api-keys — a new key for the caller's account (shown once). */
export async function createApiKey(
  d: Deps,
  who: Principal,
  name: string | undefined,
): Promise<Outcome<CreateApiKeyResponse>> {
  const profile = await d.accounts.get(who.userId);
  const scope = scopeForTier(profile?.tier ?? who.tier);
  if (!scope) fail('FORBIDDEN', '只有企业和服务商账户可以创建 API Key');
  const active = (await d.apiKeys.list(who.userId)).filter((k) => !k.revokedAt);
  if (active.length >= MAX_KEYS) fail('VALIDATION_FAILED', `最多 ${MAX_KEYS} 个有效的 API Key`);
  const key = newApiKey();
  const nowMs = d.now();
  await d.apiKeys.create({
    keyId: key.keyId,
    ownerId: who.userId,
    name: name ?? key.keyId,
    scope,
    hash: key.hash,
    createdAt: iso(nowMs),
  });
  await d.audit.append(who.userId, {
    type: 'key_use',
    atMs: nowMs,
    details: { action: 'create', keyId: key.keyId, scope },
  });
  return { status: 201, body: { keyId: key.keyId, apiKey: key.apiKey, scopes: [scope] } };
}

/** GET /v1/api-keys — the caller's keys, never their secrets. */
export async function listApiKeys(d: Deps, who: Principal): Promise<Outcome<ApiKeysResponse>> {
  const keys = await d.apiKeys.list(who.userId);
  return {
    status: 200,
    body: {
      items: keys.map((k) => ({
        keyId: k.keyId,
        name: k.name,
        scopes: [k.scope],
        createdAt: k.createdAt,
        lastUsedAt: k.lastUsedAt ?? null,
        revokedAt: k.revokedAt ?? null,
      })),
    },
  };
}

/** DELETE /v1/api-keys/{keyId} — revokes one of the caller's keys; it stops working at once. */
export async function revokeApiKey(d: Deps, who: Principal, keyId: string): Promise<Outcome<RevokeApiKeyResponse>> {
  const nowMs = d.now();
  if (!(await d.apiKeys.revoke(who.userId, keyId, iso(nowMs)))) fail('NOT_FOUND', 'API Key 不存在或已撤销');
  await d.audit.append(who.userId, { type: 'key_use', atMs: nowMs, details: { action: 'revoke', keyId } });
  return { status: 200, body: { keyId, revokedAt: iso(nowMs) } };
}

/**
 * The caller of an `x-api-key` header: the key's owner, with the tier's role and the key's scope
 * (never a staff role: staff act through sessions only). UNAUTHENTICATED for anything else.
 */
export async function authenticateApiKey(d: Deps, raw: string): Promise<Principal & { scope: ApiScope }> {
  const parsed = parseApiKey(raw);
  const key = parsed ? await d.apiKeys.get(parsed.keyId) : undefined;
  if (!parsed || !key || key.revokedAt || !secretMatches(parsed.secret, key.hash))
    fail('UNAUTHENTICATED', 'API Key 无效');
  const k = key!;
  const profile = await d.accounts.get(k.ownerId);
  if (!profile || !scopeForTier(profile.tier)) fail('UNAUTHENTICATED', 'API Key 无效');
  const nowMs = d.now();
  if (await d.apiKeys.touch(k.keyId, nowMs)) {
    await d.audit.append(k.ownerId, { type: 'key_use', atMs: nowMs, details: { action: 'use', keyId: k.keyId } });
  }
  // A key created under a provider tier and an account since moved to enterprise: the narrower wins.
  const scope: ApiScope = k.scope === 'full' && scopeForTier(profile!.tier) === 'full' ? 'full' : 'basic';
  return {
    userId: k.ownerId,
    name: profile!.name,
    tier: profile!.tier,
    roles: ['user', profile!.tier],
    scope,
    via: 'api-key',
  };
}
