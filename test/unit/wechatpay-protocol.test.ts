import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import {
  AUTH_SCHEME,
  authorizationHeader,
  decryptResource,
  encryptResource,
  maskOpenid,
  parseAuthorization,
  paymentRequestParams,
  platformKeyring,
  requestSignMessage,
  responseSignMessage,
  rsaSign,
  signatureHeaders,
  verifySignature,
  wechatTime,
} from '../../functions/src/wechatpay/protocol';

/** Test keys generated per run; they protect nothing. */
const rsa = (): { privateKey: crypto.KeyObject; publicKey: crypto.KeyObject } =>
  crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const merchant = rsa();
const platform = rsa();
const other = rsa();
const pemOf = (k: crypto.KeyObject): string => k.export({ type: 'spki', format: 'pem' }) as string;

const PUB_ID = 'PUB_KEY_ID_0114232134912410000000000000';
const FIXTURES = path.join(__dirname, '..', 'fixtures', 'wechatpay');
const certPem = fs.readFileSync(path.join(FIXTURES, 'platform-cert.pem'), 'utf8');
const certKey = crypto.createPrivateKey(fs.readFileSync(path.join(FIXTURES, 'platform-cert.key'), 'utf8'));
const cert = new crypto.X509Certificate(certPem);
const CERT_SERIAL = cert.serialNumber;
/** Inside the fixture certificate's validity window. */
const NOW = Date.parse(cert.validFrom) + 30 * 86_400_000;
const API_V3_KEY = 'k7Qz1pL0vX9sD3fG6hJ2mN5bV8cR4tY1';

const ring = platformKeyring({ [PUB_ID]: pemOf(platform.publicKey), [CERT_SERIAL]: certPem });

/** Signs an answer the way WeChat does, computed here from the documented string, not through the module. */
function wechatSign(key: crypto.KeyObject, body: string, ts: number, nonce = 'n0nce5tr1ng') {
  const timestamp = String(Math.floor(ts / 1000));
  const signature = crypto.sign('sha256', Buffer.from(`${timestamp}\n${nonce}\n${body}\n`), key).toString('base64');
  return { signature, timestamp, nonce };
}

describe('request signing (Authorization)', () => {
  it("signs METHOD\\nURL\\ntimestamp\\nnonce\\nbody\\n with the merchant key, in WeChat's header format", () => {
    const body = '{"appid":"wx1","amount":{"total":100}}';
    const header = authorizationHeader({
      mchid: '1900000001',
      serialNo: 'ABC123',
      privateKey: merchant.privateKey,
      method: 'POST',
      pathAndQuery: '/v3/pay/transactions/jsapi',
      body,
      timestamp: '1795000000',
      nonce: 'abcDEF123',
    });
    expect(header).toMatch(
      new RegExp(
        `^${AUTH_SCHEME} mchid="1900000001",nonce_str="abcDEF123",signature="[A-Za-z0-9+/=]+",timestamp="1795000000",serial_no="ABC123"$`,
      ),
    );
    const parsed = parseAuthorization(header);
    expect(parsed).toMatchObject({
      mchid: '1900000001',
      nonceStr: 'abcDEF123',
      timestamp: '1795000000',
      serialNo: 'ABC123',
    });
    const msg = `POST\n/v3/pay/transactions/jsapi\n1795000000\nabcDEF123\n${body}\n`;
    expect(requestSignMessage('post', '/v3/pay/transactions/jsapi', '1795000000', 'abcDEF123', body)).toBe(msg);
    expect(
      crypto.verify('sha256', Buffer.from(msg), merchant.publicKey, Buffer.from(parsed!.signature, 'base64')),
    ).toBe(true);
    // A GET signs an empty body, query string included in the URL.
    expect(requestSignMessage('GET', '/v3/x?mchid=1', '1', 'n', '')).toBe('GET\n/v3/x?mchid=1\n1\nn\n\n');
  });

  it('parseAuthorization refuses other schemes and missing fields', () => {
    expect(parseAuthorization(undefined)).toBeNull();
    expect(parseAuthorization('Bearer x')).toBeNull();
    expect(parseAuthorization(`${AUTH_SCHEME} mchid="1",nonce_str="n",timestamp="1",serial_no="s"`)).toBeNull();
  });
});

describe('answer and notification verification', () => {
  it('accepts a valid signature in public-key mode and in certificate mode', () => {
    const body = '{"prepay_id":"wx201410272009395522657a690389285100"}';
    const a = wechatSign(platform.privateKey, body, NOW);
    expect(verifySignature(ring, { ...a, serial: PUB_ID }, body, NOW)).toEqual({
      ok: true,
      serial: PUB_ID,
      mode: 'public_key',
    });
    const b = wechatSign(certKey, body, NOW);
    expect(verifySignature(ring, { ...b, serial: CERT_SERIAL }, body, NOW)).toEqual({
      ok: true,
      serial: CERT_SERIAL,
      mode: 'certificate',
    });
    // Certificate serials are hex: case does not matter.
    expect(verifySignature(ring, { ...b, serial: CERT_SERIAL.toLowerCase() }, body, NOW).ok).toBe(true);
  });

  it('accepts a bare public key filed under a certificate serial', () => {
    const r = platformKeyring({ '7132D72A03E93CDDF8C03BBD1F37EEDF': pemOf(platform.publicKey) });
    const a = wechatSign(platform.privateKey, 'x', NOW);
    expect(verifySignature(r, { ...a, serial: '7132D72A03E93CDDF8C03BBD1F37EEDF' }, 'x', NOW)).toMatchObject({
      ok: true,
      mode: 'certificate',
    });
  });

  it('refuses a tampered body, a wrong key, an unknown serial, a swapped serial and missing headers', () => {
    const body = '{"amount":{"total":100}}';
    const a = wechatSign(platform.privateKey, body, NOW);
    expect(verifySignature(ring, { ...a, serial: PUB_ID }, body.replace('100', '101'), NOW)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    const forged = wechatSign(other.privateKey, body, NOW);
    expect(verifySignature(ring, { ...forged, serial: PUB_ID }, body, NOW)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(verifySignature(ring, { ...a, serial: 'PUB_KEY_ID_0000' }, body, NOW)).toEqual({
      ok: false,
      reason: 'unknown_serial',
    });
    // Signed by the public-key-mode key but claimed under the certificate: refused.
    expect(verifySignature(ring, { ...a, serial: CERT_SERIAL }, body, NOW)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(verifySignature(ring, { ...a, nonce: 'other-nonce', serial: PUB_ID }, body, NOW)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(
      verifySignature(ring, { signature: a.signature, timestamp: a.timestamp, serial: PUB_ID }, body, NOW),
    ).toEqual({ ok: false, reason: 'missing_header' });
    expect(verifySignature(ring, { ...a, signature: 'not base64!', serial: PUB_ID }, body, NOW)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('refuses timestamps more than 5 minutes off, either way, and accepts them just inside', () => {
    const body = '{}';
    for (const [skew, ok] of [
      [-301_000, false],
      [301_000, false],
      [-299_000, true],
      [299_000, true],
    ] as const) {
      const a = wechatSign(platform.privateKey, body, NOW + skew);
      expect(verifySignature(ring, { ...a, serial: PUB_ID }, body, NOW).ok).toBe(ok);
    }
    const a = wechatSign(platform.privateKey, body, NOW - 3_600_000);
    expect(verifySignature(ring, { ...a, serial: PUB_ID }, body, NOW)).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    });
    expect(verifySignature(ring, { ...a, timestamp: '1e9', serial: PUB_ID }, body, NOW)).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    });
  });

  it('refuses a certificate outside its validity window', () => {
    const late = Date.parse(cert.validTo) + 86_400_000;
    const a = wechatSign(certKey, 'x', late);
    expect(verifySignature(ring, { ...a, serial: CERT_SERIAL }, 'x', late)).toEqual({
      ok: false,
      reason: 'certificate_expired',
    });
  });

  it('platformKeyring refuses a certificate filed under another serial, or under a public key id', () => {
    expect(() => platformKeyring({ '0123456789ABCDEF': certPem })).toThrow(/has serial/);
    expect(() => platformKeyring({ [PUB_ID]: certPem })).toThrow(/public key id/);
    expect(() => platformKeyring({ 'bad serial': pemOf(platform.publicKey) })).toThrow(/bad serial/);
  });

  it('signatureHeaders reads fetch Headers and any-case records', () => {
    const h = new Headers({
      'Wechatpay-Signature': 's',
      'Wechatpay-Timestamp': 't',
      'Wechatpay-Nonce': 'n',
      'Wechatpay-Serial': 'x',
    });
    expect(signatureHeaders(h)).toEqual({ signature: 's', timestamp: 't', nonce: 'n', serial: 'x' });
    expect(
      signatureHeaders({
        'wechatpay-signature': 's',
        'WECHATPAY-TIMESTAMP': 't',
        'Wechatpay-Nonce': ['n'],
        'wechatpay-serial': 'x',
      }),
    ).toEqual({
      signature: 's',
      timestamp: 't',
      nonce: 'n',
      serial: 'x',
    });
  });

  it('property: any body round-trips sign → verify, and any single-byte change fails', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (body, pos, delta) => {
        const ts = String(Math.floor(NOW / 1000));
        const signature = rsaSign(platform.privateKey, responseSignMessage(ts, 'nonce', body));
        const headers = { signature, timestamp: ts, nonce: 'nonce', serial: PUB_ID };
        expect(verifySignature(ring, headers, body, NOW).ok).toBe(true);
        const bytes = Buffer.from(body, 'utf8');
        if (bytes.length === 0) return;
        const i = pos % bytes.length;
        bytes[i] = (bytes[i]! + delta) % 256;
        const changed = bytes.toString('utf8');
        // A byte change that is not valid UTF-8 may decode to the same replacement text; only real changes count.
        if (changed === body) return;
        expect(verifySignature(ring, headers, changed, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
      }),
      { numRuns: 60 },
    );
  });
});

describe('notification resource (AEAD_AES_256_GCM)', () => {
  const plaintext = JSON.stringify({ out_trade_no: 'p123456', trade_state: 'SUCCESS', amount: { total: 888 } });

  it('decrypts what WeChat encrypts (computed here independently), and round-trips', () => {
    const nonce = 'abcdefghijkl';
    const cipher = crypto.createCipheriv('aes-256-gcm', Buffer.from(API_V3_KEY), Buffer.from(nonce));
    cipher.setAAD(Buffer.from('transaction'));
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]).toString('base64');
    expect(
      decryptResource(API_V3_KEY, {
        algorithm: 'AEAD_AES_256_GCM',
        ciphertext: ct,
        nonce,
        associated_data: 'transaction',
      }),
    ).toEqual({ ok: true, plaintext });
    expect(encryptResource(API_V3_KEY, plaintext, 'transaction', nonce).ciphertext).toBe(ct);
  });

  it('refuses a tampered ciphertext, tag, nonce or associated data, a wrong key and another algorithm', () => {
    const r = encryptResource(API_V3_KEY, plaintext, 'transaction');
    const raw = Buffer.from(r.ciphertext, 'base64');
    const flip = (i: number): string => {
      const b = Buffer.from(raw);
      b[i] = b[i]! ^ 1;
      return b.toString('base64');
    };
    expect(decryptResource(API_V3_KEY, { ...r, ciphertext: flip(0) })).toEqual({ ok: false, reason: 'decrypt_failed' });
    expect(decryptResource(API_V3_KEY, { ...r, ciphertext: flip(raw.length - 1) })).toEqual({
      ok: false,
      reason: 'decrypt_failed',
    });
    expect(decryptResource(API_V3_KEY, { ...r, associated_data: 'refund' })).toEqual({
      ok: false,
      reason: 'decrypt_failed',
    });
    expect(decryptResource(API_V3_KEY, { ...r, nonce: 'Z'.repeat(12) })).toEqual({
      ok: false,
      reason: 'decrypt_failed',
    });
    expect(decryptResource('x'.repeat(32), r)).toEqual({ ok: false, reason: 'decrypt_failed' });
    expect(decryptResource(API_V3_KEY, { ...r, algorithm: 'AES_128_CBC' })).toEqual({
      ok: false,
      reason: 'unsupported_algorithm',
    });
    expect(decryptResource(API_V3_KEY, { ...r, ciphertext: 'AAAA' })).toEqual({
      ok: false,
      reason: 'malformed_resource',
    });
  });

  it('property: any plaintext round-trips; any single-byte change of the ciphertext fails', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (text, pos, delta) => {
        const r = encryptResource(API_V3_KEY, text, 'refund');
        expect(decryptResource(API_V3_KEY, r)).toEqual({ ok: true, plaintext: text });
        const b = Buffer.from(r.ciphertext, 'base64');
        const i = pos % b.length;
        b[i] = (b[i]! + delta) % 256;
        expect(decryptResource(API_V3_KEY, { ...r, ciphertext: b.toString('base64') }).ok).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses an APIv3 key that is not 32 bytes', () => {
    expect(() => encryptResource('short', 'x', 'a')).toThrow(/32 bytes/);
  });
});

describe('wx.requestPayment parameters', () => {
  it('paySign is RSA-SHA256 over appId\\ntimeStamp\\nnonceStr\\npackage\\n, verifiable with the merchant public key', () => {
    const p = paymentRequestParams({
      appId: 'wx8888888888888888',
      prepayId: 'wx201410272009395522657a690389285100',
      privateKey: merchant.privateKey,
      timestamp: '1414561699',
      nonce: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
    });
    expect(p).toMatchObject({
      timeStamp: '1414561699',
      nonceStr: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
      package: 'prepay_id=wx201410272009395522657a690389285100',
      signType: 'RSA',
    });
    const msg =
      'wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n';
    expect(crypto.verify('sha256', Buffer.from(msg), merchant.publicKey, Buffer.from(p.paySign, 'base64'))).toBe(true);
    expect(
      crypto.verify(
        'sha256',
        Buffer.from(msg.replace('1414561699', '1414561700')),
        merchant.publicKey,
        Buffer.from(p.paySign, 'base64'),
      ),
    ).toBe(false);
  });
});

describe('formats', () => {
  it('wechatTime writes RFC 3339 in Beijing time', () => {
    expect(wechatTime(Date.UTC(2026, 11, 5, 16, 30, 0))).toBe('2026-12-06T00:30:00+08:00');
  });
  it('maskOpenid keeps only a few characters', () => {
    const m = maskOpenid('oUpF8uMuAJO_M2pxb1Q9zNjWeS6o');
    expect(m).toBe('oUpF***6o');
    expect(maskOpenid('short')).toBe('***');
  });
});
