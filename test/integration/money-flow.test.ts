import { Clock, balance, idem, login, makeApi, sendPacket, testDeps, topup } from '../helpers/app';

const clock = new Clock();
const d = testDeps({ clock });
const api = makeApi(d);

describe('money flow through the handlers', () => {
  test('top up, send a lucky packet, claim, repeat, finish with 手气最佳', async () => {
    const alice = await login(api, { name: 'Alice' });
    const bob = await login(api, { name: 'Bob' });
    const carol = await login(api, { name: 'Carol' });
    await topup(api, alice, 10_000);
    expect(await balance(api, alice)).toBe(10_000);

    const sent = await sendPacket(api, alice, { total: 1_000, count: 2, mode: 'lucky', greeting: '新年快乐' });
    expect(sent.fee).toBe(0);
    expect(sent.packet.status).toBe('active');
    expect(sent.code.kind).toBe('live');
    expect(sent.shareCode.kind).toBe('share');
    expect(Date.parse(sent.code.expiresAt) - Date.parse(sent.code.issuedAt)).toBe(120_000);
    expect(await balance(api, alice)).toBe(9_000);

    const open = await api('GET', `/v1/codes/${sent.shareCode.code}`, { token: bob.token });
    expect(open.status).toBe(200);
    expect(open.body).toMatchObject({
      target: 'packet',
      claimable: true,
      packet: { greeting: '新年快乐', sender: { name: 'Alice' } },
    });

    const b1 = await api('POST', '/v1/claims', { token: bob.token, body: { code: sent.shareCode.code } });
    expect(b1.status).toBe(200);
    expect(b1.body.repeat).toBe(false);
    expect(b1.body.amount).toBeGreaterThanOrEqual(1);
    const b2 = await api('POST', '/v1/claims', { token: bob.token, body: { code: sent.code.code } });
    expect(b2.status).toBe(200);
    expect(b2.body).toMatchObject({ repeat: true, amount: b1.body.amount });

    // Not finished yet: no 手气最佳 shown.
    const mid = await api('GET', `/v1/packets/${sent.packet.id}`, { token: alice.token });
    expect(mid.body.claims).toHaveLength(1);
    expect(mid.body.claims[0].best).toBe(false);

    const c1 = await api('POST', '/v1/claims', { token: carol.token, body: { code: sent.shareCode.code } });
    expect(c1.status).toBe(200);
    expect(b1.body.amount + c1.body.amount).toBe(1_000);
    expect(typeof c1.body.best).toBe('boolean');

    const done = await api('GET', `/v1/packets/${sent.packet.id}`, { token: bob.token });
    expect(done.body.status).toBe('finished');
    expect(done.body.claimedAmount).toBe(1_000);
    expect(done.body.claims.filter((c: { best: boolean }) => c.best)).toHaveLength(1);
    const bestAmount = Math.max(b1.body.amount, c1.body.amount);
    const bestClaim = done.body.claims.find((c: { best: boolean }) => c.best);
    expect(bestClaim.amount).toBe(bestAmount);

    // An outsider sees the summary only.
    const dave = await login(api);
    const outside = await api('GET', `/v1/packets/${sent.packet.id}`, { token: dave.token });
    expect(outside.status).toBe(200);
    expect(outside.body.claims).toBeUndefined();
    const late = await api('POST', '/v1/claims', { token: dave.token, body: { code: sent.shareCode.code } });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('PACKET_FINISHED');

    expect(await balance(api, bob)).toBe(b1.body.amount);
    const ledger = await api('GET', '/v1/wallet/ledger', { token: alice.token });
    expect(ledger.body.entries.map((e: { type: string }) => e.type)).toEqual(['packet_debit', 'topup']);
    expect(ledger.body.entries[0]).toMatchObject({ amount: -1_000, balanceAfter: 9_000 });

    const sentList = await api('GET', '/v1/me/packets', { token: alice.token, query: { role: 'sent' } });
    expect(sentList.body.items.map((p: { id: string }) => p.id)).toEqual([sent.packet.id]);
    const received = await api('GET', '/v1/me/packets', { token: bob.token, query: { role: 'received' } });
    expect(received.body.items[0]).toMatchObject({ id: sent.packet.id, myAmount: b1.body.amount });
  });

  test('expiry: claims refused with PACKET_EXPIRED, the sweep refunds the rest exactly once', async () => {
    const admin = await login(api, { roles: ['admin'] });
    const alice = await login(api);
    const bob = await login(api);
    await topup(api, alice, 5_000);
    const sent = await sendPacket(api, alice, { total: 3_000, count: 3, mode: 'equal', ttlSeconds: 60 });
    const b = await api('POST', '/v1/claims', { token: bob.token, body: { code: sent.shareCode.code } });
    expect(b.body.amount).toBe(1_000);
    clock.advance(61_000);
    const carol = await login(api);
    const late = await api('POST', '/v1/claims', { token: carol.token, body: { code: sent.shareCode.code } });
    expect(late.status).toBe(410);
    expect(late.body.error.code).toBe('PACKET_EXPIRED');
    const before = await balance(api, alice);
    const s1 = await api('POST', '/v1/admin/sweep', { token: admin.token, body: {} });
    expect(s1.status).toBe(200);
    expect(await balance(api, alice)).toBe(before + 2_000);
    await api('POST', '/v1/admin/sweep', { token: admin.token, body: {} });
    expect(await balance(api, alice)).toBe(before + 2_000);
    const view = await api('GET', `/v1/packets/${sent.packet.id}`, { token: alice.token });
    expect(view.body).toMatchObject({ status: 'refunded', refundedAmount: 2_000, claimedAmount: 1_000 });
    const ledger = await api('GET', '/v1/wallet/ledger', { token: alice.token });
    expect(ledger.body.entries[0]).toMatchObject({ type: 'refund_credit', amount: 2_000 });
  });

  test('receive code and transfer', async () => {
    const alice = await login(api);
    const bob = await login(api, { name: 'Bob' });
    await topup(api, alice, 5_000);
    const rc = await api('GET', '/v1/receive-code', { token: bob.token });
    expect(rc.status).toBe(200);
    expect(rc.body.kind).toBe('receive');
    const open = await api('GET', `/v1/codes/${rc.body.code}`, { token: alice.token });
    expect(open.body).toEqual({ target: 'receive', payee: { id: bob.userId, name: 'Bob' } });
    const t = await api('POST', '/v1/transfers', {
      token: alice.token,
      idem: idem(),
      body: { code: rc.body.code, amount: 1_234, note: '午饭' },
    });
    expect(t.status).toBe(201);
    expect(t.body).toMatchObject({ amount: 1_234, to: { id: bob.userId, name: 'Bob' } });
    expect(await balance(api, alice)).toBe(5_000 - 1_234);
    expect(await balance(api, bob)).toBe(1_234);
    const self = await api('POST', '/v1/transfers', {
      token: bob.token,
      idem: idem(),
      body: { code: rc.body.code, amount: 1 },
    });
    expect(self.status).toBe(400);
    const broke = await api('POST', '/v1/transfers', {
      token: alice.token,
      idem: idem(),
      body: { code: rc.body.code, amount: 9_999 },
    });
    expect(broke.status).toBe(402);
    expect(broke.body.error.code).toBe('INSUFFICIENT_FUNDS');
    const over = await api('POST', '/v1/transfers', {
      token: alice.token,
      idem: idem(),
      body: { code: rc.body.code, amount: 20_001 },
    });
    expect(over.body.error.code).toBe('LIMIT_PER_PACKET');
    clock.advance(121_000);
    const stale = await api('POST', '/v1/transfers', {
      token: alice.token,
      idem: idem(),
      body: { code: rc.body.code, amount: 1 },
    });
    expect(stale.status).toBe(410);
    expect(stale.body.error.code).toBe('CODE_EXPIRED');
  });
});
