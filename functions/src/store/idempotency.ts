import { Keys } from './keys';
import type { Db } from './db';

export interface StoredResponse {
  status: number;
  body: unknown;
}

export type IdempotencyBegin =
  | { kind: 'new' }
  /**
   * The first request began (its checks passed) and has not recorded its response yet: in
   * flight, or crashed. `at` is when it began, or when a retry last took it over.
   */
  | { kind: 'resume'; at: string }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'mismatch' };

/**
 * The store port of idempotency records. A record holds the request's hash and, once done, the
 * first response. Operations re-run on `resume` must converge: every id they create is derived
 * from the idempotency key, and every write they make is conditional.
 */
export interface IdempotencyStore {
  peek(principal: string, scope: string, key: string, hash: string): Promise<IdempotencyBegin>;
  begin(principal: string, scope: string, key: string, hash: string, at: string): Promise<IdempotencyBegin>;
  /**
   * Takes over a pending record whose owner is presumed dead: moves its `at` from `prevAt` to
   * `at`. true for the one caller that won; false when another took it over or it completed.
   */
  takeOver(principal: string, scope: string, key: string, prevAt: string, at: string): Promise<boolean>;
  /**
   * Records the response unless one is already recorded, and returns the response that stands:
   * the first one stored, whoever ran the work, so every twin of the request answers the same.
   */
  complete(principal: string, scope: string, key: string, response: StoredResponse): Promise<StoredResponse>;
}

export class DynamoIdempotencyStore implements IdempotencyStore {
  constructor(private readonly db: Db) {}

  private judge(it: Record<string, unknown>, hash: string): IdempotencyBegin {
    if (it.hash !== hash) return { kind: 'mismatch' };
    if (it.state === 'done')
      return { kind: 'replay', response: { status: it.status as number, body: JSON.parse(it.body as string) } };
    return { kind: 'resume', at: it.at as string };
  }

  /** Read-only look: lets a request answer a replay or mismatch before any check or write. */
  async peek(principal: string, scope: string, key: string, hash: string): Promise<IdempotencyBegin> {
    const it = await this.db.get(Keys.idempotency(principal, scope, key));
    return it ? this.judge(it, hash) : { kind: 'new' };
  }

  async begin(principal: string, scope: string, key: string, hash: string, at: string): Promise<IdempotencyBegin> {
    const k = Keys.idempotency(principal, scope, key);
    if (await this.db.put({ ...k, hash, state: 'pending', at }, { condition: 'attribute_not_exists(pk)' }))
      return { kind: 'new' };
    const it = await this.db.get(k);
    if (!it) throw new Error('idempotency: record vanished');
    return this.judge(it, hash);
  }

  async takeOver(principal: string, scope: string, key: string, prevAt: string, at: string): Promise<boolean> {
    const done = await this.db.update(Keys.idempotency(principal, scope, key), 'SET #at = :at', {
      condition: '#s = :pending AND #at = :prev',
      names: { '#at': 'at', '#s': 'state' },
      values: { ':at': at, ':prev': prevAt, ':pending': 'pending' },
    });
    return done !== undefined;
  }

  async complete(principal: string, scope: string, key: string, response: StoredResponse): Promise<StoredResponse> {
    const k = Keys.idempotency(principal, scope, key);
    const stored = await this.db.update(k, 'SET #s = :done, #st = :status, body = :body', {
      condition: 'attribute_exists(pk) AND #s <> :done',
      names: { '#s': 'state', '#st': 'status' },
      values: { ':done': 'done', ':status': response.status, ':body': JSON.stringify(response.body) },
    });
    if (stored) return response;
    // A twin stored its response first: that one is the answer.
    const it = await this.db.get(k);
    if (it?.state !== 'done') throw new Error('idempotency: record neither pending nor done');
    return { status: it.status as number, body: JSON.parse(it.body as string) };
  }
}
