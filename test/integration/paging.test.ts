import { queryAll } from '../../functions/src/store/db';
import { Keys } from '../../functions/src/store/keys';
import { login, makeApi, sendPacket, testDeps, topup } from '../helpers/app';

const api = makeApi(testDeps());

describe('paging with cursors', () => {
  test('the ledger pages newest first without gaps or repeats', async () => {
    const u = await login(api);
    for (let i = 1; i <= 7; i++) await topup(api, u, i);
    const seen: number[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const r = await api('GET', '/v1/wallet/ledger', {
        token: u.token,
        query: { limit: '3', ...(cursor ? { cursor } : {}) },
      });
      expect(r.status).toBe(200);
      seen.push(...r.body.entries.map((e: { amount: number }) => e.amount));
      cursor = r.body.cursor ?? undefined;
      if (!cursor) break;
    }
    expect(seen).toEqual([7, 6, 5, 4, 3, 2, 1]);
  });

  test('sent packets page newest first; a malformed cursor is a 400', async () => {
    const u = await login(api);
    await topup(api, u, 10_000);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++)
      ids.push((await sendPacket(api, u, { total: 100 + i, count: 1, mode: 'equal' })).packet.id);
    const p1 = await api('GET', '/v1/me/packets', { token: u.token, query: { role: 'sent', limit: '3' } });
    const p2 = await api('GET', '/v1/me/packets', {
      token: u.token,
      query: { role: 'sent', limit: '3', cursor: p1.body.cursor },
    });
    const got = [...p1.body.items, ...p2.body.items].map((p: { id: string }) => p.id);
    expect(new Set(got)).toEqual(new Set(ids));
    expect(got).toHaveLength(4);
    const bad = await api('GET', '/v1/me/packets', { token: u.token, query: { role: 'sent', cursor: 'not-json' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('the received list pages through the ledger (claim credits carry no index entry)', () => {
  test("claims among other entries: newest first, every one once, no other entry; credits hold no index key; another account's cursor is a 400", async () => {
    const d = testDeps();
    const rapi = makeApi(d);
    const sender = await login(rapi);
    await topup(rapi, sender, 10_000);
    const claimer = await login(rapi);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const sent = await sendPacket(rapi, sender, { total: 100 + i, count: 1, mode: 'equal' });
      expect(
        (await rapi('POST', '/v1/claims', { token: claimer.token, body: { code: sent.shareCode.code } })).status,
      ).toBe(200);
      ids.push(sent.packet.id);
      await topup(rapi, claimer, 1); // not a claim: never listed
    }
    const credits = await queryAll(d.db, {
      keyCondition: 'pk = :pk',
      values: { ':pk': Keys.ledgerPk(claimer.userId) },
    });
    expect(
      credits.filter((e) => e.type === 'claim_credit' && (e.gsi2pk !== undefined || e.gsi2sk !== undefined)),
    ).toEqual([]);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const r = await rapi('GET', '/v1/me/packets', {
        token: claimer.token,
        query: { role: 'received', limit: '2', ...(cursor ? { cursor } : {}) },
      });
      expect(r.status).toBe(200);
      seen.push(...r.body.items.map((p: { id: string }) => p.id));
      cursor = r.body.cursor ?? undefined;
      if (!cursor) break;
    }
    expect(seen).toEqual([...ids].reverse());
    const first = await rapi('GET', '/v1/me/packets', {
      token: claimer.token,
      query: { role: 'received', limit: '2' },
    });
    const foreign = await rapi('GET', '/v1/me/packets', {
      token: sender.token,
      query: { role: 'received', cursor: first.body.cursor },
    });
    expect({ s: foreign.status, c: foreign.body.error?.code }).toEqual({ s: 400, c: 'VALIDATION_FAILED' });
  });
});
