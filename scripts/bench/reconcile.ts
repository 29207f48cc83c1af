/**
 * (g) What a reconciliation costs. Generates a well-formed history of ≥ 100,000 ledger entries
 * straight into a fresh table with BatchWriteItem — top-ups, packets (debit, fee, SHARES, slots,
 * claim markers, claim credits, refunds of the settled ones), transfers, each account's ledger
 * hash-chained exactly as the ledger store writes it — then times one whole-table run
 * (app/reconcile.ts: discovery Scan, every ledger paged, every packet checked) and reports items
 * read per second and the time per 100,000 ledger entries. The history is deterministic (seeded).
 *
 * `npm run bench` runs it as section (g); `npx tsx scripts/bench/reconcile.ts [entries]` runs it
 * alone on its own in-process dynalite.
 */
import { seededRandom } from '../../test/helpers/prng';
import { reconcile } from '../../functions/src/app/reconcile';
import { feeAccountFor } from '../../functions/src/app/context';
import { LEDGER_GENESIS, ledgerEntryHash } from '../../functions/src/domain/ledger-chain';
import { DynamoDb, type Item } from '../../functions/src/store/db';
import { Keys } from '../../functions/src/store/keys';
import { DynamoReconcileStore } from '../../functions/src/store/reconcile';
import { createTable, REGION, startDynalite } from './store';

export interface ReconcileBench {
  ledgerEntries: number;
  accounts: number;
  packets: number;
  slots: number;
  transfers: number;
  /** Items written to build the history (all kinds) and how long that took. */
  itemsWritten: number;
  loadSeconds: number;
  /** The reconciliation run. */
  seconds: number;
  itemsRead: number;
  itemsPerSec: number;
  secondsPer100kEntries: number;
  mismatches: number;
  kinds: string;
}

interface Move {
  atMs: number;
  opId: string;
  type: string;
  amount: number;
  ref: string;
  fee?: number;
  packetId?: string;
  received?: boolean;
}

/**
 * A consistent history: every user tops up first, then sends packets (a third with a 0.6 % fee),
 * claims shares of others' packets and pays transfers; 70 % of packets expired and were settled
 * (refund of the unclaimed rest), the others are still active. Everything is dated between
 * 26 h and 1 h ago, so all of it is before the run's cutoff.
 */
export function generateHistory(
  targetEntries: number,
  seed = 20_261_128,
): { items: Item[]; entries: number; accounts: number; packets: number; slots: number; transfers: number } {
  // Seeded, so every bench run reconciles the same history.
  const { int: rnd } = seededRandom(seed);
  const nowMs = Date.now();
  const t0 = nowMs - 26 * 3_600_000;
  const iso = (ms: number) => new Date(ms).toISOString();
  const users = Math.max(50, Math.round(targetEntries / 100));
  const userIds = Array.from({ length: users }, (_, i) => `ub${String(i).padStart(7, '0')}`);
  const ledgers = new Map<string, Move[]>();
  const move = (u: string, m: Move) => {
    let l = ledgers.get(u);
    if (!l) ledgers.set(u, (l = []));
    l.push(m);
  };
  const items: Item[] = [];
  let entries = 0;
  for (const u of userIds) {
    const id = `tb${u}`;
    move(u, { atMs: t0, opId: `topup:${id}`, type: 'topup', amount: 1_000_000, ref: id });
    items.push({
      ...Keys.profile(u),
      userId: u,
      name: u,
      tier: 'personal',
      roles: ['user'],
      settings: {},
      createdAt: iso(t0),
    });
    items.push({ ...Keys.topup(id), id, userId: u, amount: 1_000_000, state: 'done', at: iso(t0), hint: 0 });
    entries++;
  }
  let packets = 0;
  let slots = 0;
  let transfers = 0;
  while (entries < targetEntries) {
    if (rnd(1, 8) === 1) {
      // A transfer: debit and credit carry the transfer's time.
      const id = `xb${transfers++}`;
      const from = userIds[rnd(0, users - 1)]!;
      let to = userIds[rnd(0, users - 1)]!;
      if (to === from) to = userIds[(userIds.indexOf(from) + 1) % users]!;
      const atMs = t0 + 60_000 + rnd(0, 24 * 3_600_000);
      const amount = rnd(1, 500);
      move(from, { atMs, opId: `xfer:${id}`, type: 'transfer_debit', amount: -amount, ref: id });
      move(to, { atMs, opId: `xfer:${id}`, type: 'transfer_credit', amount, ref: id });
      items.push({
        ...Keys.transfer(id),
        id,
        fromId: from,
        toId: to,
        toName: to,
        amount,
        note: '',
        state: 'done',
        at: iso(atMs),
        fromHint: 0,
        toHint: 0,
      });
      entries += 2;
      continue;
    }
    const id = `pb${packets++}`;
    const sender = userIds[rnd(0, users - 1)]!;
    const count = rnd(2, 30);
    const total = count * rnd(1, 60) + rnd(0, count);
    const fee = packets % 3 === 0 ? Math.ceil((total * 60) / 10_000) : 0;
    const settled = rnd(1, 10) <= 7;
    const createdMs = settled ? t0 + 60_000 + rnd(0, 22 * 3_600_000) : nowMs - 2 * 3_600_000 + rnd(0, 3_000_000);
    const expiresMs = createdMs + (settled ? 3_600_000 : 86_400_000);
    const base = Math.floor(total / count);
    const amounts = Array.from({ length: count }, (_, i) => base + (i < total - base * count ? 1 : 0));
    move(sender, {
      atMs: createdMs,
      opId: `pkt:${id}`,
      type: 'packet_debit',
      amount: -(total + fee),
      fee,
      ref: id,
      packetId: id,
    });
    entries++;
    if (fee > 0) {
      move(feeAccountFor(id), { atMs: createdMs, opId: `fee:${id}`, type: 'fee', amount: fee, ref: id, packetId: id });
      entries++;
    }
    const claimed = rnd(Math.ceil(count / 2), count);
    const claimers = new Set<string>();
    let granted = 0;
    for (let i = 0; i < claimed; i++) {
      let u = userIds[rnd(0, users - 1)]!;
      while (u === sender || claimers.has(u)) u = userIds[rnd(0, users - 1)]!;
      claimers.add(u);
      const atMs = createdMs + 1_000 + i * rnd(50, 2_000);
      items.push({ ...Keys.claimMarker(id, u), packetId: id, userId: u, at: iso(atMs), atMs, attempt: 0, seqHint: 0 });
      items.push({ ...Keys.slot(id, i), userId: u, name: u, amount: amounts[i]!, at: iso(atMs), seqHint: 0 });
      move(u, {
        atMs,
        opId: `claim:${id}`,
        type: 'claim_credit',
        amount: amounts[i]!,
        ref: id,
        packetId: id,
        received: true,
      });
      granted += amounts[i]!;
      entries++;
      slots++;
    }
    const settledAtMs = expiresMs + 30_000;
    const refund = settled ? total - granted : 0;
    if (refund > 0) {
      move(sender, {
        atMs: settledAtMs,
        opId: `refund:${id}`,
        type: 'refund_credit',
        amount: refund,
        ref: id,
        packetId: id,
      });
      entries++;
    }
    items.push({ ...Keys.shares(id), amounts });
    items.push({
      ...Keys.packet(id),
      id,
      senderId: sender,
      senderName: sender,
      total,
      count,
      mode: 'equal',
      greeting: '恭喜发财',
      scene: 'group',
      fee,
      state: settled ? 'settled' : 'active',
      claimed,
      createdAt: iso(createdMs),
      expiresAt: iso(expiresMs),
      expiresAtMs: expiresMs,
      codeValidity: 120,
      senderHint: 0,
      feeHint: 0,
      ...(fee > 0 ? { feeAccount: feeAccountFor(id) } : {}),
      ...(settled ? { refundedAmount: refund, settledAt: iso(settledAtMs) } : Keys.due(0, iso(expiresMs), id)),
      ...Keys.sent(sender, `${iso(createdMs)}#${id}`),
    });
  }
  // Each ledger in time order, chained as DynamoWalletStore.append writes it.
  for (const [userId, moves] of ledgers) {
    moves.sort((a, b) => a.atMs - b.atMs);
    let prevHash = LEDGER_GENESIS;
    let balance = 0;
    moves.forEach((m, i) => {
      balance += m.amount;
      const at = iso(m.atMs);
      const e = {
        userId,
        seq: i + 1,
        opId: m.opId,
        type: m.type,
        amount: m.amount,
        balance,
        sentDay: '',
        sentToday: 0,
        ref: m.ref,
        at,
        ...(m.fee !== undefined ? { fee: m.fee } : {}),
        ...(m.packetId !== undefined ? { packetId: m.packetId } : {}),
        prevHash,
      };
      const hash = ledgerEntryHash(e);
      const { seq, ...attrs } = e;
      items.push({
        ...Keys.ledgerEntry(userId, seq),
        ...attrs,
        hash,
        ...(m.received ? Keys.received(userId, `${at}#${m.opId}`) : {}),
      });
      prevHash = hash;
    });
  }
  return { items, entries, accounts: ledgers.size, packets, slots, transfers };
}

/** Loads a generated history into a new table on `endpoint` and times one whole-table run. */
export async function reconcileBench(endpoint: string, targetEntries = 100_000): Promise<ReconcileBench> {
  const tableName = `hongbao-recon-${Date.now().toString(36)}`;
  await createTable(endpoint, tableName);
  const db = new DynamoDb({ tableName, region: REGION, endpoint });
  const history = generateHistory(targetEntries);
  const loadStart = Date.now();
  const chunks: Item[][] = [];
  for (let i = 0; i < history.items.length; i += 500) chunks.push(history.items.slice(i, i + 500));
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < chunks.length) await db.batchPut(chunks[next++]!);
    }),
  );
  const loadSeconds = (Date.now() - loadStart) / 1000;
  const report = await reconcile(
    { reconciliation: new DynamoReconcileStore(db), now: () => Date.now() },
    { save: false, concurrency: 16 },
  );
  const seconds = report.durationMs / 1000;
  const r1 = (x: number) => Math.round(x * 10) / 10;
  return {
    ledgerEntries: report.checked.ledgerEntries,
    accounts: report.checked.accounts,
    packets: report.checked.packets,
    slots: report.checked.slots,
    transfers: report.checked.transfers,
    itemsWritten: history.items.length,
    loadSeconds: r1(loadSeconds),
    seconds: r1(seconds),
    itemsRead: report.itemsRead,
    itemsPerSec: report.itemsPerSecond,
    secondsPer100kEntries: r1((seconds * 100_000) / Math.max(1, report.checked.ledgerEntries)),
    mismatches: report.mismatches,
    kinds: Object.entries(report.byKind)
      .map(([k, n]) => `${k}:${n}`)
      .join(' '),
  };
}

if (require.main === module) {
  void (async () => {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
    const store = await startDynalite();
    try {
      const target = Number(process.argv[2] ?? 100_000);
      const r = await reconcileBench(store.endpoint, target);
      console.log(
        `(g) reconciliation: ${r.ledgerEntries} ledger entries, ${r.accounts} accounts, ${r.packets} packets, ${r.slots} slots, ${r.transfers} transfers`,
      );
      console.log(
        `(g) load ${r.itemsWritten} items in ${r.loadSeconds} s; run ${r.seconds} s, ${r.itemsRead} items read, ${r.itemsPerSec} items/s, ${r.secondsPer100kEntries} s per 100,000 entries; mismatches ${r.mismatches} ${r.kinds}`,
      );
      console.log(JSON.stringify(r));
    } finally {
      await store.close();
    }
  })().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
