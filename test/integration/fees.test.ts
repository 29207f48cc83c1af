/**
 * Fees through the whole stack (docs/rules.md): for a table of tiers, rates and amounts, the sender is
 * debited total + ceil(total × bps / 10,000), the platform fee account grows by exactly the sum
 * of those fees, and conservation holds with the fee account included — after
 * claims, and after the unclaimed rest is refunded (the fee is not refunded: it paid for the
 * service).
 */
import { FEE_ACCOUNTS, FEE_SHARDS, feeAccountFor } from '../../functions/src/app/context';
import { settlePacket } from '../../functions/src/app/settlement';
import { feeFor } from '../../functions/src/domain/money';
import { Clock, idem, login, makeApi, sendPacket, testDeps, topup, type TestUser } from '../helpers/app';
import { feeBalance, feeLedger, violations } from '../helpers/invariants';

const clock = new Clock(Date.parse('2026-11-28T03:00:00Z'));
const d = testDeps({ clock });
const api = makeApi(d);

const TABLE: Array<{ tier: 'personal' | 'enterprise' | 'provider'; feeBps?: number; amounts: number[] }> = [
  { tier: 'personal', amounts: [1, 199, 20_000] },
  { tier: 'enterprise', amounts: [1, 166, 167, 10_001, 33_333, 200_000] }, // default 60 bps
  { tier: 'enterprise', feeBps: 85, amounts: [1, 117, 118, 99_999] },
  { tier: 'enterprise', feeBps: 100, amounts: [99, 100, 101, 200_000] },
  { tier: 'provider', amounts: [1, 2_857, 2_858, 2_000_000] }, // default 35 bps
  { tier: 'provider', feeBps: 80, amounts: [124, 125, 126, 1_999_999] },
];

describe('fees', () => {
  test('exact to the fen per packet; the fee account grows by exactly the fees; conservation holds', async () => {
    const admin = await login(api, { roles: ['admin'] });
    const users: TestUser[] = [];
    const packets: string[] = [];
    const shareCodes: string[] = [];
    let expectedFees = 0;
    let topups = 0;
    const feeBefore = await feeBalance(d);

    for (const row of TABLE) {
      const sender = await login(api, { tier: row.tier });
      users.push(sender);
      if (row.feeBps !== undefined) {
        const r = await api('POST', `/v1/admin/accounts/${sender.userId}/tier`, {
          token: admin.token,
          body: { tier: row.tier, settings: { feeBps: row.feeBps } },
        });
        expect(r.status).toBe(200);
      }
      const bps = row.feeBps ?? { personal: 0, enterprise: 60, provider: 35 }[row.tier];
      const need = row.amounts.reduce((a, x) => a + x + feeFor(x, bps), 0);
      for (let left = need; left > 0; left -= Math.min(left, 5_000_000))
        await topup(api, sender, Math.min(left, 5_000_000));
      topups += need;
      for (const total of row.amounts) {
        const before = (await api('GET', '/v1/wallet', { token: sender.token })).body.balance as number;
        const sent = await sendPacket(api, sender, { total, count: 1, mode: 'equal' });
        const fee = feeFor(total, bps);
        expect({ tier: row.tier, bps, total, fee: sent.fee }).toEqual({ tier: row.tier, bps, total, fee });
        expect((await api('GET', '/v1/wallet', { token: sender.token })).body.balance).toBe(before - total - fee);
        expectedFees += fee;
        packets.push(sent.packet.id);
        shareCodes.push(sent.shareCode.code);
      }
      expect((await api('GET', '/v1/wallet', { token: sender.token })).body.balance).toBe(0);
    }
    // Hand-checked rows of the table: rounding is always up, never to nearest.
    expect([
      feeFor(166, 60),
      feeFor(167, 60),
      feeFor(117, 85),
      feeFor(118, 85),
      feeFor(2_857, 35),
      feeFor(2_858, 35),
    ]).toEqual([1, 2, 1, 2, 10, 11]);

    // Half of the packets are claimed, the rest expire and are refunded.
    const claimer = await login(api);
    users.push(claimer);
    for (const code of shareCodes.filter((_, i) => i % 2 === 0)) {
      expect((await api('POST', '/v1/claims', { token: claimer.token, body: { code } })).status).toBe(200);
    }
    // Expire and settle this test's packets (the settlement the sweeper runs; not the global
    // sweep, which would also settle other test files' packets in the shared table).
    clock.advance(25 * 3_600_000);
    for (const id of packets) await settlePacket(d, id, clock.t);

    const mine = new Set(packets.map((id) => `fee:${id}`));
    const feeEntries = (await feeLedger(d)).filter((e) => mine.has(e.opId));
    expect(feeEntries.reduce((a, e) => a + e.amount, 0)).toBe(expectedFees);
    // Other tests may add fees concurrently: the account grew by at least ours, each fee once.
    expect(new Set(feeEntries.map((e) => e.opId)).size).toBe(feeEntries.length);
    expect((await feeBalance(d)) - feeBefore).toBeGreaterThanOrEqual(expectedFees);

    expect(
      await violations(d, { users: users.map((u) => u.userId), packets, topups, feeAccounts: FEE_ACCOUNTS }),
    ).toEqual([]);
    // Every sender got back exactly the unclaimed totals; the fees stayed with the platform.
    let refunded = 0;
    for (const id of packets) refunded += (await d.packets.get(id))?.refundedAmount ?? 0;
    // (Sessions have expired a day later: read the wallets from the store.)
    const claimed = (await d.wallets.state(claimer.userId)).balance;
    const senderBalances = await Promise.all(
      users.slice(0, TABLE.length).map(async (u) => (await d.wallets.state(u.userId)).balance),
    );
    expect(senderBalances.reduce((a, b) => a + b, 0)).toBe(refunded);
    expect(claimed + refunded + expectedFees).toBe(topups);
  }, 60_000);

  test('fees are spread over the fee shards: each packet on the shard of its id, once, a retry on the same shard', async () => {
    const sender = await login(api, { tier: 'enterprise' });
    await topup(api, sender, 1_000_000);
    const keys = Array.from({ length: 24 }, () => idem());
    const sent = await Promise.all(
      keys.map(async (key) => {
        const r = await api('POST', '/v1/packets', {
          token: sender.token,
          idem: key,
          body: { total: 1_000, count: 1, mode: 'equal' },
        });
        expect(r.status).toBe(201);
        return { key, id: r.body.packet.id as string, fee: r.body.fee as number };
      }),
    );
    // A retry of every request (the same Idempotency-Key) answers the same packet.
    for (const s of sent.slice(0, 6)) {
      const again = await api('POST', '/v1/packets', {
        token: sender.token,
        idem: s.key,
        body: { total: 1_000, count: 1, mode: 'equal' },
      });
      expect(again.body.packet.id).toBe(s.id);
    }
    const mine = new Map(sent.map((s) => [`fee:${s.id}`, s]));
    const entries = (await feeLedger(d)).filter((e) => mine.has(e.opId));
    // Exactly one credit per packet, on the shard its id picks (not the old single account).
    expect(entries.map((e) => e.opId).sort()).toEqual([...mine.keys()].sort());
    for (const e of entries) {
      expect(e.account).toBe(feeAccountFor(mine.get(e.opId)!.id));
      expect(e.amount).toBe(mine.get(e.opId)!.fee);
    }
    expect(entries.some((e) => e.account === 'platform-fees')).toBe(false);
    // 24 ids over 16 shards land on several ledgers (all on one would be a 16^-23 chance).
    expect(new Set(entries.map((e) => e.account)).size).toBeGreaterThan(1);
    expect(FEE_ACCOUNTS).toHaveLength(FEE_SHARDS + 1);
    // Support reads a fee shard's ledger like any account's (the id carries `#<k>`).
    const support = await login(api, { roles: ['support'] });
    const shard = entries[0]!.account;
    const log = await api('GET', '/v1/audit', { token: support.token, query: { userId: shard } });
    expect(log.status).toBe(200);
    expect(
      (log.body.items as Array<{ source: string; type: string }>).some(
        (i) => i.source === 'ledger' && i.type === 'fee',
      ),
    ).toBe(true);
    expect(
      await violations(d, {
        users: [sender.userId],
        packets: sent.map((s) => s.id),
        topups: 1_000_000,
        feeAccounts: FEE_ACCOUNTS,
      }),
    ).toEqual([]);
  }, 60_000);
});
