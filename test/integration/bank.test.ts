import { inBatches, login, makeApi, sendPacket, testDeps, topup, type TestUser } from '../helpers/app';
import { violations } from '../helpers/invariants';

const d = testDeps();
const api = makeApi(d);

describe('the bank test: one packet, many users, concurrent repeats', () => {
  test('200 users × 3 concurrent claims on a 50-share packet: 50 winners, one share each, Σ = total', async () => {
    const sender = await login(api, { name: 'Sender' });
    await topup(api, sender, 20_000);
    const sent = await sendPacket(api, sender, { total: 20_000, count: 50, mode: 'lucky' });
    const users: TestUser[] = await inBatches(200, 50, () => login(api));

    const results = await Promise.all(
      users.flatMap((u) =>
        [0, 1, 2].map(() =>
          api('POST', '/v1/claims', { token: u.token, body: { code: sent.shareCode.code } }).then((r) => ({ u, r })),
        ),
      ),
    );

    const byUser = new Map<string, { status: number; body: any }[]>();
    for (const { u, r } of results) {
      expect([200, 409]).toContain(r.status);
      if (r.status === 409) expect(['PACKET_FINISHED', 'CLAIM_IN_PROGRESS']).toContain(r.body.error.code);
      byUser.set(u.userId, [...(byUser.get(u.userId) ?? []), r]);
    }
    const winners = [...byUser.entries()].filter(([, rs]) => rs.some((r) => r.status === 200));
    expect(winners).toHaveLength(50);
    let sum = 0;
    for (const [, rs] of winners) {
      const amounts = new Set(rs.filter((r) => r.status === 200).map((r) => r.body.amount));
      expect(amounts.size).toBe(1); // every repeat returns the same amount
      expect(rs.filter((r) => r.status === 200 && r.body.repeat === false)).toHaveLength(1);
      sum += [...amounts][0] as number;
    }
    expect(sum).toBe(20_000);

    const view = await api('GET', `/v1/packets/${sent.packet.id}`, { token: sender.token });
    expect(view.body.status).toBe('finished');
    expect(view.body.claims).toHaveLength(50);
    expect(new Set(view.body.claims.map((c: { userId: string }) => c.userId)).size).toBe(50);
    expect(view.body.claimedAmount).toBe(20_000);

    // Every winner's wallet holds exactly its share; conservation over all accounts involved.
    for (const [userId, rs] of winners)
      expect((await d.wallets.state(userId)).balance).toBe(rs.find((r) => r.status === 200)!.body.amount);
    expect(
      await violations(d, {
        users: [sender.userId, ...users.map((u) => u.userId)],
        packets: [sent.packet.id],
        topups: 20_000,
      }),
    ).toEqual([]);
  }, 120_000);

  test('one user, 20 parallel claims: one share', async () => {
    const sender = await login(api);
    await topup(api, sender, 1_000);
    const sent = await sendPacket(api, sender, { total: 1_000, count: 5, mode: 'lucky' });
    const greedy = await login(api);
    const rs = await Promise.all(
      Array.from({ length: 20 }, () =>
        api('POST', '/v1/claims', { token: greedy.token, body: { code: sent.code.code } }),
      ),
    );
    const ok = rs.filter((r) => r.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(new Set(ok.map((r) => r.body.amount)).size).toBe(1);
    expect(ok.filter((r) => !r.body.repeat)).toHaveLength(1);
    for (const r of rs.filter((x) => x.status !== 200)) expect(r.body.error.code).toBe('CLAIM_IN_PROGRESS');
    const view = await api('GET', `/v1/packets/${sent.packet.id}`, { token: sender.token });
    expect(view.body.claims).toHaveLength(1);
    expect((await d.wallets.state(greedy.userId)).balance).toBe(ok[0]!.body.amount);
    const ledger = await api('GET', '/v1/wallet/ledger', { token: greedy.token });
    expect(ledger.body.entries).toHaveLength(1);
  });
});
