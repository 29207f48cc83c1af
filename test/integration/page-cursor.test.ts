/**
 * Page cursors belong to the store ports that page: each adapter encodes its Query's last key as
 * the cursor and refuses a cursor of any other list, through the one helper in
 * store/page-cursor.ts. The cursors are the bytes clients were always given, so one a client
 * holds across a deploy still pages.
 */
import type { WriteInfo } from '../../functions/src/store/db';
import { DomainError } from '../../functions/src/domain/errors';
import { AuditKeys, Indexes, Keys } from '../../functions/src/store/keys';
import { pageCursorOf, startKeyOf, type CursorScope } from '../../functions/src/store/page-cursor';
import { baseDb, login, makeApi, sendPacket, testDeps, topup, uniq } from '../helpers/app';

const writes: WriteInfo[] = [];
const d = testDeps({ db: baseDb({ afterWrite: (i) => void writes.push(i) }) });
const api = makeApi(d);

/** base64url JSON of anything, as a forger would build it. */
const forge = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** The refusal every bad cursor gets: 400 VALIDATION_FAILED 'invalid cursor'. */
function refusal(f: () => unknown): { code: string; status: number; message: string } | 'accepted' {
  try {
    f();
    return 'accepted';
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    return { code: e.code, status: e.status, message: e.message };
  }
}
async function refusalOf(p: Promise<unknown>): Promise<{ code: string; status: number } | 'accepted'> {
  try {
    await p;
    return 'accepted';
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    return { code: e.code, status: e.status };
  }
}
const INVALID = { code: 'VALIDATION_FAILED', status: 400, message: 'invalid cursor' };

describe('the shared page cursor helper', () => {
  const ledgerOf = (u: string): CursorScope => ({ pk: Keys.ledgerPk(u) });

  test('a cursor round-trips to the key it was made of; no cursor is the start of the list', () => {
    const key = { pk: Keys.ledgerPk('u_abc'), sk: '000000000042' };
    const cursor = pageCursorOf(key)!;
    expect(startKeyOf(cursor, ledgerOf('u_abc'))).toEqual(key);
    const indexKey = { pk: 'WD#wd1', sk: 'WD', gsi2pk: Keys.withdrawalsPk('u_abc'), gsi2sk: 'x' };
    expect(startKeyOf(pageCursorOf(indexKey), { gsi2pk: Keys.withdrawalsPk('u_abc') })).toEqual(indexKey);
    expect(pageCursorOf(undefined)).toBeUndefined();
    expect(startKeyOf(undefined, ledgerOf('u_abc'))).toBeUndefined();
    expect(startKeyOf('', ledgerOf('u_abc'))).toBeUndefined();
  });

  test('the bytes are those the handlers encoded before the stores owned the cursors', () => {
    // Both strings were produced by the former http/cursor.ts encodeCursor for these keys.
    const ledgerKey = { pk: 'LEDGER#u_abc', sk: '000000000042' };
    const indexKey = { gsi2sk: '2026-12-05T10:00:00.000Z#wd1', sk: 'WD', gsi2pk: 'WDS#u_abc', pk: 'WD#wd1' };
    const held = {
      ledger: 'eyJwayI6IkxFREdFUiN1X2FiYyIsInNrIjoiMDAwMDAwMDAwMDQyIn0',
      index:
        'eyJnc2kyc2siOiIyMDI2LTEyLTA1VDEwOjAwOjAwLjAwMFojd2QxIiwic2siOiJXRCIsImdzaTJwayI6IldEUyN1X2FiYyIsInBrIjoiV0Qjd2QxIn0',
    };
    expect(pageCursorOf(ledgerKey)).toBe(held.ledger);
    expect(pageCursorOf(indexKey)).toBe(held.index);
    // A cursor a client holds from before still reads as the same key.
    expect(startKeyOf(held.ledger, { pk: 'LEDGER#u_abc' })).toEqual(ledgerKey);
    expect(startKeyOf(held.index, { gsi2pk: 'WDS#u_abc' })).toEqual(indexKey);
  });

  test("another account's list, a malformed cursor or a key of the wrong shape: 400 VALIDATION_FAILED", () => {
    const mine = ledgerOf('u_me');
    const bad: Record<string, string> = {
      "another account's": pageCursorOf({ pk: Keys.ledgerPk('u_other'), sk: '000000000009' })!,
      'another list of mine': pageCursorOf({ pk: Keys.forwardsPk('pk_1'), sk: 'F#1' })!,
      'not base64 JSON': 'not-json',
      'JSON, not an object': forge([Keys.ledgerPk('u_me'), '000000000001']),
      'JSON null': forge(null),
      'a string': forge('LEDGER#u_me'),
      'no sort key': forge({ pk: Keys.ledgerPk('u_me') }),
      'an empty sort key': forge({ pk: Keys.ledgerPk('u_me'), sk: '' }),
      'no partition key': forge({ sk: '000000000001', gsi2pk: Keys.ledgerPk('u_me') }),
      'an attribute no key has': forge({ pk: Keys.ledgerPk('u_me'), sk: '000000000001', amount: '1' }),
      'a number where a string goes': forge({ pk: Keys.ledgerPk('u_me'), sk: 1 }),
      'a nested value': forge({ pk: Keys.ledgerPk('u_me'), sk: { S: '000000000001' } }),
      'an overlong value': forge({ pk: Keys.ledgerPk('u_me'), sk: 'x'.repeat(301) }),
    };
    for (const [what, cursor] of Object.entries(bad))
      expect({ what, r: refusal(() => startKeyOf(cursor, mine)) }).toEqual({ what, r: INVALID });
    // An index list is checked on the index's partition attribute, not the table's.
    const sent = pageCursorOf({ pk: 'PKT#pk_1', sk: 'PACKET', gsi2pk: Keys.sentPk('u_other'), gsi2sk: 'x' });
    expect(refusal(() => startKeyOf(sent, { gsi2pk: Keys.sentPk('u_me') }))).toEqual(INVALID);
    expect(refusal(() => startKeyOf(forge({ pk: 'PKT#pk_1', sk: 'PACKET' }), { gsi2pk: Keys.sentPk('u_me') }))).toEqual(
      INVALID,
    );
    // Only the attributes of the list's own key: an index cursor without the index's sort key,
    // or a table cursor carrying index attributes, would be refused by DynamoDB itself (a 500).
    const noIndexSk = forge({ pk: 'PKT#pk_1', sk: 'PACKET', gsi2pk: Keys.sentPk('u_me') });
    expect(refusal(() => startKeyOf(noIndexSk, { gsi2pk: Keys.sentPk('u_me') }))).toEqual(INVALID);
    const otherIndex = forge({ pk: 'PKT#pk_1', sk: 'PACKET', gsi2pk: Keys.sentPk('u_me'), gsi2sk: 'x', gsi1sk: 'y' });
    expect(refusal(() => startKeyOf(otherIndex, { gsi2pk: Keys.sentPk('u_me') }))).toEqual(INVALID);
    const extra = forge({ pk: Keys.ledgerPk('u_me'), sk: '000000000001', gsi2pk: Keys.sentPk('u_me') });
    expect(refusal(() => startKeyOf(extra, mine))).toEqual(INVALID);
  });
});

describe('every paging port owns its cursor', () => {
  test("the ledger's next cursor is the Query's last key in the bytes clients were given", async () => {
    const u = await login(api);
    for (let i = 1; i <= 3; i++) await topup(api, u, i);
    const page = await d.wallets.page(u.userId, 2);
    const raw = await d.db.query({
      keyCondition: 'pk = :pk',
      values: { ':pk': Keys.ledgerPk(u.userId) },
      forward: false,
      limit: 2,
      consistent: true,
    });
    expect(raw.lastKey).toBeDefined();
    expect(page.next).toBe(Buffer.from(JSON.stringify(raw.lastKey)).toString('base64url'));
    // The same through the route: the handler adds nothing of its own.
    const r = await api('GET', '/v1/wallet/ledger', { token: u.token, query: { limit: '2' } });
    expect(r.body.cursor).toBe(page.next);
  });

  test('the sent list (an index) hands out its last key too, and pages on with it', async () => {
    const u = await login(api);
    await topup(api, u, 1_000);
    for (let i = 0; i < 3; i++) await sendPacket(api, u, { total: 100 + i, count: 1, mode: 'equal' });
    const page = await d.packets.listSent(u.userId, 2);
    const raw = await d.db.query({
      index: Indexes.byUser,
      keyCondition: 'gsi2pk = :pk',
      values: { ':pk': Keys.sentPk(u.userId) },
      forward: false,
      limit: 2,
    });
    expect(page.next).toBe(Buffer.from(JSON.stringify(raw.lastKey)).toString('base64url'));
    const rest = await d.packets.listSent(u.userId, 2, page.next);
    expect(rest.ids).toHaveLength(1);
    expect(rest.next).toBeUndefined();
  });

  test("each paging port refuses a cursor of someone else's list", async () => {
    const me = uniq('me');
    const other = uniq('other');
    const foreignLedger = pageCursorOf({ pk: Keys.ledgerPk(other), sk: '000000000002' });
    const foreignIndex = (gsi2pk: string) => pageCursorOf({ pk: 'X#1', sk: 'X', gsi2pk, gsi2sk: 'x' });
    const pages: Record<string, Promise<unknown>> = {
      'wallets.page': d.wallets.page(me, 5, { after: foreignLedger }),
      'wallets.received': d.wallets.received(me, 5, foreignLedger),
      'packets.listSent': d.packets.listSent(me, 5, foreignIndex(Keys.sentPk(other))),
      'withdrawals.list': d.withdrawals.list(me, 5, foreignIndex(Keys.withdrawalsPk(other))),
      'forwards.forwardsPage': d.forwards.forwardsPage(
        'pk_mine',
        5,
        pageCursorOf({ pk: Keys.forwardsPk('pk_other'), sk: 'F' }),
      ),
      'audit.between': d.audit.between(me, {
        fromMs: 0,
        toMs: Date.now(),
        after: pageCursorOf({ pk: AuditKeys.pk(other), sk: '000000000001' }),
      }),
    };
    for (const [port, p] of Object.entries(pages))
      expect({ port, r: await refusalOf(p) }).toEqual({ port, r: { code: 'VALIDATION_FAILED', status: 400 } });
  });

  test('the packet view refuses a bad forwards cursor before it counts or reads the packet: outsiders and unknown packets too', async () => {
    const alice = await login(api);
    const stranger = await login(api);
    await topup(api, alice, 1_000);
    const sent = await sendPacket(api, alice, { total: 100, count: 1, mode: 'lucky' });
    const other = pageCursorOf({ pk: Keys.forwardsPk('pk_someone_else'), sk: 'F' });
    const asks = [
      { who: alice, id: sent.packet.id },
      { who: stranger, id: sent.packet.id },
      { who: stranger, id: 'pNoSuchPacket000' },
    ];
    for (const { who, id } of asks) {
      writes.length = 0;
      const r = await api('GET', `/v1/packets/${id}`, { token: who.token, query: { forwardsCursor: other! } });
      expect({ s: r.status, c: r.body.error?.code, writes: writes.length }).toEqual({
        s: 400,
        c: 'VALIDATION_FAILED',
        writes: 0,
      });
    }
    // Without a cursor the same views answer as before: the stranger sees the summary, no tree.
    const outside = await api('GET', `/v1/packets/${sent.packet.id}`, { token: stranger.token });
    expect(outside.status).toBe(200);
    expect(outside.body.forwardsCursor).toBeUndefined();
  });
});
