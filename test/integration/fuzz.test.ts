import fc from 'fast-check';
import { ClaimBody, CreatePacketBody, NewCodeBody, SessionBody, TopupBody, TransferBody } from '../../functions/src/http/schemas';
import type { ZodMiniType as ZodType } from 'zod/mini';
import { baseDb, idem, login, makeApi, testDeps } from '../helpers/app';

let writes = 0;
const d = testDeps({ db: baseDb({ beforeWrite: () => void writes++ }) });
const api = makeApi(d);

const anyField = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.string(),
  fc.constant(null),
  fc.boolean(),
  fc.constant(Number.MAX_SAFE_INTEGER + 2),
  fc.constant(-1),
  fc.constant(0),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.constantFrom('lucky', 'equal', 'live', 'share', '1.k1.lxx.0.sig', '红包'),
);

function shaped(keys: string[]) {
  return fc.dictionary(fc.constantFrom(...keys, 'extra', '__proto__', 'constructor'), anyField, { maxKeys: keys.length + 1 });
}

const cases: { path: string; schema: ZodType; keys: string[] }[] = [
  { path: '/v1/packets', schema: CreatePacketBody, keys: ['total', 'count', 'mode', 'greeting', 'scene', 'ttlSeconds'] },
  { path: '/v1/wallet/topups', schema: TopupBody, keys: ['amount'] },
  { path: '/v1/transfers', schema: TransferBody, keys: ['code', 'amount', 'note'] },
  { path: '/v1/claims', schema: ClaimBody, keys: ['code'] },
  { path: '/v1/session', schema: SessionBody, keys: ['code', 'devUser', 'name', 'tier', 'roles'] },
  { path: '/v1/packets/pAAAAAAAAAAAAAAA/codes', schema: NewCodeBody, keys: ['kind', 'via'] },
];

describe('fuzzed request bodies on every money route', () => {
  let token = '';
  beforeAll(async () => {
    token = (await login(api)).token;
  });

  test.each(cases)('$path: invalid bodies → 4xx with an error code, zero store writes', async ({ path, schema, keys }) => {
    const body = fc.oneof(fc.jsonValue(), shaped(keys)).filter((b) => !schema.safeParse(b).success);
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), async (b, raw) => {
        writes = 0;
        const r = await api('POST', path, {
          token,
          idem: idem(),
          ...(raw ? { rawBody: typeof b === 'string' ? b : JSON.stringify(b).slice(0, -1) } : { body: b }),
        });
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
        expect(r.body.error.code).toMatch(/^[A-Z_]+$/);
        expect(writes).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  test('the schemas accept what the API documents', () => {
    expect(CreatePacketBody.safeParse({ total: 100, count: 1, mode: 'equal' }).success).toBe(true);
    expect(CreatePacketBody.safeParse({ total: 1.5, count: 1, mode: 'equal' }).success).toBe(false);
    expect(TopupBody.safeParse({ amount: 1 }).success).toBe(true);
    expect(TransferBody.safeParse({ code: 'abc', amount: 1, note: '午饭' }).success).toBe(true);
    expect(SessionBody.safeParse({ devUser: 'alice', tier: 'enterprise', roles: ['admin'] }).success).toBe(true);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5_000_000 }), (amount) => TopupBody.safeParse({ amount }).success),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.double({ noInteger: true }), (amount) => !TopupBody.safeParse({ amount }).success),
      { numRuns: 1000 },
    );
  });
});
