/**
 * Logs (docs/rules.md, Audit). A full flow through the real handlers with every line the process
 * writes captured: each line is structured JSON carrying the correlation id of the response it
 * belongs to, and no line holds a token, secret, signature, code, API key, idempotency key, full
 * account id or the word "Bearer". Then the one redaction point on its own (tricky inputs), and
 * the per-request correlation context under concurrency.
 */
import { log, logger, redact, scrubString, withLogContext, bindCorrelationId } from '../../functions/src/log';
import { buildDeps } from '../../functions/src/app/deps';
import { loadConfig } from '../../functions/src/config';
import { Clock, baseDb, login, makeApi, sendPacket, testDeps, topup, type Api, type ApiResponse } from '../helpers/app';
import { captureLogs } from '../helpers/logs';

const masked = (id: string) => `${id.slice(0, 3)}***${id.slice(-2)}`;

describe('logs of a full flow', () => {
  const clock = new Clock(Date.parse('2026-11-28T04:00:00Z'));
  const d = testDeps({ clock });
  const raw = makeApi(d);

  test('one JSON line per request with its correlation id; nothing sensitive in any line', async () => {
    const cap = captureLogs();
    const responses: ApiResponse[] = [];
    const idemKeys: string[] = [];
    /** Every request goes through here, so every one is checked against the lines. */
    const record =
      (inner: Api): Api =>
      async (method, path, opts = {}) => {
        if (opts.idem) idemKeys.push(opts.idem);
        const r = await inner(method, path, opts);
        responses.push(r);
        return r;
      };
    const api = record(raw);
    let fiveHundred: ApiResponse;
    let admin: Awaited<ReturnType<typeof login>>;
    const users: Awaited<ReturnType<typeof login>>[] = [];
    const codes: string[] = [];
    let apiKey = '';
    try {
      const alice = await login(api);
      const bob = await login(api);
      const carol = await login(api);
      const company = await login(api, { tier: 'enterprise' });
      users.push(alice, bob, carol, company);
      await topup(api, alice, 10_000);
      const sent = await sendPacket(api, alice, { total: 1_000, count: 3, mode: 'lucky', greeting: '恭喜发财' });
      codes.push(sent.code.code, sent.shareCode.code);
      clock.advance(1_000);
      // Get codes: a fresh share code for the packet.
      const fresh = await api('POST', `/v1/packets/${sent.packet.id}/codes`, { token: alice.token, body: {} });
      expect(fresh.status).toBe(201);
      codes.push(fresh.body.code);
      // Open a code: the raw path holds the code; the log must name the route pattern only.
      expect((await api('GET', `/v1/codes/${encodeURIComponent(sent.code.code)}`, { token: bob.token })).status).toBe(
        200,
      );
      // Claims by two users.
      expect((await api('POST', '/v1/claims', { token: bob.token, body: { code: sent.shareCode.code } })).status).toBe(
        200,
      );
      expect((await api('POST', '/v1/claims', { token: carol.token, body: { code: fresh.body.code } })).status).toBe(
        200,
      );
      // Transfer via a receive code, under a correlation id the client chose.
      const receive = await api('GET', '/v1/receive-code', { token: bob.token });
      codes.push(receive.body.code);
      const transfer = await api('POST', '/v1/transfers', {
        token: alice.token,
        idem: 'idem-transfer-0001',
        body: { code: receive.body.code, amount: 300 },
        headers: { 'x-correlation-id': 'corr-given-by-client-1' },
      });
      idemKeys.push('idem-transfer-0001');
      expect(transfer.status).toBe(201);
      // A client "correlation id" that is really a token is refused (a fresh id is used instead).
      const smuggled = await api('GET', '/v1/wallet', {
        token: bob.token,
        headers: { 'x-correlation-id': alice.token },
      });
      expect(smuggled.headers['x-correlation-id']).not.toBe(alice.token);
      // A validation error (400), no credentials (401), a forged token (401).
      expect(
        (
          await api('POST', '/v1/packets', {
            token: alice.token,
            idem: 'idem-invalid-000001',
            body: { total: -1, count: 1, mode: 'equal' },
          })
        ).status,
      ).toBe(400);
      expect((await api('GET', '/v1/wallet')).status).toBe(401);
      expect((await api('GET', '/v1/wallet', { token: `${alice.token}x` })).status).toBe(401);
      // An API key: made (shown once), then used; neither the key nor its secret may be logged.
      const made = await api('POST', '/v1/api-keys', { token: company.token, body: { name: 'logs test' } });
      expect(made.status).toBe(201);
      apiKey = made.body.apiKey;
      expect((await api('GET', '/v1/wallet', { headers: { 'x-api-key': apiKey } })).status).toBe(200);
      // A forced 500: a store that fails every read, with credentials in the error's message.
      const broken = baseDb();
      broken.get = async () => {
        throw new Error(
          `store down while reading ACCT#${alice.userId} for Bearer ${alice.token} code ${sent.code.code} key ${apiKey}`,
        );
      };
      fiveHundred = await record(makeApi(buildDeps(loadConfig(), broken, { now: clock.now })))('GET', '/v1/wallet', {
        token: alice.token,
      });
      expect(fiveHundred.status).toBe(500);
      // The sweep, as the admin calls it.
      admin = await login(api, { roles: ['admin'] });
      users.push(admin);
      expect((await api('POST', '/v1/admin/sweep', { token: admin.token, body: {} })).status).toBe(200);
    } finally {
      cap.restore();
    }
    const { lines } = cap;
    if (process.env.SHOW_LOGS) process.stdout.write(`${lines.join('\n')}\n`);

    // Every line is JSON with the standard keys.
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const p of parsed) {
      expect(p).toMatchObject({
        level: expect.stringMatching(/^(DEBUG|INFO|WARN|ERROR|CRITICAL)$/),
        message: expect.any(String),
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        service: 'hongbao-codes',
        correlation_id: expect.any(String),
      });
    }
    // One request line per request, under the id its response carries; every line belongs to one.
    const ids = responses.map((r) => r.headers['x-correlation-id']!);
    expect(new Set(ids).size).toBe(responses.length);
    const requestLines = parsed.filter((p) => p.message === 'request');
    expect(requestLines.map((p) => p.correlation_id).sort()).toEqual([...ids].sort());
    for (const p of parsed) expect(ids).toContain(p.correlation_id);
    expect(parsed.length).toBeGreaterThanOrEqual(responses.length);
    // Request lines: the route pattern (never the raw path), the status, the time, a masked caller.
    for (const p of requestLines)
      expect(p).toMatchObject({
        route: expect.stringMatching(/^(GET|POST|DELETE) \/v1\/[a-z/{}.-]*$|^unmatched$/),
        status: expect.any(Number),
        ms: expect.any(Number),
      });
    expect(requestLines.some((p) => p.route === 'GET /v1/codes/{code}')).toBe(true);
    expect(requestLines.find((p) => p.correlation_id === 'corr-given-by-client-1')).toMatchObject({
      route: 'POST /v1/transfers',
      status: 201,
      caller: masked(users[0]!.userId),
    });
    expect(requestLines.filter((p) => p.status === 401)).toHaveLength(2);
    expect(requestLines.some((p) => p.route === 'GET /v1/wallet' && p.caller === masked(users[3]!.userId))).toBe(true); // by API key
    // The 500: an error line under the id the caller got back, with the error's name and a scrubbed message.
    const errorLine = parsed.find((p) => p.message === 'unhandled error');
    expect(errorLine).toMatchObject({
      level: 'ERROR',
      correlation_id: fiveHundred!.headers['x-correlation-id'],
      route: 'GET /v1/wallet',
      error: { name: 'Error' },
    });
    const errorMessage = (errorLine!.error as { message: string }).message;
    expect(errorMessage).toBe(
      `store down while reading ACCT#${masked(users[0]!.userId)} for [redacted] code [code] key [api-key]`,
    );
    expect(fiveHundred!.body.error).toEqual({
      code: 'INTERNAL',
      message: expect.any(String),
      correlationId: fiveHundred!.headers['x-correlation-id'],
    });
    expect(JSON.stringify(fiveHundred!.body)).not.toContain('store down');

    // Nothing sensitive, anywhere.
    const secrets = new Map<string, string>();
    for (const u of users) {
      secrets.set(u.token, 'a session token');
      secrets.set(u.token.slice(u.token.lastIndexOf('.') + 1), 'a session signature');
      secrets.set(u.userId, 'a full user id');
    }
    for (const c of codes) {
      secrets.set(c, 'a code');
      secrets.set(c.slice(c.lastIndexOf('.') + 1), 'a code signature');
    }
    secrets.set(apiKey, 'an API key');
    secrets.set(apiKey.slice(-43), 'an API key secret'); // hk_<keyId>_<43-char secret>, which may hold '_'
    for (const k of idemKeys) secrets.set(k, 'an Idempotency-Key');
    const cfg = loadConfig();
    secrets.set(cfg.sessionSecret.toString('base64'), 'the session secret');
    secrets.set(cfg.sessionSecret.toString('base64url'), 'the session secret');
    for (const part of (process.env.CODE_KEYS ?? '').split(','))
      secrets.set(part.slice(part.indexOf(':') + 1), 'a code key');
    expect(idemKeys.length).toBeGreaterThanOrEqual(4);
    const all = lines.join('\n');
    expect(all).not.toMatch(/bearer/i);
    for (const [s, what] of secrets) {
      expect(s.length).toBeGreaterThanOrEqual(8);
      if (all.includes(s)) throw new Error(`a log line contains ${what}: ${s.slice(0, 4)}…`);
    }
  });
});

describe('redaction (the formatter is the one point)', () => {
  const token = 's1.eyJzdWIiOiJ1YWJjIn0.c2lnbmF0dXJlc2lnbmF0dXJl';
  const code = '1.k1.lPKTabcdef012345.m0abc12.Zm9vYmFyYmF6cXV4';
  const refCode = '1.ab12.sPKTabcdef012345.m0abc12.shareRef01.Zm9vYmFyYmF6cXV4';
  const apiKey = 'hk_kAbCdEfGhIjKlMnOp_0123456789abcdefghijABCDEFGHIJ0123456789abc';
  const userId = 'uAbCdEfGhIjKlMnO';
  const secret = 'q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq8M=';

  test('drops credential-named fields, masks ids, keeps operation ids, walks nesting and arrays', () => {
    const out = redact({
      token,
      Authorization: `Bearer ${token}`,
      apiKey,
      'x-api-key': apiKey,
      'Idempotency-Key': 'idem-abc',
      idemKey: 'idem-abc',
      codeKeys: 'k1:c2VjcmV0',
      key: 'anything',
      code,
      signature: 'abc',
      password: 'pw',
      userId,
      correlationId: 'keep-me-1234',
      packetId: 'pKeepThisPacket1',
      route: 'GET /v1/codes/{code}',
      headers: { authorization: `bearer ${token}`, 'x-device-id': 'device-1234567', accept: 'application/json' },
      paid: 'not an id', // ends in "id", is no id field
      ownerId: userId,
      nested: {
        deviceId: 'device-1234567',
        list: [{ note: `paid with ${code}` }, `hello ${userId}`, [`deeper ${refCode}`, 7]],
      },
      err: new Error(`failed for ${token} and ${code}`),
      n: 5,
      big: 10n,
      when: new Date('2026-11-28T04:00:00Z'),
      fn: () => 1,
    }) as Record<string, any>;
    expect(Object.keys(out).sort()).toEqual([
      'big',
      'correlationId',
      'err',
      'fn',
      'headers',
      'n',
      'nested',
      'ownerId',
      'packetId',
      'paid',
      'route',
      'userId',
      'when',
    ]);
    expect(out.userId).toBe('uAb***nO');
    expect(out.ownerId).toBe('uAb***nO');
    expect(out.paid).toBe('not an id');
    expect(out.correlationId).toBe('keep-me-1234');
    expect(out.packetId).toBe('pKeepThisPacket1');
    expect(out.route).toBe('GET /v1/codes/{code}');
    expect(out.headers).toEqual({ 'x-device-id': 'dev***67', accept: 'application/json' });
    expect(out.nested.deviceId).toBe('dev***67');
    expect(out.nested.list).toEqual([{ note: 'paid with [code]' }, 'hello uAb***nO', ['deeper [code]', 7]]);
    expect(out.err).toMatchObject({ name: 'Error', message: 'failed for [token] and [code]' });
    expect(out.err.stack).toContain('failed for [token] and [code]');
    expect(out).toMatchObject({ n: 5, big: '10', when: '2026-11-28T04:00:00.000Z', fn: undefined });
    const text = JSON.stringify(out);
    for (const s of [token, code, refCode, apiKey, userId, 'idem-abc', 'c2VjcmV0', 'anything'])
      expect(text).not.toContain(s);
    expect(text).not.toMatch(/bearer/i);
  });

  test('scrubs credential-shaped substrings wherever they are; leaves ordinary text alone', () => {
    expect(scrubString(`Authorization: Bearer ${token}`)).toBe('Authorization: [redacted]');
    expect(scrubString('BEARER')).toBe('[redacted]');
    expect(scrubString(`https://hb.example/c/${refCode}?x=1`)).toBe('https://hb.example/c/[code]?x=1');
    expect(scrubString(`truncated 1.k1.lPKTabc`)).toBe('truncated [code]');
    expect(scrubString(`key=${apiKey};`)).toBe('key=[api-key];');
    expect(scrubString(`jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig`)).toBe('jwt [jwt]');
    expect(scrubString(`secret ${secret}`)).toBe('secret [opaque]');
    expect(scrubString(`ACCT#${userId}#LEDGER`)).toBe('ACCT#uAb***nO#LEDGER');
    expect(scrubString(`random uAbCdEfGhIjKlMnOp`)).toBe('random uAb***Op'); // randomId: 'u' + 16
    // Not credentials: a long lowercase word, a UUID, a packet id, a path, numbers.
    const plain =
      'unconstitutional 3f2a1c9e-1b2d-4e5f-8a9b-0c1d2e3f4a5b pKeepThisPacket1 /v1/codes/{code} 1.5 2026-11-28';
    expect(scrubString(plain)).toBe(plain);
  });

  test('errors: message, stack and cause scrubbed; cycles and depth bounded', () => {
    const inner = new Error(`inner ${apiKey}`);
    const err = new TypeError(`outer ${token}`, { cause: inner });
    const out = redact({ error: err }) as {
      error: { name: string; message: string; stack: string; cause: { message: string } };
    };
    expect(out.error.name).toBe('TypeError');
    expect(out.error.message).toBe('outer [token]');
    expect(out.error.cause.message).toBe('inner [api-key]');
    expect(JSON.stringify(out)).not.toContain(token);
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(() => JSON.stringify(redact(cyclic))).not.toThrow();
    expect(redact(Array.from({ length: 500 }, (_, i) => i))).toHaveLength(50);
  });

  test('every way of logging goes through it: log(), the logger, a child logger, appended keys', () => {
    const cap = captureLogs();
    try {
      log('info', `message with ${token}`, {
        body: { code, note: `for ${userId}` },
        message: 'a reserved key',
        correlationId: 'corr-unit-0001',
      });
      logger.warn(`direct ${apiKey}`, { nested: { authorization: `Bearer ${token}` }, caller: userId });
      logger.error('direct error', new Error(`boom ${code}`));
      const child = logger.createChild({ persistentKeys: { component: 'child', sessionToken: token } });
      child.info(`child ${secret}`);
      logger.appendKeys({ leaked: `sticky ${token}` });
      logger.info('after appendKeys');
      logger.removeKeys(['leaked']);
    } finally {
      cap.restore();
    }
    const parsed = cap.lines.map((l) => JSON.parse(l) as Record<string, any>);
    expect(parsed).toHaveLength(5);
    expect(parsed[0]).toMatchObject({
      level: 'INFO',
      message: 'message with [token]',
      correlation_id: 'corr-unit-0001',
      body: { note: 'for uAb***nO' },
      field_message: 'a reserved key',
    });
    expect(parsed[0]!.body.code).toBeUndefined();
    expect(parsed[1]).toMatchObject({ level: 'WARN', message: 'direct [api-key]', nested: {}, caller: 'uAb***nO' });
    expect(parsed[2]).toMatchObject({ level: 'ERROR', error: { name: 'Error', message: 'boom [code]' } });
    expect(parsed[3]).toMatchObject({ message: 'child [opaque]', component: 'child' });
    expect(parsed[4]).toMatchObject({ message: 'after appendKeys', leaked: 'sticky [token]' });
    const all = cap.lines.join('\n');
    for (const s of [token, code, apiKey, userId, secret]) expect(all).not.toContain(s);
    expect(all).not.toMatch(/bearer/i);
  });

  test('quiet mode: LOG_REQUESTS=0 silences lines below ERROR, LOG_ERRORS=0 errors', () => {
    const cap = captureLogs();
    try {
      process.env.LOG_REQUESTS = '0';
      log('info', 'hidden info');
      log('warn', 'hidden warn');
      log('error', 'shown error');
      process.env.LOG_ERRORS = '0';
      log('error', 'hidden error');
    } finally {
      cap.restore();
    }
    expect(cap.lines.map((l) => (JSON.parse(l) as { message: string }).message)).toEqual(['shown error']);
  });
});

describe('correlation context', () => {
  test('concurrent requests keep their own ids on lines logged deep inside them', async () => {
    const cap = captureLogs();
    const tick = () => new Promise<void>((r) => setImmediate(r));
    // A stand-in for a handler: binds its id, then logs from "deep" code that is given no id.
    const handle = withLogContext(async (id: string) => {
      bindCorrelationId(id);
      for (let i = 0; i < 3; i++) {
        await tick();
        log('warn', 'deep', { step: i, expected: id });
      }
    });
    try {
      await Promise.all(Array.from({ length: 20 }, (_, i) => handle(`corr-concurrent-${String(i).padStart(3, '0')}`)));
      log('info', 'outside any request');
    } finally {
      cap.restore();
    }
    const parsed = cap.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const deep = parsed.filter((p) => p.message === 'deep');
    expect(deep).toHaveLength(60);
    for (const p of deep) expect(p.correlation_id).toBe(p.expected);
    expect(parsed.find((p) => p.message === 'outside any request')?.correlation_id).toBeUndefined();
  });
});
