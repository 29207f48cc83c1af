/**
 * Reconciliation against dynalite through the real SDK. The table is shared with test files
 * running in parallel (some of which break data on purpose), so each test reconciles a closed
 * world of its own accounts and packets (`scope`), the same code path as the whole-table run
 * apart from discovery — which the last test exercises on its own. Their clocks are set in 2027,
 * far from the times at which other test files run the global sweeper.
 */
import { DeleteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { reconcile } from '../../functions/src/app/reconcile';
import { settlePacket } from '../../functions/src/app/settlement';
import { DynamoReconcileStore } from '../../functions/src/store/reconcile';
import { Keys, OpsKeys } from '../../functions/src/store/keys';
import { dayKeyUtc8 } from '../../functions/src/domain/money';
import { Clock, idem, login, makeApi, sendPacket, testDeps, topup, type Api, type TestUser } from '../helpers/app';

const MINUTE = 60_000;

interface World {
  users: TestUser[];
  packets: string[];
  shareCodes: string[];
}

/** Bounded concurrency over a list. */
async function limited<T>(items: T[], n: number, fn: (x: T, i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  }));
}

async function world(api: Api, users: number, fund: number): Promise<World> {
  const w: World = { users: [], packets: [], shareCodes: [] };
  for (let i = 0; i < users; i++) w.users.push(await login(api));
  await limited(w.users, 8, async (u) => topup(api, u, fund));
  return w;
}

/** Deletes an item behind the store's back (its door has no delete, on purpose). */
async function rawDelete(key: { pk: string; sk: string }) {
  const raw = new DynamoDBClient({ endpoint: process.env.DYNAMODB_ENDPOINT, region: process.env.AWS_REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  await raw.send(new DeleteItemCommand({ TableName: process.env.TABLE_NAME, Key: { pk: { S: key.pk }, sk: { S: key.sk } } }));
}

const scopeOf = (w: World) => ({ accounts: w.users.map((u) => u.userId), packets: w.packets });

describe('reconciliation', () => {
  test('a busy history (1,000+ packets, claims, refunds, transfers) reconciles with no mismatch', async () => {
    const clock = new Clock(Date.parse('2027-06-01T02:00:00Z'));
    const d = testDeps({ clock });
    const api = makeApi(d);
    const w = await world(api, 40, 90_000);
    // 1,040 packets: 26 per user, 2–4 shares each; some live 60 s only (they will be refunded).
    const specs = Array.from({ length: 1_040 }, (_, i) => ({ sender: w.users[i % 40]!, total: 100 + (i % 7) * 37, count: 2 + (i % 3), ttl: i % 5 === 0 ? 60 : 86_400 }));
    await limited(specs, 8, async (s) => {
      const sent = await sendPacket(api, s.sender, { total: s.total, count: s.count, mode: 'lucky', ttlSeconds: s.ttl });
      w.packets.push(sent.packet.id);
      w.shareCodes.push(sent.shareCode.code);
    });
    // Claims in rounds of at most 15 per account per clock minute (the rate limit is 20).
    const claims: Array<{ user: TestUser; code: string }> = [];
    w.shareCodes.forEach((code, i) => {
      for (let k = 1; k <= 3; k++) claims.push({ user: w.users[(i + k * 7) % 40]!, code });
    });
    let ok = 0;
    for (let r = 0; r * 600 < claims.length; r++) {
      await limited(claims.slice(r * 600, (r + 1) * 600), 8, async (c) => {
        const res = await api('POST', '/v1/claims', { token: c.user.token, body: { code: c.code } });
        if (res.status === 200) ok++;
        else expect(['PACKET_FINISHED', 'PACKET_EXPIRED', 'CODE_EXPIRED']).toContain(res.body.error.code);
      });
      clock.advance(MINUTE);
    }
    expect(ok).toBeGreaterThan(2_000);
    // Transfers inside the world.
    const codes = await Promise.all(w.users.slice(0, 10).map(async (u) => (await api('GET', '/v1/receive-code', { token: u.token })).body.code as string));
    await limited(Array.from({ length: 60 }, (_, i) => i), 8, async (i) => {
      const r = await api('POST', '/v1/transfers', { token: w.users[20 + (i % 20)]!.token, idem: idem(), body: { code: codes[i % 10], amount: 11 + i } });
      expect(r.status).toBe(201);
    });
    // The short-lived packets expire and are settled (refunds).
    clock.advance(10 * MINUTE);
    let refunds = 0;
    for (const id of w.packets) refunds += (await settlePacket(d, id, clock.t)).refunded > 0 ? 1 : 0;
    expect(refunds).toBeGreaterThan(0);
    clock.advance(2 * MINUTE);

    const report = await reconcile(d, { scope: scopeOf(w) });
    expect(report.listed).toEqual([]);
    expect(report).toMatchObject({ ok: true, mismatches: 0 });
    expect(report.checked.packets).toBe(1_040);
    expect(report.checked.slots).toBeGreaterThan(2_000);
    expect(report.checked.transfers).toBe(60);
    expect(report.balances + report.escrow + report.inTransit).toBe(report.topups);
    expect(report.topups).toBe(40 * 90_000);
    expect(report.escrow).toBeGreaterThan(0);
  }, 120_000);

  test('finds an edited balance, a deleted entry, a duplicated claim and an unrefunded expired packet — by id, with an ops event each', async () => {
    const clock = new Clock(Date.parse('2027-06-02T03:00:00Z'));
    const d = testDeps({ clock });
    const api = makeApi(d);
    const w = await world(api, 6, 10_000);
    const [a, b, c, e, f, g] = w.users as [TestUser, TestUser, TestUser, TestUser, TestUser, TestUser];
    for (const s of [a, b]) {
      const sent = await sendPacket(api, s, { total: 600, count: 3, mode: 'lucky' });
      w.packets.push(sent.packet.id);
      w.shareCodes.push(sent.shareCode.code);
    }
    for (const u of [c, e]) expect((await api('POST', '/v1/claims', { token: u.token, body: { code: w.shareCodes[0] } })).status).toBe(200);
    const expiring = await sendPacket(api, f, { total: 300, count: 2, mode: 'equal', ttlSeconds: 60 });
    w.packets.push(expiring.packet.id);
    await topup(api, g, 500);
    await topup(api, g, 700);
    clock.advance(2 * MINUTE);
    const clean = await reconcile(d, { scope: scopeOf(w), save: false });
    expect(clean.listed).toEqual([]);

    // 1. A balance edited by 1 fen (entry 2 of account c: its claim credit).
    await d.db.update(Keys.ledgerEntry(c.userId, 2), 'SET balance = balance + :one', { values: { ':one': 1 } });
    // 2. A ledger entry deleted (account g's second of three top-ups) — the store door has no delete: raw SDK.
    await rawDelete(Keys.ledgerEntry(g.userId, 2));
    // 3. A duplicated claim: e's share recorded again under a second slot of the same packet
    //    (the one-per-account gate bypassed), as a copied claim marker + slot would leave it.
    const eSlot = (await d.packets.slots(w.packets[0]!)).find((s) => s.userId === e.userId)!;
    await d.db.put({ ...Keys.slot(w.packets[0]!, 2), index: 2, userId: e.userId, name: 'e', amount: eSlot.amount, at: eSlot.at, seqHint: 0 });
    // 4. An expired packet nobody refunded: f's, 60 s packet, now 10 minutes past expiry, not swept.
    clock.advance(10 * MINUTE);

    const report = await reconcile(d, { scope: scopeOf(w) });
    expect(report.ok).toBe(false);
    const found = (kind: string, id: string) => report.listed.some((m) => m.kind === kind && m.id === id);
    expect(found('ledger_balance', c.userId)).toBe(true);
    expect(found('ledger_gap', g.userId)).toBe(true);
    expect(found('duplicate_share', w.packets[0]!)).toBe(true);
    expect(found('unrefunded_expired', expiring.packet.id)).toBe(true);
    // Nothing was repaired: the packet is still active, the entry still missing.
    expect((await d.packets.get(expiring.packet.id))?.state).toBe('active');
    expect(await d.db.get(Keys.ledgerEntry(g.userId, 2))).toBeUndefined();
    // One ops event per mismatch, and the report + latest pointer are stored.
    const events = await new DynamoReconcileStore(d.db).events(dayKeyUtc8(Date.parse(report.finishedAt)));
    const mine = events.filter((x) => x.runId === report.runId);
    expect(mine).toHaveLength(report.listed.length);
    expect(await d.db.get(OpsKeys.reconReport(report.runId))).toMatchObject({ runId: report.runId, ok: false, mismatches: report.mismatches });
    const latest = await new DynamoReconcileStore(d.db).latest();
    expect(latest?.finishedAt).toBeDefined(); // (another run may have written it since)
  }, 60_000);

  test('runs while claims, packets and transfers are in flight: no false alarm', async () => {
    const clock = new Clock(Date.parse('2027-06-03T05:00:00Z'));
    const d = testDeps({ clock });
    const api = makeApi(d);
    const w = await world(api, 12, 50_000);
    for (let i = 0; i < 40; i++) {
      const sent = await sendPacket(api, w.users[i % 12]!, { total: 200 + i, count: 4, mode: 'lucky' });
      w.packets.push(sent.packet.id);
      w.shareCodes.push(sent.shareCode.code);
    }
    const codes = await Promise.all(w.users.map(async (u) => (await api('GET', '/v1/receive-code', { token: u.token })).body.code as string));
    // Traffic keeps going (and the clock moving) while reconciliation runs: its cutoff falls in
    // the middle of it.
    let done = false;
    let moves = 0;
    const traffic = (async () => {
      for (let i = 0; i < 150; i++) {
        const u = w.users[i % 12]!;
        if (i % 5 === 0) {
          const sent = await sendPacket(api, u, { total: 50 + i, count: 2, mode: 'lucky' });
          w.packets.push(sent.packet.id); // the scope grows; each run reads a copy taken at its start
        } else if (i % 5 === 1) {
          await api('POST', '/v1/transfers', { token: u.token, idem: idem(), body: { code: codes[(i + 1) % 12], amount: 7 } });
        } else {
          await api('POST', '/v1/claims', { token: w.users[(i * 5) % 12]!.token, body: { code: w.shareCodes[i % 40] } });
        }
        moves++;
        clock.advance(500);
      }
      done = true;
    })();
    const reports = [];
    while ((!done || reports.length < 2) && reports.length < 6) {
      reports.push(await reconcile(d, { scope: { accounts: w.users.map((u) => u.userId), packets: [...w.packets] }, save: false }));
    }
    await traffic;
    expect(moves).toBe(150);
    expect(reports.length).toBeGreaterThanOrEqual(2);
    for (const r of reports) {
      expect(r.listed).toEqual([]);
      expect(r.balances + r.escrow + r.inTransit).toBe(r.topups);
    }
    clock.advance(2 * MINUTE);
    const after = await reconcile(d, { scope: { accounts: w.users.map((u) => u.userId), packets: w.packets }, save: false });
    expect(after.listed).toEqual([]);
  }, 60_000);

  test('the whole-table run discovers accounts, packets and top-ups by scan, and catches a deleted newest entry', async () => {
    const clock = new Clock(Date.parse('2027-06-04T06:00:00Z'));
    const d = testDeps({ clock });
    const api = makeApi(d);
    const w = await world(api, 2, 1_000);
    await sendPacket(api, w.users[0]!, { total: 300, count: 2, mode: 'lucky' });
    // A wallet whose only entry is deleted: no chain can see that, the top-up record can.
    const lone = await login(api);
    const t = await api('POST', '/v1/wallet/topups', { token: lone.token, idem: idem(), body: { amount: 123 } });
    expect(t.status).toBe(201);
    await rawDelete(Keys.ledgerEntry(lone.userId, 1));

    const report = await reconcile(d, { save: false, listLimit: 100_000 });
    // Other test files break data on purpose in this shared table: assert coverage and our case.
    expect(report.scope).toBe('all');
    expect(report.checked.accounts).toBeGreaterThanOrEqual(2);
    expect(report.checked.packets).toBeGreaterThanOrEqual(1);
    expect(report.itemsRead).toBeGreaterThan(report.checked.ledgerEntries);
    expect(report.listed.some((m) => m.kind === 'topup_uncredited' && m.id === t.body.topupId)).toBe(true);
  }, 60_000);
});
