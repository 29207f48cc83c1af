/**
 * A full flow with every log line captured: each line is structured JSON with a correlation id
 * matching the response's, and no line holds a token, secret, signature, code, idempotency key
 * or full account id (SPEC §6, issue 4). Also the redaction function on its own.
 */
import { redact } from '../../functions/src/log';
import { buildDeps } from '../../functions/src/app/deps';
import { loadConfig } from '../../functions/src/config';
import { Clock, baseDb, login, makeApi, sendPacket, testDeps, topup, type ApiResponse } from '../helpers/app';

const clock = new Clock(Date.parse('2026-11-28T04:00:00Z'));
const d = testDeps({ clock });
const api = makeApi(d);

describe('logs of a full flow', () => {
  const lines: string[] = [];
  let restore: () => void;

  beforeAll(() => {
    process.env.LOG_REQUESTS = '1';
    process.env.LOG_ERRORS = '1';
    const write = process.stdout.write.bind(process.stdout);
    const ewrite = process.stderr.write.bind(process.stderr);
    const capture = (chunk: unknown) => {
      lines.push(...String(chunk).split('\n').filter((l) => l.trim() !== ''));
      return true;
    };
    process.stdout.write = capture as typeof process.stdout.write;
    process.stderr.write = capture as typeof process.stderr.write;
    restore = () => {
      process.stdout.write = write;
      process.stderr.write = ewrite;
      process.env.LOG_REQUESTS = '0';
      process.env.LOG_ERRORS = '0';
    };
  });
  afterAll(() => restore());

  test('every line is JSON with its correlation id; nothing sensitive appears', async () => {
    const secrets = new Set<string>();
    const responses: ApiResponse[] = [];
    const keep = (r: ApiResponse) => {
      responses.push(r);
      return r;
    };
    const idems: string[] = [];
    const key = () => {
      const k = `idem-${Math.random().toString(36).slice(2, 12)}`;
      idems.push(k);
      return k;
    };

    const alice = await login(api);
    const bob = await login(api);
    const carol = await login(api);
    for (const u of [alice, bob, carol]) {
      secrets.add(u.token);
      secrets.add(u.userId);
    }
    await topup(api, alice, 10_000);
    const sent = await sendPacket(api, alice, { total: 1_000, count: 3, mode: 'lucky', greeting: '恭喜发财' });
    clock.advance(1_000);
    const fresh = keep(await api('POST', `/v1/packets/${sent.packet.id}/codes`, { token: alice.token, body: {} }));
    const codes = [sent.code.code, sent.shareCode.code, fresh.body.code] as string[];
    keep(await api('GET', `/v1/codes/${encodeURIComponent(sent.code.code)}`, { token: bob.token }));
    keep(await api('POST', '/v1/claims', { token: bob.token, body: { code: sent.shareCode.code } }));
    keep(await api('POST', '/v1/claims', { token: carol.token, body: { code: fresh.body.code } }));
    const receive = keep(await api('GET', '/v1/receive-code', { token: bob.token }));
    codes.push(receive.body.code);
    keep(await api('POST', '/v1/transfers', { token: alice.token, idem: key(), body: { code: receive.body.code, amount: 300 }, headers: { 'x-correlation-id': 'corr-given-by-client-1' } }));
    keep(await api('POST', '/v1/packets', { token: alice.token, idem: key(), body: { total: -1, count: 1, mode: 'equal' } })); // 400
    keep(await api('GET', '/v1/wallet', { token: `${alice.token}x` })); // 401
    keep(await api('GET', '/v1/audit', { token: alice.token }));
    // A forced 500: a store that fails on every read.
    const broken = baseDb();
    broken.get = async () => {
      throw new Error(`store down while reading ACCT#${alice.userId} with Bearer ${alice.token}`);
    };
    const failing = makeApi(buildDeps(loadConfig(), broken, { now: clock.now }));
    const fiveHundred = keep(await failing('GET', '/v1/wallet', { token: alice.token }));
    expect(fiveHundred.status).toBe(500);
    const admin = await login(api, { roles: ['admin'] });
    secrets.add(admin.token);
    secrets.add(admin.userId);
    keep(await api('POST', '/v1/admin/sweep', { token: admin.token, body: {} }));

    for (const c of codes) {
      secrets.add(c);
      secrets.add(c.slice(c.lastIndexOf('.') + 1)); // the signature
    }
    for (const k of idems) secrets.add(k);
    const cfg = loadConfig();
    secrets.add(cfg.sessionSecret.toString('base64'));
    for (const part of (process.env.CODE_KEYS ?? '').split(',')) secrets.add(part.slice(part.indexOf(':') + 1));

    expect(lines.length).toBeGreaterThanOrEqual(responses.length);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const p of parsed) {
      expect(p).toMatchObject({ level: expect.any(String), message: expect.any(String), timestamp: expect.any(String), service: 'hongbao-codes' });
    }
    // Each response's correlation id is on its request line (and the one the client sent is kept).
    const requestLines = parsed.filter((p) => p.message === 'request');
    for (const r of responses) {
      const id = r.headers['x-correlation-id'];
      expect(requestLines.some((p) => p.correlation_id === id)).toBe(true);
    }
    expect(requestLines.some((p) => p.correlation_id === 'corr-given-by-client-1' && p.route === 'POST /v1/transfers' && p.status === 201)).toBe(true);
    // The 500: logged with the error (scrubbed) under the id the caller got back.
    const errorLine = parsed.find((p) => p.message === 'unhandled error');
    expect(errorLine?.correlation_id).toBe(fiveHundred.headers['x-correlation-id']);
    expect(JSON.stringify(errorLine)).toContain('store down while reading');
    expect(fiveHundred.body.error).toEqual({ code: 'INTERNAL', message: expect.any(String), correlationId: fiveHundred.headers['x-correlation-id'] });
    // Callers appear masked.
    expect(requestLines.some((p) => p.caller === `${alice.userId.slice(0, 3)}***${alice.userId.slice(-2)}`)).toBe(true);

    const all = lines.join('\n');
    expect(all).not.toMatch(/bearer/i);
    for (const s of secrets) {
      expect(s.length).toBeGreaterThanOrEqual(8);
      if (all.includes(s)) throw new Error(`a log line contains a secret value: ${s.slice(0, 6)}…`);
    }
  });
});

describe('redact', () => {
  test('drops credential fields, masks ids, scrubs credential-shaped strings, walks nesting', () => {
    const token = 's1.eyJzdWIiOiJ1YWJjIn0.c2lnbmF0dXJlc2lnbmF0dXJl';
    const code = '1.k1.lPKTabcdef012345.m0abc12.Zm9vYmFyYmF6cXV4';
    const out = redact({
      token,
      Authorization: `Bearer ${token}`,
      apiKey: 'hk_live_abcdefgh1234',
      'Idempotency-Key': 'abc',
      userId: 'uAbCdEfGhIjKlMnO',
      correlationId: 'keep-me-1234',
      packetId: 'pKeepThisPacket1',
      nested: { deviceId: 'device-1234567', list: [{ note: `paid with ${code}` }, `hello uAbCdEfGhIjKlMnO`] },
      err: new Error(`failed for ${token} and ${code}`),
      n: 5,
    }) as Record<string, any>;
    expect(Object.keys(out).sort()).toEqual(['correlationId', 'err', 'n', 'nested', 'packetId', 'userId']);
    expect(out.userId).toBe('uAb***nO');
    expect(out.correlationId).toBe('keep-me-1234');
    expect(out.packetId).toBe('pKeepThisPacket1');
    expect(out.nested.deviceId).toBe('dev***67');
    expect(out.nested.list).toEqual([{ note: 'paid with [code]' }, 'hello [account]']);
    expect(out.err).toEqual({ name: 'Error', message: 'failed for [token] and [code]' });
    expect(JSON.stringify(out)).not.toContain(token);
    expect(out.n).toBe(5);
  });
});
