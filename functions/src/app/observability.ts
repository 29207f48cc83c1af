/**
 * Observability of the running system: what every request and sweep reports (CloudWatch
 * metrics through EMF, and the live per-minute figures the operator view reads from the
 * table), and the operator view's answer itself.
 *
 * Why figures in the table as well as CloudWatch: the operator view must work on the local
 * stack too, and reading CloudWatch from a request would need IAM rights and seconds of latency.
 * Each Lambda instance adds its counters with one UpdateItem per minute touched, at most every
 * 5 s or when the minute turns (never one per claim: that would make a global hot key).
 */
import type { OpsResponse } from '../http/contract';
import { conditionalWriteStats } from '../store/db';
import { emptyCounts, type MinuteCounts, type OpsFiguresStore } from '../store/ops-figures';
import { bucketOf, mergeHistograms, quantile } from '../domain/histogram';
import { randomId } from '../domain/ids';
import { MINUTE_MS } from '../domain/time';
import { flushMetrics, metric, metricBy, MetricNames, MetricUnit } from '../metrics';
import { log } from '../log';
import type { Deps } from './deps';

const FLUSH_EVERY_MS = 5_000;
/** The longest window the figures can answer: they are kept two days (store/ops-figures.ts). */
const MAX_MINUTES = 2 * 24 * 60;
const minuteIso = (ms: number) => new Date(Math.floor(ms / MINUTE_MS) * MINUTE_MS).toISOString();

/**
 * A successful *first* claim: a repeat by the same account answers 200 too (with its share and
 * `repeat: true`), but it took nothing, so it is no claim for the figures or the metric.
 */
function isFirstClaim(route: string, status: number, body: unknown): boolean {
  return route === 'POST /v1/claims' && status === 200 && (body as { repeat?: unknown } | undefined)?.repeat !== true;
}

/** Options of an {@link OpsAggregator}: the process has one; tests make their own. */
export interface OpsAggregatorOptions {
  /** This instance's id in the figures' sort key (default: random, one per cold start). */
  instance?: string;
  /** Least time between two flushes on the real clock (default 5 s). */
  flushEveryMs?: number;
  /** The real clock: the domain clock is frozen or moved by tests, the flush rate must not be. */
  realNow?: () => number;
  /** The store's conditional-write counter (default: this process's, store/db.ts). */
  stats?: Readonly<{ writes: number; failures: number }>;
}

/**
 * The live operator figures of one Lambda instance: counts per clock minute, kept in memory and
 * added to the table with one UpdateItem (ADD) per minute touched, at most every 5 s or when the
 * minute turns — never one write per claim, which would make a global hot key.
 *
 * Flushing is skipped while `OPS_FIGURES=off` (tests that count store writes) unless forced.
 * A failed flush drops its counts and logs a warning: a retry could add a write that did land
 * twice, and these are operational figures, never money.
 */
export class OpsAggregator {
  readonly instance: string;
  private readonly flushEveryMs: number;
  private readonly realNow: () => number;
  private pending = new Map<string, MinuteCounts>();
  private lastFlush: number;
  /** The minute of the latest observation: older pending minutes are complete, flush them. */
  private currentMinute = '';
  private readonly stats: Readonly<{ writes: number; failures: number }>;
  private lastStats: { writes: number; failures: number };

  constructor(opts: OpsAggregatorOptions = {}) {
    this.instance = opts.instance ?? randomId('i');
    this.flushEveryMs = opts.flushEveryMs ?? FLUSH_EVERY_MS;
    this.realNow = opts.realNow ?? Date.now;
    this.lastFlush = this.realNow();
    this.stats = opts.stats ?? conditionalWriteStats;
    this.lastStats = { ...this.stats };
  }

  private at(nowMs: number): MinuteCounts {
    const key = minuteIso(nowMs);
    if (key > this.currentMinute) this.currentMinute = key;
    let c = this.pending.get(key);
    if (!c) this.pending.set(key, (c = emptyCounts()));
    return c;
  }

  /**
   * One request: its route pattern, status, duration and answer, and the store's conditional
   * writes since the last observation (the process-wide counter of store/db.ts: under
   * serverless-offline or in tests requests overlap, so a delta is shared out roughly, but the
   * minute's sum is exact).
   */
  request(route: string, status: number, ms: number, nowMs: number, body?: unknown): void {
    const c = this.at(nowMs);
    if (route === 'POST /v1/packets' && status === 201) c.packets++;
    if (isFirstClaim(route, status, body)) {
      c.claims++;
      c.latency[bucketOf(ms)]!++;
    }
    this.contention(c);
  }

  /** Packets refunded by a sweep. */
  refunds(n: number, nowMs: number): void {
    const c = this.at(nowMs);
    c.refunds += n;
    this.contention(c);
  }

  private contention(c: MinuteCounts): void {
    c.conditionalWrites += this.stats.writes - this.lastStats.writes;
    c.conditionalFailures += this.stats.failures - this.lastStats.failures;
    this.lastStats = { ...this.stats };
  }

  /** Whether a flush is due: 5 s passed on the real clock, or a pending minute is over. */
  private due(): boolean {
    if (this.pending.size === 0) return false;
    if (this.realNow() - this.lastFlush >= this.flushEveryMs) return true;
    for (const minute of this.pending.keys()) if (minute !== this.currentMinute) return true;
    return false;
  }

  /** Writes what is pending when due (or `force`: tests, a shutdown); never throws. */
  async flush(store: OpsFiguresStore, force = false): Promise<void> {
    if (!force && (process.env.OPS_FIGURES === 'off' || !this.due())) return;
    // Taken before the first await: an overlapping request finds nothing due and writes nothing.
    this.lastFlush = this.realNow();
    const batch = this.pending;
    this.pending = new Map();
    for (const [minute, counts] of batch) {
      try {
        await store.add(minute, this.instance, counts);
      } catch (err) {
        log('warn', 'ops figures not written', { minute, error: err instanceof Error ? err.message : 'unknown' });
      }
    }
  }
}

/** This process's aggregator (one per Lambda instance). */
export const figures = new OpsAggregator();

let lastMetricStats = { ...conditionalWriteStats };

/**
 * Called by the HTTP wrapper after every request: CloudWatch metrics (claims, claim latency,
 * contention, 5xx) and the live figures; then publishes. `d` is absent when the request failed
 * before its dependencies were built (the 5xx still counts). Never throws.
 */
export async function observeRequest(
  d: Pick<Deps, 'opsFigures'> | undefined,
  route: string,
  status: number,
  ms: number,
  nowMs: number,
  body?: unknown,
): Promise<void> {
  try {
    const writes = conditionalWriteStats.writes - lastMetricStats.writes;
    const failures = conditionalWriteStats.failures - lastMetricStats.failures;
    lastMetricStats = { ...conditionalWriteStats };
    if (isFirstClaim(route, status, body)) {
      metric(MetricNames.claims, MetricUnit.Count, 1);
      metric(MetricNames.claimLatency, MetricUnit.Milliseconds, ms);
    }
    if (writes > 0) metric(MetricNames.conditionalWrites, MetricUnit.Count, writes);
    if (failures > 0) metric(MetricNames.conditionalCheckFailed, MetricUnit.Count, failures);
    if (status >= 500) metric(MetricNames.http5xx, MetricUnit.Count, 1);
    figures.request(route, status, ms, nowMs, body);
    flushMetrics();
    if (d) await figures.flush(d.opsFigures);
  } catch (err) {
    log('warn', 'observability failed', { error: err instanceof Error ? err.message : 'unknown' });
  }
}

/**
 * Risk rule firings: the total (`RiskFirings`, dimension service) in the invocation's buffer,
 * and one line per rule under the dimension `rule` (7 fixed rule names: low cardinality).
 */
export function observeRiskFirings(rules: readonly string[]): void {
  if (rules.length === 0) return;
  metric(MetricNames.riskFirings, MetricUnit.Count, rules.length);
  const byRule = new Map<string, number>();
  for (const r of rules) byRule.set(r, (byRule.get(r) ?? 0) + 1);
  for (const [rule, n] of byRule) metricBy(MetricNames.riskFirings, MetricUnit.Count, n, 'rule', rule);
}

/**
 * Age of the oldest work in the due index whose time has come — an expired packet awaiting its
 * refund, a stale funding, a pending transfer or top-up: one Query of one item per due shard
 * (gsi1 is sorted by due time). 0 when nothing is due.
 *
 * Right after a sweep the index (eventually consistent) may still list an item just settled;
 * its age is at most a minute or two, far below the alarm's 300 s, so no false alarm.
 */
export async function oldestDueAgeSeconds(d: Pick<Deps, 'due' | 'cfg'>, nowMs: number): Promise<number> {
  const nowIso = new Date(nowMs).toISOString();
  const firsts = await Promise.all(
    Array.from({ length: d.cfg.dueShards }, (_, shard) => d.due.firstDue(shard, nowIso)),
  );
  let oldest = nowMs;
  for (const first of firsts) if (first) oldest = Math.min(oldest, Date.parse(first.dueAt));
  return Math.max(0, Math.floor((nowMs - oldest) / 1000));
}

/**
 * After a sweep: refunds (packets refunded, and fen) and the lag left behind, as metrics and
 * figures; then publishes. Never throws. When the lag query fails no lag is emitted: missing
 * data is what the sweep-lag alarm treats as breaching.
 */
export async function observeSweep(
  d: Pick<Deps, 'due' | 'cfg' | 'opsFigures'>,
  refunds: number,
  refundedFen: number,
  nowMs: number,
): Promise<void> {
  try {
    if (refunds > 0) {
      metric(MetricNames.refunds, MetricUnit.Count, refunds);
      metric(MetricNames.refundedFen, MetricUnit.Count, refundedFen);
      figures.refunds(refunds, nowMs);
    }
    metric(MetricNames.sweepLagSeconds, MetricUnit.Seconds, await oldestDueAgeSeconds(d, nowMs));
  } catch (err) {
    log('warn', 'observability failed', { error: err instanceof Error ? err.message : 'unknown' });
  }
  flushMetrics();
  await figures.flush(d.opsFigures);
}

/** What {@link opsFigures} answers: the live part of the operator view. */
export type OpsFigures = Pick<OpsResponse, 'minutes' | 'totals' | 'sweep'>;

/**
 * The live operator figures of the last `minutes` clock minutes up to `nowMs` (1 ≤ minutes ≤
 * 2,880, the figures' two-day lifetime): per-minute rows merged over every Lambda instance's
 * item, totals over the window (quantiles from the merged histograms, contention in basis
 * points) and the sweep lag. Reads one Query per UTC hour touched plus one per due shard.
 */
export async function opsFigures(
  d: Pick<Deps, 'due' | 'cfg' | 'opsFigures'>,
  nowMs: number,
  minutes: number,
): Promise<OpsFigures> {
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_MINUTES)
    throw new RangeError(`minutes must be an integer in 1..${MAX_MINUTES}`);
  const last = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
  const first = last - (minutes - 1) * MINUTE_MS;
  const [counts, lag] = await Promise.all([
    d.opsFigures.read(new Date(first).toISOString(), new Date(last).toISOString()),
    oldestDueAgeSeconds(d, nowMs),
  ]);
  const rows: OpsResponse['minutes'] = [];
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
    minutes: rows,
    totals: {
      packets: total.packets,
      claims: total.claims,
      claimP50Ms: quantile(total.latency, 0.5),
      claimP99Ms: quantile(total.latency, 0.99),
      // Integers only: failures × 10,000 ÷ conditional writes, rounded down.
      contentionBps:
        total.conditionalWrites === 0 ? 0 : Math.floor((total.conditionalFailures * 10_000) / total.conditionalWrites),
      refunds: total.refunds,
    },
    sweep: { oldestDueAgeSeconds: lag },
  };
}

/**
 * GET /v1/admin/ops — {@link opsFigures} at the domain clock's now, with the latest
 * reconciliation report.
 */
export async function opsView(
  d: Pick<Deps, 'due' | 'cfg' | 'opsFigures' | 'reconciliation' | 'now'>,
  minutes: number,
): Promise<OpsResponse> {
  const nowMs = d.now();
  const [live, recon] = await Promise.all([opsFigures(d, nowMs, minutes), d.reconciliation.latest()]);
  return {
    now: new Date(nowMs).toISOString(),
    ...live,
    reconciliation: recon
      ? {
          runId: recon.runId,
          startedAt: recon.startedAt,
          finishedAt: recon.finishedAt,
          durationMs: recon.durationMs,
          ok: recon.ok,
          mismatches: recon.mismatches,
          checked: {
            accounts: recon.checked.accounts,
            ledgerEntries: recon.checked.ledgerEntries,
            packets: recon.checked.packets,
            slots: recon.checked.slots,
          },
          escrow: recon.escrow,
          inTransit: recon.inTransit,
          balances: recon.balances,
          topups: recon.topups,
        }
      : null,
  };
}
