/**
 * Exclusive packets (专属红包) and forwarding (转发): who may claim, and the forwarding tree the
 * packet view shows (who forwarded through whose code, and how many claims each code brought).
 */
import { FORWARDS_PAGE } from '../../functions/src/app/packets';
import { DEFAULT_RISK_RULES } from '../../functions/src/domain/risk';
import { Keys } from '../../functions/src/store/keys';
import { queryAll } from '../../functions/src/store/db';
import { Clock, idem, login, makeApi, sendPacket, testDeps, topup, type TestUser } from '../helpers/app';

const clock = new Clock(Date.parse('2026-11-28T04:30:00Z'));
const d = testDeps({ clock });
const api = makeApi(d);

describe('exclusive packets', () => {
  test('only the recipient claims; others get 403 FORBIDDEN with a clear message and take nothing', async () => {
    const alice = await login(api, { name: 'Alice' });
    const bob = await login(api, { name: 'Bob' });
    const eve = await login(api, { name: 'Eve' });
    await topup(api, alice, 5_000);
    const sent = await sendPacket(api, alice, { total: 888, count: 1, mode: 'lucky', recipient: bob.userId });
    expect(sent.packet.recipient).toEqual({ id: bob.userId, name: 'Bob' });
    const open = await api('GET', `/v1/codes/${encodeURIComponent(sent.shareCode.code)}`, { token: eve.token });
    expect(open.body.packet.recipient).toEqual({ id: bob.userId, name: 'Bob' });
    const refused = await api('POST', '/v1/claims', { token: eve.token, body: { code: sent.shareCode.code } });
    expect({ s: refused.status, c: refused.body.error.code }).toEqual({ s: 403, c: 'FORBIDDEN' });
    expect(refused.body.error.message).toContain('Bob');
    expect((await api('GET', '/v1/wallet', { token: eve.token })).body.balance).toBe(0);
    const ok = await api('POST', '/v1/claims', { token: bob.token, body: { code: sent.code.code } });
    expect(ok.body).toMatchObject({ amount: 888 });
  });

  test('bad recipients are refused before anything is written', async () => {
    const alice = await login(api);
    const bob = await login(api);
    await topup(api, alice, 5_000);
    const post = (body: object) => api('POST', '/v1/packets', { token: alice.token, idem: idem(), body });
    expect((await post({ total: 100, count: 2, mode: 'equal', recipient: bob.userId })).body.error.code).toBe(
      'VALIDATION_FAILED',
    );
    expect((await post({ total: 100, count: 1, mode: 'equal', recipient: alice.userId })).body.error.code).toBe(
      'VALIDATION_FAILED',
    );
    expect((await post({ total: 100, count: 1, mode: 'equal', recipient: 'uNoSuchAccount0' })).status).toBe(404);
    expect((await api('GET', '/v1/wallet', { token: alice.token })).body.balance).toBe(5_000);
  });
});

describe('forwarding', () => {
  test('each forward records who forwarded and through whose code; the tree counts claims per code', async () => {
    const [alice, bob, carol, dave, erin, fred] = await Promise.all(
      ['Alice', 'Bob', 'Carol', 'Dave', 'Erin', 'Fred'].map((name) => login(api, { name })),
    );
    await topup(api, alice!, 5_000);
    const sent = await sendPacket(api, alice!, { total: 1_000, count: 5, mode: 'lucky' });
    // Bob claims from Alice's share code, then forwards it; Carol claims through Bob's code and
    // forwards it on; Dave and Erin claim through Carol's; Fred through Bob's.
    expect((await api('POST', '/v1/claims', { token: bob!.token, body: { code: sent.shareCode.code } })).status).toBe(
      200,
    );
    // A forward through another packet's code is refused.
    const other = await sendPacket(api, alice!, { total: 100, count: 1, mode: 'lucky' });
    const wrong = await api('POST', `/v1/packets/${sent.packet.id}/codes`, {
      token: bob!.token,
      body: { kind: 'share', via: other.shareCode.code },
    });
    expect({ s: wrong.status, c: wrong.body.error.code }).toEqual({ s: 400, c: 'CODE_INVALID' });
    const fb = await api('POST', `/v1/packets/${sent.packet.id}/codes`, {
      token: bob!.token,
      body: { kind: 'share', via: sent.shareCode.code },
    });
    expect(fb.status).toBe(201);
    // Asking again (the page reopened) gives the same forward, not a second record.
    clock.advance(1_000);
    const again = await api('POST', `/v1/packets/${sent.packet.id}/codes`, {
      token: bob!.token,
      body: { kind: 'share', via: sent.shareCode.code },
    });
    expect(again.body.forwardId).toBe(fb.body.forwardId);
    expect((await api('POST', '/v1/claims', { token: carol!.token, body: { code: fb.body.code } })).status).toBe(200);
    const fc = await api('POST', `/v1/packets/${sent.packet.id}/codes`, {
      token: carol!.token,
      body: { kind: 'share', via: fb.body.code },
    });
    for (const u of [dave!, erin!])
      expect((await api('POST', '/v1/claims', { token: u.token, body: { code: fc.body.code } })).status).toBe(200);
    expect((await api('POST', '/v1/claims', { token: fred!.token, body: { code: fb.body.code } })).status).toBe(200);

    const view = await api('GET', `/v1/packets/${sent.packet.id}`, { token: alice!.token });
    expect(view.body.claimedCount).toBe(5);
    const tree = view.body.forwards as Array<{
      id: string;
      by: { id: string; name: string };
      parent?: string;
      claims: number;
    }>;
    expect(tree).toHaveLength(2);
    expect(view.body.forwardsCursor).toBeNull(); // one page holds them all
    const byBob = tree.find((f) => f.by.id === bob!.userId)!;
    const byCarol = tree.find((f) => f.by.id === carol!.userId)!;
    expect(byBob).toMatchObject({ id: fb.body.forwardId, by: { name: 'Bob' }, claims: 2 }); // Carol and Fred
    expect(byBob.parent).toBeUndefined(); // from Alice's own code
    expect(byCarol).toMatchObject({ id: fc.body.forwardId, parent: byBob.id, claims: 2 }); // Dave and Erin
    // Strangers see no tree.
    const stranger = await login(api);
    expect(
      (await api('GET', `/v1/packets/${sent.packet.id}`, { token: stranger.token })).body.forwards,
    ).toBeUndefined();
  });
});

describe('forwarding: bounded per account, paged in the packet view', () => {
  /** `u` forwards through `via`, then through its own new code, `n` times: a chain of its own. */
  async function chain(
    u: TestUser,
    packetId: string,
    via: string,
    n: number,
  ): Promise<{ ids: string[]; code: string }> {
    const ids: string[] = [];
    let code = via;
    for (let i = 0; i < n; i++) {
      const r = await api('POST', `/v1/packets/${packetId}/codes`, {
        token: u.token,
        body: { kind: 'share', via: code },
      });
      expect({ i, status: r.status }).toEqual({ i, status: 201 });
      ids.push(r.body.forwardId);
      code = r.body.code;
      clock.advance(1_000);
    }
    return { ids, code };
  }

  test('an account forwards a packet at most 10 times (its own chains included): the next is 403 FORBIDDEN, nothing written', async () => {
    const max = DEFAULT_RISK_RULES.personal.forwardsPerPacket;
    expect(max).toBe(10);
    const alice = await login(api, { name: 'Alice' });
    const bob = await login(api, { name: 'Bob' });
    await topup(api, alice, 5_000);
    const sent = await sendPacket(api, alice, { total: 1_000, count: 5, mode: 'lucky' });
    expect((await api('POST', '/v1/claims', { token: bob.token, body: { code: sent.shareCode.code } })).status).toBe(
      200,
    );
    const { ids, code } = await chain(bob, sent.packet.id, sent.shareCode.code, max);
    expect(new Set(ids).size).toBe(max);
    // Asking again through a code already forwarded is the same forward, even at the bound.
    const again = await api('POST', `/v1/packets/${sent.packet.id}/codes`, {
      token: bob.token,
      body: { kind: 'share', via: sent.shareCode.code },
    });
    expect({ s: again.status, id: again.body.forwardId }).toEqual({ s: 201, id: ids[0] });
    // The 11th (through the 10th's code) is refused, and no forward is written.
    const over = await api('POST', `/v1/packets/${sent.packet.id}/codes`, {
      token: bob.token,
      body: { kind: 'share', via: code },
    });
    expect({ s: over.status, c: over.body.error?.code, max: over.body.error?.details?.maxForwards }).toEqual({
      s: 403,
      c: 'FORBIDDEN',
      max,
    });
    const stored = await queryAll(d.db, {
      keyCondition: 'pk = :pk',
      values: { ':pk': Keys.forwardsPk(sent.packet.id) },
    });
    expect(stored).toHaveLength(max);
    // Another account has its own bound.
    const carol = await login(api, { name: 'Carol' });
    expect((await api('POST', '/v1/claims', { token: carol.token, body: { code: sent.shareCode.code } })).status).toBe(
      200,
    );
    expect((await chain(carol, sent.packet.id, code, 1)).ids).toHaveLength(1);
  });

  test(`the packet view pages the forwards (${FORWARDS_PAGE} a page, a cursor for the next); every forward on exactly one page`, async () => {
    const alice = await login(api, { name: 'Alice' });
    await topup(api, alice, 5_000);
    const sent = await sendPacket(api, alice, { total: 1_000, count: 7, mode: 'lucky' }); // one left: forwarding goes on while shares do
    const users = await Promise.all(Array.from({ length: 6 }, (_, i) => login(api, { name: `U${i}` })));
    const made: string[] = [];
    for (const u of users) {
      expect((await api('POST', '/v1/claims', { token: u.token, body: { code: sent.shareCode.code } })).status).toBe(
        200,
      );
      made.push(...(await chain(u, sent.packet.id, sent.shareCode.code, 9)).ids);
    }
    expect(made).toHaveLength(54);
    const first = await api('GET', `/v1/packets/${sent.packet.id}`, { token: alice.token });
    expect(first.body.forwards).toHaveLength(FORWARDS_PAGE);
    expect(typeof first.body.forwardsCursor).toBe('string');
    expect(first.body.claims).toHaveLength(6);
    const second = await api('GET', `/v1/packets/${sent.packet.id}`, {
      token: alice.token,
      query: { forwardsCursor: first.body.forwardsCursor },
    });
    expect(second.body.forwards).toHaveLength(54 - FORWARDS_PAGE);
    expect(second.body.forwardsCursor).toBeNull();
    const seen = [...first.body.forwards, ...second.body.forwards].map((f: { id: string }) => f.id);
    expect(seen.sort()).toEqual([...made].sort());
    // A cursor of another packet's forwards, or a forged one: 400, nothing read.
    const other = await sendPacket(api, alice, { total: 100, count: 1, mode: 'lucky' });
    const wrong = await api('GET', `/v1/packets/${other.packet.id}`, {
      token: alice.token,
      query: { forwardsCursor: first.body.forwardsCursor },
    });
    expect({ s: wrong.status, c: wrong.body.error.code }).toEqual({ s: 400, c: 'VALIDATION_FAILED' });
    // Outsiders get no tree and no cursor.
    const stranger = await login(api);
    const outside = await api('GET', `/v1/packets/${sent.packet.id}`, { token: stranger.token });
    expect(outside.body.forwards).toBeUndefined();
    expect(outside.body.forwardsCursor).toBeUndefined();
  });
});
