/**
 * Reconciliation (对账), the use case: continuous proof that no money is lost. Runs hourly
 * (functions/handlers/reconcile.ts) and on demand (`npm run reconcile`), without stopping
 * traffic. It reads every ledger and every packet, checks them (domain/reconcile.ts: the
 * cutoff that makes a live table consistent, and the memory bound, are explained there),
 * writes a report and one ops event per mismatch, and never repairs anything: a mismatch is for
 * a person, and the `ReconciliationMismatches` metric pages one.
 *
 * Order of a run:
 *   1. discover accounts, packets, claim markers (aggregated per packet) and top-up records with
 *      one parallel Scan — or take a scope (tests: a closed world inside a shared table);
 *   2. walk each account's ledger oldest first, a page at a time, `concurrency` accounts at once:
 *      chain and balance checks, and the per-packet / per-transfer / per-top-up aggregates;
 *   3. each packet: its slots, then its counters (> 100 shares), its item and share amounts; compare with the aggregates,
 *      and only where they differ read markers or credits one by one (recorded layout: its counters and their
 *      records in one read, and no markers: the records are the gate);
 *   4. transfers, top-ups, ledger entries of packets that do not exist, conservation as of T;
 *   5. save the report, the latest copy and the events.
 * Ledgers come before packets so that a slot read is never older than the ledger read that
 * should hold its credit (a credit is written after its slot).
 */
import { iso, FEE_ACCOUNTS } from './context';
import type { Deps } from './deps';
import {
  LedgerWalk,
  MoneyFacts,
  campaignPacketMoney,
  checkCampaign,
  checkConservation,
  emptyBag,
  checkPacket,
  checkTopups,
  checkTransfers,
  checkWithdrawals,
  lookupsNeeded,
  missingPackets,
  oldGranted,
  type Lookups,
  type Mismatch,
  type MismatchKind,
  type ReconcileClock,
} from '../domain/reconcile';
import { randomId } from '../domain/ids';
import { ShareLayouts, takenAcross } from '../domain/share-counters';
import { eachLimited, type Discovery, type ReconcileReader, type ReconcileReport } from '../store/reconcile';
import type { WeChatPay } from '../wechatpay/client';
import { outBillNoOf } from '../domain/withdrawals';
import { refundNoOf } from './refunds';

export interface ReconcileOptions {
  /**
   * Check only these accounts and packets (the fee ledgers are always added, counting only these
   * packets' fees). For tests in a shared table: conservation then holds only if the world is
   * closed (no money to or from accounts outside it). Without a scope the whole table is read.
   */
  scope?: {
    accounts: readonly string[];
    packets: readonly string[];
    campaigns?: readonly string[];
    withdrawals?: readonly string[];
    payments?: readonly string[];
  };
  /** T = start − margin; longer than any request's Lambda timeout (claims: 6 s). Default 60 s. */
  marginMs?: number;
  /** Half-done work older than this is a mismatch. Default 10 minutes. */
  graceMs?: number;
  /** Expired packets not settled this long after expiry are reported. Default 5 minutes. */
  sweepLagMs?: number;
  /** Accounts / packets read at once. Default 8. */
  concurrency?: number;
  /** Parallel Scan segments of the discovery. Default 4. */
  segments?: number;
  /** Write the report and events (default true). */
  save?: boolean;
  /** Sees every mismatch as it is found, beyond the report's list and the event cap. */
  onMismatch?: (m: Mismatch) => void;
}

/** Mismatches listed in the report item (it must stay far below DynamoDB's 400 KB). */
const LISTED = 100;
/** Ops events written per run at most; the report keeps the full count by kind. */
const EVENT_CAP = 1_000;

/** Runs one reconciliation and returns its report (saved unless `save: false`). */
export async function reconcile(
  d: Pick<Deps, 'reconciliation' | 'now'> & { wechatPay?: WeChatPay | undefined },
  opts: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const t0 = Date.now();
  const nowMs = d.now();
  const clock: ReconcileClock = {
    nowMs,
    cutoffIso: iso(nowMs - (opts.marginMs ?? 60_000)),
    graceMs: opts.graceMs ?? 10 * 60_000,
    sweepLagMs: opts.sweepLagMs ?? 5 * 60_000,
  };
  const store = d.reconciliation.reader();
  const concurrency = opts.concurrency ?? 8;

  const kept: Mismatch[] = [];
  const byKind: Partial<Record<MismatchKind, number>> = {};
  let total = 0;
  const report = (ms: readonly Mismatch[]) => {
    for (const m of ms) {
      opts.onMismatch?.(m);
      total++;
      byKind[m.kind] = (byKind[m.kind] ?? 0) + 1;
      if (kept.length < EVENT_CAP) kept.push(m);
    }
  };

  // 1. What to read.
  let found: Discovery;
  if (opts.scope) {
    found = {
      accounts: new Set(opts.scope.accounts),
      packets: new Set(opts.scope.packets),
      markers: new Map(),
      topups: new Map(),
      pendingPayments: new Set(opts.scope.payments ?? []),
    };
  } else found = await store.discover(clock.cutoffIso, opts.segments ?? 4);
  // Every fee ledger (the shards and the old single account): fees sum over all of them.
  for (const a of FEE_ACCOUNTS) found.accounts.add(a);
  // A scoped run counts only its own fees: its packets' and its campaigns' (`fee:camp:<id>`).
  const feeScope = opts.scope
    ? new Set([
        ...found.packets,
        ...(opts.scope.campaigns ?? []).map((c) => `camp:${c}`),
        ...(opts.scope.withdrawals ?? []).map((w) => `wd:${w}`),
      ])
    : undefined;
  const facts = new MoneyFacts(clock.cutoffIso, feeScope);
  for (const [id, record] of found.topups) facts.topups.set(id, { record });
  found.topups.clear();

  // 2. Ledgers.
  await eachLimited(found.accounts, concurrency, async (accountId) => {
    const walk = new LedgerWalk(accountId, facts);
    await store.eachLedgerPage(accountId, (entries) => {
      for (const e of entries) walk.push(e);
    });
    report(walk.mismatches);
  });
  report(facts.mismatches);
  if (opts.scope) {
    // No Scan saw the top-up records: read those of the credits found.
    await eachLimited(
      [...facts.topups].filter(([, t]) => !t.record),
      concurrency,
      async ([id, t]) => {
        const record = await store.topup(id);
        if (record) t.record = record;
      },
    );
  }

  // 3. Packets.
  let escrow = 0;
  let sharesInTransit = 0;
  let feesInTransit = 0;
  let refundsInTransit = 0;
  let refundsPaidOut = 0;
  /** Records not final here, to be asked of WeChat Pay (step 4). */
  const openRefunds: string[] = [];
  const pendingPayments = found.pendingPayments ?? new Set<string>();
  let slotCount = 0;
  let lookedUp = 0;
  let staleShares = 0;
  const campaignPackets = new Map<string, number>();
  await eachLimited(found.packets, concurrency, async (packetId) => {
    // Slots, then counters, then the item: a counter or the item is never older than a slot.
    // The first read only learns where the slots are (share count and counters are fixed).
    const head = await store.packet(packetId);
    if (!head) return; // never written (its ledger entries, if any, are reported below)
    const recorded = head.layout === ShareLayouts.recorded;
    const read = recorded ? await store.recordedCounters(packetId, head.counters ?? 1) : undefined;
    const slots = read?.slots ?? (await store.slots(packetId, head.count));
    const counters =
      read?.counters ?? (head.counters !== undefined ? await store.counters(packetId, head.counters) : undefined);
    const item = (await store.packet(packetId)) ?? head;
    // A packet paid directly: its refund to the payment, and its payment if still unpaid.
    const refund = item.funding === 'wechatpay' ? await store.refund(refundNoOf(packetId)) : undefined;
    if (refund && (refund.state === 'requested' || refund.state === 'processing')) openRefunds.push(refund.id);
    if (item.funding === 'wechatpay' && item.state === 'funding' && item.paymentId !== undefined)
      pendingPayments.add(item.paymentId);
    const input = {
      packet: {
        id: packetId,
        senderId: item.senderId,
        total: item.total,
        count: item.count,
        fee: item.fee ?? 0,
        state: item.state,
        claimed: counters ? takenAcross(counters) : item.claimed,
        counters,
        recorded,
        createdAt: item.createdAt,
        expiresAtMs: item.expiresAtMs,
        refundedAmount: item.refundedAmount,
        settledAt: item.settledAt,
        refund,
      },
      shares: await store.shares(packetId),
      slots,
    };
    let money = facts.packets.get(packetId);
    const campaignId = item.campaignId;
    if (campaignId) {
      // Funded by its campaign's one debit: check it against its share of that debit.
      money = {
        ...(money ?? { credits: emptyBag() }),
        ...campaignPacketMoney(facts.campaigns.get(campaignId), input.packet),
      };
      campaignPackets.set(campaignId, (campaignPackets.get(campaignId) ?? 0) + 1);
    }
    const need = lookupsNeeded(input, money, found.markers.get(packetId), clock.cutoffIso);
    const lookups: Lookups = {};
    if (need.markers || need.credits) {
      const old = oldGranted(slots, clock.cutoffIso);
      if (opts.scope === undefined || need.credits) lookedUp++;
      if (need.markers)
        lookups.markers = await store.markerHolders(
          packetId,
          old.map((s) => s.userId),
        );
      if (need.credits) lookups.credits = await store.claimCredits(packetId, old);
    }
    const outcome = checkPacket(input, money, lookups, clock);
    facts.packets.delete(packetId);
    found.markers.delete(packetId);
    report(outcome.mismatches);
    escrow += outcome.escrow;
    sharesInTransit += outcome.sharesInTransit;
    feesInTransit += outcome.feeInTransit;
    staleShares += outcome.staleShares;
    refundsInTransit += outcome.refundInTransit;
    refundsPaidOut += outcome.refundPaidOut;
    slotCount += slots.length;
  });

  // 4. Campaigns (their records by GetItem), across keys, then the platform.
  let campaignsInTransit = 0;
  const campaignIds = [
    ...new Set([...facts.campaigns.keys(), ...campaignPackets.keys(), ...(opts.scope?.campaigns ?? [])]),
  ];
  await eachLimited(campaignIds, concurrency, async (id) => {
    const c = checkCampaign(id, await store.campaign(id), facts.campaigns.get(id), campaignPackets.get(id) ?? 0, clock);
    report(c.mismatches);
    campaignsInTransit += c.inTransit;
  });
  const transfers = checkTransfers(facts, clock);
  report(transfers.mismatches);
  const topups = checkTopups(facts, clock);
  report(topups.mismatches);
  // Withdrawals: their records by GetItem (held money is in transit, a success is paid out).
  await eachLimited([...facts.withdrawals], concurrency, async ([id, m]) => {
    const record = await store.withdrawal(id);
    if (record) m.record = record;
  });
  const withdrawals = checkWithdrawals(facts, clock);
  report(withdrawals.mismatches);
  // In a scoped run, entries of packets outside the scope are someone else's (test worlds are
  // closed, so there are none in the totals).
  if (!opts.scope) report(missingPackets(facts, new Set()));
  const inTransitBy = {
    shares: sharesInTransit,
    transfers: transfers.inTransit,
    fees: feesInTransit,
    campaigns: campaignsInTransit,
    withdrawals: withdrawals.inTransit,
    refunds: refundsInTransit,
  };
  const paidOut = withdrawals.paidOut + refundsPaidOut;
  report(
    checkConservation({ balances: facts.balances, escrow, inTransit: inTransitBy, topups: topups.total, paidOut }),
  );
  // Records not final here, against WeChat Pay's own word.
  if (d.wechatPay) {
    const openWithdrawals = [...facts.withdrawals]
      .filter(([, m]) => m.record && !['success', 'failed', 'canceled'].includes(m.record.state))
      .map(([id]) => id);
    report(
      await askWeChatPay(
        d.wechatPay,
        store,
        { payments: [...pendingPayments], refunds: openRefunds, withdrawals: openWithdrawals },
        concurrency,
      ),
    );
  }

  // 5. The report.
  const durationMs = Date.now() - t0;
  const result: ReconcileReport = {
    runId: randomId('rc'),
    scope: opts.scope ? 'scoped' : 'all',
    startedAt: iso(nowMs),
    finishedAt: iso(nowMs + durationMs),
    durationMs,
    cutoff: clock.cutoffIso,
    ok: total === 0,
    mismatches: total,
    byKind,
    listed: kept.slice(0, LISTED),
    events: opts.save === false ? 0 : kept.length + (total > kept.length ? 1 : 0),
    checked: {
      accounts: found.accounts.size,
      ledgerEntries: facts.entries,
      entriesAfterCutoff: facts.entriesAfterCutoff,
      packets: found.packets.size,
      slots: slotCount,
      transfers: facts.transfers.size,
      topups: facts.topups.size,
      packetsLookedUp: lookedUp,
    },
    itemsRead: store.itemsRead,
    itemsPerSecond: Math.round((store.itemsRead * 1000) / Math.max(1, durationMs)),
    balances: facts.balances,
    escrow,
    inTransit:
      inTransitBy.shares +
      inTransitBy.transfers +
      inTransitBy.fees +
      inTransitBy.campaigns +
      inTransitBy.withdrawals +
      inTransitBy.refunds,
    inTransitBy,
    topups: topups.total,
    paidOut,
    staleShares,
  };
  if (opts.save !== false) await d.reconciliation.save(result, kept, total - kept.length);
  return result;
}

/** WeChat Pay's final states, by kind of record. */
const FINAL_AT_WECHAT = {
  payment: ['SUCCESS', 'REFUND', 'CLOSED', 'REVOKED'],
  refund: ['SUCCESS', 'ABNORMAL', 'CLOSED'],
  withdrawal: ['SUCCESS', 'FAIL', 'CANCELLED'],
} as const;

/**
 * Asks WeChat Pay about every record not final here (payments pending, refunds requested or
 * processing, withdrawals open), `concurrency` at a time. WeChat final while ours is still open
 * after the answer came (read again then, so a notification or sweep that just applied it is no
 * alarm) is a `wechatpay_state` mismatch: a lost notification the sweeper has not caught up with,
 * or a record that disagrees. Read-only: the sweeper applies what WeChat says.
 */
async function askWeChatPay(
  pay: WeChatPay,
  store: ReconcileReader,
  open: { payments: readonly string[]; refunds: readonly string[]; withdrawals: readonly string[] },
  concurrency: number,
): Promise<Mismatch[]> {
  const out: Mismatch[] = [];
  const isFinal = (kind: keyof typeof FINAL_AT_WECHAT, state: string) =>
    (FINAL_AT_WECHAT[kind] as readonly string[]).includes(state);
  const checks: Array<() => Promise<void>> = [
    ...open.payments.map((id) => async () => {
      const q = await pay.queryOrder(id);
      if (q.kind !== 'ok' || !isFinal('payment', q.transaction.state)) return;
      const ours = await store.paymentState(id);
      if (ours === 'pending')
        out.push({ kind: 'wechatpay_state', id, detail: `payment pending here, ${q.transaction.state} at WeChat Pay` });
    }),
    ...open.refunds.map((id) => async () => {
      const q = await pay.queryRefund(id);
      const ours = async () => (await store.refund(id))?.state;
      if (q.kind === 'not_found') {
        if ((await ours()) === 'processing')
          out.push({ kind: 'wechatpay_state', id, detail: 'refund processing here, unknown at WeChat Pay' });
        return;
      }
      if (q.kind !== 'ok' || !isFinal('refund', q.refund.status)) return;
      const now = await ours();
      if (now === 'requested' || now === 'processing')
        out.push({ kind: 'wechatpay_state', id, detail: `refund ${now} here, ${q.refund.status} at WeChat Pay` });
    }),
    ...open.withdrawals.map((id) => async () => {
      const q = await pay.queryTransfer(outBillNoOf(id));
      if (q.kind !== 'ok' || !isFinal('withdrawal', q.bill.state)) return;
      const now = (await store.withdrawal(id))?.state;
      if (now && !['success', 'failed', 'canceled'].includes(now))
        out.push({ kind: 'wechatpay_state', id, detail: `withdrawal ${now} here, ${q.bill.state} at WeChat Pay` });
    }),
  ];
  await eachLimited(checks, concurrency, (check) => check());
  return out;
}
