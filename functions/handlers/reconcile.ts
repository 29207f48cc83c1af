import { deps } from '../src/app/deps';
import { reconcile } from '../src/app/reconcile';
import { log } from '../src/log';
import { flushMetrics, metric, MetricNames, MetricUnit } from '../src/metrics';

/**
 * Hourly reconciliation (EventBridge schedule): reads the whole table, writes its report
 * (`OPSRECON#<run>` and the latest copy `OPS / RECON#LATEST`) and one ops event per mismatch,
 * repairs nothing. Emits `ReconciliationMismatches` (namespace HongbaoCodes, service
 * hongbao-codes; the alarm fires on > 0) and logs the summary.
 *
 * DynamoDB actions (its IAM role): Scan (table), Query (table and index gsi2), GetItem, PutItem.
 */
export async function handler(): Promise<{ ok: boolean; mismatches: number; runId: string }> {
  const report = await reconcile(deps());
  metric(MetricNames.reconciliationMismatches, MetricUnit.Count, report.mismatches);
  flushMetrics();
  const {
    runId,
    ok,
    mismatches,
    byKind,
    checked,
    durationMs,
    itemsRead,
    itemsPerSecond,
    cutoff,
    balances,
    escrow,
    inTransit,
    topups,
  } = report;
  log(ok ? 'info' : 'error', 'reconciliation', {
    runId,
    ok,
    mismatches,
    byKind,
    checked,
    durationMs,
    itemsRead,
    itemsPerSecond,
    cutoff,
    balances,
    escrow,
    inTransit,
    topups,
  });
  return { ok, mismatches, runId };
}
