import crypto from 'node:crypto';
import fc from 'fast-check';
import {
  CODE_VERSION,
  codeExpiresAt,
  CodeKinds,
  isCodeExpired,
  MAX_CODE_LENGTH,
  MAX_FUTURE_SKEW_SECONDS,
  parseKeyring,
  signCode,
  verifyCode,
  type CodeClaims,
  type CodeKind,
  type Keyring,
  type SigningKey,
} from '../../functions/src/domain/codes';

/** Test keys: fixed bytes, not secrets of any deployment. */
const key = (id: string, fill: number, bytes = 32): SigningKey => ({ id, secret: Buffer.alloc(bytes, fill) });
const K1 = key('k1', 1);
const K2 = key('k2', 2);
const STAGE = 'test';
const ring: Keyring = { current: K1, verifyOnly: [], stage: STAGE };

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-';
const ID_CHARS = ALPHABET.replace('.', '');
const NOW = 1_795_000_000; // late 2026

const kinds = Object.values(CodeKinds);
const claimsArb = fc.record(
  {
    kind: fc.constantFrom<CodeKind>(...kinds),
    target: fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 1, maxLength: 32 }),
    issuedAt: fc.oneof(fc.integer({ min: 0, max: NOW + 10 ** 8 }), fc.maxSafeNat()),
    ref: fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 1, maxLength: 24 }),
  },
  { requiredKeys: ['kind', 'target', 'issuedAt'] },
);

describe('signCode / verifyCode round trip', () => {
  it.each([
    [{ kind: 'live', target: 'pkt_01HZX9', issuedAt: NOW }],
    [{ kind: 'share', target: 'pkt_01HZX9', issuedAt: NOW, ref: 'shr-42' }],
    [{ kind: 'receive', target: 'usr-Ab_9', issuedAt: NOW }],
    [{ kind: 'live', target: 'x', issuedAt: 0 }],
  ] as const)('round-trips %p', (claims) => {
    const code = signCode(claims, ring);
    expect(code).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(code.startsWith(`${CODE_VERSION}.k1.`)).toBe(true);
    expect(verifyCode(code, ring, NOW)).toEqual({ ok: true, claims: { ...claims, keyId: 'k1' } });
  });

  it('has the documented layout', () => {
    const code = signCode({ kind: 'share', target: 'p1', issuedAt: 36 ** 2, ref: 'r9' }, ring);
    expect(code).toMatch(/^1\.k1\.sp1\.100\.r9\.[A-Za-z0-9_-]{22}$/);
    expect(signCode({ kind: 'receive', target: 'u1', issuedAt: 35 }, ring)).toMatch(
      /^1\.k1\.ru1\.z\.[A-Za-z0-9_-]{22}$/,
    );
  });

  it('is deterministic and ignores a keyId passed in', () => {
    const claims = { kind: 'live', target: 'p1', issuedAt: NOW } as const;
    expect(signCode({ ...claims, keyId: 'zz' } as never, ring)).toBe(signCode(claims, ring));
  });

  it('any valid claims round-trip (property)', () => {
    fc.assert(
      fc.property(claimsArb, (claims) => {
        const code = signCode(claims, ring);
        expect(code.length).toBeLessThanOrEqual(MAX_CODE_LENGTH);
        const check = verifyCode(code, ring, Number.MAX_SAFE_INTEGER);
        expect(check).toEqual({ ok: true, claims: { ...claims, keyId: 'k1' } });
      }),
      { numRuns: 2_000 },
    );
  });

  it('stays within 106 characters with the longest fields', () => {
    const longRing: Keyring = { current: key('zz99', 7), verifyOnly: [], stage: STAGE };
    const claims = {
      kind: 'share',
      target: 'T'.repeat(32),
      issuedAt: Number.MAX_SAFE_INTEGER,
      ref: 'R'.repeat(24),
    } as const;
    const code = signCode(claims, longRing);
    expect(code.length).toBeLessThanOrEqual(MAX_CODE_LENGTH);
    expect(code.length).toBe(100);
    expect(verifyCode(code, longRing, Number.MAX_SAFE_INTEGER)).toEqual({
      ok: true,
      claims: { ...claims, keyId: 'zz99' },
    });
  });
});

describe('signCode refuses invalid fields', () => {
  const base = { kind: 'live', target: 'p1', issuedAt: NOW } as const;
  it.each([
    [{ ...base, target: '' }],
    [{ ...base, target: 'a'.repeat(33) }],
    [{ ...base, target: 'a.b' }],
    [{ ...base, target: 'a b' }],
    [{ ...base, target: '红包' }],
    [{ ...base, kind: 'packet' }],
    [{ ...base, kind: 'toString' }],
    [{ ...base, issuedAt: -1 }],
    [{ ...base, issuedAt: 1.5 }],
    [{ ...base, issuedAt: Number.NaN }],
    [{ ...base, issuedAt: Number.MAX_SAFE_INTEGER + 1 }],
    [{ ...base, ref: '' }],
    [{ ...base, ref: 'r'.repeat(25) }],
    [{ ...base, ref: 'a.b' }],
  ])('%p', (claims) => {
    expect(() => signCode(claims as never, ring)).toThrow(RangeError);
  });

  it.each([
    ['a short secret', { current: key('k1', 1, 31), verifyOnly: [], stage: STAGE }],
    ['a bad key id', { current: key('K1', 1), verifyOnly: [], stage: STAGE }],
    ['a too long key id', { current: key('k1234', 1), verifyOnly: [], stage: STAGE }],
    ['a duplicate key id', { current: K1, verifyOnly: [key('k1', 9)], stage: STAGE }],
    ['a bad verify-only key', { current: K1, verifyOnly: [key('k2', 2, 8)], stage: STAGE }],
  ])('a keyring with %s', (_what, badRing) => {
    expect(() => signCode(base, badRing)).toThrow(RangeError);
    expect(() => verifyCode('x', badRing, NOW)).toThrow(RangeError);
  });
});

describe('verifyCode refuses altered codes', () => {
  const codes = [
    signCode({ kind: 'live', target: 'pkt_01HZX9', issuedAt: NOW }, ring),
    signCode({ kind: 'share', target: 'pkt-Z', issuedAt: NOW - 100, ref: 'shr_7' }, ring),
  ];

  it.each(codes)('every character of %s replaced by every other character fails', (code) => {
    let tried = 0;
    for (let i = 0; i < code.length; i++) {
      for (const c of ALPHABET) {
        if (c === code[i]) continue;
        const tampered = code.slice(0, i) + c + code.slice(i + 1);
        const check = verifyCode(tampered, ring, NOW);
        if (check.ok) throw new Error(`accepted tampered code ${tampered} (position ${i})`);
        tried++;
      }
    }
    expect(tried).toBe(code.length * (ALPHABET.length - 1));
  });

  it.each(codes)('every truncation and extension of %s fails', (code) => {
    for (let n = 0; n < code.length; n++) expect(verifyCode(code.slice(0, n), ring, NOW).ok).toBe(false);
    for (const c of ALPHABET) {
      expect(verifyCode(code + c, ring, NOW).ok).toBe(false);
      expect(verifyCode(c + code, ring, NOW).ok).toBe(false);
    }
    expect(verifyCode(`${code}.x`, ring, NOW).ok).toBe(false);
    expect(verifyCode(` ${code}`, ring, NOW).ok).toBe(false);
  });

  it('an altered signature is bad_signature, an altered field before it too', () => {
    const code = codes[0] as string;
    const flipLast = code.slice(0, -1) + (code.endsWith('A') ? 'B' : 'A');
    expect(verifyCode(flipLast, ring, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    const otherTarget = code.replace('pkt_01HZX9', 'pkt_01HZX8');
    expect(verifyCode(otherTarget, ring, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    const otherKind = code.replace('.lpkt', '.spkt');
    expect(verifyCode(otherKind, ring, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('an unknown version is malformed', () => {
    const code = codes[0] as string;
    expect(verifyCode(`2${code.slice(1)}`, ring, NOW)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyCode(`0${code}`, ring, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('a non-canonical issue time is malformed', () => {
    const code = signCode({ kind: 'live', target: 'p1', issuedAt: NOW }, ring);
    const iat = NOW.toString(36);
    expect(verifyCode(code.replace(`.${iat}.`, `.0${iat}.`), ring, NOW)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyCode(code.replace(`.${iat}.`, `.${iat.toUpperCase()}.`), ring, NOW)).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it('compares signatures with crypto.timingSafeEqual', () => {
    const spy = jest.spyOn(crypto, 'timingSafeEqual');
    try {
      verifyCode(codes[0] as string, ring, NOW);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  it('refuses codes longer than 106 characters before anything else', () => {
    expect(verifyCode(`1.k1.lp.${'a'.repeat(120)}`, ring, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('verifyCode never throws on arbitrary input', () => {
  it('random strings of any characters (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 120 }),
        ),
        (s) => {
          expect(verifyCode(s, ring, NOW).ok).toBe(false);
        },
      ),
      { numRuns: 10_000 },
    );
  });

  it('well-formed codes with random signatures are bad_signature (property)', () => {
    const sig = fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 22, maxLength: 22 });
    fc.assert(
      fc.property(claimsArb, sig, (claims, s) => {
        const genuine = signCode(claims, ring);
        const forged = genuine.slice(0, -22) + s;
        fc.pre(forged !== genuine);
        expect(verifyCode(forged, ring, Number.MAX_SAFE_INTEGER)).toEqual({ ok: false, reason: 'bad_signature' });
      }),
      { numRuns: 2_000 },
    );
  });

  it.each([undefined, null, 42, {}, ['1']])('non-string input %p is malformed', (value) => {
    expect(verifyCode(value as never, ring, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('a non-finite clock is a caller bug and throws', () => {
    expect(() => verifyCode('x', ring, Number.NaN)).toThrow(RangeError);
  });
});

describe('keys and rotation', () => {
  it('an unknown key id is unknown_key', () => {
    const other: Keyring = { current: key('k9', 9), verifyOnly: [], stage: STAGE };
    const code = signCode({ kind: 'live', target: 'p1', issuedAt: NOW }, other);
    expect(verifyCode(code, ring, NOW)).toEqual({ ok: false, reason: 'unknown_key' });
  });

  it('a known key id with another secret is bad_signature', () => {
    const impostor: Keyring = { current: key('k1', 0x55), verifyOnly: [], stage: STAGE };
    const code = signCode({ kind: 'live', target: 'p1', issuedAt: NOW }, impostor);
    expect(verifyCode(code, ring, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('a code signed by a rotated-out key verifies while the key is verify-only, not after', () => {
    const before: Keyring = { current: K1, verifyOnly: [], stage: STAGE };
    const during: Keyring = { current: K2, verifyOnly: [K1], stage: STAGE };
    const after: Keyring = { current: K2, verifyOnly: [], stage: STAGE };
    const old = signCode({ kind: 'share', target: 'p1', issuedAt: NOW, ref: 's1' }, before);
    const fresh = signCode({ kind: 'share', target: 'p1', issuedAt: NOW, ref: 's1' }, during);
    expect(fresh).not.toBe(old);
    expect(fresh.split('.')[1]).toBe('k2');
    const oldCheck = verifyCode(old, during, NOW);
    expect(oldCheck).toEqual({
      ok: true,
      claims: { kind: 'share', target: 'p1', issuedAt: NOW, ref: 's1', keyId: 'k1' },
    });
    expect(verifyCode(fresh, during, NOW).ok).toBe(true);
    expect(verifyCode(old, after, NOW)).toEqual({ ok: false, reason: 'unknown_key' });
    expect(verifyCode(fresh, after, NOW).ok).toBe(true);
  });
});

describe('stage binding', () => {
  const claims = { kind: 'share', target: 'pkt_01HZX9', issuedAt: NOW, ref: 'shr-42' } as const;

  it('a code minted on one stage is refused on another with the same keys', () => {
    const sandbox: Keyring = { current: K1, verifyOnly: [], stage: 'sandbox' };
    const prod: Keyring = { current: K1, verifyOnly: [], stage: 'prod' };
    const code = signCode(claims, sandbox);
    expect(verifyCode(code, sandbox, NOW).ok).toBe(true);
    expect(verifyCode(code, prod, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    // Same keyring spec, parsed for two stages.
    const spec = `k1:${K1.secret.toString('base64')}`;
    expect(verifyCode(signCode(claims, parseKeyring(spec, 'sandbox')), parseKeyring(spec, 'prod'), NOW)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('a verify-only key is stage-bound too', () => {
    const code = signCode(claims, { current: K1, verifyOnly: [], stage: 'dev' });
    expect(verifyCode(code, { current: K2, verifyOnly: [K1], stage: 'dev' }, NOW).ok).toBe(true);
    expect(verifyCode(code, { current: K2, verifyOnly: [K1], stage: 'prod' }, NOW)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('the stage costs no character of the code', () => {
    const a = signCode(claims, { current: K1, verifyOnly: [], stage: 'a' });
    const b = signCode(claims, { current: K1, verifyOnly: [], stage: 'sandbox-eu-2' });
    expect(a.length).toBe(b.length);
    expect(a.slice(0, a.lastIndexOf('.'))).toBe(b.slice(0, b.lastIndexOf('.')));
    expect(a).not.toBe(b);
  });

  it.each(['', 'Prod', 'a.b', 'x'.repeat(33)])('refuses a keyring for stage %p', (stage) => {
    expect(() => signCode(claims, { current: K1, verifyOnly: [], stage })).toThrow(RangeError);
    expect(() => parseKeyring(`k1:${K1.secret.toString('base64')}`, stage)).toThrow(Error);
  });
});

describe('issue time and lifetime', () => {
  const at = (issuedAt: number, kind: CodeKind = 'live') => signCode({ kind, target: 'p1', issuedAt }, ring);

  it('refuses codes issued more than 5 s in the future', () => {
    expect(MAX_FUTURE_SKEW_SECONDS).toBe(5);
    expect(verifyCode(at(NOW + 6), ring, NOW)).toEqual({ ok: false, reason: 'future' });
    expect(verifyCode(at(NOW + 5), ring, NOW).ok).toBe(true);
    expect(verifyCode(at(NOW), ring, NOW).ok).toBe(true);
    expect(verifyCode(at(NOW - 10_000), ring, NOW).ok).toBe(true); // age is the lifetime's business
    expect(verifyCode(at(NOW + 6), ring, NOW + 1).ok).toBe(true);
  });

  it('only reports future for genuine codes', () => {
    const genuine = at(NOW + 60);
    const forged = genuine.slice(0, -1) + (genuine.endsWith('A') ? 'B' : 'A');
    const check = verifyCode(forged, ring, NOW);
    expect(check).toEqual({ ok: false, reason: 'bad_signature' });
  });

  const claims = (kind: CodeKind): CodeClaims => ({ kind, target: 'p1', issuedAt: NOW, keyId: 'k1' });

  it('live and receive codes expire validity seconds after issue (end exclusive)', () => {
    for (const kind of ['live', 'receive'] as const) {
      expect(codeExpiresAt(claims(kind), { validitySeconds: 120 })).toBe(NOW + 120);
      expect(isCodeExpired(claims(kind), { validitySeconds: 120 }, NOW)).toBe(false);
      expect(isCodeExpired(claims(kind), { validitySeconds: 120 }, NOW + 119)).toBe(false);
      expect(isCodeExpired(claims(kind), { validitySeconds: 120 }, NOW + 120)).toBe(true);
      expect(isCodeExpired(claims(kind), { validitySeconds: 180 }, NOW + 150)).toBe(false);
    }
  });

  it('share codes live until the packet expires', () => {
    const until = NOW + 86_400;
    expect(codeExpiresAt(claims('share'), { untilSeconds: until })).toBe(until);
    expect(isCodeExpired(claims('share'), { untilSeconds: until }, NOW + 3_600)).toBe(false);
    expect(isCodeExpired(claims('share'), { untilSeconds: until }, until - 1)).toBe(false);
    expect(isCodeExpired(claims('share'), { untilSeconds: until }, until)).toBe(true);
  });

  it('refuses the wrong kind of lifetime for a kind, and bad lifetimes', () => {
    expect(() => codeExpiresAt(claims('share'), { validitySeconds: 120 })).toThrow(RangeError);
    expect(() => codeExpiresAt(claims('live'), { untilSeconds: NOW + 86_400 })).toThrow(RangeError);
    expect(() => codeExpiresAt(claims('receive'), { untilSeconds: NOW + 86_400 })).toThrow(RangeError);
    expect(() => codeExpiresAt(claims('live'), { validitySeconds: -1 })).toThrow(RangeError);
    expect(() => codeExpiresAt(claims('live'), { validitySeconds: 1.5 })).toThrow(RangeError);
    expect(() => codeExpiresAt(claims('share'), { untilSeconds: Number.NaN })).toThrow(RangeError);
  });
});

describe('parseKeyring', () => {
  const b64 = (fill: number, bytes = 32) => Buffer.alloc(bytes, fill).toString('base64');

  it('takes the first key as current and the rest as verify-only', () => {
    const parsed = parseKeyring(`k2:${b64(2)},k1:${b64(1)},k0:${b64(0, 48)}`, STAGE);
    expect(parsed.current).toEqual(K2);
    expect(parsed.verifyOnly).toEqual([K1, key('k0', 0, 48)]);
  });

  it('accepts surrounding whitespace, URL-safe base64 and missing padding', () => {
    const secret = Buffer.from(Array.from({ length: 33 }, (_, i) => 250 - i)); // has + and / in base64
    const std = secret.toString('base64');
    expect(std).toMatch(/[+/]/);
    const parsed = parseKeyring(` a1:${secret.toString('base64url')} ,\n b2:${std}\n`, STAGE);
    expect(parsed.current).toEqual({ id: 'a1', secret });
    expect(parsed.verifyOnly).toEqual([{ id: 'b2', secret }]);
    expect(parseKeyring(`k1:${b64(1).replace(/=+$/, '')}`, STAGE).current).toEqual(K1);
  });

  it('a parsed keyring signs and verifies', () => {
    const parsed = parseKeyring(`k1:${b64(1)}`, STAGE);
    const code = signCode({ kind: 'live', target: 'p1', issuedAt: NOW }, parsed);
    expect(verifyCode(code, ring, NOW).ok).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['blank', '  \n'],
    ['no colon', `k1${b64(1)}`],
    ['empty entry', `k1:${b64(1)},`],
    ['bad id (upper case)', `K1:${b64(1)}`],
    ['bad id (too long)', `k1234:${b64(1)}`],
    ['empty id', `:${b64(1)}`],
    ['short secret', `k1:${b64(1, 31)}`],
    ['empty secret', 'k1:'],
    ['not base64', `k1:${b64(1).slice(0, 20)}!!${b64(1).slice(20)}`],
    ['base64 with a stray char length', `k1:${b64(1, 33)}A`],
    ['duplicate id', `k1:${b64(1)},k1:${b64(2)}`],
  ])('throws on %s', (_what, spec) => {
    expect(() => parseKeyring(spec, STAGE)).toThrow(Error);
  });

  it('never puts the secret in an error message', () => {
    const secret = Buffer.alloc(20, 7).toString('base64');
    expect(() => parseKeyring(`k1:${secret}`, STAGE)).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(secret) }),
    );
  });
});
