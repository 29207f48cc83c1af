import { Keys } from './keys';
import type { Db, Item } from './db';
import { pageCursorOf, startKeyOf, type CursorScope } from './page-cursor';

/** A forward: a share code minted for a packet by someone (a node of the forwarding tree). */
export interface ForwardRecord {
  id: string;
  packetId: string;
  by: string;
  byName: string;
  parent?: string;
  at: string;
}

/**
 * The store port of forwards: the share codes minted for a packet (its forwarding tree) and
 * each account's count of them on that packet (the per-account bound).
 */
export interface ForwardStore {
  /** Records a forward unless its id exists; returns the stored one (the first `at` stays). */
  putForward(f: ForwardRecord): Promise<ForwardRecord>;
  /**
   * Counts forward `forwardId` against the account's bound on this packet: true when it is
   * counted (now or before — the same id never counts twice), false when the account already
   * has `max` others.
   */
  reserveForward(packetId: string, userId: string, forwardId: string, max: number): Promise<boolean>;
  /**
   * One page of a packet's forwards, in the table's order (by id): after the cursor `after` (the
   * last page's `next`; another packet's is VALIDATION_FAILED). `next` is absent on the last page.
   */
  forwardsPage(packetId: string, limit: number, after?: string): Promise<{ forwards: ForwardRecord[]; next?: string }>;
  /**
   * Refuses (VALIDATION_FAILED) a cursor that {@link forwardsPage} would refuse for this packet,
   * reading nothing: the view checks its input before the reads that decide whether the caller
   * sees the tree at all.
   */
  checkForwardsCursor(packetId: string, after: string | undefined): void;
}

function toForward(it: Item, packetId: string): ForwardRecord {
  return {
    id: it.id as string,
    packetId,
    by: it.by as string,
    byName: it.byName as string,
    at: it.at as string,
    ...(typeof it.parent === 'string' ? { parent: it.parent } : {}),
  };
}

/** The DynamoDB adapter of {@link ForwardStore}. */
export class DynamoForwardStore implements ForwardStore {
  constructor(private readonly db: Db) {}

  async putForward(f: ForwardRecord): Promise<ForwardRecord> {
    if (await this.db.put({ ...Keys.forward(f.packetId, f.id), ...f }, { condition: 'attribute_not_exists(pk)' }))
      return f;
    const stored = await this.db.get(Keys.forward(f.packetId, f.id));
    return stored ? toForward(stored, f.packetId) : f;
  }

  async reserveForward(packetId: string, userId: string, forwardId: string, max: number): Promise<boolean> {
    const key = Keys.forwardQuota(packetId, userId);
    const added = await this.db.update(key, 'ADD #ids :id', {
      condition: 'attribute_not_exists(#ids) OR contains(#ids, :one) OR size(#ids) < :max',
      names: { '#ids': 'ids' },
      values: { ':id': new Set([forwardId]), ':one': forwardId, ':max': max },
    });
    return added !== undefined;
  }

  async forwardsPage(packetId: string, limit: number, after?: string) {
    const startKey = startKeyOf(after, forwardsScope(packetId));
    const page = await this.db.query({
      keyCondition: 'pk = :pk',
      values: { ':pk': Keys.forwardsPk(packetId) },
      consistent: true,
      limit,
      ...(startKey ? { startKey } : {}),
    });
    const next = pageCursorOf(page.lastKey);
    return { forwards: page.items.map((it) => toForward(it, packetId)), ...(next ? { next } : {}) };
  }

  checkForwardsCursor(packetId: string, after: string | undefined): void {
    startKeyOf(after, forwardsScope(packetId));
  }
}

/** The list a forwards cursor belongs to: the packet's forwards partition. */
function forwardsScope(packetId: string): CursorScope {
  return { pk: Keys.forwardsPk(packetId) };
}
