/**
 * The audit log in the single table: one partition per account (`AUDIT#<account>`), sort key
 * the dense sequence number (keys: store/keys.ts `AuditKeys`).
 *
 * Appending record n+1 is a put with `attribute_not_exists(pk)`, as the ledger does: two
 * writers cannot both take seq n+1, the loser reads the new tail and tries n+2, so the chain
 * stays dense and each record links to the one that really precedes it. Records are never
 * updated by this module; `expiresAt` (`Attr.ttl`, epoch seconds, 3 years) is the table's TTL
 * attribute (infra/table.json), so AWS deletes them after 3 years (up to 48 h late; nothing
 * reads the attribute).
 */
import {
  AUDIT_OWN_WINDOW_MS,
  AUDIT_RETENTION_MS,
  auditDetails,
  nextRecord,
  isAuditType,
  type AuditDetails,
  type AuditRecord,
  type AuditType,
} from '../domain/audit';
import { queryAll, type Db, type Item } from './db';
import { Attr, AuditKeys, parseSeqKey } from './keys';
import { pageCursorOf, startKeyOf } from './page-cursor';

export interface AuditEntry {
  type: AuditType;
  atMs: number;
  /** Passed through `auditDetails`: secrets dropped, account and device ids masked. */
  details?: Record<string, unknown>;
}

export interface AuditPage {
  records: AuditRecord[];
  /** The cursor of the next page (resume with `after`); present when older records of the window remain. */
  next?: string;
  /** With `next`: the sequence number of the last record read (resume with `afterSeq`). */
  lastSeq?: number;
}

/** The store port of the audit log. */
export interface AuditStore {
  /** Appends one record to the account's chain; returns it as stored. */
  append(accountId: string, entry: AuditEntry): Promise<AuditRecord>;
  /** The newest record, if any. */
  tail(accountId: string): Promise<AuditRecord | undefined>;
  /** The whole chain, oldest first (for verification). */
  chain(accountId: string): Promise<AuditRecord[]>;
  /** Records of the last `windowMs` (default 30 days) before `nowMs`, newest first, paged. */
  recent(
    accountId: string,
    opts: { nowMs: number; limit?: number; after?: string; windowMs?: number },
  ): Promise<AuditPage>;
  /**
   * Records with from ≤ at ≤ to, newest first, paged (see the adapter for page semantics):
   * after the cursor `after` (the last page's `next`; another account's is VALIDATION_FAILED), or
   * after the record `afterSeq`.
   */
  between(
    accountId: string,
    opts: { fromMs: number; toMs: number; limit?: number; after?: string; afterSeq?: number },
  ): Promise<AuditPage>;
}

export function recordOf(it: Item): AuditRecord {
  return {
    accountId: it.accountId as string,
    seq: parseSeqKey(it.sk),
    at: it.at as string,
    type: it.type as AuditType,
    details: (it.details as AuditDetails) ?? {},
    prevHash: it.prevHash as string,
    hash: it.hash as string,
  };
}

export class DynamoAuditStore implements AuditStore {
  constructor(private readonly db: Db) {}

  async tail(accountId: string): Promise<AuditRecord | undefined> {
    const page = await this.db.query({
      keyCondition: 'pk = :pk',
      values: { ':pk': AuditKeys.pk(accountId) },
      forward: false,
      limit: 1,
      consistent: true,
    });
    return page.items[0] ? recordOf(page.items[0]) : undefined;
  }

  async append(accountId: string, entry: AuditEntry): Promise<AuditRecord> {
    if (!isAuditType(entry.type)) throw new RangeError(`audit: unknown record type ${String(entry.type)}`);
    const at = new Date(entry.atMs).toISOString();
    const details = auditDetails(entry.details);
    let prev = await this.tail(accountId);
    for (let attempt = 0; attempt < 200; attempt++) {
      const record = nextRecord(accountId, prev, { type: entry.type, at, details });
      const { seq: _seq, ...attrs } = record;
      const written = await this.db.put(
        {
          ...AuditKeys.record(accountId, record.seq),
          ...attrs,
          [Attr.ttl]: Math.ceil((entry.atMs + AUDIT_RETENTION_MS) / 1000),
        },
        { condition: 'attribute_not_exists(pk)' },
      );
      if (written) return record;
      // Another writer took this seq: read the new tail and link after it.
      if (attempt > 1) await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 3 * attempt)));
      prev = await this.tail(accountId);
    }
    throw new Error('audit: too much contention on one chain');
  }

  async chain(accountId: string): Promise<AuditRecord[]> {
    const items = await queryAll(this.db, {
      keyCondition: 'pk = :pk',
      values: { ':pk': AuditKeys.pk(accountId) },
      consistent: true,
    });
    return items.map(recordOf);
  }

  async recent(
    accountId: string,
    opts: { nowMs: number; limit?: number; after?: string; windowMs?: number },
  ): Promise<AuditPage> {
    return this.between(accountId, {
      fromMs: opts.nowMs - (opts.windowMs ?? AUDIT_OWN_WINDOW_MS),
      toMs: opts.nowMs,
      ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      ...(opts.after ? { after: opts.after } : {}),
    });
  }

  /**
   * Newest first; the sequence follows append order, which follows time, so a page skips records
   * newer than `toMs` and stops at the first record older than `fromMs` (then reports no further
   * page). One Query of at most `limit` items per call: a page may hold fewer records than
   * `limit` (even none) and still have a `next`.
   */
  async between(
    accountId: string,
    opts: { fromMs: number; toMs: number; limit?: number; after?: string; afterSeq?: number },
  ): Promise<AuditPage> {
    const startKey =
      opts.afterSeq !== undefined
        ? AuditKeys.record(accountId, opts.afterSeq)
        : startKeyOf(opts.after, { pk: AuditKeys.pk(accountId) });
    const since = new Date(opts.fromMs).toISOString();
    const until = new Date(opts.toMs).toISOString();
    const page = await this.db.query({
      keyCondition: 'pk = :pk',
      values: { ':pk': AuditKeys.pk(accountId) },
      forward: false,
      limit: Math.min(Math.max(opts.limit ?? 50, 1), 200),
      ...(startKey ? { startKey } : {}),
    });
    const records: AuditRecord[] = [];
    for (const it of page.items) {
      const r = recordOf(it);
      if (r.at < since) return { records };
      if (r.at <= until) records.push(r);
    }
    return {
      records,
      ...(page.lastKey ? { next: pageCursorOf(page.lastKey)!, lastSeq: parseSeqKey(String(page.lastKey.sk)) } : {}),
    };
  }
}
