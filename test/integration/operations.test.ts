/**
 * The operations routes through the real handlers and store: the audit log (own 30 days;
 * support, masked), risk events and reports for the risk officer, the admin's tier settings and
 * blacklist, and the per-minute rate limits of claims and code refreshes (429 + Retry-After).
 */
import { feeFor } from '../../functions/src/domain/money';
import { verifyChain } from '../../functions/src/domain/audit';
import { verifyLedgerChain } from '../../functions/src/domain/ledger-chain';
import { AuditKeys, Keys } from '../../functions/src/store/keys';
import type { DynamoWalletStore } from '../../functions/src/store/ledger';
import { Clock, idem, login, makeApi, sendPacket, testDeps, topup } from '../helpers/app';

const DAY = 86_400_000;
const clock = new Clock(Date.parse('2026-11-28T04:00:10Z'));
const d = testDeps({ clock });
const api = makeApi(d);

describe('GET /v1/audit', () => {
  test('a user reads their own last 30 days only; support reads any account, masked, and is audited', async () => {
    const devUser = `old${idem().slice(0, 8)}`;
    const old = new Clock(clock.t - 40 * DAY);
    const oldApi = makeApi(testDeps({ clock: old }));
    const first = await oldApi('POST', '/v1/session', { body: { devUser } });
    const u = { token: first.body.token, userId: first.body.userId, name: devUser };
    old.advance(1_000);
    await topup(oldApi, u, 100); // a login and a top-up 40 days ago
    const again = await api('POST', '/v1/session', { body: { devUser } }); // the same account today
    expect(again.body.userId).toBe(u.userId);
    const token = again.body.token as string;
    clock.advance(1_000);
    await topup(api, { ...u, token }, 500);

    const own = await api('GET', '/v1/audit', { token, query: { from: new Date(clock.t - 365 * DAY).toISOString() } });
    expect(own.status).toBe(200);
    // The window is clamped to 30 days even when the caller asks for a year: only today's lines.
    expect(Date.parse(own.body.from)).toBe(clock.t - 30 * DAY);
    expect(own.body.items.map((r: { source: string; type: string }) => `${r.source}:${r.type}`)).toEqual([
      'ledger:topup',
      'audit:login',
    ]);
    expect(own.body.items[0].details).toMatchObject({ amount: 500, balance: 600 });
    expect(own.body.masked).toBe(false);

    // Support sees the whole trail (any range), with the account masked.
    const support = await login(api, { roles: ['support'] });
    const seen = await api('GET', '/v1/audit', {
      token: support.token,
      query: { userId: u.userId, from: new Date(clock.t - 60 * DAY).toISOString() },
    });
    expect(seen.status).toBe(200);
    expect(seen.body.items.map((r: { source: string; type: string }) => `${r.source}:${r.type}`)).toEqual([
      'ledger:topup',
      'audit:login',
      'ledger:topup',
      'audit:login',
    ]);
    for (const r of seen.body.items) expect(r.accountId).toBe(`${u.userId.slice(0, 3)}***${u.userId.slice(-2)}`);
    expect(JSON.stringify(seen.body)).not.toContain(u.userId);
    // The support read is itself on the support agent's chain, naming the subject…
    const chain = await d.audit.chain(support.userId);
    expect(chain.at(-1)).toMatchObject({ type: 'support_view', details: { subject: u.userId } });
    // …and support's own view of that record masks the subject again.
    const mine = await api('GET', '/v1/audit', { token: support.token });
    expect(mine.body.items[0]).toMatchObject({ type: 'support_view' });
    expect(JSON.stringify(mine.body)).not.toContain(u.userId);
  });

  test('paging with a cursor returns every record once; from after to is a 400', async () => {
    const u = await login(api);
    for (let i = 0; i < 7; i++) await topup(api, u, 10 + i);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    for (; pages < 20; pages++) {
      const r = await api('GET', '/v1/audit', { token: u.token, query: { limit: '3', ...(cursor ? { cursor } : {}) } });
      expect(r.status).toBe(200);
      expect(r.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...r.body.items.map((x: { source: string; seq: number }) => `${x.source}${x.seq}`));
      cursor = r.body.cursor ?? undefined;
      if (!cursor) break;
    }
    // 1 login + 7 top-ups: every line exactly once, newest first, across pages of 3.
    expect(seen.sort()).toEqual([
      'audit1',
      'ledger1',
      'ledger2',
      'ledger3',
      'ledger4',
      'ledger5',
      'ledger6',
      'ledger7',
    ]);
    expect(pages).toBeGreaterThanOrEqual(2);
    const forged = await api('GET', '/v1/audit', {
      token: u.token,
      query: { cursor: Buffer.from('{"audit":"x"}').toString('base64url') },
    });
    expect(forged.status).toBe(400);
    const bad = await api('GET', '/v1/audit', {
      token: u.token,
      query: { from: new Date(clock.t).toISOString(), to: new Date(clock.t - DAY).toISOString() },
    });
    expect({ s: bad.status, c: bad.body.error.code }).toEqual({ s: 400, c: 'VALIDATION_FAILED' });
  });
});

describe('GET /v1/risk/events and /v1/risk/reports', () => {
  test('the risk officer sees each firing; a range over 31 days is a 400; paging is complete', async () => {
    const risk = await login(api, { roles: ['risk'] });
    const from = new Date(clock.t - 1000).toISOString();
    // Two firings: a blacklisted account's refusal and a marketing greeting.
    const bad = await login(api);
    await topup(api, bad, 1_000);
    const add = await api('POST', '/v1/admin/blacklist', {
      token: risk.token,
      body: { kind: 'account', id: bad.userId, reason: '盗号' },
    });
    expect(add.status).toBe(201);
    expect(
      (
        await api('POST', '/v1/packets', {
          token: bad.token,
          idem: idem(),
          body: { total: 100, count: 1, mode: 'equal' },
        })
      ).status,
    ).toBe(403);
    const biz = await login(api, { tier: 'enterprise' });
    await topup(api, biz, 5_000);
    expect(
      (
        await api('POST', '/v1/packets', {
          token: biz.token,
          idem: idem(),
          body: { total: 1_000, count: 2, mode: 'lucky', greeting: '全额返现' },
        })
      ).status,
    ).toBe(422);
    clock.advance(1);
    const to = new Date(clock.t).toISOString();

    const all: Array<{ rule: string; accountId?: string }> = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const r = await api('GET', '/v1/risk/events', {
        token: risk.token,
        query: { from, to, limit: '1', ...(cursor ? { cursor } : {}) },
      });
      expect(r.status).toBe(200);
      all.push(...r.body.items);
      cursor = r.body.cursor ?? undefined;
      if (!cursor) break;
    }
    const mine = all.filter((e) => e.accountId === bad.userId || e.accountId === biz.userId);
    expect(mine.map((e) => e.rule).sort()).toEqual(['blacklist', 'marketing_words']);
    expect(new Set(all.map((e) => JSON.stringify(e))).size).toBe(all.length);

    const tooLong = await api('GET', '/v1/risk/events', {
      token: risk.token,
      query: { from: new Date(clock.t - 32 * DAY).toISOString(), to },
    });
    expect({ s: tooLong.status, c: tooLong.body.error.code }).toEqual({ s: 400, c: 'VALIDATION_FAILED' });
    const forged = await api('GET', '/v1/risk/events', {
      token: risk.token,
      query: { cursor: Buffer.from('RISKEV#x').toString('base64url') },
    });
    expect(forged.status).toBe(400);
    const user = await login(api);
    expect((await api('GET', '/v1/risk/events', { token: user.token })).status).toBe(403);
  });

  test('a transfer over 50,000 yuan within a provider limit is allowed and reported', async () => {
    const risk = await login(api, { roles: ['risk'] });
    const admin = await login(api, { roles: ['admin'] });
    const whale = await login(api, { tier: 'provider' });
    const set = await api('POST', `/v1/admin/accounts/${whale.userId}/tier`, {
      token: admin.token,
      body: { tier: 'provider', settings: { perPacketLimit: 10_000_000, dailyLimit: 20_000_000 } },
    });
    expect(set.status).toBe(200);
    await topup(api, whale, 5_000_000);
    await topup(api, whale, 1_000_000);
    const shop = await login(api);
    const code = (await api('GET', '/v1/receive-code', { token: shop.token })).body.code;
    const t = await api('POST', '/v1/transfers', {
      token: whale.token,
      idem: idem(),
      body: { code, amount: 5_000_001 },
    });
    expect(t.status).toBe(201);
    const reports = await api('GET', '/v1/risk/reports', { token: risk.token });
    expect(reports.status).toBe(200);
    expect(reports.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ accountId: whale.userId, amount: 5_000_001, kind: 'transfer' }),
      ]),
    );
  });
});

describe('admin: tiers and the blacklist', () => {
  test('setting a tier and fee changes the next packet exactly; a fee outside the tier range is refused', async () => {
    const admin = await login(api, { roles: ['admin'] });
    const co = await login(api);
    await topup(api, co, 100_000);
    const bad = await api('POST', `/v1/admin/accounts/${co.userId}/tier`, {
      token: admin.token,
      body: { tier: 'enterprise', settings: { feeBps: 120 } },
    });
    expect({ s: bad.status, c: bad.body.error.code }).toEqual({ s: 400, c: 'VALIDATION_FAILED' });
    const limits = await api('POST', `/v1/admin/accounts/${co.userId}/tier`, {
      token: admin.token,
      body: { tier: 'enterprise', settings: { dailyLimit: 1 } },
    });
    expect(limits.status).toBe(400);
    expect((await api('GET', '/v1/wallet', { token: co.token })).body.tier).toBe('personal');

    const ok = await api('POST', `/v1/admin/accounts/${co.userId}/tier`, {
      token: admin.token,
      body: { tier: 'enterprise', settings: { feeBps: 85 } },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      tier: 'enterprise',
      settings: { feeBps: 85 },
      policy: { feeBps: 85, perPacketLimit: 200_000 },
    });
    const w = await api('GET', '/v1/wallet', { token: co.token });
    expect(w.body).toMatchObject({ tier: 'enterprise', feeBps: 85, perPacketLimit: 200_000 });
    const sent = await sendPacket(api, co, { total: 33_333, count: 3, mode: 'lucky' });
    expect(sent.fee).toBe(feeFor(33_333, 85));
    expect(sent.fee).toBe(284); // ceil(33,333 × 0.85 %) = ceil(283.33)
    expect((await api('GET', '/v1/wallet', { token: co.token })).body.balance).toBe(100_000 - 33_333 - 284);
    // Both chains record the change.
    expect(
      (await d.audit.chain(co.userId)).some((r) => r.type === 'tier_change' && r.details.to === 'enterprise'),
    ).toBe(true);
    expect(
      (await d.audit.chain(admin.userId)).some((r) => r.type === 'tier_change' && r.details.subject === co.userId),
    ).toBe(true);
    const view = await api('GET', `/v1/admin/accounts/${co.userId}`, { token: admin.token });
    expect(view.body).toMatchObject({ userId: co.userId, tier: 'enterprise' });
    expect(
      (await api('POST', '/v1/admin/accounts/uNoSuchUser/tier', { token: admin.token, body: { tier: 'provider' } }))
        .status,
    ).toBe(404);
  });

  test('blacklisting a device refuses its payments; removing it restores them; both are audited', async () => {
    const risk = await login(api, { roles: ['risk'] });
    const device = `dev-${idem()}`;
    const u = await login(api, { device });
    await topup(api, u, 1_000);
    const send = () =>
      api('POST', '/v1/packets', {
        token: u.token,
        idem: idem(),
        body: { total: 100, count: 1, mode: 'equal' },
        headers: { 'x-device-id': device },
      });
    expect(
      (
        await api('POST', '/v1/admin/blacklist', {
          token: risk.token,
          body: { kind: 'device', id: device, reason: '设备农场' },
        })
      ).status,
    ).toBe(201);
    const list = await api('GET', '/v1/admin/blacklist', { token: risk.token });
    expect(list.body.items).toEqual(expect.arrayContaining([{ kind: 'device', id: device }]));
    const refused = await send();
    expect({ s: refused.status, c: refused.body.error.code }).toEqual({ s: 403, c: 'RISK_BLOCKED' });
    const del = await api('DELETE', `/v1/admin/blacklist/device/${device}`, { token: risk.token });
    expect(del.status).toBe(200);
    expect((await api('DELETE', `/v1/admin/blacklist/device/${device}`, { token: risk.token })).status).toBe(404);
    expect((await send()).status).toBe(201);
    const types = (await d.audit.chain(risk.userId)).map((r) => r.type);
    expect(types).toEqual(expect.arrayContaining(['blacklist_add', 'blacklist_remove']));
    expect(
      (
        await api('POST', '/v1/admin/blacklist', {
          token: risk.token,
          body: { kind: 'account', id: 'uNoSuchUser', reason: 'x' },
        })
      ).status,
    ).toBe(404);
  });
});

describe('rate limits (429 RATE_LIMITED + Retry-After)', () => {
  test('code refreshes: 30 per minute pass, the 31st is refused until the next minute; one event per window', async () => {
    const rclock = new Clock(Date.parse('2026-11-28T05:00:15Z'));
    const rd = testDeps({ clock: rclock });
    const rapi = makeApi(rd);
    const u = await login(rapi);
    // Concurrent refreshes: the counter is atomic, so exactly 30 of 40 pass.
    const results = await Promise.all(
      Array.from({ length: 40 }, () => rapi('GET', '/v1/receive-code', { token: u.token })),
    );
    const ok = results.filter((r) => r.status === 200).length;
    const limited = results.filter((r) => r.status === 429);
    expect(ok).toBe(30);
    expect(limited).toHaveLength(10);
    for (const r of limited) {
      expect(r.body.error.code).toBe('RATE_LIMITED');
      expect(r.headers['retry-after']).toBe('45');
      expect(r.body.error.details.retryAfter).toBe(45);
    }
    const events = await rd.risk.events({ fromMs: rclock.t - 1000, toMs: rclock.t + 1000, limit: 500 });
    expect(events.events.filter((e) => e.accountId === u.userId && e.rule === 'rate_limit')).toHaveLength(1);
    expect(
      (await rd.audit.chain(u.userId)).filter((r) => r.type === 'refusal' && r.details.code === 'RATE_LIMITED'),
    ).toHaveLength(1);
    rclock.advance(45_000); // the next clock minute
    expect((await rapi('GET', '/v1/receive-code', { token: u.token })).status).toBe(200);
  });

  test('claims: the 21st claim attempt of one account within a minute is refused and takes nothing', async () => {
    const rclock = new Clock(Date.parse('2026-11-28T05:10:00Z'));
    const rd = testDeps({ clock: rclock });
    const rapi = makeApi(rd);
    const sender = await login(rapi);
    await topup(rapi, sender, 100_000);
    const codes: string[] = [];
    for (let i = 0; i < 21; i++)
      codes.push((await sendPacket(rapi, sender, { total: 100, count: 1, mode: 'equal' })).code.code);
    const claimer = await login(rapi);
    for (let i = 0; i < 20; i++)
      expect((await rapi('POST', '/v1/claims', { token: claimer.token, body: { code: codes[i] } })).status).toBe(200);
    const r = await rapi('POST', '/v1/claims', { token: claimer.token, body: { code: codes[20] } });
    expect({ s: r.status, c: r.body.error.code, ra: r.headers['retry-after'] }).toEqual({
      s: 429,
      c: 'RATE_LIMITED',
      ra: '60',
    });
    expect((await rapi('GET', '/v1/wallet', { token: claimer.token })).body.balance).toBe(20 * 100);
    // The next clock minute, the same claim goes through.
    rclock.advance(60_000);
    expect((await rapi('POST', '/v1/claims', { token: claimer.token, body: { code: codes[20] } })).status).toBe(200);
  });
});

describe('a full flow leaves a verifiable trail; any edited record is named', () => {
  test('login, top-up, packet, claim, transfer, refusal, tier change: both chains verify; each edit breaks at its seq', async () => {
    const admin = await login(api, { roles: ['admin'] });
    const alice = await login(api);
    const bob = await login(api);
    await topup(api, alice, 10_000);
    const sent = await sendPacket(api, alice, { total: 1_000, count: 2, mode: 'lucky' });
    expect((await api('POST', '/v1/claims', { token: bob.token, body: { code: sent.shareCode.code } })).status).toBe(
      200,
    );
    const code = (await api('GET', '/v1/receive-code', { token: bob.token })).body.code;
    expect(
      (await api('POST', '/v1/transfers', { token: alice.token, idem: idem(), body: { code, amount: 300 } })).status,
    ).toBe(201);
    await d.risk.blacklistAdd('account', alice.userId, { reason: 'test', by: admin.userId, nowMs: clock.t });
    expect(
      (await api('POST', '/v1/transfers', { token: alice.token, idem: idem(), body: { code, amount: 1 } })).status,
    ).toBe(403);
    await d.risk.blacklistRemove('account', alice.userId, { by: admin.userId, nowMs: clock.t });
    expect(
      (
        await api('POST', `/v1/admin/accounts/${alice.userId}/tier`, {
          token: admin.token,
          body: { tier: 'enterprise' },
        })
      ).status,
    ).toBe(200);

    const records = await d.audit.chain(alice.userId);
    expect(records.map((r) => r.type)).toEqual(['login', 'refusal', 'tier_change']);
    const entries = await (d.wallets as DynamoWalletStore).chain(alice.userId);
    expect(entries.map((e) => e.type)).toEqual(['topup', 'packet_debit', 'transfer_debit']);
    expect(verifyChain(records)).toMatchObject({ ok: true, count: 3 });
    expect(verifyLedgerChain(entries)).toMatchObject({ ok: true });

    // Edit each stored record in turn (then restore it): verification names exactly that seq.
    for (const r of records) {
      const key = AuditKeys.record(alice.userId, r.seq);
      await d.db.update(key, 'SET #at = :x', { names: { '#at': 'at' }, values: { ':x': '2020-01-01T00:00:00.000Z' } });
      expect(verifyChain(await d.audit.chain(alice.userId))).toMatchObject({ ok: false, seq: r.seq });
      await d.db.update(key, 'SET #at = :x', { names: { '#at': 'at' }, values: { ':x': r.at } });
    }
    for (const e of entries) {
      const key = Keys.ledgerEntry(alice.userId, e.seq);
      await d.db.update(key, 'SET amount = :x', { values: { ':x': e.amount + 1 } });
      const broken = verifyLedgerChain(await (d.wallets as DynamoWalletStore).chain(alice.userId));
      expect(broken).toMatchObject({ ok: false, seq: e.seq });
      await d.db.update(key, 'SET amount = :x', { values: { ':x': e.amount } });
    }
    expect(verifyChain(await d.audit.chain(alice.userId))).toMatchObject({ ok: true });
  });
});
