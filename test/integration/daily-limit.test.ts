import type { Deps } from '../../functions/src/app/deps';
import { createPacket } from '../../functions/src/app/packets';
import { receiveCode, transfer } from '../../functions/src/app/transfers';
import { derivedId } from '../../functions/src/domain/ids';
import type { DynamoWalletStore } from '../../functions/src/store/ledger';
import { Keys } from '../../functions/src/store/keys';
import { verifyLedgerChain } from '../../functions/src/domain/ledger-chain';
import { Clock, baseDb, idem, login, makeApi, testDeps, topup, uniq, type Api, type TestUser } from '../helpers/app';
import { violations } from '../helpers/invariants';

/**
 * The daily send limit when an operation started on one UTC+8 day lands after a debit of the
 * next (a slow request, or a retry of a crashed one): the late debit counts into its own day and
 * never moves the day counter backwards, so today's total can neither be reset nor exceeded.
 */

// UTC+8 midnight between D = 2026-11-28 and D+1 = 2026-11-29 is 2026-11-28T16:00:00Z.
const D_2300 = Date.parse('2026-11-28T15:00:00Z'); // sessions live 2 h: log in late on D
const D_2359_58 = Date.parse('2026-11-28T15:59:58Z');
const D_2359_59 = Date.parse('2026-11-28T15:59:59Z');
const D1_0000_30 = Date.parse('2026-11-28T16:00:30Z');
const D1_0001 = Date.parse('2026-11-28T16:01:00Z');
const PERSONAL_DAILY = 100_000;
const PACKET = 20_000; // a personal account's per-packet limit

class Crash extends Error {}

/** Deps whose store throws just before any write to `userId`'s ledger while `armed()`. */
function crashOnDebit(clock: Clock, userId: () => string, armed: () => boolean): Deps {
  const db = baseDb({
    beforeWrite: (i) => {
      if (armed() && i.pk === Keys.ledgerPk(userId())) throw new Crash('crash before the debit');
    },
  });
  return testDeps({ db, clock });
}

const principal = (u: TestUser) => ({
  userId: u.userId,
  name: u.name,
  tier: 'personal' as const,
  roles: ['user' as const],
});

/** Sends a packet through the API; the ids of those sent go into `sent` (for the invariants). */
async function send(api: Api, u: TestUser, total: number, sent: string[]) {
  const r = await api('POST', '/v1/packets', {
    token: u.token,
    idem: idem(),
    body: { total, count: 2, mode: 'equal' },
  });
  if (r.status === 201) sent.push(r.body.packet.id);
  return r;
}

async function sentToday(api: Api, u: TestUser): Promise<number> {
  const w = await api('GET', '/v1/wallet', { token: u.token });
  expect(w.status).toBe(200);
  return w.body.sentToday;
}

describe('a debit of day D landing after a debit of day D+1', () => {
  test('leaves D+1 total unchanged, and the D+1 limit still holds', async () => {
    const clock = new Clock(D_2300);
    const d = testDeps({ clock });
    const api = makeApi(d);
    const s = await login(api);
    await topup(api, s, 150_000);
    const sent: string[] = [];
    let armed = false;
    const crashing = crashOnDebit(
      clock,
      () => s.userId,
      () => armed,
    );

    // 23:59:59 on D: a send starts; its request dies just before the debit.
    clock.t = D_2359_59;
    const keyA = idem();
    armed = true;
    await expect(
      createPacket(crashing, principal(s), { total: PACKET, count: 2, mode: 'equal' }, keyA),
    ).rejects.toBeInstanceOf(Crash);
    armed = false;

    // D+1: two sends land.
    clock.t = D1_0000_30;
    for (let i = 0; i < 2; i++) expect((await send(api, s, PACKET, sent)).status).toBe(201);
    expect(await sentToday(api, s)).toBe(2 * PACKET);

    // The D send's retry lands now: its debit is dated D.
    clock.t = D1_0001;
    const retried = await createPacket(d, principal(s), { total: PACKET, count: 2, mode: 'equal' }, keyA);
    expect(retried.status).toBe(201);
    const entry = await d.wallets.find(s.userId, 0, `pkt:${derivedId('p', s.userId, 'packet', keyA)}`);
    expect(entry).toMatchObject({
      type: 'packet_debit',
      amount: -PACKET,
      sentDay: '2026-11-29',
      sentToday: 2 * PACKET,
      lateDay: '2026-11-28',
      lateSent: PACKET,
    });

    // D+1's total is untouched and its limit still enforced: 3 more fill it, the next is refused.
    expect(await sentToday(api, s)).toBe(2 * PACKET);
    for (let i = 0; i < 3; i++) expect((await send(api, s, PACKET, sent)).status).toBe(201);
    expect(await sentToday(api, s)).toBe(PERSONAL_DAILY);
    const over = await send(api, s, PACKET, sent);
    expect(over.status).toBe(422);
    expect(over.body.error.code).toBe('LIMIT_DAILY');

    const packets = [...sent, derivedId('p', s.userId, 'packet', keyA)];
    expect(await violations(d, { users: [s.userId], packets, topups: 150_000 })).toEqual([]);
  });

  test("is refused when it would pass D's own limit (and moves no money)", async () => {
    const clock = new Clock(D_2300);
    const d = testDeps({ clock });
    const api = makeApi(d);
    const s = await login(api);
    await topup(api, s, 150_000);
    const sent: string[] = [];
    let armed = false;
    const crashing = crashOnDebit(
      clock,
      () => s.userId,
      () => armed,
    );
    for (let i = 0; i < 4; i++) expect((await send(api, s, PACKET, sent)).status).toBe(201);

    // 23:59:58: A passes its check (80 000 + 20 000 ≤ 100 000), then dies before the debit.
    clock.t = D_2359_58;
    const keyA = idem();
    armed = true;
    await expect(
      createPacket(crashing, principal(s), { total: PACKET, count: 2, mode: 'equal' }, keyA),
    ).rejects.toBeInstanceOf(Crash);
    armed = false;
    // 23:59:59: B passes the same check and lands: D is full.
    clock.t = D_2359_59;
    expect((await send(api, s, PACKET, sent)).status).toBe(201);
    expect(await sentToday(api, s)).toBe(PERSONAL_DAILY);
    // D+1: a small send lands.
    clock.t = D1_0000_30;
    expect((await send(api, s, 10_000, sent)).status).toBe(201);
    const before = (await d.wallets.state(s.userId)).balance;

    // A's retry on D+1 has room in D+1 but none in D, the day it started: refused.
    clock.t = D1_0001;
    const retried = await createPacket(d, principal(s), { total: PACKET, count: 2, mode: 'equal' }, keyA);
    expect(retried.status).toBe(422);
    expect(retried.body).toMatchObject({ error: { code: 'LIMIT_DAILY' } });
    expect((await d.wallets.state(s.userId)).balance).toBe(before);
    expect((await d.packets.get(derivedId('p', s.userId, 'packet', keyA)))?.state).toBe('canceled');
    expect(await sentToday(api, s)).toBe(10_000);
    expect(
      await violations(d, {
        users: [s.userId],
        packets: [...sent, derivedId('p', s.userId, 'packet', keyA)],
        topups: 150_000,
      }),
    ).toEqual([]);
  });
});

describe('a transfer of day D landing after a debit of day D+1', () => {
  test('counts into D; D+1 total unchanged', async () => {
    const clock = new Clock(D_2300);
    const d = testDeps({ clock });
    const api = makeApi(d);
    const s = await login(api);
    const b = await login(api);
    await topup(api, s, 50_000);
    let armed = false;
    const crashing = crashOnDebit(
      clock,
      () => s.userId,
      () => armed,
    );
    const codeOf = async () => ((await receiveCode(d, principal(b))).body as { code: string }).code;

    clock.t = D_2359_59 - 9_000;
    const late = { code: await codeOf(), amount: 20_000 };
    const keyA = idem();
    armed = true;
    await expect(transfer(crashing, principal(s), late, keyA)).rejects.toBeInstanceOf(Crash);
    armed = false;

    clock.t = D1_0000_30 - 20_000;
    expect((await transfer(d, principal(s), { code: await codeOf(), amount: 10_000 }, idem())).status).toBe(201);
    clock.t = D1_0000_30 - 10_000; // the receive code (120 s) is still valid for the retry
    expect((await transfer(d, principal(s), late, keyA)).status).toBe(201);

    expect(await sentToday(api, s)).toBe(10_000);
    expect(await d.wallets.state(s.userId)).toMatchObject({
      balance: 20_000,
      sentDay: '2026-11-29',
      sentToday: 10_000,
    });
    expect(await violations(d, { users: [s.userId, b.userId], packets: [], topups: 50_000 })).toEqual([]);
  });
});

describe('DynamoWalletStore.append: the day counter', () => {
  test('late debits of one day add up on their own entries; today and the hash chain are untouched', async () => {
    const d = testDeps();
    const w = d.wallets as DynamoWalletStore;
    const u = uniq('day');
    const at = '2026-11-29T00:00:00.000Z';
    let n = 0;
    const debit = (amount: number, day: string, limit = 100) =>
      w.append(u, 0, {
        opId: `op${++n}`,
        type: 'transfer_debit',
        amount: -amount,
        ref: `r${n}`,
        at,
        daily: { amount, limit, day },
      });
    expect((await w.append(u, 0, { opId: 'top', type: 'topup', amount: 10_000, ref: 't', at })).kind).toBe('applied');
    expect((await debit(40, '2026-11-27')).kind).toBe('applied');
    expect((await debit(70, '2026-11-28')).kind).toBe('applied');
    expect((await debit(50, '2026-11-29')).kind).toBe('applied');

    // Late debits: 11-28 has 70, 11-27 has 40.
    expect(await debit(31, '2026-11-28')).toEqual({ kind: 'daily_limit', sentToday: 70 });
    const a = await debit(30, '2026-11-28');
    expect(a).toMatchObject({
      kind: 'applied',
      entry: { sentDay: '2026-11-29', sentToday: 50, lateDay: '2026-11-28', lateSent: 100 },
    });
    expect(await debit(1, '2026-11-28')).toEqual({ kind: 'daily_limit', sentToday: 100 });
    expect((await debit(60, '2026-11-27')).kind).toBe('applied');
    expect(await debit(1, '2026-11-27')).toEqual({ kind: 'daily_limit', sentToday: 100 });
    // A day with no debit at all before the counter moved on starts from 0.
    expect(await debit(101, '2026-11-20')).toEqual({ kind: 'daily_limit', sentToday: 0 });
    expect((await debit(100, '2026-11-20')).kind).toBe('applied');

    // Today is as the one on-time debit left it, and still limited.
    const state = await w.state(u);
    expect(state).toMatchObject({
      sentDay: '2026-11-29',
      sentToday: 50,
      balance: 10_000 - 40 - 70 - 50 - 30 - 60 - 100,
    });
    expect(await debit(51, '2026-11-29')).toEqual({ kind: 'daily_limit', sentToday: 50 });
    expect((await debit(50, '2026-11-29')).kind).toBe('applied');
    // A later day starts fresh.
    expect((await debit(100, '2026-11-30')).kind).toBe('applied');
    // The late entries' figures are in their hashes: the chain verifies as stored.
    expect(verifyLedgerChain(await w.chain(u))).toEqual({ ok: true, entries: 9 });
  });
});
