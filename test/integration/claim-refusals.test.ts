/**
 * A claim's refusal names its true reason — finished, expired or invalid — and a refusal the
 * packet cannot explain is never told to the user as "红包已过期": the claim takes again, or fails
 * as an internal error (logged, with a correlation id). A refused slot put reads the slot: the
 * sweeper's void is "expired", the caller's own slot goes on, another account's is a 500.
 * The real store throughout; only `takeShare` is wrapped where a test needs a refusal that the
 * store's door no longer produces by itself.
 */
import type { Deps } from '../../functions/src/app/deps';
import type { PacketStore, TakeShareResult } from '../../functions/src/store/packets';
import { login, makeApi, sendPacket, testDeps, topup } from '../helpers/app';
import { violations } from '../helpers/invariants';

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

async function packetFor(d: Deps, count = 4, total = 400) {
  const api = makeApi(d);
  const sender = await login(api);
  await topup(api, sender, total * 2);
  const sent = await sendPacket(api, sender, { total, count, mode: 'lucky' });
  return { api, sender, sent, pid: sent.packet.id as string };
}

describe('claim refusals name their reason', () => {
  test('a refusal the packet does not explain (active, shares left, before expiry) is taken again — the claim gets its share', async () => {
    const base = testDeps();
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
    const base = testDeps();
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

describe('a refused slot put reads the slot', () => {
  test("the sweeper's void → PACKET_EXPIRED; the caller's own slot → 200; another account's → 500, never \"expired\"", async () => {
    const d = testDeps();
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
