/**
 * The due index (gsi1, sharded `DUE#<shard>` / `<dueAt>#<id>`): the work whose time has come —
 * expired packets to refund, stale fundings, pending transfers and top-ups, payments, refunds
 * and withdrawals to WeChat Pay not final yet, subscribe messages due again. Items enter and
 * leave it through their own stores; this port only reads it (the sweeper, the operator view).
 *
 * DynamoDB actions: Query (index gsi1).
 */
import type { Db } from './db';
import { Indexes, Keys, parseTimeKey, refOfPk, type ItemRef } from './keys';

/** One entry of the due index. */
export interface DueEntry {
  /** What it points at; undefined for an item kind the sweeper does not know. */
  ref: ItemRef | undefined;
  /** When it fell due (ISO). */
  dueAt: string;
  /** Sorts entries in due order across shards (the index's own order within one). */
  order: string;
}

/** Reads of the due index. */
export interface DueIndex {
  /** Every entry of one shard due at or before `nowIso`, oldest first (read a page at a time). */
  dueBy(shard: number, nowIso: string): Promise<DueEntry[]>;
  /** The oldest entry of one shard due at or before `nowIso`, if any (one Query of one item). */
  firstDue(shard: number, nowIso: string): Promise<DueEntry | undefined>;
}

/** Entries per Query page of a sweep. */
const PAGE = 100;

/** The {@link DueIndex} on the table's gsi1. */
export class DynamoDueIndex implements DueIndex {
  constructor(private readonly db: Db) {}

  async dueBy(shard: number, nowIso: string): Promise<DueEntry[]> {
    const out: DueEntry[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.query({
        ...this.range(shard, nowIso),
        limit: PAGE,
        ...(startKey ? { startKey } : {}),
      });
      out.push(...page.items.map(entryOf));
      startKey = page.lastKey;
    } while (startKey);
    return out;
  }

  async firstDue(shard: number, nowIso: string): Promise<DueEntry | undefined> {
    const page = await this.db.query({ ...this.range(shard, nowIso), limit: 1 });
    return page.items[0] ? entryOf(page.items[0]) : undefined;
  }

  private range(shard: number, nowIso: string) {
    return {
      index: Indexes.due,
      keyCondition: 'gsi1pk = :pk AND gsi1sk <= :until',
      values: { ':pk': Keys.dueShardPk(shard), ':until': Keys.dueUntil(nowIso) },
    };
  }
}

function entryOf(it: Record<string, unknown> & { pk: string }): DueEntry {
  const order = String(it.gsi1sk);
  return { ref: refOfPk(it.pk), dueAt: parseTimeKey(order).at, order };
}
