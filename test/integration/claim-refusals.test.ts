/**
 * A claim's refusal names its true reason — finished, expired or invalid — and a refusal the
 * packet cannot explain is never told to the user as "红包已过期": the claim takes again, or fails
 * as an internal error (logged, with a correlation id). A refused slot put reads the slot: the
 * sweeper's void is "expired", the caller's own slot goes on, another account's is a 500.
 * Those are slot-layout mechanics (takeShare, slot items), pinned with `layout: 'slots'`. The
 * recorded layout has no slot put: its take is refused by the counter, read back to say why —
 * the account's own record, full, closed or expired — and the same rules are asked of it.
 * The real store throughout; only `takeShare` is wrapped where a test needs a refusal that the
 * store's door no longer produces by itself.
 */
import type { Deps } from '../../functions/src/app/deps';
import type { PacketStore, TakeShareResult } from '../../functions/src/store/packets';
import { Keys } from '../../functions/src/store/keys';
import { Clock, login, makeApi, sendPacket, testDeps, topup } from '../helpers/app';
import { ledgerOf, violations } from '../helpers/invariants';

/** `d` with `takeShare` replaced (everything else is the real packet store). */
function withTakeShare(d: Deps, take: (real: PacketStore['takeShare']) => PacketStore['takeShare']): Deps {
  const real = d.packets;
  const replaced = take(real.takeShare.bind(real));
  const packets = new Proxy(real, {
    get(target, prop) {
      if (prop === 'takeShare') return replaced;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { ...d, packets };
}

async function packetFor(d: Deps, count = 4, total = 400, more: Record<string, unknown> = {}) {
  const api = makeApi(d);
  const sender = await login(api);
  await topup(api, sender, total * 2);
  const sent = await sendPacket(api, sender, { total, count, mode: 'lucky', ...more });
  return { api, sender, sent, pid: sent.packet.id as string };
}

describe('claim refusals name their reason (slots layout)', () => {
  test('a refusal the packet does not explain (active, shares left, before expiry) is taken again — the claim gets its share', async () => {
    const base = testDeps({ layout: 'slots' });
    const { sender, sent, pid } = await packetFor(base);
    let calls = 0;
    const d = withTakeShare(base, (real) => async (id, nowMs): Promise<TakeShareResult> => {
      calls++;
      if (calls === 1) return { kind: 'refused', packet: await base.packets.get(id) };
      return real(id, nowMs);
    });
    const api = makeApi(d);
    const u = await login(api);
    const r = await api('POST', '/v1/claims', { token: u.token, body: { code: sent.shareCode.code } });
    expect({ status: r.status, error: r.body?.error?.code }).toEqual({ status: 200, error: undefined });
    expect(calls).toBe(2);
    expect(await violations(base, { users: [sender.userId, u.userId], packets: [pid] })).toEqual([]);
  });

  test('one that stays unexplained is an internal error with a correlation id — never PACKET_EXPIRED', async () => {
    const base = testDeps({ layout: 'slots' });
    const { sent } = await packetFor(base);
    let calls = 0;
    const d = withTakeShare(base, () => async (id): Promise<TakeShareResult> => {
      calls++;
      return { kind: 'refused', packet: await base.packets.get(id) };
    });
    const api = makeApi(d);
    const u = await login(api);
    const r = await api('POST', '/v1/claims', { token: u.token, body: { code: sent.shareCode.code } });
    expect(r.status).toBe(500);
    expect(r.body.error).toMatchObject({ code: 'INTERNAL', correlationId: expect.any(String) });
    expect(calls).toBe(3);
  });
});

describe('a refused slot put reads the slot (slots layout)', () => {
  test("the sweeper's void → PACKET_EXPIRED; the caller's own slot → 200; another account's → 500, never \"expired\"", async () => {
    const d = testDeps({ layout: 'slots' });
    // The next claim on a fresh plain packet takes index 0: pre-write what holds slot 0.
    const at = new Date().toISOString();

    const voided = await packetFor(d);
    await d.claims.voidSlot(voided.pid, 0, at);
    const a = await login(voided.api);
    const ra = await voided.api('POST', '/v1/claims', { token: a.token, body: { code: voided.sent.shareCode.code } });
    expect({ status: ra.status, error: ra.body?.error?.code }).toEqual({ status: 410, error: 'PACKET_EXPIRED' });

    const own = await packetFor(d);
    const b = await login(own.api);
    const share0 = (await d.packets.shares(own.pid))!.amounts[0]!;
    expect(
      await d.claims.putSlot(own.pid, { index: 0, userId: b.userId, name: b.name, amount: share0, at, seqHint: 0 }),
    ).toBe(true);
    const rb = await own.api('POST', '/v1/claims', { token: b.token, body: { code: own.sent.shareCode.code } });
    expect({ status: rb.status, amount: rb.body.amount, repeat: rb.body.repeat }).toEqual({
      status: 200,
      amount: share0,
      repeat: false,
    });
    expect(await violations(d, { users: [own.sender.userId, b.userId], packets: [own.pid] })).toEqual([]);

    const other = await packetFor(d);
    const c = await login(other.api);
    const stranger = await login(other.api);
    expect(
      await d.claims.putSlot(other.pid, {
        index: 0,
        userId: stranger.userId,
        name: stranger.name,
        amount: 1,
        at,
        seqHint: 0,
      }),
    ).toBe(true);
    const rc = await other.api('POST', '/v1/claims', { token: c.token, body: { code: other.sent.shareCode.code } });
    expect(rc.status).toBe(500);
    expect(rc.body.error.code).toBe('INTERNAL');
  });
});

describe('a refused recorded take reads its counter back (recorded layout)', () => {
  test("the caller's own record (a claim that died before its credit) → 200 with that share, credited once", async () => {
    const d = testDeps({ layout: 'recorded' });
    const { api, sender, sent, pid } = await packetFor(d);
    const p = (await d.packets.get(pid))!;
    expect({ layout: p.layout, counters: p.counters }).toEqual({ layout: 'recorded', counters: 1 });
    const u = await login(api);
    const taken = await d.packets.takeRecorded(
      p,
      0,
      { userId: u.userId, name: u.name, atMs: d.now(), seqHint: (await d.wallets.state(u.userId)).seq },
      d.now(),
    );
    if (taken.kind !== 'taken') throw new Error(`take: ${taken.kind}`);
    expect(taken.slot.index).toBe(0);
    const r = await api('POST', '/v1/claims', { token: u.token, body: { code: sent.shareCode.code } });
    // The take was refused by the account's own entry: its share, as a repeat of that claim.
    expect({ status: r.status, amount: r.body.amount, repeat: r.body.repeat }).toEqual({
      status: 200,
      amount: (await d.packets.shares(pid))!.amounts[0],
      repeat: true,
    });
    const counter = (await d.db.get(Keys.shareCounter(pid, 0)))!;
    expect({ claimed: counter.claimed, ix: counter.ix }).toEqual({ claimed: 1, ix: { [u.userId]: 0 } });
    expect((await ledgerOf(d, u.userId)).filter((e) => e.opId === `claim:${pid}`)).toHaveLength(1);
    expect(await violations(d, { users: [sender.userId, u.userId], packets: [pid] })).toEqual([]);
  });

  test("a counter that filled behind this process's view of the packet → PACKET_FINISHED", async () => {
    const d = testDeps({ layout: 'recorded' });
    const other = makeApi(testDeps({ layout: 'recorded' }));
    const { api, sent } = await packetFor(d, 2, 200);
    const first = await login(api);
    // This process sees the packet with a share left…
    expect((await api('POST', '/v1/claims', { token: first.token, body: { code: sent.shareCode.code } })).status).toBe(
      200,
    );
    // …and another takes the last one (the counter is full: its take is refused, read back).
    const second = await login(other);
    expect(
      (await other('POST', '/v1/claims', { token: second.token, body: { code: sent.shareCode.code } })).status,
    ).toBe(200);
    const late = await login(api);
    const r = await api('POST', '/v1/claims', { token: late.token, body: { code: sent.shareCode.code } });
    expect({ status: r.status, error: r.body?.error?.code }).toEqual({ status: 409, error: 'PACKET_FINISHED' });
  });

  test('past expiry → PACKET_EXPIRED, nothing taken', async () => {
    const clock = new Clock();
    const d = testDeps({ layout: 'recorded', clock });
    // A minute's lifetime: past it, the code (valid 120 s) and the session still are.
    const { api, sent, pid } = await packetFor(d, 4, 400, { ttlSeconds: 60 });
    const u = await login(api);
    clock.t = (await d.packets.get(pid))!.expiresAtMs;
    const r = await api('POST', '/v1/claims', { token: u.token, body: { code: sent.shareCode.code } });
    expect({ status: r.status, error: r.body?.error?.code }).toEqual({ status: 410, error: 'PACKET_EXPIRED' });
    expect((await d.db.get(Keys.shareCounter(pid, 0)))!.claimed).toBe(0);
  });

  test('a counter closed while the packet says active is not explained by it → an internal error with a correlation id, never PACKET_EXPIRED, nothing credited', async () => {
    const d = testDeps({ layout: 'recorded' });
    const { api, sent, pid } = await packetFor(d);
    // Only settlement closes a counter, after the packet left `active`: forged here.
    await d.db.update(Keys.shareCounter(pid, 0), 'SET closed = :t', { values: { ':t': true } });
    const u = await login(api);
    const r = await api('POST', '/v1/claims', { token: u.token, body: { code: sent.shareCode.code } });
    expect(r.status).toBe(500);
    expect(r.body.error).toMatchObject({ code: 'INTERNAL', correlationId: expect.any(String) });
    expect((await d.db.get(Keys.shareCounter(pid, 0)))!.claimed).toBe(0);
    expect((await ledgerOf(d, u.userId)).filter((e) => e.opId === `claim:${pid}`)).toEqual([]);
  });
});
