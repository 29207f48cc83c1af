/**
 * Reconciliation's store adapter: finding every account and packet with a paged parallel Scan
 * (keys only, nothing kept but the ids), and writing the run's report, the "latest" copy and
 * one ops event per mismatch.
 */
import { dayKeyUtc8 } from '../domain/money';
import type { Mismatch } from '../domain/reconcile';
import type { Db } from './db';
import { OpsKeys } from './keys';

/** What one run found and concluded (also the report item, and the operator view's source). */
export interface ReconcileReport {
  runId: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  cutoff: string;
  ok: boolean;
  /** All mismatches found; `listed` holds at most the first 100 of them. */
  mismatches: number;
  listed: Mismatch[];
  checked: { accounts: number; ledgerEntries: number; packets: number; slots: number; transfers: number };
  /** Items read from the table (scan + queries + gets). */
  itemsRead: number;
  /** As of the cutoff, fen. */
  escrow: number;
  inTransit: number;
  balances: number;
  topups: number;
  scope: 'all' | 'scoped';
}

/** Ops events are kept as long as the audit log (compliance). */
const EVENT_RETENTION_S = 1_096 * 86_400;

export class DynamoReconcileStore {
  constructor(private readonly db: Db) {}

  /**
   * Every account with a ledger and every packet, by a parallel Scan of `segments` segments
   * returning keys only. Memory: the two id sets (what the run has to visit anyway).
   */
  async discover(segments = 4): Promise<{ accounts: Set<string>; packets: Set<string>; doneTopups: Set<string>; scanned: number }> {
    const accounts = new Set<string>();
    const packets = new Set<string>();
    const doneTopups = new Set<string>();
    let scanned = 0;
    await Promise.all(
      Array.from({ length: segments }, async (_, segment) => {
        let startKey: Record<string, unknown> | undefined;
        do {
          const page = await this.db.scan({
            projection: 'pk, sk, #state',
            filter: 'begins_with(pk, :ledger) OR sk = :packet OR (sk = :topup AND #state = :done)',
            names: { '#state': 'state' },
            values: { ':ledger': 'LEDGER#', ':packet': 'PACKET', ':topup': 'TOPUP', ':done': 'done' },
            segment,
            totalSegments: segments,
            ...(startKey ? { startKey } : {}),
          });
          scanned += page.scanned;
          for (const it of page.items) {
            if (it.pk.startsWith('LEDGER#')) accounts.add(it.pk.slice('LEDGER#'.length));
            else if (it.pk.startsWith('PKT#')) packets.add(it.pk.slice('PKT#'.length));
            else if (it.pk.startsWith('TOPUP#')) doneTopups.add(it.pk.slice('TOPUP#'.length));
          }
          startKey = page.lastKey;
        } while (startKey);
      }),
    );
    return { accounts, packets, doneTopups, scanned };
  }

  /** The report item, the latest copy, and one ops event per listed mismatch (ids are stable per run). */
  async save(report: ReconcileReport): Promise<void> {
    const item = { ...report, expiresAt: Math.ceil(Date.parse(report.finishedAt) / 1000) + EVENT_RETENTION_S };
    await this.db.put({ ...OpsKeys.reconReport(report.runId), ...item });
    await this.db.put({ ...OpsKeys.reconLatest, ...item });
    const day = dayKeyUtc8(Date.parse(report.finishedAt));
    for (let i = 0; i < report.listed.length; i++) {
      const m = report.listed[i]!;
      await this.db.put({
        pk: OpsKeys.eventPk(day),
        sk: OpsKeys.eventSk(report.finishedAt, `${report.runId}-${i}`),
        type: 'reconciliation_mismatch',
        runId: report.runId,
        ...m,
        expiresAt: item.expiresAt,
      });
    }
  }

  async latest(): Promise<ReconcileReport | undefined> {
    const it = await this.db.get(OpsKeys.reconLatest, false);
    if (!it) return undefined;
    const { pk: _pk, sk: _sk, expiresAt: _e, ...report } = it;
    return report as unknown as ReconcileReport;
  }

  /** Ops events of one UTC+8 day, oldest first. */
  async events(dayUtc8: string): Promise<Array<Mismatch & { runId: string; at: string }>> {
    const page = await this.db.query({ keyCondition: 'pk = :pk', values: { ':pk': OpsKeys.eventPk(dayUtc8) }, limit: 500 });
    return page.items.map((it) => ({ kind: it.kind, id: it.id, detail: it.detail, runId: it.runId, at: it.sk.slice(0, it.sk.indexOf('#')) }) as Mismatch & { runId: string; at: string });
  }
}
