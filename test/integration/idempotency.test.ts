import { balance, idem, login, makeApi, testDeps, topup } from '../helpers/app';

const d = testDeps();
const api = makeApi(d);

describe('Idempotency-Key (API.md conventions, SPEC §8.5)', () => {
  test('same key + same body → the first response again, nothing applied twice', async () => {
    const alice = await login(api);
    await topup(api, alice, 5_000);
    const key = idem();
    const body = { total: 1_000, count: 2, mode: 'lucky', greeting: '同一个' };
    const first = await api('POST', '/v1/packets', { token: alice.token, idem: key, body });
    // Key order does not matter: same value, same body.
    const again = await api('POST', '/v1/packets', { token: alice.token, idem: key, body: { greeting: '同一个', mode: 'lucky', count: 2, total: 1_000 } });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(await balance(api, alice)).toBe(4_000);
    const t1 = await api('POST', '/v1/wallet/topups', { token: alice.token, idem: key, body: { amount: 100 } });
    const t2 = await api('POST', '/v1/wallet/topups', { token: alice.token, idem: key, body: { amount: 100 } });
    expect(t2.body).toEqual(t1.body);
    expect(await balance(api, alice)).toBe(4_100);
  });

  test('same key + another body → 409 IDEMPOTENCY_MISMATCH and nothing moves', async () => {
    const alice = await login(api);
    await topup(api, alice, 5_000);
    const key = idem();
    await api('POST', '/v1/packets', { token: alice.token, idem: key, body: { total: 1_000, count: 2, mode: 'lucky' } });
    const other = await api('POST', '/v1/packets', { token: alice.token, idem: key, body: { total: 2_000, count: 2, mode: 'lucky' } });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('IDEMPOTENCY_MISMATCH');
    expect(await balance(api, alice)).toBe(4_000);
  });

  test('missing key on a money call → 400 IDEMPOTENCY_KEY_REQUIRED; malformed key → 400 VALIDATION_FAILED', async () => {
    const alice = await login(api);
    for (const [path, body] of [
      ['/v1/packets', { total: 100, count: 1, mode: 'equal' }],
      ['/v1/wallet/topups', { amount: 100 }],
      ['/v1/transfers', { code: 'x', amount: 1 }],
    ] as const) {
      const r = await api('POST', path, { token: alice.token, body });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('IDEMPOTENCY_KEY_REQUIRED');
    }
    const bad = await api('POST', '/v1/wallet/topups', { token: alice.token, idem: 'has space', body: { amount: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    expect(await balance(api, alice)).toBe(0);
  });

  test('keys are per caller: another user may use the same key', async () => {
    const a = await login(api);
    const b = await login(api);
    const key = idem();
    await api('POST', '/v1/wallet/topups', { token: a.token, idem: key, body: { amount: 300 } });
    const rb = await api('POST', '/v1/wallet/topups', { token: b.token, idem: key, body: { amount: 300 } });
    expect(rb.status).toBe(201);
    expect(await balance(api, b)).toBe(300);
  });

  test('a refusal met before any write is not stored: the same key works once the cause is gone', async () => {
    const alice = await login(api);
    const key = idem();
    const poor = await api('POST', '/v1/packets', { token: alice.token, idem: key, body: { total: 1_000, count: 2, mode: 'lucky' } });
    expect(poor.status).toBe(402);
    expect(poor.body.error.code).toBe('INSUFFICIENT_FUNDS');
    await topup(api, alice, 1_000);
    const ok = await api('POST', '/v1/packets', { token: alice.token, idem: key, body: { total: 1_000, count: 2, mode: 'lucky' } });
    expect(ok.status).toBe(201);
  });

  test('concurrent duplicates with one key: one packet, one debit', async () => {
    const alice = await login(api);
    await topup(api, alice, 5_000);
    const key = idem();
    const body = { total: 500, count: 5, mode: 'equal' };
    const rs = await Promise.all(Array.from({ length: 8 }, () => api('POST', '/v1/packets', { token: alice.token, idem: key, body })));
    const ids = new Set(rs.filter((r) => r.status === 201).map((r) => r.body.packet.id));
    expect(ids.size).toBe(1);
    expect(await balance(api, alice)).toBe(4_500);
  });
});
