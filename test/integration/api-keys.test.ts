/**
 * API keys: shown once, stored hashed, scoped by tier, revocable at once, last use recorded and
 * audited (the route × scope matrix itself is in authz-matrix.test.ts, from the README table).
 */
import { Keys } from '../../functions/src/store/keys';
import { hashSecret } from '../../functions/src/domain/api-keys';
import { Clock, idem, login, makeApi, testDeps, topup } from '../helpers/app';

const clock = new Clock(Date.parse('2026-11-28T04:40:00Z'));
const d = testDeps({ clock });
const api = makeApi(d);

describe('API keys', () => {
  test('created once, stored hashed, used by x-api-key, revoked at once, last use recorded and audited', async () => {
    const co = await login(api, { tier: 'enterprise', name: '某某公司' });
    await topup(api, co, 100_000);
    const made = await api('POST', '/v1/api-keys', { token: co.token, body: { name: '活动系统' } });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ keyId: expect.stringMatching(/^k/), scopes: ['basic'] });
    const apiKey = made.body.apiKey as string;
    expect(apiKey).toMatch(/^hk_k[A-Za-z0-9_-]{16}_[A-Za-z0-9_-]{43}$/);
    // Only the hash is stored; the list never shows the secret.
    const stored = await d.db.get(Keys.apiKey(made.body.keyId));
    // The secret is the last 43 characters (base64url may itself contain '_').
    const secret = apiKey.slice(-43);
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(stored?.hash).toBe(hashSecret(secret));
    const list = await api('GET', '/v1/api-keys', { token: co.token });
    expect(list.body.items).toEqual([
      expect.objectContaining({
        keyId: made.body.keyId,
        name: '活动系统',
        scopes: ['basic'],
        lastUsedAt: null,
        revokedAt: null,
      }),
    ]);
    expect(JSON.stringify(list.body)).not.toContain(apiKey);

    // The key acts as its owner within its scope.
    const key = { 'x-api-key': apiKey };
    const sent = await api('POST', '/v1/packets', {
      headers: key,
      idem: idem(),
      body: { total: 1_000, count: 2, mode: 'lucky' },
    });
    expect(sent.status).toBe(201);
    expect(sent.body.packet.sender.id).toBe(co.userId);
    expect((await api('GET', '/v1/wallet', { headers: key })).body.balance).toBe(100_000 - 1_000 - 6);
    // Basic scope: no money out of the wallet by key.
    const shop = await login(api);
    const code = (await api('GET', '/v1/receive-code', { token: shop.token })).body.code;
    const transfer = await api('POST', '/v1/transfers', { headers: key, idem: idem(), body: { code, amount: 100 } });
    expect({ s: transfer.status, c: transfer.body.error.code }).toEqual({ s: 403, c: 'FORBIDDEN' });
    // Keys never manage keys.
    expect((await api('POST', '/v1/api-keys', { headers: key, body: {} })).status).toBe(403);

    const used = await api('GET', '/v1/api-keys', { token: co.token });
    expect(used.body.items[0].lastUsedAt).toBe(new Date(clock.t).toISOString());
    const uses = (await d.audit.chain(co.userId)).filter((r) => r.type === 'key_use');
    expect(uses.map((r) => r.details.action)).toEqual(['create', 'use']); // once a minute, not per call

    // Revoked: refused at once; a forged or malformed key too.
    expect((await api('DELETE', `/v1/api-keys/${made.body.keyId}`, { token: co.token })).status).toBe(200);
    expect((await api('GET', '/v1/wallet', { headers: key })).status).toBe(401);
    expect((await api('DELETE', `/v1/api-keys/${made.body.keyId}`, { token: co.token })).status).toBe(404);
    const forged = apiKey.slice(0, -4) + (apiKey.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect((await api('GET', '/v1/wallet', { headers: { 'x-api-key': forged } })).status).toBe(401);
    expect((await api('GET', '/v1/wallet', { headers: { 'x-api-key': 'not-a-key' } })).status).toBe(401);
  });

  test("providers get full keys (every call); personal accounts get none; a key never revokes another owner's key", async () => {
    const prov = await login(api, { tier: 'provider' });
    await topup(api, prov, 10_000);
    const made = await api('POST', '/v1/api-keys', { token: prov.token, body: {} });
    expect(made.body.scopes).toEqual(['full']);
    const shop = await login(api);
    const code = (await api('GET', '/v1/receive-code', { token: shop.token })).body.code;
    const t = await api('POST', '/v1/transfers', {
      headers: { 'x-api-key': made.body.apiKey },
      idem: idem(),
      body: { code, amount: 100 },
    });
    expect(t.status).toBe(201);
    const person = await login(api);
    expect((await api('POST', '/v1/api-keys', { token: person.token, body: {} })).status).toBe(403);
    const other = await login(api, { tier: 'enterprise' });
    expect((await api('DELETE', `/v1/api-keys/${made.body.keyId}`, { token: other.token })).status).toBe(404);
    expect((await api('GET', '/v1/wallet', { headers: { 'x-api-key': made.body.apiKey } })).status).toBe(200);
  });
});
