/**
 * Observability of the running system: what every request and sweep reports (CloudWatch
 * metrics through EMF, and the live per-minute figures the operator view reads from the
 * table), and the operator view's answer itself.
 *
 * Why figures in the table as well as CloudWatch: the operator view must work on the local
 * stack too, and reading CloudWatch from a request would need IAM rights and seconds of latency.
 * Each Lambda instance adds its counters with one UpdateItem at most every 5 s (never one per
 * claim: that would make a global hot key).
 */
import { conditionalWriteStats, type Db } from '../store/db';
import { DynamoOpsFigures, emptyCounts, type MinuteCounts } from '../store/ops-figures';
import { DynamoReconcileStore } from '../store/reconcile';
import { Indexes, Keys } from '../store/keys';
import { bucketOf, mergeHistograms, quantile } from '../domain/histogram';
import { randomId } from '../domain/ids';
import { flushMetrics, metric, MetricNames, MetricUnit } from '../metrics';
import { log } from '../log';
import type { Deps } from './deps';

const MINUTE_MS = 60_000;
const FLUSH_EVERY_MS = 5_000;
const minuteIso = (ms: number) => new Date(Math.floor(ms / MINUTE_MS) * MINUTE_MS).toISOString();

/** Counts of this instance not yet written, by minute. */
class FiguresBuffer {
  readonly instance = randomId('i');
  private pending = new Map<string, MinuteCounts>();
  private lastFlush = Date.now();
  private lastStats = { ...conditionalWriteStats };

  private at(nowMs: number): MinuteCounts {
    const key = minuteIso(nowMs);
    let c = this.pending.get(key);
    if (!c) this.pending.set(key, (c = emptyCounts()));
    return c;
  }

  /** One request: its route, status and duration, and the store's contention since the last one. */
  request(route: string, status: number, ms: number, nowMs: number): void {
    const c = this.at(nowMs);
    if (route === 'POST /v1/packets' && status === 201) c.packets++;
    if (route === 'POST /v1/claims' && status === 200) {
      c.claims++;
      c.latency[bucketOf(ms)]!++;
    }
    this.contention(c);
  }

  refunds(n: number, nowMs: number): void {
    const c = this.at(nowMs);
    c.refunds += n;
    this.contention(c);
  }

  private contention(c: MinuteCounts): { writes: number; failures: number } {
    const writes = conditionalWriteStats.writes - this.lastStats.writes;
    const failures = conditionalWriteStats.failures - this.lastStats.failures;
    this.lastStats = { ...conditionalWriteStats };
    c.conditionalWrites += writes;
    c.conditionalFailures += failures;
    return { writes, failures };
  }

  /** Writes what is pending when 5 s passed (or `force`); never throws. */
  async flush(db: Db, force = false): Promise<void> {
    if (process.env.OPS_FIGURES === 'off' && !force) return;
    const now = Date.now();
    if (!force && now - this.lastFlush < FLUSH_EVERY_MS) return;
    this.lastFlush = now;
    const batch = this.pending;
    this.pending = new Map();
    const store = new DynamoOpsFigures(db);
    for (const [minute, counts] of batch) {
      try {
        await store.add(minute, this.instance, counts);
      } catch (err) {
        log('warn', 'ops figures not written', { error: err instanceof Error ? err.message : 'unknown' });
      }
    }
  }
}

/** This process's buffer (one per Lambda instance). */
export const figures = new FiguresBuffer();

let lastMetricStats = { ...conditionalWriteStats };

/**
 * Called by the HTTP wrapper after every request: CloudWatch metrics (claims, claim latency,
 * contention, 5xx) and the live figures; then publishes. Never throws.
 */
export async function observeRequest(db: Db, route: string, status: number, ms: number, nowMs: number): Promise<void> {
  try {
    const writes = conditionalWriteStats.writes - lastMetricStats.writes;
    const failures = conditionalWriteStats.failures - lastMetricStats.failures;
    lastMetricStats = { ...conditionalWriteStats };
    if (route === 'POST /v1/claims' && status === 200) {
      metric(MetricNames.claims, MetricUnit.Count, 1);
      metric(MetricNames.claimLatency, MetricUnit.Milliseconds, ms);
    }
    if (writes > 0) metric(MetricNames.conditionalWrites, MetricUnit.Count, writes);
    if (failures > 0) metric(MetricNames.conditionalCheckFailed, MetricUnit.Count, failures);
    if (status >= 500) metric(MetricNames.http5xx, MetricUnit.Count, 1);
    figures.request(route, status, ms, nowMs);
    flushMetrics();
    await figures.flush(db);
  } catch (err) {
    log('warn', 'observability failed', { error: err instanceof Error ? err.message : 'unknown' });
  }
}

/** Risk rule firings (one data point per firing). */
export function observeRiskFirings(rules: readonly string[]): void {
  if (rules.length > 0) metric(MetricNames.riskFirings, MetricUnit.Count, rules.length);
}

/**
 * Age of the oldest work in the due index whose time has come (an expired packet awaiting its
 * refund, or a pending transfer/top-up): one Query of one item per due shard.
 */
export async function oldestDueAgeSeconds(d: Pick<Deps, 'db' | 'cfg'>, nowMs: number): Promise<number> {
  const nowIso = new Date(nowMs).toISOString();
  const firsts = await Promise.all(
    Array.from({ length: d.cfg.dueShards }, (_, shard) =>
      d.db.query({ index: Indexes.due, keyCondition: 'gsi1pk = :pk AND gsi1sk <= :until', values: { ':pk': Keys.dueShardPk(shard), ':until': Keys.dueUntil(nowIso) }, limit: 1 }),
    ),
  );
  let oldest = nowMs;
  for (const p of firsts) {
    const sk = p.items[0]?.gsi1sk;
    if (typeof sk === 'string') oldest = Math.min(oldest, Date.parse(sk.slice(0, sk.indexOf('#'))));
  }
  return Math.max(0, Math.floor((nowMs - oldest) / 1000));
}

/** After a sweep: refunds and the lag that remains, as metrics and figures. */
export async function observeSweep(d: Pick<Deps, 'db' | 'cfg'>, refunds: number, refundedFen: number, nowMs: number): Promise<void> {
  try {
    if (refunds > 0) {
      metric(MetricNames.refunds, MetricUnit.Count, refunds);
      metric(MetricNames.refundedFen, MetricUnit.Count, refundedFen);
      figures.refunds(refunds, nowMs);
    }
    metric(MetricNames.sweepLagSeconds, MetricUnit.Seconds, await oldestDueAgeSeconds(d, nowMs));
    flushMetrics();
    await figures.flush(d.db);
  } catch (err) {
    log('warn', 'observability failed', { error: err instanceof Error ? err.message : 'unknown' });
  }
}

/** One minute of the operator view. */
export interface OpsMinute {
  minute: string;
  packets: number;
  claims: number;
  claimP50Ms: number | null;
  claimP99Ms: number | null;
  conditionalWrites: number;
  conditionalFailures: number;
  refunds: number;
}

/**
 * GET /v1/admin/ops — the last `minutes` clock minutes (oldest first, zeros where idle), totals
 * over them, the sweep lag and the latest reconciliation. Latency quantiles are bucket upper
 * bounds (domain/histogram.ts).
 */
export async function opsView(d: Pick<Deps, 'db' | 'cfg' | 'now'>, minutes: number) {
  const nowMs = d.now();
  const last = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
  const first = last - (minutes - 1) * MINUTE_MS;
  const [counts, lag, recon] = await Promise.all([
    new DynamoOpsFigures(d.db).read(new Date(first).toISOString(), new Date(last).toISOString()),
    oldestDueAgeSeconds(d, nowMs),
    new DynamoReconcileStore(d.db).latest(),
  ]);
  const rows: OpsMinute[] = [];
  let total = emptyCounts();
  for (let t = first; t <= last; t += MINUTE_MS) {
    const c = counts.get(new Date(t).toISOString()) ?? emptyCounts();
    total = {
      packets: total.packets + c.packets,
      claims: total.claims + c.claims,
      conditionalWrites: total.conditionalWrites + c.conditionalWrites,
      conditionalFailures: total.conditionalFailures + c.conditionalFailures,
      refunds: total.refunds + c.refunds,
      latency: mergeHistograms(total.latency, c.latency),
    };
    rows.push({
      minute: new Date(t).toISOString(),
      packets: c.packets,
      claims: c.claims,
      claimP50Ms: quantile(c.latency, 0.5),
      claimP99Ms: quantile(c.latency, 0.99),
      conditionalWrites: c.conditionalWrites,
      conditionalFailures: c.conditionalFailures,
      refunds: c.refunds,
    });
  }
  return {
    now: new Date(nowMs).toISOString(),
    minutes: rows,
    totals: {
      packets: total.packets,
      claims: total.claims,
      claimP50Ms: quantile(total.latency, 0.5),
      claimP99Ms: quantile(total.latency, 0.99),
      // Basis points, integers: failures × 10,000 ÷ conditional writes.
      contentionBps: total.conditionalWrites === 0 ? 0 : Math.floor((total.conditionalFailures * 10_000) / total.conditionalWrites),
      refunds: total.refunds,
    },
    sweep: { oldestDueAgeSeconds: lag },
    reconciliation: recon
      ? {
          runId: recon.runId,
          startedAt: recon.startedAt,
          finishedAt: recon.finishedAt,
          durationMs: recon.durationMs,
          ok: recon.ok,
          mismatches: recon.mismatches,
          checked: { accounts: recon.checked.accounts, ledgerEntries: recon.checked.ledgerEntries, packets: recon.checked.packets, slots: recon.checked.slots },
          escrow: recon.escrow,
          inTransit: recon.inTransit,
          balances: recon.balances,
          topups: recon.topups,
        }
      : null,
  };
}
