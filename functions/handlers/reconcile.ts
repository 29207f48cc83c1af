import { deps } from '../src/app/deps';
import { reconcile } from '../src/app/reconcile';
import { log } from '../src/log';
import { flushMetrics, metric, MetricNames, MetricUnit } from '../src/metrics';

/**
 * Hourly reconciliation (EventBridge schedule in serverless.yml). Emits
 * `ReconciliationMismatches` (the alarm fires on > 0) and logs the report's summary; the full
 * report and one ops event per mismatch are in the table.
 */
export async function handler(): Promise<{ ok: boolean; mismatches: number; runId: string }> {
  const report = await reconcile(deps());
  metric(MetricNames.reconciliationMismatches, MetricUnit.Count, report.mismatches);
  flushMetrics();
  const summary = { runId: report.runId, ok: report.ok, mismatches: report.mismatches, checked: report.checked, durationMs: report.durationMs, itemsRead: report.itemsRead };
  log(report.ok ? 'info' : 'error', 'reconciliation', { ...summary, kinds: [...new Set(report.listed.map((m) => m.kind))].join(',') });
  return { ok: report.ok, mismatches: report.mismatches, runId: report.runId };
}
