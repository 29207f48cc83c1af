/**
 * API keys in the table: the key item (looked up by id on each call: owner, scope, hash,
 * revoked, last use) and a copy of its id under the owner (to list an owner's keys with one
 * Query). Create writes the list entry first and the key item last, so a crash between leaves
 * a listed key that cannot authenticate (shown as revoked), never a usable key nobody sees.
 * Revoke marks the key item first: the key stops working at once.
 */
import type { ApiScope } from '../domain/api-keys';
import { queryAll, type Db } from './db';
import { Keys } from './keys';

export interface ApiKeyRecord {
  keyId: string;
  ownerId: string;
  name: string;
  scope: ApiScope;
  hash: string;
  createdAt: string;
  revokedAt?: string;
  lastUsedAt?: string;
}

/** The store port of API keys. */
export interface ApiKeyStore {
  create(k: ApiKeyRecord): Promise<void>;
  get(keyId: string): Promise<ApiKeyRecord | undefined>;
  list(ownerId: string): Promise<ApiKeyRecord[]>;
  revoke(ownerId: string, keyId: string, atIso: string): Promise<boolean>;
  touch(keyId: string, nowMs: number): Promise<boolean>;
}

export class DynamoApiKeyStore implements ApiKeyStore {
  constructor(private readonly db: Db) {}

  async create(k: ApiKeyRecord): Promise<void> {
    await this.db.put(
      { ...Keys.ownerApiKey(k.ownerId, k.keyId), keyId: k.keyId, name: k.name, createdAt: k.createdAt },
      { condition: 'attribute_not_exists(pk)' },
    );
    await this.db.put({ ...Keys.apiKey(k.keyId), ...k }, { condition: 'attribute_not_exists(pk)' });
  }

  async get(keyId: string): Promise<ApiKeyRecord | undefined> {
    const it = await this.db.get(Keys.apiKey(keyId), false);
    if (!it) return undefined;
    const { pk: _pk, sk: _sk, ...rec } = it;
    return rec as unknown as ApiKeyRecord;
  }

  async list(ownerId: string): Promise<ApiKeyRecord[]> {
    const ids = await queryAll(this.db, { keyCondition: 'pk = :pk', values: { ':pk': Keys.ownerApiKeysPk(ownerId) } });
    const keys = await Promise.all(ids.map((it) => this.get(it.keyId as string)));
    return ids.map(
      (it, i) =>
        keys[i] ?? {
          keyId: it.keyId as string,
          ownerId,
          name: it.name as string,
          scope: 'basic',
          hash: '',
          createdAt: it.createdAt as string,
          revokedAt: it.createdAt as string,
        },
    );
  }

  /** true when this call revoked it (an owner's active key). */
  async revoke(ownerId: string, keyId: string, atIso: string): Promise<boolean> {
    const r = await this.db.update(Keys.apiKey(keyId), 'SET revokedAt = :at', {
      condition: 'ownerId = :o AND attribute_not_exists(revokedAt)',
      values: { ':at': atIso, ':o': ownerId },
    });
    return r !== undefined;
  }

  /** Records a use at most once a minute per key; true when this call recorded it. */
  async touch(keyId: string, nowMs: number): Promise<boolean> {
    const r = await this.db.update(Keys.apiKey(keyId), 'SET lastUsedAt = :now', {
      condition: 'attribute_not_exists(lastUsedAt) OR lastUsedAt < :before',
      values: { ':now': new Date(nowMs).toISOString(), ':before': new Date(nowMs - 60_000).toISOString() },
    });
    return r !== undefined;
  }
}
