/**
 * A provider packet of up to 10,000 shares, nearly drained, seeded fast: the packet is created
 * and funded by the real use case (counters, share list, debit, fee) in the layout the deps
 * create (`cfg.shareLayout`), then its claims are written straight through the store instead of
 * thousands of claims — slots layout: counters' `claimed` and slot items by BatchWriteItem;
 * recorded layout: each counter's `claimed` with its records (`ix`, `recs`, as takes write them,
 * store/recorded.ts) in one update — and each claimer's ledger credit as a real chained entry
 * (domain/ledger-chain). Some claims are left as crashes leave them, for settlement to repair:
 *   - unclaimed: shares no claim took (the last index of the first counters);
 *   - unrecorded (slots layout only): taken by a claim that died before its slot (settlement
 *     voids them); a recorded take is its record, so that layout has none;
 *   - uncredited: recorded, never credited (a claim that died after its slot or its take);
 *   - behind: claimers whose ledger moved between the claim's read and its credit, so the
 *     credit sits after `seqHint` + 1 (their slot's hint is 0; they have entries already).
 * Used by test/integration/settle-big.test.ts and the bench (scripts/bench/settle.ts).
 */
import { randomBytes } from 'node:crypto';
import { createPacket } from '../../functions/src/app/packets';
import type { Principal } from '../../functions/src/app/context';
import type { Deps } from '../../functions/src/app/deps';
import { mapLimited } from '../../functions/src/concurrency';
import { ledgerEntryHash } from '../../functions/src/domain/ledger-chain';
import { counterCount, counterWidth, ShareLayouts } from '../../functions/src/domain/share-counters';
import type { Db, Item } from '../../functions/src/store/db';
import { Keys } from '../../functions/src/store/keys';
import { EMPTY_WALLET, type WalletState } from '../../functions/src/store/ledger';

export interface BigPacketPlan {
  /** A provider with a balance of at least total + fee. */
  sender: Principal;
  count: number;
  total: number;
  ttlSeconds: number;
  unclaimed: number;
  unrecorded: number;
  uncredited: number;
  /** Accounts that already have ledger entries (at most one per counter after the first few). */
  behind?: string[];
}

export interface BigPacketSeed {
  packetId: string;
  expiresAtMs: number;
  /** Every account holding a recorded share. */
  claimers: string[];
  /** Σ of the shares no claim took, and of those taken but never recorded (voided). */
  unclaimedSum: number;
  unrecordedSum: number;
  uncredited: string[];
  /** Items written by the seed (slots and ledger entries; recorded layout: ledger entries). */
  itemsWritten: number;
}

const WRITE_CONCURRENCY = 8;

export async function seedBigPacket(d: Deps & { db: Db }, plan: BigPacketPlan): Promise<BigPacketSeed> {
  const layout = d.cfg.shareLayout;
  const recorded = layout === ShareLayouts.recorded;
  const n = counterCount(plan.count, layout);
  // Counter width W: 100 (slots) or 10 (recorded). The special shares sit at fixed offsets in
  // their counter (W − 1 untaken, W/10 uncredited, W/5 behind, W/2 unrecorded), so they never collide.
  const W = counterWidth(layout);
  const behind = plan.behind ?? [];
  if (plan.unclaimed > n || plan.unrecorded > n || plan.uncredited > n || behind.length > n)
    throw new Error('seed: at most one special share per counter of each kind');
  if (recorded && plan.unrecorded > 0) throw new Error('seed: a recorded take is its record (no unrecorded shares)');
  const created = await createPacket(
    d,
    plan.sender,
    { total: plan.total, count: plan.count, mode: 'lucky', ttlSeconds: plan.ttlSeconds },
    randomBytes(9).toString('base64url'),
  );
  const { packet } = created.body as { packet: { id: string; expiresAt: string } };
  const packetId = packet.id;
  if (recorded !== ((await d.packets.get(packetId))?.layout === ShareLayouts.recorded))
    throw new Error(`seed: packet ${packetId} is not of the ${layout} layout`);
  const amounts = (await d.packets.shares(packetId))!.amounts;
  const at = new Date(d.now() + 1_000).toISOString();
  const opId = `claim:${packetId}`;

  // Which index is which: counter k's taken indexes are [start, start + claimed).
  const untaken = new Set(Array.from({ length: plan.unclaimed }, (_, k) => k * W + W - 1));
  const unrecorded = new Set(Array.from({ length: plan.unrecorded }, (_, j) => (n - 1 - j) * W + W / 2));
  const uncreditedAt = new Set(
    Array.from({ length: plan.uncredited }, (_, j) => Math.floor((j * n) / Math.max(1, plan.uncredited)) * W + W / 10),
  );
  const behindAt = new Map(behind.map((u, j) => [Math.floor((j * n) / behind.length) * W + W / 5, u]));
  const prefix = `bp${randomBytes(4).toString('hex')}`;

  const items: Item[] = [];
  /** Recorded layout: each counter's records, in position order (a take appends its own). */
  const records: Array<{ ix: Record<string, number>; recs: Array<Record<string, unknown>> }> = Array.from(
    { length: n },
    () => ({ ix: {}, recs: [] }),
  );
  const claimers: string[] = [];
  const uncredited: string[] = [];
  let unclaimedSum = 0;
  let unrecordedSum = 0;
  const behindCredits: Array<{ userId: string; amount: number }> = [];
  for (let i = 0; i < plan.count; i++) {
    const amount = amounts[i]!;
    if (untaken.has(i)) {
      unclaimedSum += amount;
      continue;
    }
    if (unrecorded.has(i)) {
      unrecordedSum += amount;
      continue;
    }
    const userId = behindAt.get(i) ?? `${prefix}x${i}`;
    claimers.push(userId);
    if (recorded) {
      const r = records[Math.floor(i / W)]!;
      r.ix[userId] = r.recs.length;
      r.recs.push({ t: Date.parse(at), h: 0, n: `用户${i}` });
    } else items.push({ ...Keys.slot(packetId, i), userId, name: `用户${i}`, amount, at, seqHint: 0 });
    if (uncreditedAt.has(i)) uncredited.push(userId);
    else if (behindAt.has(i)) behindCredits.push({ userId, amount });
    else items.push(creditItem(userId, EMPTY_WALLET, packetId, opId, amount, at));
  }
  // The accounts that are behind: their credit goes after what their ledger holds now.
  for (const b of behindCredits) {
    const tail = await d.wallets.state(b.userId);
    if (tail.seq === 0) throw new Error('seed: a "behind" account needs ledger entries');
    items.push(creditItem(b.userId, tail, packetId, opId, b.amount, at));
  }
  const chunks: Item[][] = [];
  for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
  await mapLimited(chunks, WRITE_CONCURRENCY, (c) => d.db.batchPut(c));
  await mapLimited(
    Array.from({ length: n }, (_, k) => k),
    WRITE_CONCURRENCY,
    async (k) => {
      const start = k * W;
      const size = Math.min(W, plan.count - start);
      const claimed = size - (untaken.has(start + W - 1) ? 1 : 0);
      if (!recorded)
        return void (await d.db.update(Keys.shareCounter(packetId, k), 'SET claimed = :c', {
          values: { ':c': claimed },
        }));
      // The untaken share is the counter's last, so the records are positions [0, claimed).
      const { ix, recs } = records[k]!;
      if (recs.length !== claimed) throw new Error(`seed: counter ${k} has ${recs.length} records for ${claimed}`);
      await d.db.update(Keys.shareCounter(packetId, k), 'SET claimed = :c, ix = :ix, recs = :recs', {
        condition: 'attribute_exists(pk)',
        values: { ':c': claimed, ':ix': ix, ':recs': recs },
      });
    },
  );
  return {
    packetId,
    expiresAtMs: Date.parse(packet.expiresAt),
    claimers,
    unclaimedSum,
    unrecordedSum,
    uncredited,
    itemsWritten: items.length,
  };
}

/** The claim's credit as `append` would have written it after `tail`, hash chain included. */
function creditItem(
  userId: string,
  tail: WalletState,
  packetId: string,
  opId: string,
  amount: number,
  at: string,
): Item {
  const unsealed = {
    userId,
    seq: tail.seq + 1,
    opId,
    type: 'claim_credit',
    amount,
    balance: tail.balance + amount,
    sentDay: tail.sentDay,
    sentToday: tail.sentToday,
    ref: packetId,
    at,
    packetId,
    prevHash: tail.hash,
  };
  const { seq, ...attrs } = unsealed;
  return {
    ...Keys.ledgerEntry(userId, seq),
    ...attrs,
    hash: ledgerEntryHash(unsealed),
    ...Keys.received(userId, `${at}#${opId}`),
  };
}
