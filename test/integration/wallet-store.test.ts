import { uniq, testDeps, baseDb } from '../helpers/app';
import type { ReadInfo } from '../../functions/src/store/db';
import type { WalletStore } from '../../functions/src/store/ledger';

/** Reads as the door sees them, so a test can count BatchGetItem requests. */
const reads: ReadInfo[] = [];
const d = testDeps({ db: baseDb({ afterRead: (i) => void reads.push(i) }) });

/** `n` top-up entries on a fresh account (seq 1..n, 100 fen each). */
async function accountWith(wallets: WalletStore, n: number): Promise<string> {
  const userId = uniq('w');
  for (let i = 1; i <= n; i++) {
    const r = await wallets.append(userId, i - 1, {
      opId: `topup:${userId}-${i}`,
      type: 'topup',
      amount: 100,
      ref: `t${i}`,
      at: new Date(Date.UTC(2026, 11, 1, 0, 0, i)).toISOString(),
    });
    expect(r.kind).toBe('applied');
  }
  return userId;
}

describe('WalletStore reads by place', () => {
  test('entriesAt returns the entries that exist, once each, across more than 100 places', async () => {
    const many = await accountWith(d.wallets, 105);
    const few = await accountWith(d.wallets, 2);
    const places = [
      ...Array.from({ length: 105 }, (_, i) => ({ userId: many, seq: i + 1 })),
      // Missing: past the tail, and an account with no ledger.
      { userId: many, seq: 106 },
      { userId: uniq('none'), seq: 1 },
      // Asked twice: read once, returned once.
      { userId: few, seq: 2 },
      { userId: few, seq: 2 },
    ];
    reads.length = 0;
    const found = await d.wallets.entriesAt(places);
    const batches = reads.filter((r) => r.op === 'batchGet');
    // 108 distinct places: two requests of at most 100 keys.
    expect(batches).toHaveLength(2);
    expect(batches.reduce((a, r) => a + r.items, 0)).toBe(106);
    const got = found.map((e) => `${e.userId}#${e.seq}`).sort();
    const want = [...Array.from({ length: 105 }, (_, i) => `${many}#${i + 1}`), `${few}#2`].sort();
    expect(got).toEqual(want);
    const second = found.find((e) => e.userId === few)!;
    expect(second).toMatchObject({ opId: `topup:${few}-2`, type: 'topup', amount: 100, balance: 200 });
    expect(await d.wallets.entriesAt([])).toEqual([]);
  });

  test('page after a seq goes on where the page before ended, as its cursor does', async () => {
    const userId = await accountWith(d.wallets, 5);
    const first = await d.wallets.page(userId, 2);
    expect(first.entries.map((e) => e.seq)).toEqual([5, 4]);
    expect(first.next).toBeDefined();
    const byKey = await d.wallets.page(userId, 2, { after: first.next! });
    const bySeq = await d.wallets.page(userId, 2, { afterSeq: 4 });
    expect(bySeq.entries.map((e) => e.seq)).toEqual([3, 2]);
    expect(bySeq).toEqual(byKey);
    const last = await d.wallets.page(userId, 2, { afterSeq: 2 });
    expect(last.entries.map((e) => e.seq)).toEqual([1]);
    expect(last.next).toBeUndefined();
  });
});
