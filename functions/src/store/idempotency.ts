import { Keys } from './keys';
import type { Db } from './db';

export interface StoredResponse {
  status: number;
  body: unknown;
}

export type IdempotencyBegin =
  | { kind: 'new' }
  /** The first request started and did not record its response (in flight or crashed): re-run it. */
  | { kind: 'resume' }
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
  complete(principal: string, scope: string, key: string, response: StoredResponse): Promise<void>;
}

export class DynamoIdempotencyStore implements IdempotencyStore {
  constructor(private readonly db: Db) {}

  private judge(it: Record<string, unknown>, hash: string): IdempotencyBegin {
    if (it.hash !== hash) return { kind: 'mismatch' };
    if (it.state === 'done') return { kind: 'replay', response: { status: it.status as number, body: JSON.parse(it.body as string) } };
    return { kind: 'resume' };
  }

  /** Read-only look: lets a request answer a replay or mismatch before any check or write. */
  async peek(principal: string, scope: string, key: string, hash: string): Promise<IdempotencyBegin> {
    const it = await this.db.get(Keys.idempotency(principal, scope, key));
    return it ? this.judge(it, hash) : { kind: 'new' };
  }

  async begin(principal: string, scope: string, key: string, hash: string, at: string): Promise<IdempotencyBegin> {
    const k = Keys.idempotency(principal, scope, key);
    if (await this.db.put({ ...k, hash, state: 'pending', at }, { condition: 'attribute_not_exists(pk)' })) return { kind: 'new' };
    const it = await this.db.get(k);
    if (!it) throw new Error('idempotency: record vanished');
    return this.judge(it, hash);
  }

  async complete(principal: string, scope: string, key: string, response: StoredResponse): Promise<void> {
    await this.db.update(Keys.idempotency(principal, scope, key), 'SET #s = :done, #st = :status, body = :body', {
      names: { '#s': 'state', '#st': 'status' },
      values: { ':done': 'done', ':status': response.status, ':body': JSON.stringify(response.body) },
    });
  }
}
