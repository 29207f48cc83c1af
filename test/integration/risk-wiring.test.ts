import { derivedDevice } from '../../functions/src/app/session';
import { Clock, idem, login, makeApi, sendPacket, testDeps, topup, type TestUser } from '../helpers/app';
import { ledgerOf } from '../helpers/invariants';

/** The risk rules as a caller meets them through the HTTP handlers (docs/rules.md). */
const day = Date.parse('2026-11-28T04:00:00Z'); // 12:00 UTC+8
const clock = new Clock(day);
const d = testDeps({ clock });
const api = makeApi(d);
const dev = () => `dev-${idem()}`;

describe('risk rules on the money paths', () => {
  test('blacklist: a blacklisted account moves no money (403 RISK_BLOCKED), and again after removal it does', async () => {
    const bad = await login(api);
    await topup(api, bad, 5_000);
    await d.risk.blacklistAdd('account', bad.userId, { reason: 'test', by: 'admin', nowMs: clock.t });
    const r = await api('POST', '/v1/packets', {
      token: bad.token,
      idem: idem(),
      body: { total: 100, count: 1, mode: 'equal' },
    });
    expect({ s: r.status, c: r.body.error.code }).toEqual({ s: 403, c: 'RISK_BLOCKED' });
    const t = await api('POST', '/v1/wallet/topups', { token: bad.token, idem: idem(), body: { amount: 1 } });
    expect(t.status).toBe(403);
    expect((await api('GET', '/v1/wallet', { token: bad.token })).body.balance).toBe(5_000);
    await d.risk.blacklistRemove('account', bad.userId, { by: 'admin', nowMs: clock.t });
    expect(
      (
        await api('POST', '/v1/packets', {
          token: bad.token,
          idem: idem(),
          body: { total: 100, count: 1, mode: 'equal' },
        })
      ).status,
    ).toBe(201);
  });

  /** A shop with a receive code, and a payer function for it. */
  async function shopAndPayers(n: number) {
    const shop = await login(api);
    const payers = await Promise.all(Array.from({ length: n }, () => login(api)));
    await Promise.all(payers.map((p) => topup(api, p, 10_000)));
    const code = (await api('GET', '/v1/receive-code', { token: shop.token })).body.code;
    const pay = (payer: { token: string }, amount: number) =>
      api('POST', '/v1/transfers', { token: payer.token, idem: idem(), body: { code, amount } });
    const breakerEvents = async () =>
      (await d.risk.events({ fromMs: clock.t - 3_600_000, toMs: clock.t + 3_600_000 })).events.filter(
        (e) => e.rule === 'breaker' && e.codeId === shop.userId,
      );
    const freezesOf = async (userId: string) =>
      (await d.audit.chain(userId)).filter((r) => r.type === 'freeze').map((r) => r.details.rule);
    return { shop, payers, pay, breakerEvents, freezesOf };
  }

  test('breaker: five (or more) 1-fen payments by one payer freeze nothing', async () => {
    const { shop, payers, pay, breakerEvents, freezesOf } = await shopAndPayers(2);
    const [griefer, customer] = payers as [TestUser, TestUser];
    for (let i = 1; i <= 7; i++) expect((await pay(griefer, 1)).status).toBe(201);
    expect((await pay(customer, 1)).status).toBe(201);
    expect((await pay(customer, 888)).status).toBe(201);
    expect((await api('GET', '/v1/wallet', { token: shop.token })).body.balance).toBe(8 + 888);
    expect(await breakerEvents()).toEqual([]);
    expect(await freezesOf(shop.userId)).toEqual([]);
    expect(await freezesOf(griefer.userId)).toEqual([]);
  });

  test('breaker: five equal payments of 1 yuan or more by one payer refuse that payer (423 CODE_FROZEN); another payer still pays', async () => {
    const { shop, payers, pay, breakerEvents, freezesOf } = await shopAndPayers(2);
    const [griefer, customer] = payers as [TestUser, TestUser];
    for (let i = 1; i <= 5; i++) expect((await pay(griefer, 100)).status).toBe(201);
    const sixth = await pay(griefer, 100);
    expect({ s: sixth.status, c: sixth.body.error.code }).toEqual({ s: 423, c: 'CODE_FROZEN' });
    expect((await pay(griefer, 1)).status).toBe(423); // frozen out of this code at any amount
    expect((await pay(customer, 100)).status).toBe(201);
    expect((await api('GET', '/v1/wallet', { token: shop.token })).body.balance).toBe(6 * 100);
    expect((await api('GET', '/v1/wallet', { token: griefer.token })).body.balance).toBe(10_000 - 5 * 100);
    // One firing, on the payer: in the risk events and in the payer's audit chain, not the shop's.
    const events = await breakerEvents();
    expect(events.map((e) => ({ action: e.action, accountId: e.accountId, scope: e.details.scope }))).toEqual([
      { action: 'freeze', accountId: griefer.userId, scope: 'payer' },
    ]);
    expect(await freezesOf(griefer.userId)).toEqual(['breaker']);
    expect(await freezesOf(shop.userId)).toEqual([]);
  });

  test("breaker: five equal payments by several payers freeze the code for everyone (423 CODE_FROZEN), an event and the owner's audit record", async () => {
    const { shop, payers, pay, breakerEvents, freezesOf } = await shopAndPayers(6);
    for (const p of payers.slice(0, 5)) expect((await pay(p, 888)).status).toBe(201);
    for (const p of [payers[5]!, payers[0]!]) {
      const r = await pay(p, 888);
      expect({ s: r.status, c: r.body.error.code }).toEqual({ s: 423, c: 'CODE_FROZEN' });
    }
    expect((await pay(payers[5]!, 777)).status).toBe(423); // the whole code, any amount
    expect((await api('GET', '/v1/wallet', { token: shop.token })).body.balance).toBe(5 * 888);
    expect((await breakerEvents()).map((e) => [e.action, e.details.scope])).toEqual([['freeze', undefined]]);
    // The freeze is a security event of the code's owner: in their audit chain.
    expect(await freezesOf(shop.userId)).toEqual(['breaker']);
  });

  test('device binding: the 4th account on one device is refused at login (403 DEVICE_LIMIT)', async () => {
    const device = dev();
    for (let i = 0; i < 3; i++) {
      const r = await api('POST', '/v1/session', {
        body: { devUser: `dv${idem().slice(0, 8)}` },
        headers: { 'x-device-id': device },
      });
      expect(r.status).toBe(200);
    }
    const fourth = await api('POST', '/v1/session', {
      body: { devUser: `dv${idem().slice(0, 8)}` },
      headers: { 'x-device-id': device },
    });
    expect({ s: fourth.status, c: fourth.body.error.code }).toEqual({ s: 403, c: 'DEVICE_LIMIT' });
  });

  test('a session is bound to its login device: without x-device-id the device rules still run; another device is refused', async () => {
    const device = dev();
    const u = await login(api, { device });
    await topup(api, u, 2_000);
    const send = (headers?: Record<string, string>) =>
      api('POST', '/v1/packets', {
        token: u.token,
        idem: idem(),
        body: { total: 100, count: 1, mode: 'equal' },
        ...(headers ? { headers } : {}),
      });
    await d.risk.blacklistAdd('device', device, { reason: 'test', by: 'risk', nowMs: clock.t });
    // Leaving the header out used to skip every device rule.
    const bare = await send();
    expect({ s: bare.status, c: bare.body.error?.code }).toEqual({ s: 403, c: 'RISK_BLOCKED' });
    const t = await api('POST', '/v1/wallet/topups', { token: u.token, idem: idem(), body: { amount: 1 } });
    expect({ s: t.status, c: t.body.error?.code }).toEqual({ s: 403, c: 'RISK_BLOCKED' });
    // Naming a clean device instead is refused: the token belongs to the device it logged in from.
    const other = await send({ 'x-device-id': dev() });
    expect({ s: other.status, c: other.body.error?.code }).toEqual({ s: 401, c: 'UNAUTHENTICATED' });
    expect((await api('GET', '/v1/wallet', { token: u.token })).body.balance).toBe(2_000);
    await d.risk.blacklistRemove('device', device, { by: 'risk', nowMs: clock.t });
    expect((await send()).status).toBe(201);
    expect((await send({ 'x-device-id': device })).status).toBe(201);
  });

  test('a dev login without a device gets a stable derived one, and its money calls run the device rules on it', async () => {
    const u = await login(api);
    await topup(api, u, 1_000);
    await d.risk.blacklistAdd('device', derivedDevice(u.userId), { reason: 'test', by: 'risk', nowMs: clock.t });
    const r = await api('POST', '/v1/packets', {
      token: u.token,
      idem: idem(),
      body: { total: 100, count: 1, mode: 'equal' },
    });
    expect({ s: r.status, c: r.body.error?.code }).toEqual({ s: 403, c: 'RISK_BLOCKED' });
    await d.risk.blacklistRemove('device', derivedDevice(u.userId), { by: 'risk', nowMs: clock.t });
    expect(
      (
        await api('POST', '/v1/packets', {
          token: u.token,
          idem: idem(),
          body: { total: 100, count: 1, mode: 'equal' },
        })
      ).status,
    ).toBe(201);
  });

  test('marketing words in a business greeting: 422 GREETING_REJECTED; a personal greeting is not checked', async () => {
    const biz = await login(api, { tier: 'enterprise' });
    await topup(api, biz, 50_000);
    const r = await api('POST', '/v1/packets', {
      token: biz.token,
      idem: idem(),
      body: { total: 1_000, count: 2, mode: 'lucky', greeting: '今天 免 单！' },
    });
    expect({ s: r.status, c: r.body.error.code }).toEqual({ s: 422, c: 'GREETING_REJECTED' });
    const person = await login(api);
    await topup(api, person, 1_000);
    expect(
      (
        await api('POST', '/v1/packets', {
          token: person.token,
          idem: idem(),
          body: { total: 100, count: 1, mode: 'equal', greeting: '请你吃饭，免单' },
        })
      ).status,
    ).toBe(201);
  });

  test('night velocity: more than 10 small packets in an hour at night freezes outgoing money', async () => {
    const nightClock = new Clock(Date.parse('2026-11-27T17:05:00Z')); // 01:05 UTC+8
    const nd = testDeps({ clock: nightClock });
    const napi = makeApi(nd);
    const owl = await login(napi);
    await topup(napi, owl, 10_000);
    for (let i = 0; i < 10; i++) await sendPacket(napi, owl, { total: 500, count: 1, mode: 'equal' });
    const eleventh = await napi('POST', '/v1/packets', {
      token: owl.token,
      idem: idem(),
      body: { total: 500, count: 1, mode: 'equal' },
    });
    expect({ s: eleventh.status, c: eleventh.body.error.code }).toEqual({ s: 403, c: 'RISK_BLOCKED' });
    // Big amounts are not "small", but the account's outgoing money is now frozen.
    const big = await napi('POST', '/v1/packets', {
      token: owl.token,
      idem: idem(),
      body: { total: 2_000, count: 1, mode: 'equal' },
    });
    expect(big.status).toBe(403);
    const events = await nd.risk.events({ fromMs: nightClock.t - 3_600_000, toMs: nightClock.t + 3_600_000 });
    expect(events.events.some((e) => e.rule === 'night_velocity')).toBe(true);
  });

  test('refusals are audited in the account chain', async () => {
    const u = await login(api);
    await d.risk.blacklistAdd('account', u.userId, { reason: 'test', by: 'admin', nowMs: clock.t });
    await api('POST', '/v1/wallet/topups', { token: u.token, idem: idem(), body: { amount: 1 } });
    const chain = await d.audit.chain(u.userId);
    expect(chain.map((r) => r.type)).toEqual(['login', 'refusal']);
  });

  test('marketing words written to slip past: refused 422 through the API, and nothing is written (no debit, no packet, no campaign)', async () => {
    const biz = await login(api, { tier: 'enterprise' });
    await topup(api, biz, 50_000);
    const ledger = await ledgerOf(d, biz.userId);
    const greetings = [
      '今天免\u034f单', // combining grapheme joiner
      '全额\ufe0f返\u{e0100}现', // variation selectors
      '免\u0301单', // combining accent
      '全\u3164额\u115f返\uffa0现', // Hangul fillers
      '\ufa32单', // a compatibility ideograph of 免
      '本店免單', // traditional
      '全額\u200b返現', // traditional + zero-width
    ];
    for (const greeting of greetings) {
      const p = await api('POST', '/v1/packets', {
        token: biz.token,
        idem: idem(),
        body: { total: 1_000, count: 2, mode: 'lucky', greeting },
      });
      expect({ greeting, s: p.status, c: p.body.error?.code }).toEqual({ greeting, s: 422, c: 'GREETING_REJECTED' });
      const c = await api('POST', '/v1/campaigns', {
        token: biz.token,
        idem: idem(),
        body: { name: '周年庆', packet: { total: 300, count: 3, mode: 'lucky', greeting }, quantity: 2 },
      });
      expect({ greeting, s: c.status, c: c.body.error?.code }).toEqual({ greeting, s: 422, c: 'GREETING_REJECTED' });
    }
    expect((await api('GET', '/v1/wallet', { token: biz.token })).body.balance).toBe(50_000);
    expect(await ledgerOf(d, biz.userId)).toEqual(ledger);
    expect((await api('GET', '/v1/me/packets', { token: biz.token, query: { role: 'sent' } })).body.items).toEqual([]);
    expect((await api('GET', '/v1/campaigns', { token: biz.token })).body.items).toEqual([]);
    // An ordinary greeting with an emoji and its variation selector goes through.
    const ok = await api('POST', '/v1/packets', {
      token: biz.token,
      idem: idem(),
      body: { total: 1_000, count: 2, mode: 'lucky', greeting: '❤️ 新年快乐' },
    });
    expect(ok.status).toBe(201);
  });
});
