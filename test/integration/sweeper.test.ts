import { claim } from '../../functions/src/app/claims';
import { createPacket } from '../../functions/src/app/packets';
import { sweep } from '../../functions/src/app/sweeper';
import { settlePacket } from '../../functions/src/app/settlement';
import { Keys } from '../../functions/src/store/keys';
import { DomainError } from '../../functions/src/domain/errors';
import { Clock, idem, login, makeApi, testDeps, topup } from '../helpers/app';
import { ledgerOf, violations } from '../helpers/invariants';

const T0 = Date.parse('2026-11-28T03:00:00Z');

describe('refund sweeper', () => {
  test('two concurrent sweepers and claims at expiry ± 1 ms: the refund happens exactly once', async () => {
    const setupClock = new Clock(T0);
    const d = testDeps({ clock: setupClock });
    const api = makeApi(d);
    const sender = await login(api);
    await topup(api, sender, 100_000);
    const claimers = await Promise.all(Array.from({ length: 12 }, () => login(api)));
    const who = (u: { userId: string; name: string }) => ({
      userId: u.userId,
      name: u.name,
      tier: 'personal' as const,
      roles: ['user'],
    });

    const packets: string[] = [];
    const outcomes: Record<string, number> = {};
    for (let round = 0; round < 12; round++) {
      setupClock.t = T0 + round * 1000;
      const created = await createPacket(
        d,
        who(sender),
        { total: 6_000, count: 10, mode: 'lucky', ttlSeconds: 60 },
        idem(),
      );
      const { packet, shareCode } = created.body as {
        packet: { id: string; expiresAt: string };
        shareCode: { code: string };
      };
      packets.push(packet.id);
      // Two claims well before expiry.
      for (const c of claimers.slice(0, 2)) await claim(d, who(c), shareCode.code);
      const expiry = Date.parse(packet.expiresAt);
      const at = (ms: number) => testDeps({ clock: new Clock(ms) });
      // Share codes live until the packet expires; claims right at the edge use a code check
      // clock just before expiry and a take clock of expiry ± 1 ms (the race the test is about).
      const edgeClaim = async (u: (typeof claimers)[number], ms: number) => {
        const dd = at(ms);
        dd.now = (() => {
          let calls = 0;
          return () => (calls++ === 0 ? expiry - 2 : ms);
        })();
        try {
          await claim(dd, who(u), shareCode.code);
          return 'ok';
        } catch (err) {
          if (err instanceof DomainError) return err.code;
          throw err;
        }
      };
      const results = await Promise.all([
        sweep(at(expiry), expiry),
        sweep(at(expiry + 1), expiry + 1),
        edgeClaim(claimers[2 + (round % 3)]!, expiry - 1),
        edgeClaim(claimers[5 + (round % 3)]!, expiry),
        edgeClaim(claimers[8 + (round % 3)]!, expiry + 1),
      ]);
      for (const r of results.slice(2) as string[]) outcomes[r] = (outcomes[r] ?? 0) + 1;
      // A claim at or after expiry never succeeds.
      expect(results[3]).not.toBe('ok');
      expect(results[4]).not.toBe('ok');
      // A later sweep finds nothing more to do for this packet.
      await sweep(at(expiry + 5_000), expiry + 5_000);
      const p = await d.packets.get(packet.id);
      expect(p?.state).toBe('settled');
      const refunds = (await ledgerOf(d, sender.userId)).filter((e) => e.opId === `refund:${packet.id}`);
      expect(refunds).toHaveLength(1);
    }
    for (const code of Object.keys(outcomes)) expect(['ok', 'PACKET_EXPIRED']).toContain(code);
    const v = await violations(d, {
      users: [sender.userId, ...claimers.map((c) => c.userId)],
      packets,
      topups: 100_000,
    });
    expect(v).toEqual([]);
  }, 120_000);

  test('finds expired packets through the due index and leaves unexpired ones alone', async () => {
    const clock = new Clock(T0 + 3_600_000);
    const d = testDeps({ clock });
    const api = makeApi(d);
    const s = await login(api);
    await topup(api, s, 10_000);
    const who = { userId: s.userId, name: s.name, tier: 'personal' as const, roles: ['user'] };
    const short = (await createPacket(d, who, { total: 1_000, count: 2, mode: 'equal', ttlSeconds: 60 }, idem()))
      .body as { packet: { id: string } };
    const long = (await createPacket(d, who, { total: 1_000, count: 2, mode: 'equal', ttlSeconds: 3600 }, idem()))
      .body as { packet: { id: string } };
    await sweep(d, clock.now() + 61_000);
    expect((await d.packets.get(short.packet.id))?.state).toBe('settled');
    expect((await d.packets.get(long.packet.id))?.state).toBe('active');
    expect((await d.wallets.state(s.userId)).balance).toBe(9_000);
  });

  test('a recorded counter that handed out a share it does not record stops the settlement: no refund, no slot item', async () => {
    const clock = new Clock(T0 + 7_200_000);
    const d = testDeps({ clock });
    const api = makeApi(d);
    const s = await login(api);
    await topup(api, s, 10_000);
    const who = { userId: s.userId, name: s.name, tier: 'personal' as const, roles: ['user'] };
    const sent = (await createPacket(d, who, { total: 1_000, count: 4, mode: 'equal', ttlSeconds: 60 }, idem()))
      .body as { packet: { id: string } };
    const id = sent.packet.id;
    expect((await d.packets.get(id))?.layout).toBe('recorded');
    // Damage: the counter says one share was taken, and records none.
    await d.db.update(Keys.shareCounter(id, 0), 'SET claimed = claimed + :one', { values: { ':one': 1 } });
    await expect(settlePacket(d, id, clock.now() + 61_000)).rejects.toThrow(/does not record/);
    expect((await d.packets.get(id))?.state).toBe('settling');
    expect((await d.wallets.state(s.userId)).balance).toBe(9_000);
    const slots = await d.db.query({ keyCondition: 'pk = :pk', values: { ':pk': Keys.slotsPk(id, 0) } });
    expect(slots.items).toEqual([]);
  });
});
