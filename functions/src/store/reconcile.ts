/**
 * Reconciliation's ports and their adapters: a {@link ReconcileReader} per run streams what the
 * run reads — a paged, parallel Scan to discover accounts, packets, claim markers and top-up
 * records; each ledger and each packet's slots by Query, a page at a time — and the
 * {@link ReconcileStore} writes what it concludes: one report item per run, the "latest" copy,
 * one ops event per mismatch. Nothing else is written: a run repairs nothing.
 *
 * Reads go around the app's stores on purpose: DynamoPacketStore caches share lists and packets
 * for the claim path, and a whole-table pass must not fill a warm function's caches.
 *
 * DynamoDB actions: Scan, Query (table, and index gsi2 for the rare credit look-ups), GetItem,
 * BatchGetItem (share counters), PutItem.
 */
import { dayKeyUtc8, type Fen } from '../domain/money';
import { counterCount, type CounterState } from '../domain/share-counters';
import { recordEntriesOf } from './recorded';
import { toCounter } from './packets';
import {
  addToBag,
  emptyBag,
  holderFp,
  type Bag,
  type CampaignFacts,
  type LedgerLine,
  type Mismatch,
  type MismatchKind,
  type RefundFact,
  type SlotFact,
  type TopupFact,
  type WithdrawalFact,
} from '../domain/reconcile';
import { queryAll, type Db, type Item } from './db';
import { ItemSk, Keys, OpsKeys, PkPrefix, accountOfPk, claimMarkerOf, parseTimeKey, refOfPk, seqKey } from './keys';
import { toEntry } from './ledger';

/** What one run checked and concluded: the report item, and what the operator view reads. */
export interface ReconcileReport {
  runId: string;
  /** 'all': the whole table (discovered by Scan); 'scoped': given accounts and packets (tests). */
  scope: 'all' | 'scoped';
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Cross-item checks and totals are as of this time (run start − margin). */
  cutoff: string;
  ok: boolean;
  /** Every mismatch found (the count is complete; `listed` holds the first 100). */
  mismatches: number;
  byKind: Partial<Record<MismatchKind, number>>;
  listed: Mismatch[];
  /** Ops events written (one per mismatch, up to a cap, plus one saying how many were left out). */
  events: number;
  checked: {
    accounts: number;
    ledgerEntries: number;
    /** Entries dated after the cutoff: chain-checked, left out of the totals (the next run's). */
    entriesAfterCutoff: number;
    packets: number;
    slots: number;
    transfers: number;
    topups: number;
    /** Packets whose aggregates differed, so their markers or credits were read one by one. */
    packetsLookedUp: number;
  };
  /** Items read (scanned, queried, got) and the rate. */
  itemsRead: number;
  itemsPerSecond: number;
  /** As of the cutoff, fen: Σ balances + escrow + in transit = top-ups. */
  balances: Fen;
  escrow: Fen;
  /** Money in transit, in total (the operator view shows it) and by kind. */
  inTransit: Fen;
  inTransitBy: { shares: Fen; transfers: Fen; fees: Fen; campaigns: Fen; withdrawals?: Fen; refunds?: Fen };
  topups: Fen;
  /** Withdrawals paid out and refunds paid back by WeChat Pay (conservation: … = top-ups − paid out). */
  paidOut?: Fen;
  /** Shares uncredited longer than the grace on packets not yet due (in transit, not mismatches). */
  staleShares: number;
}

/** What the discovery Scan found. Memory: ids and one small aggregate per packet and top-up. */
export interface Discovery {
  accounts: Set<string>;
  packets: Set<string>;
  /** Claim markers dated ≤ T per packet, as a multiset of holders. */
  markers: Map<string, Bag>;
  topups: Map<string, TopupFact>;
  /** WeChat Pay payments still pending (whole-table runs; asked of WeChat Pay when configured). */
  pendingPayments?: Set<string>;
}

/** A packet's item as reconciliation checks it (the fields as stored, nothing derived). */
export interface PacketFacts {
  senderId: string;
  total: Fen;
  count: number;
  /** Share counters of a packet of > 100 shares; undefined when it counts on its own item. */
  counters: number | undefined;
  /** `recorded`: its counters record their takers (store/recorded.ts); absent: slot items. */
  layout: string | undefined;
  fee: Fen | undefined;
  state: string;
  /** Claims counted on the packet item (packets of ≤ 100 shares). */
  claimed: number;
  createdAt: string;
  expiresAtMs: number;
  refundedAmount: Fen | undefined;
  settledAt: string | undefined;
  /** How it is funded: 'wechatpay' for a packet paid directly. */
  funding: string | undefined;
  /** Its WeChat Pay payment (a packet paid directly). */
  paymentId: string | undefined;
  campaignId: string | undefined;
}

function packetFactsOf(it: Item): PacketFacts {
  return {
    senderId: it.senderId as string,
    total: it.total as number,
    count: it.count as number,
    counters: typeof it.counters === 'number' ? it.counters : undefined,
    layout: typeof it.layout === 'string' ? it.layout : undefined,
    fee: it.fee as number | undefined,
    state: it.state as string,
    claimed: it.claimed as number,
    createdAt: it.createdAt as string,
    expiresAtMs: it.expiresAtMs as number,
    refundedAmount: it.refundedAmount as number | undefined,
    settledAt: it.settledAt as string | undefined,
    funding: typeof it.funding === 'string' ? it.funding : undefined,
    paymentId: typeof it.paymentId === 'string' ? it.paymentId : undefined,
    campaignId: it.campaignId as string | undefined,
  };
}

/** An ops event as stored: a mismatch of a run (or the note that some were not written). */
export type OpsEvent = Mismatch & {
  runId: string;
  at: string;
  type: 'reconciliation_mismatch' | 'reconciliation_truncated' | 'refund_fallback';
};

/** Reports and ops events are kept as long as the audit log (3 years). */
const RETENTION_S = 1_096 * 86_400;

/**
 * What one reconciliation run reads, in the order of a run (app/reconcile.ts). One reader per
 * run: it counts the items it read, the run's cost.
 */
export interface ReconcileReader {
  /** Items read through this reader so far. */
  readonly itemsRead: number;
  discover(cutoffIso: string, segments?: number): Promise<Discovery>;
  eachLedgerPage(accountId: string, onPage: (entries: LedgerLine[]) => void): Promise<number>;
  slots(packetId: string, count: number): Promise<SlotFact[]>;
  counters(packetId: string, n: number): Promise<CounterState[]>;
  /**
   * Recorded layout: the counters and the slots they record, from one read of the counter
   * items (so the two always agree).
   */
  recordedCounters(packetId: string, n: number): Promise<{ counters: CounterState[]; slots: SlotFact[] }>;
  /** A packet's item, or undefined when it was never written. */
  packet(packetId: string): Promise<PacketFacts | undefined>;
  shares(packetId: string): Promise<Fen[] | undefined>;
  campaign(campaignId: string): Promise<CampaignFacts | undefined>;
  refund(outRefundNo: string): Promise<RefundFact | undefined>;
  paymentState(paymentId: string): Promise<string | undefined>;
  withdrawal(withdrawalId: string): Promise<WithdrawalFact | undefined>;
  topup(topupId: string): Promise<TopupFact | undefined>;
  markerHolders(packetId: string, users: readonly string[], concurrency?: number): Promise<Set<string>>;
  claimCredits(
    packetId: string,
    slots: ReadonlyArray<Pick<SlotFact, 'userId' | 'at'>>,
    concurrency?: number,
  ): Promise<Map<string, { count: number; amount: Fen }>>;
}

/** Reconciliation's port: a reader per run, and the reports and ops events runs leave. */
export interface ReconcileStore {
  /** A fresh reader for one run. */
  reader(): ReconcileReader;
  /** Saves a run's report, the latest copy (whole-table runs) and one ops event per mismatch. */
  save(report: ReconcileReport, mismatches: readonly Mismatch[], omitted: number): Promise<void>;
  /** The newest whole-table report, or undefined before the first run. */
  latest(): Promise<ReconcileReport | undefined>;
  report(runId: string): Promise<ReconcileReport | undefined>;
  /** Ops events of one UTC+8 day, oldest first (first 1,000). */
  events(dayUtc8: string): Promise<OpsEvent[]>;
}

/** The {@link ReconcileReader} on the table: Scan, Query, GetItem, BatchGetItem. */
export class DynamoReconcileReader implements ReconcileReader {
  /** Items read through this adapter (the run's cost). */
  itemsRead = 0;

  constructor(private readonly db: Db) {}

  /**
   * One pass over the table in `segments` parallel Scan segments, keys and a few attributes only.
   * Accounts come from the first ledger entry and from profiles (an account whose first entry
   * was deleted still has a profile; the fee account has none but is always checked). A Scan
   * reads (and is billed for) every item whatever the filter; the filter only keeps the rest
   * off the wire.
   */
  async discover(cutoffIso: string, segments = 4): Promise<Discovery> {
    const found: Discovery = { accounts: new Set(), packets: new Set(), markers: new Map(), topups: new Map() };
    await Promise.all(
      Array.from({ length: segments }, async (_, segment) => {
        let startKey: Record<string, unknown> | undefined;
        do {
          const page = await this.db.scan({
            projection: 'pk, sk, #at, #state, userId, amount',
            filter: '(begins_with(pk, :ledger) AND sk = :first) OR sk IN (:profile, :packet, :marker, :topup)',
            names: { '#at': 'at', '#state': 'state' },
            values: {
              ':ledger': PkPrefix.ledger,
              ':first': seqKey(1),
              ':profile': ItemSk.profile,
              ':packet': ItemSk.packet,
              ':marker': ItemSk.marker,
              ':topup': ItemSk.topup,
            },
            segment,
            totalSegments: segments,
            ...(startKey ? { startKey } : {}),
          });
          this.itemsRead += page.scanned;
          for (const it of page.items) collect(found, it, cutoffIso);
          startKey = page.lastKey;
        } while (startKey);
      }),
    );
    return found;
  }

  /** An account's ledger oldest first, one page (≤ 1 MB) at a time. Returns the entry count. */
  async eachLedgerPage(accountId: string, onPage: (entries: LedgerLine[]) => void): Promise<number> {
    let startKey: Record<string, unknown> | undefined;
    let n = 0;
    do {
      const page = await this.db.query({
        keyCondition: 'pk = :pk',
        values: { ':pk': Keys.ledgerPk(accountId) },
        consistent: true,
        ...(startKey ? { startKey } : {}),
      });
      this.itemsRead += page.items.length;
      n += page.items.length;
      onPage(page.items.map(toEntry));
      startKey = page.lastKey;
    } while (startKey);
    return n;
  }

  /**
   * A packet's slots (at most its share count; every counter's partition), read before its
   * counters and its item (see checkPacket).
   */
  async slots(packetId: string, count: number): Promise<SlotFact[]> {
    const out: SlotFact[] = [];
    for (let k = 0; k < counterCount(count); k++) {
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await this.db.query({
          keyCondition: 'pk = :pk',
          values: { ':pk': Keys.slotsPk(packetId, k) },
          consistent: true,
          ...(startKey ? { startKey } : {}),
        });
        this.itemsRead += page.items.length;
        for (const it of page.items) {
          out.push({
            index: Number.parseInt(it.sk, 10),
            userId: it.userId as string,
            amount: it.amount as number,
            at: it.at as string,
            ...(it.void === true ? { void: true } : {}),
          });
        }
        startKey = page.lastKey;
      } while (startKey);
    }
    return out;
  }

  /** The share counters of a packet of > 100 shares (one BatchGetItem per 100). */
  async counters(packetId: string, n: number): Promise<CounterState[]> {
    return (await this.counterItems(packetId, n)).map(toCounter);
  }

  async recordedCounters(packetId: string, n: number): Promise<{ counters: CounterState[]; slots: SlotFact[] }> {
    const items = await this.counterItems(packetId, n);
    const slots = items.flatMap((it) =>
      recordEntriesOf(it).map(({ userId, pos, index, amount, atMs }): SlotFact => {
        if (amount !== undefined && atMs !== undefined)
          return { index, userId, amount, at: new Date(atMs).toISOString() };
        return {
          index,
          userId,
          amount: 0,
          at: '',
          broken: `counter ${String(it.counter)} maps it to position ${pos}, which holds no record`,
        };
      }),
    );
    return { counters: items.map(toCounter), slots };
  }

  private async counterItems(packetId: string, n: number): Promise<Item[]> {
    const items = await this.db.batchGet(Array.from({ length: n }, (_, k) => Keys.shareCounter(packetId, k)));
    this.itemsRead += items.length;
    return items.sort((a, b) => (a.counter as number) - (b.counter as number));
  }

  async packet(packetId: string): Promise<PacketFacts | undefined> {
    const it = this.read(await this.db.get(Keys.packet(packetId)));
    return it ? packetFactsOf(it) : undefined;
  }

  async shares(packetId: string): Promise<Fen[] | undefined> {
    return this.read(await this.db.get(Keys.shares(packetId), false))?.amounts as Fen[] | undefined;
  }

  /** A campaign record (app/campaigns.ts), by GetItem. */
  async campaign(campaignId: string): Promise<CampaignFacts | undefined> {
    const it = this.read(await this.db.get(Keys.campaign(campaignId)));
    if (!it) return undefined;
    return {
      id: campaignId,
      quantity: it.quantity as number,
      total: it.total as number,
      feePerPacket: it.feePerPacket as number,
      debit: it.debit as number,
      state: it.state as string,
      createdAt: it.createdAt as string,
    };
  }

  /** A withdrawal record (app/withdrawals.ts), by GetItem. */
  /** A refund to WeChat Pay (RFD#<out_refund_no>). */
  async refund(outRefundNo: string): Promise<RefundFact | undefined> {
    const it = this.read(await this.db.get(Keys.refund(outRefundNo)));
    if (!it) return undefined;
    return {
      id: it.id as string,
      amount: it.amount as number,
      state: it.state as string,
      createdAt: it.createdAt as string,
      finishedAt: it.finishedAt as string | undefined,
    };
  }

  /** A payment's state as stored, or undefined. */
  async paymentState(paymentId: string): Promise<string | undefined> {
    return this.read(await this.db.get(Keys.payment(paymentId)))?.state as string | undefined;
  }

  async withdrawal(withdrawalId: string): Promise<WithdrawalFact | undefined> {
    const it = this.read(await this.db.get(Keys.withdrawal(withdrawalId)));
    if (!it) return undefined;
    return {
      userId: it.userId as string,
      amount: it.amount as number,
      fee: (it.fee as number) ?? 0,
      state: it.state as string,
      returned: it.returned === true,
      ...(typeof it.finishedAt === 'string' ? { finishedAt: it.finishedAt } : {}),
    };
  }

  /**
   * The record behind a `topup:<id>` credit: a sandbox top-up (`TOPUP#`), or else a WeChat Pay
   * payment (`PAY#`, top-up or packet paid directly), whose states read as a top-up's: paid →
   * done (money in), closed → canceled, pending → pending.
   */
  async topup(topupId: string): Promise<TopupFact | undefined> {
    const it = this.read(await this.db.get(Keys.topup(topupId), false));
    if (it)
      return {
        userId: it.userId as string,
        amount: it.amount as number,
        state: it.state as string,
        at: it.at as string,
      };
    const pay = this.read(await this.db.get(Keys.payment(topupId), false));
    if (!pay) return undefined;
    const state = pay.state === 'paid' ? 'done' : pay.state === 'closed' ? 'canceled' : 'pending';
    return {
      userId: pay.userId as string,
      amount: pay.amount as number,
      state,
      at: (pay.paidAt ?? pay.createdAt) as string,
    };
  }

  /** Which of `users` hold a claim marker on the packet (one GetItem each). */
  async markerHolders(packetId: string, users: readonly string[], concurrency = 8): Promise<Set<string>> {
    const holders = new Set<string>();
    await eachLimited(users, concurrency, async (u) => {
      if (this.read(await this.db.get(Keys.claimMarker(packetId, u)))) holders.add(u);
    });
    return holders;
  }

  /**
   * Each user's `claim:<packet>` entries: the user's ledger, read with a filter on the opId
   * (claim credits carry no index entry, so the claim writes none). Every entry of the ledger is
   * read, so a stray credit is found wherever it sits.
   */
  async claimCredits(
    packetId: string,
    slots: ReadonlyArray<Pick<SlotFact, 'userId' | 'at'>>,
    concurrency = 8,
  ): Promise<Map<string, { count: number; amount: Fen }>> {
    const out = new Map<string, { count: number; amount: Fen }>();
    await eachLimited(slots, concurrency, async (s) => {
      const items = await queryAll(this.db, {
        keyCondition: 'pk = :pk',
        filter: 'opId = :op',
        values: { ':pk': Keys.ledgerPk(s.userId), ':op': `claim:${packetId}` },
      });
      let count = 0;
      let amount = 0;
      for (const it of items) {
        const e = this.read(it);
        if (e && e.opId === `claim:${packetId}`) {
          count++;
          amount += e.amount as number;
        }
      }
      out.set(s.userId, { count, amount });
    });
    return out;
  }

  private read(it: Item | undefined): Item | undefined {
    if (it) this.itemsRead++;
    return it;
  }
}

/** The {@link ReconcileStore} on the table: reports and events by PutItem, GetItem, Query. */
export class DynamoReconcileStore implements ReconcileStore {
  constructor(private readonly db: Db) {}

  reader(): ReconcileReader {
    return new DynamoReconcileReader(this.db);
  }

  /**
   * Writes the run's report, the latest copy (whole-table runs only: the operator view shows
   * the platform's state, not a test's scope) and the ops events, one per mismatch in
   * `mismatches` (the caller caps them). Keys are derived from the run, so a repeated save
   * overwrites instead of duplicating.
   */
  async save(report: ReconcileReport, mismatches: readonly Mismatch[], omitted: number): Promise<void> {
    const expiresAt = Math.ceil(Date.parse(report.finishedAt) / 1000) + RETENTION_S;
    await this.db.put({ ...OpsKeys.reconReport(report.runId), ...report, expiresAt });
    if (report.scope === 'all') await this.db.put({ ...OpsKeys.reconLatest, ...report });
    const day = dayKeyUtc8(Date.parse(report.finishedAt));
    const eventKey = (n: number) => ({
      pk: OpsKeys.eventPk(day),
      sk: OpsKeys.eventSk(report.finishedAt, `${report.runId}-${String(n).padStart(5, '0')}`),
    });
    await eachLimited(
      mismatches.map((m, n) => ({ m, n })),
      8,
      async ({ m, n }) => {
        await this.db.put({ ...eventKey(n), type: 'reconciliation_mismatch', runId: report.runId, ...m, expiresAt });
      },
    );
    if (omitted > 0) {
      await this.db.put({
        ...eventKey(mismatches.length),
        type: 'reconciliation_truncated',
        runId: report.runId,
        detail: `${omitted} more mismatch(es) not written as events; the report counts them by kind`,
        expiresAt,
      });
    }
  }

  /** The newest whole-table report (one GetItem), or undefined before the first run. */
  async latest(): Promise<ReconcileReport | undefined> {
    const it = await this.db.get(OpsKeys.reconLatest, false);
    return it ? stripKeys(it) : undefined;
  }

  async report(runId: string): Promise<ReconcileReport | undefined> {
    const it = await this.db.get(OpsKeys.reconReport(runId), false);
    return it ? stripKeys(it) : undefined;
  }

  /** Ops events of one UTC+8 day, oldest first (first 1,000). */
  async events(dayUtc8: string): Promise<OpsEvent[]> {
    const out: OpsEvent[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.query({
        keyCondition: 'pk = :pk',
        values: { ':pk': OpsKeys.eventPk(dayUtc8) },
        ...(startKey ? { startKey } : {}),
      });
      for (const it of page.items) {
        out.push({
          kind: it.kind as MismatchKind,
          id: it.id as string,
          detail: it.detail as string,
          runId: it.runId as string,
          type: it.type as OpsEvent['type'],
          at: parseTimeKey(it.sk).at,
        });
      }
      startKey = page.lastKey;
    } while (startKey && out.length < 1_000);
    return out;
  }
}

function stripKeys(it: Item): ReconcileReport {
  const { pk: _pk, sk: _sk, expiresAt: _e, ...report } = it;
  return report as unknown as ReconcileReport;
}

function collect(found: Discovery, it: Item, cutoffIso: string): void {
  const { pk, sk } = it;
  const ref = refOfPk(pk);
  const account = pk.startsWith(PkPrefix.ledger) || sk === ItemSk.profile ? accountOfPk(pk) : undefined;
  if (account !== undefined) found.accounts.add(account);
  else if (sk === ItemSk.packet && ref?.kind === 'packet') found.packets.add(ref.id);
  else if (sk === ItemSk.payment && ref?.kind === 'payment' && it.state === 'pending')
    (found.pendingPayments ??= new Set()).add(ref.id);
  else if (sk === ItemSk.topup && ref?.kind === 'topup') {
    found.topups.set(ref.id, {
      userId: it.userId as string,
      amount: it.amount as number,
      state: it.state as string,
      at: it.at as string,
    });
  } else if (sk === ItemSk.marker && typeof it.at === 'string' && it.at <= cutoffIso) {
    const marker = claimMarkerOf(pk);
    if (!marker) return;
    let bag = found.markers.get(marker.packetId);
    if (!bag) found.markers.set(marker.packetId, (bag = emptyBag()));
    addToBag(bag, 0, holderFp(marker.userId));
  }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function eachLimited<T>(items: Iterable<T>, limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  const it = items[Symbol.iterator]();
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let n = it.next(); !n.done; n = it.next()) await fn(n.value);
    }),
  );
}
