import type { DueEntry } from '../store/due-index';
import { iso } from './context';
import { log } from '../log';
import { observeSweep } from './observability';
import type { Deps } from './deps';
import {
  completeTopup,
  completeTransfer,
  fundPacket,
  settlePacket,
  type Budget,
  type SettleResult,
} from './settlement';
import { completeCampaign } from './campaigns';
import { sweepWithdrawal } from './withdrawals';
import { sweepPayment } from './payments';
import { sweepRefund } from './refunds';
import { deliverNotification, SWEEP_TIMEOUT_MS } from './notifications';
import type { SweepReport } from '../http/contract';

/** What one run did (the HTTP route answers it as is). */
export type { SweepReport };

/** What one run may spend. Without a budget a run goes on until nothing due is left. */
export interface SweepOptions {
  /** Time this run may take, in ms of `clock`. */
  budgetMs?: number;
  /** A monotonic clock in ms (default: performance.now); tests inject one they control. */
  clock?: () => number;
}

const CONCURRENCY = 8;
/**
 * Work starts only in the first 3/4 of the budget: the last quarter is for what is in flight
 * then (a request, or for a packet being settled one request per counter of its step and the
 * credits already started — settlement checks the budget before each request) and the closing
 * metric writes.
 */
const START_FRACTION = 0.75;
/** A slice of the budget one item may take before it goes back to the end of the queue. */
const SLICE_FRACTION = 0.125;

/**
 * The refund sweeper and settlement step: everything in the due index (gsi1, sharded) whose
 * time has come — expired packets to refund, funding packets, transfers and top-ups a crash
 * left pending, payments, withdrawals and refunds to WeChat Pay not final yet, subscribe
 * messages whose delivery is due again. Found by a Query per shard (never a scan, never TTL). Every action is
 * idempotent, so overlapping sweepers are safe: the work they share is done once.
 *
 * With a budget, the run is fair and bounded: items are taken in due order by
 * {@link CONCURRENCY} workers; a packet settles for at most a slice of the budget, and if it is
 * not done it goes back to the end of the queue (its progress is stored on the packet), so
 * one 10,000-share packet at the head of the queue never holds up the refunds, transfers and
 * top-ups behind it. No new work starts after 3/4 of the budget; what is not finished stays
 * due and the report says how much.
 */
export async function sweep(d: Deps, nowMs: number, opts: SweepOptions = {}): Promise<SweepReport> {
  const clock = opts.clock ?? (() => performance.now());
  const started = clock();
  const budgetMs = opts.budgetMs;
  const stopAt = budgetMs === undefined ? Infinity : started + budgetMs * START_FRACTION;
  const sliceMs = budgetMs === undefined ? Infinity : budgetMs * SLICE_FRACTION;
  const more = () => clock() < stopAt;
  // A message's send is bounded by what is left of the budget (at least its last quarter when
  // it starts), so a hanging WeChat cannot hold the run past its end.
  const endAt = budgetMs === undefined ? Infinity : started + budgetMs;
  const sendTimeout = () => Math.max(1, Math.min(SWEEP_TIMEOUT_MS, endAt - clock()));
  const report: SweepReport = {
    now: iso(nowMs),
    examined: 0,
    packetsSettled: 0,
    packetsRefunded: 0,
    refunded: 0,
    packetsActivated: 0,
    packetsCanceled: 0,
    transfersCompleted: 0,
    topupsCompleted: 0,
    campaignsCompleted: 0,
    campaignsCanceled: 0,
    errors: 0,
    ...(budgetMs !== undefined ? { budgetMs } : {}),
    elapsedMs: 0,
    outOfBudget: false,
    left: 0,
    settling: [],
  };
  const queue: DueEntry[] = [];
  for (let shard = 0; shard < d.cfg.dueShards; shard++) queue.push(...(await d.due.dueBy(shard, iso(nowMs))));
  // Oldest due first, across shards.
  queue.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
  report.examined = queue.length;
  /** Settlement progress of the packets left part-way, by their entry (one per packet). */
  const progress = new Map<DueEntry, { verified: number; of: number }>();
  const worker = async () => {
    while (queue.length > 0 && more()) {
      const item = queue.shift()!;
      const sliceEnd = clock() + sliceMs;
      const slice: Budget = { step: () => more() && clock() < sliceEnd, work: more };
      try {
        const pending = await handle(d, item, nowMs, report, slice, sendTimeout);
        if (pending) {
          progress.set(item, pending);
          queue.push(item);
        } else progress.delete(item);
      } catch (err) {
        report.errors++;
        log('error', 'sweep item failed', {
          kind: item.ref?.kind,
          error: err instanceof Error ? err.message : 'unknown',
        });
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  report.left = queue.length;
  report.outOfBudget = queue.length > 0;
  report.settling = [...progress].map(([entry, pr]) => ({ packetId: entry.ref?.id ?? '', ...pr }));
  // Refunds and the lag left behind (alarm: SweepLagSeconds > 300 s).
  await observeSweep(d, report.packetsRefunded, report.refunded, nowMs);
  report.elapsedMs = Math.round(clock() - started);
  return report;
}

/** Handles one due item; for a packet the budget ran out on, its settlement progress. */
async function handle(
  d: Deps,
  item: DueEntry,
  nowMs: number,
  report: SweepReport,
  budget: Budget,
  sendTimeout: () => number,
): Promise<SettleResult['pending']> {
  const ref = item.ref;
  if (!ref) return;
  if (ref.kind === 'notification') {
    const r = await deliverNotification(d, ref.id, nowMs, sendTimeout());
    if (r === 'sent') report.notificationsSent = (report.notificationsSent ?? 0) + 1;
    if (r === 'dropped') report.notificationsDropped = (report.notificationsDropped ?? 0) + 1;
    if (r === 'failed') report.notificationsGivenUp = (report.notificationsGivenUp ?? 0) + 1;
    if (r === 'retry') report.notificationsRetried = (report.notificationsRetried ?? 0) + 1;
    return;
  }
  if (ref.kind === 'packet') {
    // The item alone: its state decides, and its claims' progress (a read of every counter) is
    // not needed here — settlement reads each counter as it closes it.
    const p = await d.packets.item(ref.id);
    if (!p) return;
    if (p.state === 'funding') {
      const r = await fundPacket(d, p, true);
      if (r === 'canceled') report.packetsCanceled++;
      else report.packetsActivated++;
      return;
    }
    if (p.state === 'active' || p.state === 'settling') {
      const r = await settlePacket(d, ref.id, nowMs, budget);
      if (r.settled) {
        report.packetsSettled++;
        if (r.refunded > 0) report.packetsRefunded++;
        report.refunded += r.refunded;
      }
      return r.pending;
    }
    return;
  }
  if (ref.kind === 'campaign') {
    const r = await completeCampaign(d, ref.id);
    if (r === 'active') report.campaignsCompleted++;
    if (r === 'canceled') report.campaignsCanceled++;
    return;
  }
  if (ref.kind === 'withdrawal') {
    const r = await sweepWithdrawal(d, ref.id, nowMs);
    if (r === 'success' || r === 'returned' || r === 'closed')
      report.withdrawalsFinished = (report.withdrawalsFinished ?? 0) + 1;
    return;
  }
  if (ref.kind === 'payment') {
    const r = await sweepPayment(d, ref.id, nowMs);
    if (r === 'paid' || r === 'closed') report.paymentsFinished = (report.paymentsFinished ?? 0) + 1;
    return;
  }
  if (ref.kind === 'refund') {
    const r = await sweepRefund(d, ref.id);
    if (r === 'success' || r === 'returned') report.refundsFinished = (report.refundsFinished ?? 0) + 1;
    return;
  }
  if (ref.kind === 'transfer') {
    const t = await d.movements.transfer(ref.id);
    if (t?.state === 'pending' && (await completeTransfer(d, t, true)) === 'done') report.transfersCompleted++;
    return;
  }
  const t = await d.movements.topup(ref.id);
  if (t?.state === 'pending' && (await completeTopup(d, t, true)) === 'done') report.topupsCompleted++;
}
