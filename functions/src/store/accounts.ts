import type { AccountSettings, Tier } from '../domain/money';
import { Keys, accountOfPk } from './keys';
import type { Db } from './db';

export const Roles = ['user', 'enterprise', 'provider', 'support', 'risk', 'admin'] as const;
export type Role = (typeof Roles)[number];

export interface AccountProfile {
  userId: string;
  name: string;
  tier: Tier;
  roles: Role[];
  settings: AccountSettings;
  createdAt: string;
  /** The avatar: an https URL or an uploaded image's reference (domain/profile.ts); absent until chosen. */
  avatar?: string;
}

/** What other people see of an account: its current name and avatar. */
export interface PublicProfile {
  name: string;
  avatar?: string;
}

/** The store port of account profiles (name, tier, roles, per-account settings). */
export interface AccountStore {
  get(userId: string): Promise<AccountProfile | undefined>;
  /** Creates the profile if absent; `overwrite` replaces name/tier/roles (dev login only). */
  upsert(p: AccountProfile, overwrite: boolean): Promise<AccountProfile>;
  /** Sets an existing account's tier and settings (replacing them); undefined if no such account. */
  setTier(userId: string, tier: Tier, settings: AccountSettings): Promise<AccountProfile | undefined>;
  /**
   * The WeChat openid from the account's code2session login (withdrawals pay it). Kept on the
   * profile item, server side only: {@link get} never returns it.
   */
  openid(userId: string): Promise<string | undefined>;
  /**
   * Stores the openid of an existing account (each code2session login) and, in the same write,
   * the login's WeChat session key sealed (domain/group.ts `sealSessionKey`) — the latest only
   * (a login without one removes the previous one).
   */
  setOpenid(userId: string, openid: string, sealedSessionKey?: string): Promise<void>;
  /** The account's latest sealed WeChat session key, if a code2session login stored one. Server side only. */
  sealedSessionKey(userId: string): Promise<string | undefined>;
  /**
   * Reserves a default name for `userId` (a conditional put of its name item): true when the
   * name is now this account's — newly, or already (a retried login) — false when another
   * account holds it.
   */
  reserveName(name: string, userId: string): Promise<boolean>;
  /**
   * Sets an existing account's name and/or avatar; `onlyIfName`: only while its name is still
   * that (a login replacing a bare default name must not overwrite a name chosen meanwhile).
   * The profile after the write, or undefined if there is no such account or the name moved on.
   */
  setProfile(
    userId: string,
    change: { name?: string; avatar?: string },
    onlyIfName?: string,
  ): Promise<AccountProfile | undefined>;
  /** Current names and avatars of several accounts (BatchGetItem, eventually consistent); absent accounts are left out. */
  publicProfiles(userIds: readonly string[]): Promise<Map<string, PublicProfile>>;
}

function profileOf(userId: string, it: Record<string, unknown>): AccountProfile {
  return {
    userId,
    name: it.name as string,
    tier: it.tier as Tier,
    roles: (it.roles as Role[]) ?? ['user'],
    settings: (it.settings as AccountSettings) ?? {},
    createdAt: it.createdAt as string,
    ...(typeof it.avatar === 'string' ? { avatar: it.avatar } : {}),
  };
}

export class DynamoAccountStore implements AccountStore {
  constructor(private readonly db: Db) {}

  async get(userId: string): Promise<AccountProfile | undefined> {
    const it = await this.db.get(Keys.profile(userId), false);
    return it ? profileOf(userId, it) : undefined;
  }

  async openid(userId: string): Promise<string | undefined> {
    const it = await this.db.get(Keys.profile(userId));
    return typeof it?.openid === 'string' ? it.openid : undefined;
  }

  async setOpenid(userId: string, openid: string, sealedSessionKey?: string): Promise<void> {
    // A login without a session key drops the previous one: WeChat replaced it at this login.
    await this.db.update(
      Keys.profile(userId),
      sealedSessionKey ? 'SET openid = :o, wxSessionKey = :k' : 'SET openid = :o REMOVE wxSessionKey',
      {
        // Unconditional but for the account's existence: a condition that failed on every repeat
        // login would count as write contention in the metrics.
        condition: 'attribute_exists(pk)',
        values: { ':o': openid, ...(sealedSessionKey ? { ':k': sealedSessionKey } : {}) },
      },
    );
  }

  async sealedSessionKey(userId: string): Promise<string | undefined> {
    const it = await this.db.get(Keys.profile(userId));
    return typeof it?.wxSessionKey === 'string' ? it.wxSessionKey : undefined;
  }

  async reserveName(name: string, userId: string): Promise<boolean> {
    // Ours already (a retried login) passes too, so a login that crashed after reserving finds it.
    return this.db.put(
      { ...Keys.displayName(name), userId, name },
      { condition: 'attribute_not_exists(pk) OR userId = :u', values: { ':u': userId } },
    );
  }

  async setProfile(
    userId: string,
    change: { name?: string; avatar?: string },
    onlyIfName?: string,
  ): Promise<AccountProfile | undefined> {
    const sets: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    if (change.name !== undefined) {
      sets.push('#n = :n');
      names['#n'] = 'name';
      values[':n'] = change.name;
    }
    if (change.avatar !== undefined) {
      sets.push('avatar = :a');
      values[':a'] = change.avatar;
    }
    if (sets.length === 0) return this.get(userId);
    let condition = 'attribute_exists(pk)';
    if (onlyIfName !== undefined) {
      condition += ' AND #n = :old';
      names['#n'] = 'name';
      values[':old'] = onlyIfName;
    }
    const it = await this.db.update(Keys.profile(userId), `SET ${sets.join(', ')}`, { condition, names, values });
    return it ? profileOf(userId, it) : undefined;
  }

  async publicProfiles(userIds: readonly string[]): Promise<Map<string, PublicProfile>> {
    const out = new Map<string, PublicProfile>();
    if (userIds.length === 0) return out;
    const items = await this.db.batchGet(
      [...new Set(userIds)].map((u) => Keys.profile(u)),
      false,
    );
    for (const it of items) {
      const userId = accountOfPk(it.pk);
      if (userId === undefined || typeof it.name !== 'string') continue;
      out.set(userId, { name: it.name, ...(typeof it.avatar === 'string' ? { avatar: it.avatar } : {}) });
    }
    return out;
  }

  async setTier(userId: string, tier: Tier, settings: AccountSettings): Promise<AccountProfile | undefined> {
    const it = await this.db.update(Keys.profile(userId), 'SET tier = :t, settings = :s', {
      condition: 'attribute_exists(pk)',
      values: { ':t': tier, ':s': settings },
    });
    return it ? profileOf(userId, it) : undefined;
  }

  async upsert(p: AccountProfile, overwrite: boolean): Promise<AccountProfile> {
    if (overwrite) {
      const it = await this.db.update(
        Keys.profile(p.userId),
        'SET #n = :n, tier = :t, #r = :r, settings = if_not_exists(settings, :s), createdAt = if_not_exists(createdAt, :c), userId = :u',
        {
          names: { '#n': 'name', '#r': 'roles' },
          values: { ':n': p.name, ':t': p.tier, ':r': p.roles, ':s': p.settings, ':c': p.createdAt, ':u': p.userId },
        },
      );
      return {
        ...p,
        settings: (it?.settings as AccountSettings) ?? p.settings,
        createdAt: (it?.createdAt as string) ?? p.createdAt,
        ...(typeof it?.avatar === 'string' ? { avatar: it.avatar } : {}),
      };
    }
    const created = await this.db.put({ ...Keys.profile(p.userId), ...p }, { condition: 'attribute_not_exists(pk)' });
    if (created) return p;
    return (await this.get(p.userId)) ?? p;
  }
}
