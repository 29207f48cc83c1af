/**
 * Reconciliation (对账), the use case: read every ledger and every packet, check them (domain/
 * reconcile.ts), write a report, an ops event per mismatch, and never repair anything — a
 * mismatch is for a person to look at, the alarm says so (metric ReconciliationMismatches).
 *
 * Order of a run:
 *   1. discover accounts and packets (parallel Scan, keys only);
 *   2. stream each account's ledger oldest first, page by page (bounded concurrency): chain
 *      checks, and the cross-account facts (claim credits, debits, fees, refunds, transfers);
 *   3. read each packet (item, shares, slots, the slot holders' markers) and check it against
 *      those facts;
 *   4. transfers, orphan credits, conservation as of the cutoff; 5. save the report.
 * Memory: the id sets and the facts maps — O(accounts + packets + claims + transfers) small
 * records; no ledger entry or slot is kept after it was checked.
 */
import { FEE_ACCOUNT } from './context';
import type { Deps } from './deps';
import {
  LedgerCheck,
  LedgerFacts,
  checkConservation,
  checkPacket,
  checkTransfers,
  orphanCredits,
  uncreditedTopups,
  type Mismatch,
  type ReconcileClock,
} from '../domain/reconcile';
import { randomId } from '../domain/ids';
import { DynamoReconcileStore, type ReconcileReport } from '../store/reconcile';

export interface ReconcileOptions {
  /** Check only these accounts and packets (tests: a closed world inside a shared table). */
  scope?: { accounts: readonly string[]; packets: readonly string[] };
  /** Totals as of now − margin (default 60 s: longer than any request's Lambda timeout). */
  marginMs?: number;
  graceMs?: number;
  sweepLagMs?: number;
  concurrency?: number;
  /** Write the report and events (default true). */
  save?: boolean;
  /** Mismatches listed in the report (default 100; the count is always complete). */
  listLimit?: number;
}

const LISTED = 100;

async function eachLimited<T>(items: Iterable<T>, limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  const it = items[Symbol.iterator]();
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let n = it.next(); !n.done; n = it.next()) await fn(n.value);
    }),
  );
}

/** Runs one reconciliation and returns its report (saved unless `save: false`). */
export async function reconcile(d: Pick<Deps, 'db' | 'wallets' | 'packets' | 'now'>, opts: ReconcileOptions = {}): Promise<ReconcileReport> {
  const started = Date.now();
  const nowMs = d.now();
  const clock: ReconcileClock = {
    nowMs,
    cutoffIso: new Date(nowMs - (opts.marginMs ?? 60_000)).toISOString(),
    graceMs: opts.graceMs ?? 10 * 60_000,
    sweepLagMs: opts.sweepLagMs ?? 5 * 60_000,
  };
  const store = new DynamoReconcileStore(d.db);
  const concurrency = opts.concurrency ?? 8;
  let itemsRead = 0;

  let accounts: Set<string>;
  let packets: Set<string>;
  let doneTopups: Set<string> = new Set();
  if (opts.scope) {
    accounts = new Set([...opts.scope.accounts, FEE_ACCOUNT]);
    packets = new Set(opts.scope.packets);
  } else {
    const found = await store.discover();
    accounts = found.accounts;
    packets = found.packets;
    doneTopups = found.doneTopups;
    itemsRead += found.scanned;
  }

  const facts = new LedgerFacts();
  const mismatches: Mismatch[] = [];
  const feeScope = opts.scope ? new Set(opts.scope.packets) : undefined;
  await eachLimited(accounts, concurrency, async (accountId) => {
    const check = new LedgerCheck(accountId, facts, clock, accountId === FEE_ACCOUNT ? feeScope : undefined);
    // (Not `itemsRead += await …`: that reads itemsRead before the await and loses concurrent adds.)
    const read = await d.wallets.eachPage(accountId, (entries) => entries.forEach((e) => check.push(e)));
    itemsRead += read;
    mismatches.push(...check.mismatches);
  });

  let escrow = 0;
  let inTransit = 0;
  let slots = 0;
  await eachLimited(packets, concurrency, async (packetId) => {
    const p = await d.packets.get(packetId);
    if (!p) return;
    const [shares, slotList] = await Promise.all([d.packets.shares(packetId), d.packets.slots(packetId)]);
    const holders = [...new Set(slotList.filter((s) => !s.void).map((s) => s.userId))];
    const markers = await Promise.all(holders.map((u) => d.packets.marker(packetId, u)));
    itemsRead += 2 + slotList.length + holders.length;
    slots += slotList.length;
    const outcome = checkPacket(
      {
        id: p.id,
        senderId: p.senderId,
        total: p.total,
        count: p.count,
        fee: p.fee,
        state: p.state,
        claimed: p.claimed,
        createdAt: p.createdAt,
        expiresAtMs: p.expiresAtMs,
        refundedAmount: p.refundedAmount,
        shares: shares?.amounts,
        slots: slotList,
        markers: new Set(holders.filter((_, i) => markers[i])),
      },
      facts,
      clock,
    );
    mismatches.push(...outcome.mismatches);
    escrow += outcome.escrowAtCutoff;
    inTransit += outcome.sharesInTransit + outcome.feeInTransit;
  });

  const transfers = checkTransfers(facts, clock);
  mismatches.push(...transfers.mismatches, ...orphanCredits(facts, packets), ...uncreditedTopups(doneTopups, facts));
  inTransit += transfers.inTransit;
  const totals = { balances: facts.balancesAtCutoff, escrow, inTransit, topups: facts.topupsAtCutoff };
  mismatches.push(...checkConservation(totals));

  const finished = Date.now();
  const report: ReconcileReport = {
    runId: randomId('rc'),
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    durationMs: finished - started,
    cutoff: clock.cutoffIso,
    ok: mismatches.length === 0,
    mismatches: mismatches.length,
    listed: mismatches.slice(0, opts.listLimit ?? LISTED),
    checked: { accounts: accounts.size, ledgerEntries: facts.entries, packets: packets.size, slots, transfers: facts.transferDebits.size },
    itemsRead,
    ...totals,
    scope: opts.scope ? 'scoped' : 'all',
  };
  if (opts.save !== false) await store.save(report);
  return report;
}
