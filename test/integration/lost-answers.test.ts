/**
 * Lost answers: a conditional write that lands but whose answer never comes back (connection
 * reset, timeout) is retried by the AWS SDK on its own, and the retry meets the item its own
 * first attempt wrote. These tests reproduce that inside one request with a store that loses
 * chosen answers (test/helpers/lossy-store.ts) and check that the store's door recognises its
 * own writes: a claim answers 200 with its share — never PACKET_EXPIRED or a repeat — and the
 * money rules hold, one lost answer at a time and at random. Both share layouts: the slots
 * layout of packets stored before (plain and sharded packets: take lanes, slot puts, voids),
 * pinned with `layout: 'slots'`, and the recorded layout of new packets (home and overflow
 * takes told apart by the account's own record on the counter).
 */
import { dynamoItemBytes } from '../helpers/item-size';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { FEE_ACCOUNTS } from '../../functions/src/app/context';
import { settlePacket } from '../../functions/src/app/settlement';
import { loadConfig } from '../../functions/src/config';
import { counterCount, homeCounter, takenAcross } from '../../functions/src/domain/share-counters';
import {
  conditionalWriteStats,
  createDocumentClient,
  WRITE_TOKEN_ATTRIBUTE,
  WriteOutcomeUnknown,
} from '../../functions/src/store/db';
import { Keys } from '../../functions/src/store/keys';
import { Clock, inBatches, login, makeApi, sendPacket, testDeps, topup, uniq, type TestUser } from '../helpers/app';
import { ledgerOf, violations } from '../helpers/invariants';
import { lossyDeps, type SeenRequest } from '../helpers/lossy-store';
import { seededRandom } from '../helpers/prng';

const cfg = loadConfig();
const plain = testDeps();

describe('the store door: a conditional write whose answer was lost', () => {
  const { db, net } = lossyDeps();
  const key = () => ({ pk: `LOSTTEST#${uniq()}`, sk: 'ITEM' });
  const onKey = (k: { pk: string }) => (r: SeenRequest) => r.pk === k.pk;

  test('the SDK retries it and reports the retry on the condition failure ($metadata.attempts)', async () => {
    const k = key();
    net.loseNext({ match: onKey(k) });
    const doc = createDocumentClient(cfg.region, cfg.dynamoEndpoint, net);
    const err = await doc
      .send(
        new PutCommand({
          TableName: cfg.tableName,
          Item: { ...k, v: 1 },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ConditionalCheckFailedException);
    expect((err as ConditionalCheckFailedException).$metadata.attempts).toBe(2);
    // The first attempt landed: the item is there, written once.
    expect(await plain.db.get(k)).toMatchObject({ v: 1 });
  });

  test('put: its own item is a success, with the token it wrote; another item is a refusal', async () => {
    const k = key();
    net.loseNext({ match: onKey(k) });
    const failures = conditionalWriteStats.failures;
    expect(await db.put({ ...k, v: 1 }, { condition: 'attribute_not_exists(pk)' })).toBe(true);
    expect(net.lost.at(-1)).toMatchObject({ op: 'PutItem', pk: k.pk, status: 200 });
    expect(conditionalWriteStats.failures).toBe(failures);
    expect(typeof (await plain.db.get(k))?.[WRITE_TOKEN_ATTRIBUTE]).toBe('string');

    // The item was there before us: one attempt, a refusal, and no read on that path.
    const before = net.seen.length;
    expect(await db.put({ ...k, v: 2 }, { condition: 'attribute_not_exists(pk)' })).toBe(false);
    expect(net.seen.slice(before).map((r) => r.op)).toEqual(['PutItem']);
    expect(conditionalWriteStats.failures).toBe(failures + 1);

    // A retried put refused by someone else's item (our request never reached the store): false.
    net.loseNext({ match: onKey(k), beforeLanding: true });
    expect(await db.put({ ...k, v: 3 }, { condition: 'attribute_not_exists(pk)' })).toBe(false);
    expect((await plain.db.get(k))?.v).toBe(1);
  });

  test('update: a retried increment is not applied twice; its own item comes back', async () => {
    const k = key();
    await plain.db.put({ ...k, n: 0 });
    net.loseNext({ match: onKey(k) });
    const it = await db.update(k, 'SET n = n + :one', { condition: 'n < :max', values: { ':one': 1, ':max': 5 } });
    expect(net.lost.at(-1)).toMatchObject({ op: 'UpdateItem', pk: k.pk, status: 200 });
    expect(it?.n).toBe(1);
    expect((await plain.db.get(k))?.n).toBe(1);
    // An update without a SET clause is stamped too.
    await plain.db.put({ ...k, n: 1, tags: new Set(['a', 'b']) });
    net.loseNext({ match: onKey(k) });
    const removed = await db.update(k, 'DELETE tags :t', {
      condition: 'contains(tags, :b)',
      values: { ':t': new Set(['b']), ':b': 'b' },
    });
    expect([...((removed?.tags as Set<string>) ?? [])]).toEqual(['a']);
  });

  test('update: when another write landed in between and the retry is refused, the outcome is unknown — not a refusal', async () => {
    const k = key();
    await plain.db.put({ ...k, attempt: 0 });
    net.loseNext({
      match: onKey(k),
      // Another writer moves the item on before the SDK's retry.
      meanwhile: async () => {
        await plain.db.update(k, 'SET attempt = :two', {
          condition: 'attempt = :one',
          values: { ':one': 1, ':two': 2 },
        });
      },
    });
    await expect(
      db.update(k, 'SET attempt = :next', { condition: 'attempt = :seen', values: { ':seen': 0, ':next': 1 } }),
    ).rejects.toBeInstanceOf(WriteOutcomeUnknown);
    // A retried update that never landed and finds no item is a plain refusal.
    const missing = key();
    net.loseNext({ match: onKey(missing), beforeLanding: true });
    expect(
      await db.update(missing, 'SET n = :one', { condition: 'attribute_exists(pk)', values: { ':one': 1 } }),
    ).toBeUndefined();
  });
});

describe('a share take overtaken between its lost answer and the SDK retry (slots layout)', () => {
  test('the retry is refused and the take recovers its index from its lane: one index taken, not two', async () => {
    const { d, net } = lossyDeps({ layout: 'slots' });
    const api = makeApi(d);
    const sender = await login(api, { tier: 'enterprise' });
    await topup(api, sender, 40_000);
    const sent = await sendPacket(api, sender, { total: 12_000, count: 120, mode: 'lucky' });
    const pid: string = sent.packet.id;
    const counters = new Set(Array.from({ length: counterCount(120) }, (_, k) => Keys.shareCounter(pid, k).pk));
    const u = await login(api);
    let hit: { pk: string; sk: string } | undefined;
    net.loseNext({
      match: (r) => {
        const is = r.op === 'UpdateItem' && counters.has(r.pk ?? '');
        if (is) hit = { pk: r.pk!, sk: r.sk! };
        return is;
      },
      // Another take on the same counter lands before the SDK's retry (another lane: no mark of ours).
      meanwhile: async () => {
        await plain.db.update(hit!, 'SET claimed = claimed + :one, lt99 = :m, lx99 = claimed', {
          condition: 'claimed < #size',
          names: { '#size': 'size' },
          values: { ':one': 1, ':m': 'other' },
        });
      },
    });
    const before = takenAcross(await plain.packets.counters((await plain.packets.get(pid))!, true));
    const r = await api('POST', '/v1/claims', { token: u.token, body: { code: sent.shareCode.code } });
    expect({ status: r.status, repeat: r.body.repeat }).toEqual({ status: 200, repeat: false });
    const counter = (await plain.db.get(hit!))!;
    // Our take and the other one: two indexes in all, ours the first (the other took the next).
    expect(takenAcross(await plain.packets.counters((await plain.packets.get(pid))!, true))).toBe(before + 2);
    const slot = (await plain.claims.slotOf({ id: pid, count: 120 }, u.userId))!;
    expect(slot.index).toBe((counter.start as number) + (counter.lx99 as number) - 1);
    expect(slot.amount).toBe(r.body.amount);
  });
});

type Layout = { name: string; tier: 'personal' | 'enterprise'; count: number; total: number };
const LAYOUTS: Layout[] = [
  { name: 'plain (one counter: the packet item)', tier: 'personal', count: 8, total: 800 },
  { name: 'sharded (two counter items)', tier: 'enterprise', count: 120, total: 12_000 },
];

/** The claim's own writes on packet `pid` by account `uid`, by name. */
function claimWrites(pid: string, count: number, uid: string) {
  const counters = new Set(Array.from({ length: counterCount(count) }, (_, k) => Keys.shareCounter(pid, k).pk));
  const slots = new Set(Array.from({ length: counterCount(count) }, (_, k) => Keys.slotsPk(pid, k)));
  const writes: Record<string, (r: SeenRequest) => boolean> = {
    'claim marker put': (r) => r.op === 'PutItem' && r.pk === Keys.claimMarker(pid, uid).pk,
    'share take (counter update)': (r) =>
      r.op === 'UpdateItem' &&
      (count > 100 ? counters.has(r.pk ?? '') : r.pk === Keys.packet(pid).pk && (r.update ?? '').includes('claimed')),
    'slot put': (r) => r.op === 'PutItem' && slots.has(r.pk ?? ''),
    'ledger entry put': (r) => r.op === 'PutItem' && r.pk === Keys.ledgerPk(uid),
  };
  // Sharded packets write no note on the marker any more: the ledger entry carries the slot's index.
  return writes;
}

describe('a claim whose write landed but whose answer was lost (slots layout)', () => {
  test.each(LAYOUTS)(
    "$name: each claim write in turn — 200 with the share, the slot the caller's, one credit, all shares claimed when drained",
    async (layout) => {
      const { d, net } = lossyDeps({ layout: 'slots' });
      const api = makeApi(d);
      // The longest sender name and greeting: the stamped packet item must still be one write unit.
      const sender = await login(api, { tier: layout.tier, name: '红包发送者的名字'.repeat(4) });
      await topup(api, sender, layout.total * 2);
      const sent = await sendPacket(api, sender, {
        total: layout.total,
        count: layout.count,
        mode: 'lucky',
        greeting: '新年快乐万事如意'.repeat(7).slice(0, 50),
      });
      const pid: string = sent.packet.id;
      const packet = (await plain.packets.get(pid))!;
      expect(Boolean(packet.counters)).toBe(layout.count > 100);

      // One claim per write, each losing that write's answer: every one must be a plain success.
      const claimers: TestUser[] = [];
      const kinds = Object.keys(claimWrites(pid, layout.count, 'x'));
      const outcomes = [];
      for (const kind of kinds) {
        const u = await login(api);
        claimers.push(u);
        net.loseNext({ match: claimWrites(pid, layout.count, u.userId)[kind]! });
        const lost = net.lost.length;
        const r = await api('POST', '/v1/claims', { token: u.token, body: { code: sent.shareCode.code } });
        const slot = await plain.claims.slotOf(packet, u.userId);
        const credits = (await ledgerOf(plain, u.userId)).filter((e) => e.opId === `claim:${pid}`);
        // A second claim by the same account is a repeat of the same share.
        const again = await api('POST', '/v1/claims', { token: u.token, body: { code: sent.shareCode.code } });
        outcomes.push({
          kind,
          answerLost: net.lost.length === lost + 1,
          status: r.status,
          error: r.body?.error?.code,
          repeat: r.body?.repeat,
          // The slot is the caller's, with the amount the answer gave; the credit landed once.
          slotIsCallers: slot !== undefined && slot.userId === u.userId && !slot.void && slot.amount === r.body?.amount,
          credits: credits.map((e) => e.amount === r.body?.amount),
          again: again.status === 200 && again.body.repeat === true && again.body.amount === r.body?.amount,
        });
      }
      expect(outcomes).toEqual(
        kinds.map((kind) => ({
          kind,
          answerLost: true,
          status: 200,
          error: undefined,
          repeat: false,
          slotIsCallers: true,
          credits: [true],
          again: true,
        })),
      );

      // Drain the rest (no loss): every share ends claimed — no index was lost to a retry.
      const rest = await inBatches(layout.count - kinds.length, 10, () => login(api));
      const rs = await inBatches(rest.length, 10, (i) =>
        api('POST', '/v1/claims', { token: rest[i]!.token, body: { code: sent.shareCode.code } }),
      );
      expect(rs.filter((r) => r.status !== 200).map((r) => r.body.error.code)).toEqual([]);
      const late = await login(api);
      const finished = await api('POST', '/v1/claims', { token: late.token, body: { code: sent.shareCode.code } });
      expect(finished.body.error?.code).toBe('PACKET_FINISHED');
      const after = (await plain.packets.get(pid))!;
      expect(after.claimed).toBe(layout.count);
      const slots = await plain.claims.slots(after);
      expect(slots).toHaveLength(layout.count);
      expect(slots.filter((s) => s.void)).toHaveLength(0);
      expect(new Set(slots.map((s) => s.userId)).size).toBe(layout.count);
      expect(slots.reduce((a, s) => a + s.amount, 0)).toBe(layout.total);
      const item = (await plain.db.get(Keys.packet(pid)))!;
      expect(typeof item[WRITE_TOKEN_ATTRIBUTE]).toBe('string');
      expect(dynamoItemBytes(item)).toBeLessThan(1_024);
      const users = [sender, ...claimers, ...rest, late].map((u) => u.userId);
      expect(await violations(plain, { users, packets: [pid], feeAccounts: FEE_ACCOUNTS })).toEqual([]);
    },
    180_000,
  );
});

describe('draining a sharded packet while answers get lost at random (slots layout)', () => {
  test('300-share provider packet, distinct accounts, ~10 % of claim write answers lost: 200 until the shares are gone, then PACKET_FINISHED; never EXPIRED; Σ = total − voided', async () => {
    const SHARES = 300;
    const TOTAL = 60_000;
    const ACCOUNTS = 340;
    const clock = new Clock();
    const { d, net } = lossyDeps({ clock, layout: 'slots' });
    const api = makeApi(d);
    const sender = await login(api, { tier: 'provider' });
    await topup(api, sender, TOTAL * 2);
    const sent = await sendPacket(api, sender, { total: TOTAL, count: SHARES, mode: 'lucky' });
    const pid: string = sent.packet.id;
    const users = await inBatches(ACCOUNTS, 20, () => login(api));

    // Every write a claim makes on this packet or a wallet, answered 200 or refused, may lose its answer.
    const n = counterCount(SHARES);
    const packetKeys = new Set([
      Keys.packet(pid).pk,
      ...Array.from({ length: n }, (_, k) => Keys.shareCounter(pid, k).pk),
      ...Array.from({ length: n }, (_, k) => Keys.slotsPk(pid, k)),
    ]);
    const rnd = seededRandom(20261205);
    net.loseAtRandom(
      0.1,
      () => rnd.int(0, 999_999) / 1_000_000,
      (r) =>
        packetKeys.has(r.pk ?? '') || (r.pk ?? '').startsWith(`CLAIM#${pid}#`) || (r.pk ?? '').startsWith('LEDGER#'),
    );

    let tick = 0;
    const results = await inBatches(ACCOUNTS, 16, async (i) => {
      const start = tick++;
      const r = await api('POST', '/v1/claims', { token: users[i]!.token, body: { code: sent.shareCode.code } });
      return {
        u: users[i]!,
        status: r.status,
        code: r.body?.error?.code as string | undefined,
        amount: r.body?.amount as number | undefined,
        repeat: r.body?.repeat,
        start,
        end: tick++,
      };
    });
    net.stop();

    // Every answer is a share or "finished": no expired, no repeat, no in-progress, no 500.
    const answers = new Map<string, number>();
    for (const r of results)
      answers.set(
        r.status === 200 ? `200 repeat=${r.repeat}` : `${r.status} ${r.code}`,
        (answers.get(r.status === 200 ? `200 repeat=${r.repeat}` : `${r.status} ${r.code}`) ?? 0) + 1,
      );
    expect([...answers.keys()].sort()).toEqual(['200 repeat=false', '409 PACKET_FINISHED']);
    const winners = results.filter((r) => r.status === 200);
    // "Finished" only once the shares were gone: no claim that started after a finished answer got one.
    const firstFinished = Math.min(...results.filter((r) => r.status === 409).map((r) => r.end));
    expect(winners.filter((r) => r.start > firstFinished)).toEqual([]);
    expect(net.lost.length).toBeGreaterThanOrEqual(50);

    // Every counter handed out its whole range; every recorded slot is a winner's, with its amount.
    const p = (await plain.packets.get(pid))!;
    expect(takenAcross(await plain.packets.counters(p))).toBe(SHARES);
    const recorded = await plain.claims.slots(p);
    expect(recorded).toHaveLength(winners.length);
    const byUser = new Map(recorded.map((s) => [s.userId, s]));
    expect(byUser.size).toBe(winners.length);
    for (const w of winners) expect(byUser.get(w.u.userId)?.amount).toBe(w.amount);

    // Settlement at expiry voids the indexes taken by lost retries and refunds exactly them.
    clock.t = Date.parse(p.expiresAt) + 1;
    const settled = await settlePacket(testDeps({ clock }), pid, clock.now());
    const granted = winners.reduce((a, w) => a + w.amount!, 0);
    expect(settled).toEqual({ refunded: TOTAL - granted, settled: true });
    const final = await plain.claims.slots(p);
    const voided = final.filter((s) => s.void);
    expect(final).toHaveLength(SHARES);
    expect(voided).toHaveLength(SHARES - winners.length);
    const split = (await plain.packets.shares(pid))!.amounts;
    expect(granted + voided.reduce((a, s) => a + split[s.index]!, 0)).toBe(TOTAL);
    expect(
      await violations(plain, {
        users: [sender.userId, ...users.map((u) => u.userId)],
        packets: [pid],
        feeAccounts: FEE_ACCOUNTS,
      }),
    ).toEqual([]);
    // The token and every take lane keep a counter one write unit: a closed provider counter of
    // 100 seven-digit amounts with all lanes written is < 1 KB as DynamoDB sizes items.
    const counter = (await plain.db.get(Keys.shareCounter(pid, n - 1)))!;
    expect(counter).toMatchObject({ closed: true, [WRITE_TOKEN_ATTRIBUTE]: expect.any(String) });
    expect(counter.amounts).toHaveLength(100);
    const mark = Object.entries(counter).find(([k]) => /^lt\d$/.test(k))?.[1] as string;
    expect(typeof mark).toBe('string');
    const lanes = Object.fromEntries(
      Array.from({ length: 8 }, (_, k) => [
        [`lt${k}`, mark],
        [`lx${k}`, 99],
      ]).flat(),
    );
    const worst = { ...counter, ...lanes, amounts: (counter.amounts as number[]).map(() => 1_999_999) };
    expect(dynamoItemBytes(worst)).toBeLessThan(1_024);
    // The figures of this run (lost answers, indexes lost to retries) for the record.
    console.info(
      `lost answers: ${net.lost.length}; winners ${winners.length}/${SHARES}; voided at settlement ${voided.length}; worst counter ${dynamoItemBytes(worst)} B`,
    );
  }, 300_000);
});

/*
 * The recorded layout (new packets): the take on a counter of ten is the gate, the take and the
 * record in one write, so a lost answer is told apart by the account's own entry in the
 * counter's `ix` map — no lane, no slot, no void. The same questions as above, asked of it.
 */

/** Logs in accounts until `howMany` have counter `k` of packet `pid` (of `n` counters) as their home. */
async function homedOn(api: ReturnType<typeof makeApi>, pid: string, n: number, k: number, howMany: number) {
  const out: TestUser[] = [];
  while (out.length < howMany) {
    const u = await login(api);
    if (homeCounter(pid, u.userId, n) === k) out.push(u);
  }
  return out;
}

/** The writes of a recorded claim on packet `pid` (of `n` counters) by account `uid`, by name. */
function recordedWrites(pid: string, n: number, uid: string) {
  const home = Keys.shareCounter(pid, homeCounter(pid, uid, n)).pk;
  const counters = new Set(Array.from({ length: n }, (_, k) => Keys.shareCounter(pid, k).pk));
  return {
    'home counter take': (r: SeenRequest) => r.op === 'UpdateItem' && r.pk === home,
    'claim marker put': (r: SeenRequest) => r.op === 'PutItem' && r.pk === Keys.claimMarker(pid, uid).pk,
    'counter take elsewhere': (r: SeenRequest) => r.op === 'UpdateItem' && counters.has(r.pk ?? '') && r.pk !== home,
    'ledger credit put': (r: SeenRequest) => r.op === 'PutItem' && r.pk === Keys.ledgerPk(uid),
  };
}
type RecordedWrite = keyof ReturnType<typeof recordedWrites>;

describe('a recorded claim whose write landed but whose answer was lost', () => {
  const CASES: Array<{ name: string; count: number; total: number }> = [
    { name: 'one counter (8 shares)', count: 8, total: 800 },
    { name: 'three counters (30 shares), home and overflow claims', count: 30, total: 6_000 },
  ];
  test.each(CASES)(
    "$name: each claim write in turn — 200 with the share, the record the caller's, one credit, all shares claimed when drained",
    async ({ count, total }) => {
      const { d, net } = lossyDeps({ layout: 'recorded' });
      const api = makeApi(d);
      const sender = await login(api);
      await topup(api, sender, total * 2);
      const sent = await sendPacket(api, sender, { total, count, mode: 'lucky' });
      const pid: string = sent.packet.id;
      const packet = (await plain.packets.get(pid))!;
      const n = counterCount(count, 'recorded');
      expect({ layout: packet.layout, counters: packet.counters }).toEqual({ layout: 'recorded', counters: n });

      const claimers: TestUser[] = [];
      const outcomes: unknown[] = [];
      const expected: unknown[] = [];
      const claimLosing = async (u: TestUser, kind: RecordedWrite) => {
        claimers.push(u);
        net.loseNext({ match: recordedWrites(pid, n, u.userId)[kind] });
        const lost = net.lost.length;
        const r = await api('POST', '/v1/claims', { token: u.token, body: { code: sent.shareCode.code } });
        const record = await plain.claims.slotOf(packet, u.userId);
        const credits = (await ledgerOf(plain, u.userId)).filter((e) => e.opId === `claim:${pid}`);
        const again = await api('POST', '/v1/claims', { token: u.token, body: { code: sent.shareCode.code } });
        outcomes.push({
          kind,
          answerLost: net.lost.length === lost + 1,
          status: r.status,
          error: r.body?.error?.code,
          repeat: r.body?.repeat,
          // The record is the caller's, with the amount the answer gave; the credit landed once.
          recordIsCallers: record?.userId === u.userId && record.amount === r.body?.amount,
          credits: credits.map((e) => e.amount === r.body?.amount),
          again: again.status === 200 && again.body.repeat === true && again.body.amount === r.body?.amount,
        });
        expected.push({
          kind,
          answerLost: true,
          status: 200,
          error: undefined,
          repeat: false,
          recordIsCallers: true,
          credits: [true],
          again: true,
        });
      };

      // Home takes: counter 0 is the home of these two claimers.
      const [a, b] = await homedOn(api, pid, n, 0, 2);
      await claimLosing(a!, 'home counter take');
      await claimLosing(b!, 'ledger credit put');
      let fillers: TestUser[] = [];
      if (n > 1) {
        // Fill counter 0 without losses, then the overflow path of three more claimers homed on it.
        fillers = await homedOn(api, pid, n, 0, 8);
        const filled = await Promise.all(
          fillers.map((u) => api('POST', '/v1/claims', { token: u.token, body: { code: sent.shareCode.code } })),
        );
        expect(filled.map((r) => r.status)).toEqual(fillers.map(() => 200));
        const over = await homedOn(api, pid, n, 0, 3);
        await claimLosing(over[0]!, 'claim marker put');
        await claimLosing(over[1]!, 'counter take elsewhere');
        await claimLosing(over[2]!, 'ledger credit put');
        // The overflow claims wrote their markers (the gate across counters) and took elsewhere.
        for (const u of over) {
          expect(await plain.db.get(Keys.claimMarker(pid, u.userId))).toBeDefined();
          expect((await plain.claims.slotOf(packet, u.userId))!.index).toBeGreaterThanOrEqual(10);
        }
      }
      expect(outcomes).toEqual(expected);

      // Drain the rest (no loss): every share ends claimed — none lost to a retry, none taken twice.
      const rest = await inBatches(count - claimers.length - fillers.length, 10, () => login(api));
      const rs = await inBatches(rest.length, 10, (i) =>
        api('POST', '/v1/claims', { token: rest[i]!.token, body: { code: sent.shareCode.code } }),
      );
      expect(rs.filter((r) => r.status !== 200).map((r) => r.body.error.code)).toEqual([]);
      const late = await login(api);
      const finished = await api('POST', '/v1/claims', { token: late.token, body: { code: sent.shareCode.code } });
      expect(finished.body.error?.code).toBe('PACKET_FINISHED');
      const after = (await plain.packets.get(pid))!;
      expect(after.claimed).toBe(count);
      const records = await plain.claims.slots(after);
      expect(records.map((s) => s.index)).toEqual(Array.from({ length: count }, (_, i) => i));
      expect(new Set(records.map((s) => s.userId)).size).toBe(count);
      expect(records.reduce((a, s) => a + s.amount, 0)).toBe(total);
      // A counter of ten records stays one write unit.
      for (let k = 0; k < n; k++) {
        const it = (await plain.db.get(Keys.shareCounter(pid, k)))!;
        expect(dynamoItemBytes(it)).toBeLessThan(1_024);
      }
      const users = [sender, ...claimers, ...fillers, ...rest, late].map((u) => u.userId);
      expect(await violations(plain, { users, packets: [pid] })).toEqual([]);
    },
    180_000,
  );
});

describe('a recorded take overtaken between its lost answer and the SDK retry', () => {
  test("the retry is refused and the read-back finds the caller's own ix entry: one share, not two", async () => {
    const { d, net } = lossyDeps({ layout: 'recorded' });
    const api = makeApi(d);
    const other = makeApi(plain);
    const sender = await login(api);
    await topup(api, sender, 2_000);
    // One counter: every claim takes on it.
    const sent = await sendPacket(api, sender, { total: 800, count: 8, mode: 'lucky' });
    const pid: string = sent.packet.id;
    const counterPk = Keys.shareCounter(pid, 0).pk;
    const [u, v] = [await login(api), await login(other)];
    let theirs: { status: number; amount?: number } | undefined;
    net.loseNext({
      match: (r) => r.op === 'UpdateItem' && r.pk === counterPk,
      // Another account's whole claim lands on the same counter before the SDK's retry.
      meanwhile: async () => {
        const r = await other('POST', '/v1/claims', { token: v.token, body: { code: sent.shareCode.code } });
        theirs = { status: r.status, amount: r.body?.amount };
      },
    });
    const seen = net.seen.length;
    const r = await api('POST', '/v1/claims', { token: u.token, body: { code: sent.shareCode.code } });
    expect({ status: r.status, repeat: r.body.repeat }).toEqual({ status: 200, repeat: false });
    expect(theirs?.status).toBe(200);
    // Our take landed (answer lost), its SDK retry was refused: the account's entry was there.
    expect(
      net.seen
        .slice(seen)
        .filter((s) => s.op === 'UpdateItem' && s.pk === counterPk)
        .map((s) => s.status),
    ).toEqual([200, 400]);
    const counter = (await plain.db.get(Keys.shareCounter(pid, 0)))!;
    expect(counter.claimed).toBe(2);
    expect(counter.ix).toEqual({ [u.userId]: 0, [v.userId]: 1 });
    const p = (await plain.packets.get(pid))!;
    const mine = (await plain.claims.slotOf(p, u.userId))!;
    expect({ index: mine.index, amount: mine.amount }).toEqual({
      index: 0,
      amount: (counter.amounts as number[])[0],
    });
    expect(r.body.amount).toBe(mine.amount);
    expect(theirs?.amount).toBe((counter.amounts as number[])[1]);
    for (const who of [u, v])
      expect((await ledgerOf(plain, who.userId)).filter((e) => e.opId === `claim:${pid}`)).toHaveLength(1);
    expect(await violations(plain, { users: [sender, u, v].map((x) => x.userId), packets: [pid] })).toEqual([]);
  });
});

describe('draining a recorded packet while answers get lost at random', () => {
  test('100-share packet of ten counters, distinct accounts, ~10 % of claim write answers lost: 200 until the shares are gone, then PACKET_FINISHED; never EXPIRED; Σ = total; nobody holds two shares', async () => {
    const SHARES = 100;
    const TOTAL = 20_000;
    const ACCOUNTS = 130;
    const clock = new Clock();
    const { d, net } = lossyDeps({ clock, layout: 'recorded' });
    const api = makeApi(d);
    const sender = await login(api);
    await topup(api, sender, TOTAL);
    const sent = await sendPacket(api, sender, { total: TOTAL, count: SHARES, mode: 'lucky' });
    const pid: string = sent.packet.id;
    const users = await inBatches(ACCOUNTS, 20, () => login(api));
    const n = counterCount(SHARES, 'recorded');
    expect(n).toBe(10);

    // Every write a claim makes on this packet or a wallet may lose its answer: the takes (home
    // or elsewhere), the overflow markers, the credits.
    const counterKeys = new Set(Array.from({ length: n }, (_, k) => Keys.shareCounter(pid, k).pk));
    const rnd = seededRandom(20261206);
    net.loseAtRandom(
      0.1,
      () => rnd.int(0, 999_999) / 1_000_000,
      (r) =>
        counterKeys.has(r.pk ?? '') || (r.pk ?? '').startsWith(`CLAIM#${pid}#`) || (r.pk ?? '').startsWith('LEDGER#'),
    );

    let tick = 0;
    const results = await inBatches(ACCOUNTS, 16, async (i) => {
      const start = tick++;
      const r = await api('POST', '/v1/claims', { token: users[i]!.token, body: { code: sent.shareCode.code } });
      return {
        u: users[i]!,
        status: r.status,
        code: r.body?.error?.code as string | undefined,
        amount: r.body?.amount as number | undefined,
        repeat: r.body?.repeat,
        start,
        end: tick++,
      };
    });
    const lost = net.lost.length;
    net.stop();

    const answers = new Map<string, number>();
    for (const r of results) {
      const key = r.status === 200 ? `200 repeat=${r.repeat}` : `${r.status} ${r.code}`;
      answers.set(key, (answers.get(key) ?? 0) + 1);
    }
    // No share is ever held by nobody in this layout: exactly SHARES winners, the rest finished.
    expect(Object.fromEntries(answers)).toEqual({
      '200 repeat=false': SHARES,
      '409 PACKET_FINISHED': ACCOUNTS - SHARES,
    });
    const winners = results.filter((r) => r.status === 200);
    const firstFinished = Math.min(...results.filter((r) => r.status === 409).map((r) => r.end));
    expect(winners.filter((r) => r.start > firstFinished)).toEqual([]);
    // Over 200 writes at 10 %: a run that lost only a handful did not test much.
    expect(lost).toBeGreaterThanOrEqual(8);

    const p = (await plain.packets.get(pid))!;
    expect(takenAcross(await plain.packets.counters(p))).toBe(SHARES);
    const records = await plain.claims.slots(p);
    // Every index recorded once, in index order (the port's order, whatever BatchGetItem's).
    expect(records.map((s) => s.index)).toEqual(Array.from({ length: SHARES }, (_, i) => i));
    const byUser = new Map(records.map((s) => [s.userId, s]));
    expect(byUser.size).toBe(SHARES);
    for (const w of winners) expect(byUser.get(w.u.userId)?.amount).toBe(w.amount);
    const granted = winners.reduce((a, w) => a + w.amount!, 0);
    expect(granted).toBe(TOTAL);

    // Settlement at expiry finds every record credited: nothing to refund, nothing voided.
    clock.t = Date.parse(p.expiresAt) + 1;
    const settled = await settlePacket(testDeps({ clock }), pid, clock.now());
    expect(settled).toEqual({ refunded: 0, settled: true });
    expect((await plain.claims.slots(p)).filter((s) => s.void)).toEqual([]);
    expect(
      await violations(plain, {
        users: [sender.userId, ...users.map((u) => u.userId)],
        packets: [pid],
      }),
    ).toEqual([]);
    console.info(`recorded drain: lost answers ${lost}; winners ${winners.length}/${SHARES}`);
  }, 300_000);
});
