import type { Db, Expr, Item, Key } from '../../functions/src/store/db';
import {
  balance,
  baseDb,
  Clock,
  idem,
  login,
  makeApi,
  testDeps,
  topup,
  type ApiResponse,
  type TestUser,
} from '../helpers/app';
import { ledgerOf } from '../helpers/invariants';

/** The store, with a way to hold one request just before it stores its idempotent answer. */
class GatedDb implements Db {
  private hold: { reached: () => void; gate: Promise<void> } | undefined;
  constructor(private readonly inner: Db) {}

  holdNextIdempotencyCompletion() {
    let reached!: () => void;
    let release!: () => void;
    const reachedP = new Promise<void>((r) => (reached = r));
    const gate = new Promise<void>((r) => (release = r));
    this.hold = { reached, gate };
    return { reached: reachedP, release };
  }

  private hidden = 0;
  /** The next `n` reads of an idempotency record find nothing (a twin that looked before the first began). */
  hideIdempotencyReads(n: number) {
    this.hidden = n;
  }

  async get(key: Key, consistent?: boolean) {
    if (this.hidden > 0 && String(key.pk).startsWith('IDEM#')) {
      this.hidden--;
      return undefined;
    }
    return this.inner.get(key, consistent);
  }
  put = (item: Item, expr?: Expr) => this.inner.put(item, expr);
  async update(key: Key, update: string, expr?: Expr) {
    const h = this.hold;
    if (h && String(key.pk).startsWith('IDEM#') && /:done\b/.test(update)) {
      this.hold = undefined;
      h.reached();
      await h.gate;
    }
    return this.inner.update(key, update, expr);
  }
  query = (input: Parameters<Db['query']>[0]) => this.inner.query(input);
  batchGet = (keys: readonly Key[], consistent?: boolean) => this.inner.batchGet(keys, consistent);
  batchPut = (items: Item[]) => this.inner.batchPut(items);
  scan = (input: Parameters<Db['scan']>[0]) => this.inner.scan(input);
}

const d = testDeps();
const api = makeApi(d);

describe('Idempotency-Key (same key + body → first result, other body → 409)', () => {
  test('same key + same body → the first response again, nothing applied twice', async () => {
    const alice = await login(api);
    await topup(api, alice, 5_000);
    const key = idem();
    const body = { total: 1_000, count: 2, mode: 'lucky', greeting: '同一个' };
    const first = await api('POST', '/v1/packets', { token: alice.token, idem: key, body });
    // Key order does not matter: same value, same body.
    const again = await api('POST', '/v1/packets', {
      token: alice.token,
      idem: key,
      body: { greeting: '同一个', mode: 'lucky', count: 2, total: 1_000 },
    });
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
    await api('POST', '/v1/packets', {
      token: alice.token,
      idem: key,
      body: { total: 1_000, count: 2, mode: 'lucky' },
    });
    const other = await api('POST', '/v1/packets', {
      token: alice.token,
      idem: key,
      body: { total: 2_000, count: 2, mode: 'lucky' },
    });
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
    const poor = await api('POST', '/v1/packets', {
      token: alice.token,
      idem: key,
      body: { total: 1_000, count: 2, mode: 'lucky' },
    });
    expect(poor.status).toBe(402);
    expect(poor.body.error.code).toBe('INSUFFICIENT_FUNDS');
    await topup(api, alice, 1_000);
    const ok = await api('POST', '/v1/packets', {
      token: alice.token,
      idem: key,
      body: { total: 1_000, count: 2, mode: 'lucky' },
    });
    expect(ok.status).toBe(201);
  });

  /**
   * Concurrent twins: N identical requests with one key, all at once (a double tap, a client
   * retry racing the first request). Every answer must be the first result — same status, same
   * body — and the money must move exactly once. The balances are tight (exactly what one
   * movement needs), so a twin that re-checks funds after the first debit would answer 402.
   */
  const TWINS = 8;
  const fire = (path: string, token: string, key: string, body: unknown) =>
    Promise.all(Array.from({ length: TWINS }, () => api('POST', path, { token, idem: key, body })));
  const sameAnswer = (rs: ApiResponse[]) => {
    const first = rs[0]!;
    for (const r of rs) expect({ status: r.status, body: r.body }).toEqual({ status: first.status, body: first.body });
  };
  const movements = async (userId: string) => (await ledgerOf(d, userId)).filter((e) => e.type !== 'topup');

  test('concurrent duplicates on POST /v1/packets: one answer, one packet, one debit', async () => {
    const alice = await login(api);
    await topup(api, alice, 500);
    const key = idem();
    const body = { total: 500, count: 5, mode: 'equal' };
    const rs = await fire('/v1/packets', alice.token, key, body);
    expect(rs[0]!.status).toBe(201);
    sameAnswer(rs);
    expect(await balance(api, alice)).toBe(0);
    const debits = await movements(alice.userId);
    expect(debits.map((e) => [e.type, e.amount])).toEqual([['packet_debit', -500]]);
    // A replay after the storm is still the same answer; another body with the key is refused.
    const later = await api('POST', '/v1/packets', { token: alice.token, idem: key, body });
    expect({ status: later.status, body: later.body }).toEqual({ status: rs[0]!.status, body: rs[0]!.body });
    const other = await api('POST', '/v1/packets', { token: alice.token, idem: key, body: { ...body, total: 1_000 } });
    expect({ status: other.status, code: other.body.error?.code }).toEqual({
      status: 409,
      code: 'IDEMPOTENCY_MISMATCH',
    });
    expect(await movements(alice.userId)).toHaveLength(1);
  });

  test('concurrent duplicates on POST /v1/transfers: one answer, one debit, one credit', async () => {
    const alice = await login(api);
    const bob = await login(api);
    await topup(api, alice, 1_234);
    const rc = await api('GET', '/v1/receive-code', { token: bob.token });
    expect(rc.status).toBe(200);
    const key = idem();
    const body = { code: rc.body.code, amount: 1_234, note: '午饭' };
    const rs = await fire('/v1/transfers', alice.token, key, body);
    expect(rs[0]!.status).toBe(201);
    sameAnswer(rs);
    expect((await movements(alice.userId)).map((e) => [e.type, e.amount])).toEqual([['transfer_debit', -1_234]]);
    expect((await movements(bob.userId)).map((e) => [e.type, e.amount])).toEqual([['transfer_credit', 1_234]]);
    const other = await api('POST', '/v1/transfers', {
      token: alice.token,
      idem: key,
      body: { ...body, amount: 1_000 },
    });
    expect({ status: other.status, code: other.body.error?.code }).toEqual({
      status: 409,
      code: 'IDEMPOTENCY_MISMATCH',
    });
    expect(await balance(api, alice)).toBe(0);
    expect(await balance(api, bob)).toBe(1_234);
  });

  test('concurrent duplicates on POST /v1/wallet/topups: one answer, one credit', async () => {
    const alice = await login(api);
    const key = idem();
    const rs = await fire('/v1/wallet/topups', alice.token, key, { amount: 777 });
    expect(rs[0]!.status).toBe(201);
    sameAnswer(rs);
    expect(rs[0]!.body.balance).toBe(777);
    const credits = (await ledgerOf(d, alice.userId)).map((e) => [e.type, e.amount]);
    expect(credits).toEqual([['topup', 777]]);
    const other = await api('POST', '/v1/wallet/topups', { token: alice.token, idem: key, body: { amount: 778 } });
    expect({ status: other.status, code: other.body.error?.code }).toEqual({
      status: 409,
      code: 'IDEMPOTENCY_MISMATCH',
    });
    expect(await balance(api, alice)).toBe(777);
  });

  test('concurrent requests with one key and two bodies: one body wins, the other is refused with 409, one movement', async () => {
    const alice = await login(api);
    await topup(api, alice, 1_000);
    const key = idem();
    const a = { total: 600, count: 2, mode: 'equal' };
    const b = { total: 800, count: 2, mode: 'equal' };
    const rs = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        api('POST', '/v1/packets', { token: alice.token, idem: key, body: i % 2 ? a : b }),
      ),
    );
    const winners = rs.filter((r) => r.status === 201);
    const losers = rs.filter((r) => r.status !== 201);
    expect(winners.length).toBe(4);
    sameAnswer(winners);
    for (const r of losers)
      expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 409, code: 'IDEMPOTENCY_MISMATCH' });
    const debits = await movements(alice.userId);
    expect(debits).toHaveLength(1);
    expect(debits[0]!.amount).toBe(-winners[0]!.body.packet.total);
  });

  test('the first response stored stands: a twin that ran the work later cannot overwrite it', async () => {
    const who = (await login(api)).userId;
    const scope = 'POST /v1/wallet/topups';
    const key = idem();
    expect(await d.idem.begin(who, scope, key, 'h', new Date().toISOString())).toEqual({ kind: 'new' });
    const first = { status: 201, body: { topupId: 't1', amount: 1, balance: 1 } };
    expect(await d.idem.complete(who, scope, key, first)).toEqual(first);
    expect(
      await d.idem.complete(who, scope, key, { status: 201, body: { topupId: 't1', amount: 1, balance: 2 } }),
    ).toEqual(first);
    expect(await d.idem.peek(who, scope, key, 'h')).toEqual({ kind: 'replay', response: first });
  });

  /**
   * A twin arriving while the first request is in flight: the first has moved the money and
   * computed its answer but not stored it yet (held just before its idempotency record is
   * completed). Meanwhile time passes and, for the top-up, the balance changes. Every twin must
   * still answer exactly what the first answers — not a 402 from re-checking funds the first
   * already spent, not a fresh code or balance from running the work again.
   */
  describe('twins of a request still in flight', () => {
    const clock = new Clock();
    const gated = new GatedDb(baseDb());
    const gd = testDeps({ db: gated, clock });
    const gapi = makeApi(gd);

    async function storm(path: string, who: TestUser, body: unknown, meanwhile: () => Promise<void>) {
      const key = idem();
      const held = gated.holdNextIdempotencyCompletion();
      const first = gapi('POST', path, { token: who.token, idem: key, body });
      await held.reached;
      await meanwhile();
      const twins = Promise.all(
        Array.from({ length: TWINS - 1 }, () => gapi('POST', path, { token: who.token, idem: key, body })),
      );
      // Twins that do not wait for the first finish on their own; ones that wait are let through.
      await Promise.race([twins, new Promise((r) => setTimeout(r, 500))]);
      held.release();
      const rs = [await first, ...(await twins)];
      return { rs, key };
    }

    test('packets: the first answer for all, even a second later with the money spent', async () => {
      const alice = await login(gapi);
      await topup(gapi, alice, 500);
      const { rs } = await storm('/v1/packets', alice, { total: 500, count: 5, mode: 'equal' }, async () =>
        clock.advance(2_000),
      );
      expect(rs[0]!.status).toBe(201);
      sameAnswer(rs);
      expect((await movements(alice.userId)).map((e) => e.type)).toEqual(['packet_debit']);
    });

    test('a twin that looked before the first began, and checks funds after its debit: follows the first', async () => {
      const alice = await login(gapi);
      await topup(gapi, alice, 500);
      const key = idem();
      const body = { total: 500, count: 5, mode: 'equal' };
      const held = gated.holdNextIdempotencyCompletion();
      const first = gapi('POST', '/v1/packets', { token: alice.token, idem: key, body });
      await held.reached;
      // The twin's first look finds no record; its own checks then see the first's debit.
      gated.hideIdempotencyReads(1);
      const twin = gapi('POST', '/v1/packets', { token: alice.token, idem: key, body });
      await Promise.race([twin, new Promise((r) => setTimeout(r, 500))]);
      held.release();
      const rs = [await first, await twin];
      expect(rs[0]!.status).toBe(201);
      sameAnswer(rs);
      expect((await movements(alice.userId)).map((e) => e.type)).toEqual(['packet_debit']);
    });

    test('transfers: the first answer for all, one debit, one credit', async () => {
      const alice = await login(gapi);
      const bob = await login(gapi);
      await topup(gapi, alice, 900);
      const rc = await gapi('GET', '/v1/receive-code', { token: bob.token });
      const { rs } = await storm('/v1/transfers', alice, { code: rc.body.code, amount: 900 }, async () =>
        clock.advance(2_000),
      );
      expect(rs[0]!.status).toBe(201);
      sameAnswer(rs);
      expect((await movements(alice.userId)).map((e) => e.type)).toEqual(['transfer_debit']);
      expect((await movements(bob.userId)).map((e) => e.type)).toEqual(['transfer_credit']);
    });

    test('top-ups: the first answer for all, one credit, though the balance moved meanwhile', async () => {
      const alice = await login(gapi);
      const { rs } = await storm('/v1/wallet/topups', alice, { amount: 300 }, () => topup(gapi, alice, 50));
      expect(rs[0]!.status).toBe(201);
      sameAnswer(rs);
      expect(rs[0]!.body.balance).toBe(300);
      expect((await ledgerOf(gd, alice.userId)).map((e) => e.amount).sort()).toEqual([300, 50]);
    });
  });
});
