/**
 * The authorization matrix: README's route × role table is the contract. This test reads the
 * table, checks that it lists exactly the routes the handlers serve, and calls every route as
 * every role: refused cells must answer 401 (no session) or 403 FORBIDDEN, allowed cells must
 * pass the role gate (whatever the request's own validity). Then BOLA: the "own" cells, tried
 * on another account's resources.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { handler as healthHandler } from '../../functions/handlers/health';
import { allRoutes, Clock, idem, login, makeApi, sendPacket, testDeps, topup, type ApiResponse, type TestUser } from '../helpers/app';

const Columns = ['anonymous', 'user', 'enterprise', 'provider', 'support', 'risk', 'admin', 'key: basic', 'key: full'] as const;
type Column = (typeof Columns)[number];

function readTable(): Map<string, Record<Column, string>> {
  const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
  const block = /<!-- roles:start -->([\s\S]*?)<!-- roles:end -->/.exec(readme);
  if (!block) throw new Error('README has no roles table');
  const rows = block[1]!.trim().split('\n').slice(2);
  const table = new Map<string, Record<Column, string>>();
  for (const row of rows) {
    const cells = row.split('|').slice(1, -1).map((c) => c.trim());
    const route = cells[0]!.replace(/`/g, '');
    const marks = Object.fromEntries(Columns.map((c, i) => [c, cells[i + 1]!])) as Record<Column, string>;
    table.set(route, marks);
  }
  return table;
}

const table = readTable();
const clock = new Clock(Date.parse('2026-11-28T04:00:00Z'));
const d = testDeps({ clock });
const api = makeApi(d);

/** A caller: a session token, or an API key (the key columns). */
type Caller = { token?: string; apiKey?: string };
const sessions = {} as Record<Column, Caller | undefined>;
let other: TestUser;

beforeAll(async () => {
  sessions.anonymous = undefined;
  sessions.user = await login(api);
  sessions.enterprise = await login(api, { tier: 'enterprise' });
  sessions.provider = await login(api, { tier: 'provider' });
  sessions.support = await login(api, { roles: ['support'] });
  sessions.risk = await login(api, { roles: ['risk'] });
  sessions.admin = await login(api, { roles: ['admin'] });
  other = await login(api);
  for (const [col, who] of [['key: basic', sessions.enterprise], ['key: full', sessions.provider]] as const) {
    const r = await api('POST', '/v1/api-keys', { token: who!.token!, body: { name: col } });
    expect(r.status).toBe(201);
    sessions[col] = { apiKey: r.body.apiKey };
  }
});

/** Fills a route's path parameters with values that exist where it matters. */
function concretePath(path: string): string {
  return path
    .replace('{userId}', other.userId)
    .replace('{kind}', 'device')
    .replace('{id}', path.startsWith('/v1/admin/blacklist') ? 'dev-not-listed' : 'pNoSuchPacket000')
    .replace('{code}', '1.k1.lnope.0.AAAA')
    .replace('{keyId}', 'kNoSuchKey0000000');
}

async function call(route: string, who: Caller | undefined): Promise<ApiResponse> {
  const [method, path] = route.split(' ') as ['GET' | 'POST' | 'DELETE', string];
  if (route === 'GET /v1/health') {
    const r = await healthHandler();
    return { status: r.statusCode ?? 200, body: JSON.parse(r.body ?? '{}'), headers: {} };
  }
  return api(method, concretePath(path), {
    ...(who?.token ? { token: who.token } : {}),
    ...(who?.apiKey ? { headers: { 'x-api-key': who.apiKey } } : {}),
    ...(method === 'POST' ? { body: {}, idem: idem() } : {}),
  });
}

/**
 * The wrapper's refusal. (WeChat Pay's notify route is public: its 401 `{"code":"FAIL"}` is the
 * signature check's answer to an unsigned call, not the gate's.)
 */
const refusedByGate = (r: ApiResponse) => (r.status === 401 && r.body?.code !== 'FAIL') || (r.status === 403 && r.body?.error?.code === 'FORBIDDEN');

describe('authorization matrix (README route × role)', () => {
  test('the table lists exactly the routes the handlers serve', () => {
    const served = new Set(['GET /v1/health', ...allRoutes.map((r) => `${r.method} ${r.path}`)]);
    expect([...table.keys()].sort()).toEqual([...served].sort());
    for (const marks of table.values()) for (const c of Columns) expect(['✓', '✗', 'own', 'any, masked']).toContain(marks[c]);
  });

  const cells = [...table.entries()].flatMap(([route, marks]) => Columns.map((role) => ({ route, role, mark: marks[role] })));
  test.each(cells)('$route as $role: $mark', async ({ route, role, mark }) => {
    const r = await call(route, sessions[role]);
    if (mark === '✗') {
      expect(refusedByGate(r)).toBe(true);
      expect(r.status).toBe(role === 'anonymous' ? 401 : 403);
    } else {
      expect({ route, role, status: r.status, code: r.body?.error?.code, refused: refusedByGate(r) }).toMatchObject({ refused: false });
      expect(r.status).toBeLessThan(500);
    }
  });
});

describe('BOLA: no account reads or acts on another one', () => {
  test('packets, codes, audit, ledger and blacklist of someone else', async () => {
    const alice = sessions.user as TestUser;
    await topup(api, other, 10_000);
    const sent = await sendPacket(api, other, { total: 1_000, count: 2, mode: 'lucky', greeting: '别人的' });
    const pid = sent.packet.id as string;

    // Another account's packet codes: neither live nor share codes are minted for a stranger.
    for (const kind of ['live', 'share']) {
      const r = await api('POST', `/v1/packets/${pid}/codes`, { token: alice.token, body: { kind } });
      expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 403, code: 'FORBIDDEN' });
    }
    // Its view: the public summary only, no claim list.
    const view = await api('GET', `/v1/packets/${pid}`, { token: alice.token });
    expect(view.status).toBe(200);
    expect(view.body.claims).toBeUndefined();

    // Another account's audit log: refused for users and every staff role but support.
    for (const role of ['user', 'enterprise', 'provider', 'risk', 'admin'] as const) {
      const r = await api('GET', '/v1/audit', { token: sessions[role]!.token, query: { userId: other.userId } });
      expect({ role, status: r.status, code: r.body.error?.code }).toEqual({ role, status: 403, code: 'FORBIDDEN' });
    }
    // Support sees it, masked: no full id of the subject anywhere in the answer.
    const sup = await api('GET', '/v1/audit', { token: sessions.support!.token, query: { userId: other.userId } });
    expect(sup.status).toBe(200);
    expect(sup.body.masked).toBe(true);
    expect(sup.body.items.length).toBeGreaterThan(0);
    expect(JSON.stringify(sup.body)).not.toContain(other.userId);
    expect(sup.body.accountId).toBe(`${other.userId.slice(0, 3)}***${other.userId.slice(-2)}`);

    // A cursor is only positions in the caller's own trail; a key-shaped one is refused.
    const foreign = Buffer.from(JSON.stringify({ pk: `AUDIT#${other.userId}`, sk: '000000000002' })).toString('base64url');
    const r = await api('GET', '/v1/audit', { token: alice.token, query: { cursor: foreign } });
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });

    // One's own log never contains another account's records.
    const own = await api('GET', '/v1/audit', { token: alice.token });
    expect(own.status).toBe(200);
    expect(own.body.items.every((x: { accountId: string }) => x.accountId === alice.userId)).toBe(true);
  });
});
