/**
 * Reconciliation against dynalite through the real SDK.
 *
 * The table is shared with test files running in parallel, some of which break data on purpose
 * (crash points, ledger and audit tampering). So the first three tests reconcile a closed world
 * of their own (`scope`: its accounts and packets; the shared fee ledgers count only the
 * world's fees) — the same code as the hourly run apart from the discovery Scan — and the last
 * one runs over the whole table and asserts only about what it created. Clocks are set in 2027,
 * far from the times other files sweep at; expired packets are settled with `settlePacket`, the
 * sweeper's own settlement step, because a global sweep at a 2027 clock would settle and cancel
 * other files' worlds under their feet.
 */
import { DeleteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { reconcile } from '../../functions/src/app/reconcile';
import { FEE_ACCOUNTS } from '../../functions/src/app/context';
import { settlePacket } from '../../functions/src/app/settlement';
import { ledgerEntryHash } from '../../functions/src/domain/ledger-chain';
import { counterOf, homeCounter } from '../../functions/src/domain/share-counters';
import { dayKeyUtc8 } from '../../functions/src/domain/money';
import type { Mismatch } from '../../functions/src/domain/reconcile';
import type { DynamoWalletStore } from '../../functions/src/store/ledger';
import { DynamoReconcileStore, type ReconcileReport } from '../../functions/src/store/reconcile';
import { Attr, Keys, OpsKeys } from '../../functions/src/store/keys';
import { takeExpression } from '../../functions/src/store/recorded';
import {
  Clock,
  idem,
  login,
  makeApi,
  sendPacket,
  testDeps,
  topup,
  type Api,
  type TestDeps,
  type TestUser,
} from '../helpers/app';

const MINUTE = 60_000;

interface World {
  users: TestUser[];
  packets: string[];
  shareCodes: string[];
}

/** Bounded concurrency over a list. */
async function limited<T>(items: T[], n: number, fn: (x: T, i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

async function world(api: Api, users: number, fund: number, enterprise = 0): Promise<World> {
  const w: World = { users: [], packets: [], shareCodes: [] };
  for (let i = 0; i < users; i++) w.users.push(await login(api, i < enterprise ? { tier: 'enterprise' } : {}));
  await limited(w.users, 8, async (u) => topup(api, u, fund));
  return w;
}

const scopeOf = (w: World) => ({ accounts: w.users.map((u) => u.userId), packets: [...w.packets] });
const has = (r: ReconcileReport, kind: Mismatch['kind'], id: string) =>
  r.listed.some((m) => m.kind === kind && m.id === id);
const conserved = (r: ReconcileReport) => r.balances + r.escrow + r.inTransit === r.topups;

/** Partition keys that hold money: ledgers, packets and their parts, transfers, top-ups, campaigns, replays. */
const MONEY_PK = /^(LEDGER|PKT|SLOTS|CNTR|CLAIM|FWD|XFER|TOPUP|CAMP|IDEM|ACCT)#/;

/** The pk of every item whose TTL attribute is a number — what the table's TTL would delete. */
async function expiringPks(d: TestDeps): Promise<string[]> {
  const out: string[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await d.db.scan({
      projection: 'pk',
      filter: 'attribute_type(#ttl, :n)',
      names: { '#ttl': Attr.ttl },
      values: { ':n': 'N' },
      ...(startKey ? { startKey } : {}),
    });
    out.push(...page.items.map((it) => it.pk));
    startKey = page.lastKey;
  } while (startKey);
  return out;
}

/**
 * Appends a claim credit of `packetId` to an account's ledger and re-seals it, so that the hash
 * chain itself stays intact: what a bug or a forger applying a credit would leave.
 */
async function forgeClaimCredit(
  d: TestDeps,
  userId: string,
  credit: { packetId: string; amount: number; at: string },
): Promise<void> {
  const last = (await (d.wallets as DynamoWalletStore).chain(userId)).at(-1)!;
  const forged = {
    userId,
    seq: last.seq + 1,
    opId: `claim:${credit.packetId}`,
    type: 'claim_credit',
    amount: credit.amount,
    balance: last.balance + credit.amount,
    sentDay: last.sentDay,
    sentToday: last.sentToday,
    ref: credit.packetId,
    at: credit.at,
    packetId: credit.packetId,
    prevHash: last.hash,
  };
  const { seq: _s, ...attrs } = forged;
  await d.db.put({
    ...Keys.ledgerEntry(userId, forged.seq),
    ...attrs,
    hash: ledgerEntryHash(forged),
    ...Keys.received(userId, `${credit.at}#${forged.opId}`),
  });
}

/** The kinds of the mismatches a report lists about one id, sorted. */
const kindsOf = (r: ReconcileReport, id: string) =>
  r.listed
    .filter((m) => m.id === id)
    .map((m) => m.kind)
    .sort();

/**
 * A recorded packet of 12 shares — two counters, of 10 and 2 shares — claimed whole by 12 of
 * `users`, at least three of them at home on the small counter and claiming first: its third
 * home claim finds it full and overflows (claim marker, then a take on the other counter).
 * Returns the packet and the accounts whose claims overflowed.
 */
async function overflowPacket(
  api: Api,
  d: TestDeps,
  sender: TestUser,
  users: readonly TestUser[],
): Promise<{ packetId: string; overflowed: TestUser[] }> {
  const sent = await sendPacket(api, sender, { total: 1_200, count: 12, mode: 'lucky' });
  const p = (await d.packets.get(sent.packet.id))!;
  expect(p).toMatchObject({ layout: 'recorded', counters: 2 });
  const small = users.filter((u) => homeCounter(p.id, u.userId, 2) === 1);
  const big = users.filter((u) => homeCounter(p.id, u.userId, 2) === 0);
  expect(small.length).toBeGreaterThanOrEqual(3);
  expect(small.length + big.length).toBeGreaterThanOrEqual(12);
  const claimers = [...small, ...big].slice(0, 12);
  for (const u of claimers)
    expect((await api('POST', '/v1/claims', { token: u.token, body: { code: sent.shareCode.code } })).status).toBe(200);
  // Only the claims whose home was full wrote a marker, and took on counter 0.
  const overflowed = small.slice(2, 12);
  const marked = [];
  for (const u of claimers) if (await d.db.get(Keys.claimMarker(p.id, u.userId))) marked.push(u.userId);
  expect(marked.sort()).toEqual(overflowed.map((u) => u.userId).sort());
  for (const u of overflowed) expect((await d.claims.slotOf(p, u.userId))!.index).toBeLessThan(10);
  return { packetId: p.id, overflowed };
}

describe('reconciliation', () => {
  test('a busy history — 1,040 packets, 3,000+ claims, fees, transfers, refunds — reconciles with no mismatch', async () => {
    const clock = new Clock(Date.parse('2027-06-01T02:00:00Z'));
    const d = testDeps({ clock });
    const api = makeApi(d);
    const w = await world(api, 40, 90_000, 4);
    // 26 packets per user, 3–5 shares; every 5th lives 30 minutes only (refunded below); the four
    // enterprise senders pay a fee to the platform account.
    const specs = Array.from({ length: 1_040 }, (_, i) => ({
      sender: w.users[i % 40]!,
      total: 100 + (i % 7) * 37,
      count: 3 + (i % 3),
      ttl: i % 5 === 0 ? 1_800 : 86_400,
    }));
    let fees = 0;
    const short: string[] = [];
    await limited(specs, 8, async (s) => {
      const sent = await sendPacket(api, s.sender, {
        total: s.total,
        count: s.count,
        mode: 'lucky',
        ttlSeconds: s.ttl,
      });
      w.packets.push(sent.packet.id);
      if (s.ttl < 3_600) short.push(sent.packet.id);
      w.shareCodes.push(sent.shareCode.code);
      fees += sent.fee;
    });
    expect(fees).toBeGreaterThan(0);
    // Three claimers per packet (4- and 5-share packets keep some: escrow, and the refunds below), in
    // rounds of at most 15 claims per account per clock minute (the personal rate limit is 20).
    const claims: Array<{ user: TestUser; code: string }> = [];
    w.shareCodes.forEach((code, i) => {
      for (let k = 1; k <= 3; k++) claims.push({ user: w.users[(i + k * 7) % 40]!, code });
    });
    let ok = 0;
    for (let r = 0; r * 600 < claims.length; r++) {
      await limited(claims.slice(r * 600, (r + 1) * 600), 8, async (c) => {
        const res = await api('POST', '/v1/claims', { token: c.user.token, body: { code: c.code } });
        expect(res.status).toBe(200);
        ok++;
      });
      clock.advance(MINUTE);
    }
    expect(ok).toBeGreaterThan(3_000);
    // New packets take the recorded layout: each claim is a record on its counter, and no claim
    // here wrote a marker (a packet of ≤ 10 shares has one counter: a full home is a full packet).
    for (let i = 0; i < 10; i++) {
      const p = (await d.packets.get(w.packets[i]!))!;
      expect(p).toMatchObject({ layout: 'recorded', counters: 1 });
      const claimer = w.users[(i + 7) % 40]!;
      expect(await d.claims.slotOf(p, claimer.userId)).toBeDefined();
      expect(await d.db.get(Keys.claimMarker(p.id, claimer.userId))).toBeUndefined();
    }
    // Transfers inside the world (amounts vary: five equal payments in a row trip the breaker).
    const codes = await Promise.all(
      w.users
        .slice(0, 10)
        .map(async (u) => (await api('GET', '/v1/receive-code', { token: u.token })).body.code as string),
    );
    await limited(
      Array.from({ length: 60 }, (_, i) => i),
      8,
      async (i) => {
        const r = await api('POST', '/v1/transfers', {
          token: w.users[20 + (i % 20)]!.token,
          idem: idem(),
          body: { code: codes[i % 10], amount: 11 + i },
        });
        expect(r.status).toBe(201);
      },
    );
    // The short-lived packets expire and are settled (the sweeper's settlement step).
    clock.advance(30 * MINUTE);
    let refunds = 0;
    await limited(short, 8, async (id) => {
      const r = await settlePacket(d, id, clock.t);
      expect(r.settled).toBe(true);
      if (r.refunded > 0) refunds++;
    });
    expect(refunds).toBeGreaterThan(100); // the 4- and 5-share ones
    clock.advance(2 * MINUTE);

    const report = await reconcile(d, { scope: scopeOf(w) });
    expect(report.listed).toEqual([]);
    expect(report).toMatchObject({ ok: true, mismatches: 0, scope: 'scoped', staleShares: 0 });
    // The world's 40 accounts and every fee ledger (the shards and the old single one).
    expect(report.checked).toMatchObject({
      accounts: 40 + FEE_ACCOUNTS.length,
      packets: 1_040,
      transfers: 60,
      topups: 40,
      packetsLookedUp: 0,
      entriesAfterCutoff: 0,
    });
    expect(report.checked.slots).toBe(ok);
    // Every entry of the world: 40 top-ups, 1,040 debits, the claims, 60 × 2 transfer sides, the
    // refunds, and this world's fee credits in the shared fee ledgers (read whole).
    expect(report.checked.ledgerEntries).toBeGreaterThan(40 + 1_040 + ok + 120 + refunds);
    expect(report.topups).toBe(40 * 90_000);
    expect(report.inTransit).toBe(0);
    expect(report.inTransitBy).toMatchObject({ shares: 0, transfers: 0, fees: 0 });
    expect(report.escrow).toBeGreaterThan(0); // the 24-hour packets not fully claimed
    expect(conserved(report)).toBe(true);
    // The records come with their counters: per packet its item (twice: slots before item), its
    // shares and its one counter, whatever its claims; plus the ledgers and the 40 top-up records.
    expect(report.itemsRead).toBe(report.checked.ledgerEntries + 4 * 1_040 + 40);
  }, 300_000); // ~45 s alone; CI runs it beside other suites on 2 cores

  test('money never expires: after top-ups, fees, claims, transfers, a refund and a campaign, the world reconciles (fees on their shards) and no money item carries the TTL attribute', async () => {
    const clock = new Clock(Date.parse('2027-06-03T02:00:00Z'));
    const d = testDeps({ clock });
    const api = makeApi(d);
    const w = await world(api, 4, 50_000, 1);
    const [co, a, b, c] = w.users as [TestUser, TestUser, TestUser, TestUser];
    const sent = await sendPacket(api, co, { total: 1_000, count: 3, mode: 'lucky', ttlSeconds: 60 });
    expect(sent.fee).toBeGreaterThan(0);
    w.packets.push(sent.packet.id);
    for (const u of [a, b])
      expect((await api('POST', '/v1/claims', { token: u.token, body: { code: sent.shareCode.code } })).status).toBe(
        200,
      );
    const code = (await api('GET', '/v1/receive-code', { token: c.token })).body.code as string;
    expect(
      (await api('POST', '/v1/transfers', { token: a.token, idem: idem(), body: { code, amount: 150 } })).status,
    ).toBe(201);
    const camp = await api('POST', '/v1/campaigns', {
      token: co.token,
      idem: idem(),
      body: { name: '到期检查', quantity: 2, packet: { total: 200, count: 2, mode: 'equal' } },
    });
    expect(camp.status).toBe(201);
    clock.advance(2 * MINUTE);
    expect((await settlePacket(d, sent.packet.id, clock.t)).refunded).toBeGreaterThan(0);
    // The fees sit on fee-ledger shards: reconciliation sums them, and the world balances.
    clock.advance(2 * MINUTE);
    const campaignPackets = (camp.body.packets as Array<{ id: string }>).map((p) => p.id);
    const report = await reconcile(d, {
      scope: {
        accounts: w.users.map((u) => u.userId),
        packets: [...w.packets, ...campaignPackets],
        campaigns: [camp.body.campaignId],
      },
      save: false,
    });
    expect(report.listed).toEqual([]);
    expect(report.inTransitBy.fees).toBe(0);
    expect(conserved(report)).toBe(true);
    // TTL deletes by the audit store's attribute: nothing that holds money may carry it (the
    // whole shared table — every file's money items); audit records do carry it.
    const expiring = await expiringPks(d);
    expect(expiring.filter((pk) => MONEY_PK.test(pk))).toEqual([]);
    expect(expiring).toEqual(expect.arrayContaining(w.users.map((u) => `AUDIT#${u.userId}`)));
  }, 120_000); // ~45 s alone; CI runs it beside other suites on 2 cores

  test('finds an edited balance, a deleted entry, a duplicated claim (two forms) and an unrefunded expired packet — by id, with an ops event each, repairing nothing', async () => {
    const clock = new Clock(Date.parse('2027-06-02T03:00:00Z'));
    // Packets stored before the recorded layout: the duplicated share is a slot item (the
    // recorded layout's own tampering is the test after the next).
    const d = testDeps({ clock, layout: 'slots' });
    const api = makeApi(d);
    const w = await world(api, 7, 10_000);
    const [a, b, c, e, f, g, h] = w.users as [TestUser, TestUser, TestUser, TestUser, TestUser, TestUser, TestUser];
    for (const s of [a, b]) {
      const sent = await sendPacket(api, s, { total: 600, count: 3, mode: 'lucky' });
      w.packets.push(sent.packet.id);
      w.shareCodes.push(sent.shareCode.code);
    }
    const [p0, p1] = w.packets as [string, string];
    for (const u of [c, e])
      expect((await api('POST', '/v1/claims', { token: u.token, body: { code: w.shareCodes[0] } })).status).toBe(200);
    expect((await api('POST', '/v1/claims', { token: h.token, body: { code: w.shareCodes[1] } })).status).toBe(200);
    const expiring = (await sendPacket(api, f, { total: 300, count: 2, mode: 'equal', ttlSeconds: 60 })).packet
      .id as string;
    w.packets.push(expiring);
    await topup(api, g, 500);
    await topup(api, g, 700);
    clock.advance(2 * MINUTE);
    const clean = await reconcile(d, { scope: scopeOf(w), save: false });
    expect(clean.listed).toEqual([]);

    // 1. A stored balance edited by 1 fen (c's entry 2: its claim credit).
    await d.db.update(Keys.ledgerEntry(c.userId, 2), 'SET balance = balance + :one', { values: { ':one': 1 } });
    // 2. A ledger entry deleted (g's second of three top-ups). The store door has no delete on
    //    purpose: the raw SDK.
    const raw = new DynamoDBClient({
      endpoint: process.env.DYNAMODB_ENDPOINT,
      region: process.env.AWS_REGION,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await raw.send(
      new DeleteItemCommand({
        TableName: process.env.TABLE_NAME,
        Key: { pk: { S: Keys.ledgerPk(g.userId) }, sk: { S: Keys.ledgerEntry(g.userId, 2).sk } },
      }),
    );
    // 3. A duplicated claim. The claim marker cannot itself be duplicated — it is one item per
    //    (packet, account), CLAIM#<packet>#<account>, put only if absent: that is the gate. What
    //    a bypassed gate or a forger can duplicate is what hangs off it:
    //    (a) a second share for e in p0: the counter taken once more and slot 2 recorded for e;
    const shares0 = (await d.packets.shares(p0))!.amounts;
    await d.db.update(Keys.packet(p0), 'SET claimed = claimed + :one', { values: { ':one': 1 } });
    await d.db.put({
      ...Keys.slot(p0, 2),
      userId: e.userId,
      name: e.name,
      amount: shares0[2]!,
      at: new Date(clock.t).toISOString(),
      seqHint: 0,
    });
    //    (b) h's claim credit of p1 applied twice: a second `claim:<p1>` entry appended to h's
    //        ledger and re-sealed, so that the hash chain itself is intact.
    const wallets = d.wallets as DynamoWalletStore;
    const credit = (await wallets.chain(h.userId)).find((x) => x.opId === `claim:${p1}`)!;
    await forgeClaimCredit(d, h.userId, { packetId: p1, amount: credit.amount, at: credit.at });
    // 4. An expired packet nobody refunded: f's 60-second packet, now 11 minutes past expiry.
    clock.advance(10 * MINUTE);

    const report = await reconcile(d, { scope: scopeOf(w) });
    expect(report.ok).toBe(false);
    expect(has(report, 'ledger_balance', c.userId)).toBe(true);
    expect(has(report, 'ledger_gap', g.userId)).toBe(true);
    expect(has(report, 'duplicate_share', p0)).toBe(true);
    expect(has(report, 'credit_wrong', p1)).toBe(true);
    expect(report.listed.some((m) => m.id === h.userId)).toBe(false); // h's chain is intact
    expect(has(report, 'unrefunded_expired', expiring)).toBe(true);
    // The forged credit is money no share accounts for: the platform's sum is off by it. (The
    // deleted top-up credit is not: its record is not read in a scoped run, and the whole-table
    // run's case below shows how a completed top-up without credit is found.)
    expect(report.listed.find((m) => m.kind === 'conservation')?.detail).toContain(`off by ${credit.amount}`);
    expect(report.mismatches).toBe(report.listed.length);

    // Nothing was repaired.
    expect((await d.packets.get(expiring))?.state).toBe('active');
    expect(await d.db.get(Keys.ledgerEntry(g.userId, 2))).toBeUndefined();
    expect((await d.db.get(Keys.ledgerEntry(c.userId, 2)))?.balance).toBe(
      ((await d.db.get(Keys.ledgerEntry(c.userId, 1)))!.balance as number) +
        ((await d.db.get(Keys.ledgerEntry(c.userId, 2)))!.amount as number) +
        1,
    );
    expect((await wallets.chain(h.userId)).filter((x) => x.opId === `claim:${p1}`)).toHaveLength(2);

    // One ops event per mismatch, by day, and the report item.
    const store = new DynamoReconcileStore(d.db);
    const events = (await store.events(dayKeyUtc8(Date.parse(report.finishedAt)))).filter(
      (x) => x.runId === report.runId,
    );
    expect(events.map((x) => `${x.kind}:${x.id}`).sort()).toEqual(report.listed.map((m) => `${m.kind}:${m.id}`).sort());
    expect(events.every((x) => x.type === 'reconciliation_mismatch')).toBe(true);
    expect(report.events).toBe(events.length);
    expect(await store.report(report.runId)).toMatchObject({
      runId: report.runId,
      ok: false,
      mismatches: report.mismatches,
      scope: 'scoped',
    });
  }, 60_000);

  test('packets of > 100 shares: counters and per-counter slots reconcile clean; a second share in another counter and a slot its counter never handed out are found', async () => {
    const clock = new Clock(Date.parse('2027-06-05T03:00:00Z'));
    // 100-share counters and their slot partitions: packets stored before the recorded layout.
    const d = testDeps({ clock, layout: 'slots' });
    const api = makeApi(d);
    const w = await world(api, 32, 1, 2);
    const [a, b] = w.users as [TestUser, TestUser];
    await topup(api, a, 30_180);
    await topup(api, b, 25_150);
    const hot = await sendPacket(api, a, { total: 30_000, count: 300, mode: 'equal' });
    const soon = await sendPacket(api, b, { total: 25_000, count: 250, mode: 'lucky', ttlSeconds: 60 });
    w.packets.push(hot.packet.id, soon.packet.id);
    const claimers = w.users.slice(2);
    await limited(claimers.slice(0, 25), 8, async (u) => {
      expect((await api('POST', '/v1/claims', { token: u.token, body: { code: hot.shareCode.code } })).status).toBe(
        200,
      );
    });
    await limited(claimers.slice(20, 30), 8, async (u) => {
      expect((await api('POST', '/v1/claims', { token: u.token, body: { code: soon.shareCode.code } })).status).toBe(
        200,
      );
    });
    clock.advance(2 * MINUTE);
    expect((await settlePacket(d, soon.packet.id, clock.now())).settled).toBe(true);
    clock.advance(2 * MINUTE);
    const clean = await reconcile(d, { scope: scopeOf(w), save: false });
    expect(clean.listed).toEqual([]);
    expect(clean.checked.slots).toBe(25 + 10);
    expect(conserved(clean)).toBe(true);

    // (a) A second share for one account, taken from another counter than its first.
    const p = (await d.packets.get(hot.packet.id))!;
    const twice = claimers[0]!;
    const first = (await d.claims.slotOf(p, twice.userId))!;
    const counters = await d.packets.counters(p);
    const other = counters.find((c) => c.counter !== Math.floor(first.index / 100) && c.claimed < c.size)!;
    await d.db.update(Keys.shareCounter(p.id, other.counter), 'SET claimed = claimed + :one', {
      values: { ':one': 1 },
    });
    const at = new Date(clock.t).toISOString();
    await d.db.put({
      ...Keys.slot(p.id, other.start + other.claimed),
      userId: twice.userId,
      name: twice.name,
      amount: 100,
      at,
      seqHint: 0,
    });
    // (b) A slot beyond what its counter handed out (a forged share with no counter behind it).
    const stray = counters.find((c) => c.counter !== other.counter && c.claimed < c.size - 1)!;
    await d.db.put({
      ...Keys.slot(p.id, stray.start + stray.size - 1),
      userId: claimers[29]!.userId,
      name: 'x',
      amount: 100,
      at,
      seqHint: 0,
    });
    clock.advance(2 * MINUTE);
    const report = await reconcile(d, { scope: scopeOf(w), save: false });
    expect(has(report, 'duplicate_share', p.id)).toBe(true);
    expect(has(report, 'slot_beyond_counter', p.id)).toBe(true);
    expect(report.listed.find((m) => m.kind === 'slot_beyond_counter')?.detail).toContain(
      `slot ${stray.start + stray.size - 1}`,
    );
    expect(report.listed.some((m) => m.id === soon.packet.id)).toBe(false);
  }, 60_000);

  test('recorded packets: an account on two counters, a share recorded for two accounts, an edited amount, a credit with no record, a counter ahead of its records, a record beyond its counter and an entry naming no record — each found by packet id', async () => {
    const clock = new Clock(Date.parse('2027-06-06T03:00:00Z'));
    const d = testDeps({ clock });
    const api = makeApi(d);
    const w = await world(api, 10, 20_000);
    const [sender, ...rest] = w.users as [TestUser, ...TestUser[]];
    const claimers = rest.slice(0, 4);
    const [x, y, z] = rest.slice(4) as [TestUser, TestUser, TestUser];
    // Seven packets of 25 shares (three counters: 10, 10 and 5 shares), four claims each.
    const cases = [
      'twoCounters',
      'onePosition',
      'amount',
      'noRecord',
      'counterAhead',
      'recordBeyond',
      'noSuchPosition',
    ] as const;
    const ids = {} as Record<(typeof cases)[number], string>;
    for (const c of cases) {
      const sent = await sendPacket(api, sender, { total: 2_500, count: 25, mode: 'lucky' });
      ids[c] = sent.packet.id;
      w.packets.push(sent.packet.id);
      for (const u of claimers)
        expect((await api('POST', '/v1/claims', { token: u.token, body: { code: sent.shareCode.code } })).status).toBe(
          200,
        );
    }
    const packet = async (id: string) => {
      const p = (await d.packets.get(id))!;
      expect(p).toMatchObject({ layout: 'recorded', counters: 3 });
      return p;
    };
    /** Where an account's record sits: its counter and its position there. */
    const recordOf = async (id: string, u: TestUser) => {
      const index = (await d.claims.slotOf(await packet(id), u.userId))!.index;
      const k = counterOf(index, 'recorded');
      return { k, pos: index - k * 10 };
    };
    clock.advance(2 * MINUTE);
    const clean = await reconcile(d, { scope: scopeOf(w), save: false });
    expect(clean.listed).toEqual([]);
    expect(clean.checked).toMatchObject({ slots: cases.length * 4, packetsLookedUp: 0 });
    // No claim here overflowed: the records alone are the gate, no claim has a marker.
    for (const u of claimers) expect(await d.db.get(Keys.claimMarker(ids.amount, u.userId))).toBeUndefined();

    const counter = (id: string, k: number) => Keys.shareCounter(id, k);
    // (a) A second share for one account, recorded on another counter than its first: the
    //     real take, its gate (the account's absence from that counter) met.
    const first = await recordOf(ids.twoCounters, claimers[0]!);
    const take = takeExpression({ userId: claimers[0]!.userId, name: 'x', atMs: clock.t, seqHint: 0 }, clock.t);
    const second = await d.db.update(counter(ids.twoCounters, (first.k + 1) % 3), take.update, take.expr);
    expect(second).toBeDefined();
    // Its one credit matches one of the two shares; the other too only if the amounts are equal.
    const amounts = (await d.packets.shares(ids.twoCounters))!.amounts;
    const secondIndex = (second!.start as number) + (second!.ix as Record<string, number>)[claimers[0]!.userId]!;
    const creditWrong = amounts[secondIndex] !== amounts[first.k * 10 + first.pos] ? ['credit_wrong'] : [];
    // (b) A share recorded for two accounts: x mapped to claimer 1's position.
    const shared = await recordOf(ids.onePosition, claimers[1]!);
    await d.db.update(counter(ids.onePosition, shared.k), 'SET ix.#u = :pos', {
      names: { '#u': x.userId },
      values: { ':pos': shared.pos },
    });
    // (c) A record whose amount disagrees with the packet's share: the counter's copy edited.
    const edited = await recordOf(ids.amount, claimers[2]!);
    await d.db.update(counter(ids.amount, edited.k), `SET amounts[${edited.pos}] = amounts[${edited.pos}] + :one`, {
      values: { ':one': 1 },
    });
    // (d) A claim credit no record accounts for (re-sealed: y's chain is intact).
    await forgeClaimCredit(d, y.userId, { packetId: ids.noRecord, amount: 100, at: new Date(clock.t).toISOString() });
    // (e) A counter that handed out a share it does not record.
    await d.db.update(counter(ids.counterAhead, 2), 'SET claimed = claimed + :one', { values: { ':one': 1 } });
    // (f) A record beyond what its counter handed out: z recorded at the next position, the
    //     count left as it was.
    await d.db.update(counter(ids.recordBeyond, 2), 'SET ix.#u = claimed, recs = list_append(recs, :rec)', {
      names: { '#u': z.userId },
      values: { ':rec': [{ t: clock.t, h: 0, n: 'z' }] },
    });
    // (g) An account mapped to a position that holds no record (its own record orphaned): read
    //     as what it is, not a reason to stop the run.
    const moved = await recordOf(ids.noSuchPosition, claimers[3]!);
    await d.db.update(counter(ids.noSuchPosition, moved.k), 'SET ix.#u = :pos', {
      names: { '#u': claimers[3]!.userId },
      values: { ':pos': 9 },
    });
    clock.advance(2 * MINUTE);

    const report = await reconcile(d, { scope: scopeOf(w), save: false });
    expect(kindsOf(report, ids.twoCounters)).toEqual([...creditWrong, 'duplicate_share']);
    expect(report.listed.find((m) => m.kind === 'duplicate_share' && m.id === ids.twoCounters)?.detail).toContain(
      claimers[0]!.userId,
    );
    expect(kindsOf(report, ids.onePosition)).toEqual(['duplicate_share']);
    expect(report.listed.find((m) => m.id === ids.onePosition)?.detail).toContain(
      `share ${shared.k * 10 + shared.pos} held by two accounts`,
    );
    expect(kindsOf(report, ids.amount)).toEqual(['credit_wrong', 'share_amount']);
    expect(kindsOf(report, ids.noRecord)).toEqual(['credit_without_share']);
    expect(kindsOf(report, ids.counterAhead)).toEqual(['slot_beyond_counter']);
    expect(report.listed.find((m) => m.id === ids.counterAhead)?.detail).toContain('with no record');
    expect(kindsOf(report, ids.recordBeyond)).toEqual(['slot_beyond_counter']);
    // The entry with no record, its counter's share without one, and the credit of that share.
    expect(kindsOf(report, ids.noSuchPosition)).toEqual([
      'credit_without_share',
      'slot_beyond_counter',
      'slot_beyond_counter',
    ]);
    expect(report.listed.map((m) => m.detail)).toContainEqual(
      expect.stringContaining(`maps it to position 9, which holds no record`),
    );
    // The forged credit is money no share accounts for, and so is the credit of the orphaned
    // record (its share no longer counts as granted, so the escrow claims its money again); the
    // extra records are shares not credited (in transit) and do not unbalance the platform.
    const orphaned = (await d.packets.shares(ids.noSuchPosition))!.amounts[moved.k * 10 + moved.pos]!;
    expect(report.listed.find((m) => m.kind === 'conservation')?.detail).toContain(`off by ${100 + orphaned}`);
    expect(
      report.listed.filter((m) => m.kind !== 'conservation').every((m) => cases.some((c) => ids[c] === m.id)),
    ).toBe(true);
  }, 60_000);

  test('a recorded packet of > 10 shares whose small counter filled: the overflow claims (marker, take on the other counter) and the home claims (no marker) reconcile clean, without look-ups', async () => {
    const clock = new Clock(Date.parse('2027-06-07T03:00:00Z'));
    const d = testDeps({ clock });
    const api = makeApi(d);
    const w = await world(api, 21, 2_000);
    const { packetId, overflowed } = await overflowPacket(api, d, w.users[0]!, w.users.slice(1));
    expect(overflowed.length).toBeGreaterThan(0);
    w.packets.push(packetId);
    clock.advance(2 * MINUTE);
    const report = await reconcile(d, { scope: scopeOf(w), save: false });
    expect(report.listed).toEqual([]);
    expect(report.checked).toMatchObject({ packets: 1, slots: 12, packetsLookedUp: 0 });
    expect(report.inTransit).toBe(0);
    expect(conserved(report)).toBe(true);
  }, 60_000);

  test('runs while claims, packets, transfers and refunds are in flight: no false alarm', async () => {
    const clock = new Clock(Date.parse('2027-06-03T05:00:00Z'));
    const d = testDeps({ clock });
    const api = makeApi(d);
    const w = await world(api, 12, 50_000);
    for (let i = 0; i < 40; i++) {
      const sent = await sendPacket(api, w.users[i % 12]!, {
        total: 200 + i,
        count: 4,
        mode: 'lucky',
        ttlSeconds: i % 4 === 0 ? 60 : 86_400,
      });
      w.packets.push(sent.packet.id);
      w.shareCodes.push(sent.shareCode.code);
    }
    const codes = await Promise.all(
      w.users.map(async (u) => (await api('GET', '/v1/receive-code', { token: u.token })).body.code as string),
    );
    // Three loops keep moving money — and the clock, 250 ms per operation — while
    // reconciliation runs again and again: each run's cutoff (its start − 60 s) falls in the
    // middle of the traffic, operations land while it reads, and the 60-second packets expire
    // and are settled (refunds) along the way.
    let moves = 0;
    let stop = false;
    const loop = async (k: number) => {
      for (let i = k; !stop; i += 3) {
        const u = w.users[i % 12]!;
        if (i % 7 === 0) {
          const sent = await sendPacket(api, u, { total: 50 + (i % 50), count: 2, mode: 'lucky' });
          w.packets.push(sent.packet.id); // each run reconciles the packets known at its start
        } else if (i % 7 === 1) {
          await api('POST', '/v1/transfers', {
            token: u.token,
            idem: idem(),
            body: { code: codes[(i + 1) % 12], amount: 5 + (i % 13) },
          });
        } else if (i % 7 === 2) {
          const id = w.packets[i % 40]!;
          await settlePacket(d, id, clock.t);
        } else {
          await api('POST', '/v1/claims', {
            token: w.users[(i * 5) % 12]!.token,
            body: { code: w.shareCodes[i % 40] },
          });
        }
        moves++;
        clock.advance(250);
      }
    };
    const traffic = Promise.all([loop(0), loop(1), loop(2)]);
    try {
      // Let the history build up past one margin, then reconcile while it goes on.
      while (moves < 400) await new Promise((r) => setTimeout(r, 20));
      const reports: ReconcileReport[] = [];
      const during: number[] = [];
      for (let run = 0; run < 4; run++) {
        const before = moves;
        reports.push(await reconcile(d, { scope: scopeOf(w), save: false }));
        during.push(moves - before);
      }
      for (const r of reports) {
        expect(r.listed).toEqual([]);
        expect(conserved(r)).toBe(true);
        expect(r.checked.entriesAfterCutoff).toBeGreaterThan(0);
      }
      // Traffic did land during the runs.
      expect(during.reduce((x, y) => x + y, 0)).toBeGreaterThan(0);
    } finally {
      stop = true;
      await traffic;
    }
    // And once everything is older than the margin, the whole history is counted and clean.
    clock.advance(2 * MINUTE);
    const after = await reconcile(d, { scope: scopeOf(w), save: false });
    expect(after.listed).toEqual([]);
    expect(after.checked.entriesAfterCutoff).toBe(0);
    expect(after.topups).toBe(12 * 50_000);
    expect(conserved(after)).toBe(true);
  }, 90_000);

  test('the whole-table run discovers accounts, packets and top-ups by Scan, catches a deleted newest entry, and writes the report and the latest pointer', async () => {
    const clock = new Clock(Date.parse('2027-06-04T06:00:00Z'));
    const d = testDeps({ clock });
    const api = makeApi(d);
    const w = await world(api, 2, 1_000);
    const sent = await sendPacket(api, w.users[0]!, { total: 300, count: 2, mode: 'lucky' });
    const packet = sent.packet.id as string;
    expect(
      (await api('POST', '/v1/claims', { token: w.users[1]!.token, body: { code: sent.shareCode.code } })).status,
    ).toBe(200);
    // A recorded packet whose claims are partly marked (overflow) and partly not (home takes):
    // the markers the Scan discovers are no gate of this layout, so no false marker_missing.
    await topup(api, w.users[0]!, 1_200);
    const crowd: TestUser[] = [];
    for (let i = 0; i < 20; i++) crowd.push(await login(api));
    const overflow = await overflowPacket(api, d, w.users[0]!, crowd);
    // A wallet whose only entry is deleted: no chain can see that; its completed top-up record can.
    const lone = await login(api);
    const t = await api('POST', '/v1/wallet/topups', { token: lone.token, idem: idem(), body: { amount: 123 } });
    expect(t.status).toBe(201);
    const raw = new DynamoDBClient({
      endpoint: process.env.DYNAMODB_ENDPOINT,
      region: process.env.AWS_REGION,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await raw.send(
      new DeleteItemCommand({
        TableName: process.env.TABLE_NAME,
        Key: { pk: { S: Keys.ledgerPk(lone.userId) }, sk: { S: Keys.ledgerEntry(lone.userId, 1).sk } },
      }),
    );
    clock.advance(2 * MINUTE);

    // Other files break data on purpose in this shared table (and their worlds look long expired
    // from 2027): assert coverage and our own cases only, seeing every mismatch as it is found.
    const ours = new Set([
      ...w.users.map((u) => u.userId),
      ...crowd.map((u) => u.userId),
      lone.userId,
      packet,
      overflow.packetId,
      t.body.topupId as string,
    ]);
    const found: Mismatch[] = [];
    const report = await reconcile(d, { onMismatch: (m) => ours.has(m.id) && found.push(m) });
    expect(report.scope).toBe('all');
    expect(report.checked.accounts).toBeGreaterThanOrEqual(4);
    expect(report.checked.packets).toBeGreaterThanOrEqual(1);
    expect(report.itemsRead).toBeGreaterThan(report.checked.ledgerEntries);
    expect(found).toEqual([
      { kind: 'topup_uncredited', id: t.body.topupId, detail: expect.stringContaining('no wallet credit') },
    ]);

    // The report item and the latest pointer: one GetItem each.
    const store = new DynamoReconcileStore(d.db);
    expect(await store.report(report.runId)).toMatchObject({
      runId: report.runId,
      scope: 'all',
      mismatches: report.mismatches,
      cutoff: report.cutoff,
    });
    const latest = await store.latest();
    expect(latest).toMatchObject({
      runId: report.runId,
      ok: report.ok,
      mismatches: report.mismatches,
      checked: report.checked,
      itemsRead: report.itemsRead,
    });
    expect(await d.db.get(OpsKeys.reconLatest, false)).toBeDefined();
  }, 90_000);
});
