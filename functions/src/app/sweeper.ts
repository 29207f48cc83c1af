import { Indexes, Keys, refOfPk } from '../store/keys';
import type { Item } from '../store/db';
import { iso } from './context';
import { log } from '../log';
import { observeSweep } from './ops';
import type { Deps } from './deps';
import { completeTopup, completeTransfer, fundPacket, settlePacket } from './settlement';
import { completeCampaign } from './campaigns';
import { sweepWithdrawal } from './withdrawals';
import { sweepPayment } from './payments';

export interface SweepReport {
  now: string;
  examined: number;
  packetsSettled: number;
  /** Settled packets with money left to refund (a fully claimed packet settles with none). */
  packetsRefunded: number;
  refunded: number;
  packetsActivated: number;
  packetsCanceled: number;
  transfersCompleted: number;
  topupsCompleted: number;
  campaignsCompleted: number;
  campaignsCanceled: number;
  /** Withdrawals that reached their end here (paid out, or their hold returned). */
  withdrawalsFinished?: number;
  /** WeChat Pay payments in that reached their end here (credited, or closed unpaid). */
  paymentsFinished?: number;
  errors: number;
}

const PAGE = 100;
const CONCURRENCY = 8;

/**
 * The refund sweeper and settlement step: everything in the due index (gsi1, sharded) whose
 * time has come — expired packets to refund, funding packets, transfers and top-ups a crash
 * left pending. Found by a Query per shard (never a scan, never TTL). Every action is
 * idempotent, so overlapping sweepers are safe: the work they share is done once.
 */
export async function sweep(d: Deps, nowMs: number): Promise<SweepReport> {
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
  };
  const due: Item[] = [];
  for (let shard = 0; shard < d.cfg.dueShards; shard++) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await d.db.query({
        index: Indexes.due,
        keyCondition: 'gsi1pk = :pk AND gsi1sk <= :until',
        values: { ':pk': Keys.dueShardPk(shard), ':until': Keys.dueUntil(iso(nowMs)) },
        limit: PAGE,
        ...(startKey ? { startKey } : {}),
      });
      due.push(...page.items);
      startKey = page.lastKey;
    } while (startKey);
  }
  report.examined = due.length;
  let next = 0;
  const worker = async () => {
    while (next < due.length) {
      const item = due[next++]!;
      try {
        await handle(d, item, nowMs, report);
      } catch (err) {
        report.errors++;
        log('error', 'sweep item failed', { kind: refOfPk(item.pk)?.kind, error: err instanceof Error ? err.message : 'unknown' });
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  // Refunds and the lag left behind (alarm: SweepLagSeconds > 300 s).
  await observeSweep(d, report.packetsRefunded, report.refunded, nowMs);
  return report;
}

async function handle(d: Deps, item: Item, nowMs: number, report: SweepReport) {
  const ref = refOfPk(item.pk);
  if (!ref) return;
  if (ref.kind === 'packet') {
    const p = await d.packets.get(ref.id);
    if (!p) return;
    if (p.state === 'funding') {
      const r = await fundPacket(d, p, true);
      if (r === 'canceled') report.packetsCanceled++;
      else report.packetsActivated++;
      return;
    }
    if (p.state === 'active' || p.state === 'settling') {
      const r = await settlePacket(d, ref.id, nowMs);
      if (r.settled) {
        report.packetsSettled++;
        if (r.refunded > 0) report.packetsRefunded++;
        report.refunded += r.refunded;
      }
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
    if (r === 'success' || r === 'returned' || r === 'closed') report.withdrawalsFinished = (report.withdrawalsFinished ?? 0) + 1;
    return;
  }
  if (ref.kind === 'payment') {
    const r = await sweepPayment(d, ref.id, nowMs);
    if (r === 'paid' || r === 'closed') report.paymentsFinished = (report.paymentsFinished ?? 0) + 1;
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
