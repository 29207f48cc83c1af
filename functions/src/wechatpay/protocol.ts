/**
 * WeChat Pay API v3 wire protocol: the signatures, the notification encryption and the
 * mini-program payment parameters, as pure functions over `node:crypto` (no SDK, no I/O, no
 * clock: every time is passed in, so the same code serves the adapter, the local simulator's
 * tests and a notification handler).
 *
 * What is signed:
 *   - our requests: RSA-SHA256 (PKCS#1 v1.5) with the merchant private key over
 *     `METHOD\nURL\ntimestamp\nnonce\nbody\n`, URL being the path plus query exactly as sent;
 *     sent as `Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",…`;
 *   - WeChat's answers and notifications: RSA-SHA256 with the platform key over
 *     `timestamp\nnonce\nbody\n`, in the headers Wechatpay-Signature / -Timestamp / -Nonce /
 *     -Serial. The serial names the key: a platform certificate serial (certificate mode) or a
 *     `PUB_KEY_ID_…` (public-key mode, merchants onboarded since 2024);
 *   - `wx.requestPayment`'s paySign: RSA-SHA256 with the merchant key over
 *     `appId\ntimeStamp\nnonceStr\npackage\n`.
 * Notification resources are AEAD_AES_256_GCM with the 32-byte APIv3 key: base64 of
 * ciphertext‖16-byte tag, a 12-character nonce and the associated data.
 */
import crypto, { type KeyObject } from 'node:crypto';
import { rfc3339Utc8 } from '../domain/time';

/** The Authorization scheme of API v3. */
export const AUTH_SCHEME = 'WECHATPAY2-SHA256-RSA2048';
/** An answer or notification whose timestamp is further than this from our clock is refused (replay). */
export const MAX_CLOCK_SKEW_SECONDS = 300;
/** Serials starting with this name a WeChat Pay public key (public-key mode), not a certificate. */
export const PUBLIC_KEY_ID_PREFIX = 'PUB_KEY_ID_';
/** The only resource algorithm WeChat Pay v3 uses. */
export const RESOURCE_ALGORITHM = 'AEAD_AES_256_GCM';

const GCM_TAG_BYTES = 16;
const NONCE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random string of `length` letters and digits (request nonces, notification nonces). */
export function randomNonce(length = 32): string {
  const bytes = crypto.randomBytes(length);
  let out = '';
  // 256 % 62 bias is irrelevant for a nonce: it needs uniqueness, not uniformity.
  for (const b of bytes) out += NONCE_ALPHABET[b % NONCE_ALPHABET.length];
  return out;
}

/** Unix seconds as WeChat writes them: decimal, no fraction. */
export function unixSeconds(ms: number): string {
  return String(Math.floor(ms / 1000));
}

/** The string our request signature covers. */
export function requestSignMessage(
  method: string,
  pathAndQuery: string,
  timestamp: string,
  nonce: string,
  body: string,
): string {
  return `${method.toUpperCase()}\n${pathAndQuery}\n${timestamp}\n${nonce}\n${body}\n`;
}

/** The string an answer's or notification's signature covers. */
export function responseSignMessage(timestamp: string, nonce: string, body: string): string {
  return `${timestamp}\n${nonce}\n${body}\n`;
}

/** RSA-SHA256 (PKCS#1 v1.5) signature of `message`, base64. */
export function rsaSign(privateKey: KeyObject, message: string): string {
  return crypto.sign('sha256', Buffer.from(message, 'utf8'), privateKey).toString('base64');
}

/** Whether `signatureB64` is a valid RSA-SHA256 signature of `message`; never throws. */
export function rsaVerify(publicKey: KeyObject, message: string, signatureB64: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signatureB64)) return false;
  try {
    return crypto.verify('sha256', Buffer.from(message, 'utf8'), publicKey, Buffer.from(signatureB64, 'base64'));
  } catch {
    return false;
  }
}

/** The fields of an `Authorization` header (ours, or the simulator reading ours). */
export interface AuthorizationFields {
  mchid: string;
  nonceStr: string;
  timestamp: string;
  serialNo: string;
  signature: string;
}

/** Builds the `Authorization` header of one request, signed with the merchant key. */
export function authorizationHeader(input: {
  mchid: string;
  serialNo: string;
  privateKey: KeyObject;
  method: string;
  pathAndQuery: string;
  body: string;
  timestamp: string;
  nonce: string;
}): string {
  const signature = rsaSign(
    input.privateKey,
    requestSignMessage(input.method, input.pathAndQuery, input.timestamp, input.nonce, input.body),
  );
  return (
    `${AUTH_SCHEME} mchid="${input.mchid}",nonce_str="${input.nonce}",signature="${signature}",` +
    `timestamp="${input.timestamp}",serial_no="${input.serialNo}"`
  );
}

/** Parses an `Authorization` header of scheme {@link AUTH_SCHEME}; null when malformed. */
export function parseAuthorization(header: string | undefined): AuthorizationFields | null {
  if (!header) return null;
  const prefix = `${AUTH_SCHEME} `;
  if (!header.startsWith(prefix)) return null;
  const fields: Record<string, string> = {};
  for (const m of header.slice(prefix.length).matchAll(/\s*([a-z_]+)="([^"]*)"\s*(?:,|$)/g)) {
    if (m[1] !== undefined && m[2] !== undefined) fields[m[1]] = m[2];
  }
  const { mchid, nonce_str, timestamp, serial_no, signature } = fields;
  if (!mchid || !nonce_str || !timestamp || !serial_no || !signature) return null;
  return { mchid, nonceStr: nonce_str, timestamp, serialNo: serial_no, signature };
}

/** One platform verification key: by public key id, or by certificate serial. */
export interface PlatformKey {
  serial: string;
  mode: 'public_key' | 'certificate';
  key: KeyObject;
  /** A certificate's validity window (ms since epoch); absent for a bare public key. */
  notBefore?: number;
  notAfter?: number;
}

/** The platform keys we trust, by serial. Anything not in here is refused. */
export type PlatformKeyring = ReadonlyMap<string, PlatformKey>;

/**
 * Builds the keyring from configuration: serial → PEM. A `PUB_KEY_ID_…` serial takes a public
 * key PEM; any other serial is a platform certificate serial and takes the certificate PEM (its
 * serial must match the key it is filed under, so a copy-paste slip cannot go unnoticed) or, where
 * only the key was kept, a public key PEM. Throws on a bad entry: configuration is checked once.
 */
export function platformKeyring(entries: Readonly<Record<string, string>>): PlatformKeyring {
  const ring = new Map<string, PlatformKey>();
  for (const [serial, pem] of Object.entries(entries)) {
    if (!/^[A-Za-z0-9_]{1,64}$/.test(serial))
      throw new Error(`WeChat Pay platform key: bad serial ${JSON.stringify(serial)}`);
    const mode = serial.startsWith(PUBLIC_KEY_ID_PREFIX) ? 'public_key' : 'certificate';
    if (pem.includes('BEGIN CERTIFICATE')) {
      if (mode === 'public_key')
        throw new Error(`WeChat Pay platform key ${serial}: a public key id needs a public key, not a certificate`);
      const cert = new crypto.X509Certificate(pem);
      if (cert.serialNumber.toUpperCase() !== serial.toUpperCase()) {
        throw new Error(`WeChat Pay platform certificate filed under ${serial} has serial ${cert.serialNumber}`);
      }
      ring.set(serial.toUpperCase(), {
        serial,
        mode,
        key: cert.publicKey,
        notBefore: Date.parse(cert.validFrom),
        notAfter: Date.parse(cert.validTo),
      });
    } else {
      const key = crypto.createPublicKey(pem);
      if (key.asymmetricKeyType !== 'rsa') throw new Error(`WeChat Pay platform key ${serial}: not an RSA key`);
      ring.set(mode === 'certificate' ? serial.toUpperCase() : serial, { serial, mode, key });
    }
  }
  return ring;
}

/** The four signature headers of an answer or notification, as received. */
export interface SignatureHeaders {
  signature?: string;
  timestamp?: string;
  nonce?: string;
  serial?: string;
}

/** Reads the Wechatpay-* headers from a fetch `Headers` or a plain (any-case) header record. */
export function signatureHeaders(
  headers: Headers | Readonly<Record<string, string | string[] | undefined>>,
): SignatureHeaders {
  const get = (name: string): string | undefined => {
    if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
    const rec = headers as Readonly<Record<string, string | string[] | undefined>>;
    const key = Object.keys(rec).find((k) => k.toLowerCase() === name.toLowerCase());
    const v = key === undefined ? undefined : rec[key];
    return Array.isArray(v) ? v[0] : v;
  };
  return {
    signature: get('wechatpay-signature'),
    timestamp: get('wechatpay-timestamp'),
    nonce: get('wechatpay-nonce'),
    serial: get('wechatpay-serial'),
  };
}

/** Why an answer or notification was refused. */
export const SignatureFailures = {
  MISSING_HEADER: 'missing_header',
  UNKNOWN_SERIAL: 'unknown_serial',
  STALE_TIMESTAMP: 'stale_timestamp',
  CERTIFICATE_EXPIRED: 'certificate_expired',
  BAD_SIGNATURE: 'bad_signature',
} as const;
export type SignatureFailure = (typeof SignatureFailures)[keyof typeof SignatureFailures];

export type SignatureCheck =
  | { ok: true; serial: string; mode: PlatformKey['mode'] }
  | { ok: false; reason: SignatureFailure };

/**
 * Verifies an answer's or a notification's signature over `timestamp\nnonce\nbody\n`. `body`
 * must be the raw text as received (re-serialised JSON would not match). Refuses a serial not in
 * the keyring, a timestamp more than {@link MAX_CLOCK_SKEW_SECONDS} from `nowMs` (a replayed
 * notification), and, in certificate mode, a certificate outside its validity window.
 */
export function verifySignature(
  ring: PlatformKeyring,
  headers: SignatureHeaders,
  body: string,
  nowMs: number,
): SignatureCheck {
  const { signature, timestamp, nonce, serial } = headers;
  if (!signature || !timestamp || !nonce || !serial) return { ok: false, reason: SignatureFailures.MISSING_HEADER };
  const entry =
    ring.get(serial) ?? (serial.startsWith(PUBLIC_KEY_ID_PREFIX) ? undefined : ring.get(serial.toUpperCase()));
  if (!entry) return { ok: false, reason: SignatureFailures.UNKNOWN_SERIAL };
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(Number(timestamp) * 1000 - nowMs) > MAX_CLOCK_SKEW_SECONDS * 1000) {
    return { ok: false, reason: SignatureFailures.STALE_TIMESTAMP };
  }
  if (
    (entry.notBefore !== undefined && nowMs < entry.notBefore) ||
    (entry.notAfter !== undefined && nowMs > entry.notAfter)
  ) {
    return { ok: false, reason: SignatureFailures.CERTIFICATE_EXPIRED };
  }
  if (!rsaVerify(entry.key, responseSignMessage(timestamp, nonce, body), signature))
    return { ok: false, reason: SignatureFailures.BAD_SIGNATURE };
  return { ok: true, serial: entry.serial, mode: entry.mode };
}

/** A notification's encrypted `resource` object as WeChat sends it. */
export interface EncryptedResource {
  algorithm?: string;
  ciphertext: string;
  nonce: string;
  associated_data?: string;
  original_type?: string;
}

/** The APIv3 key as AES-256 key bytes; throws unless it is exactly 32 bytes. */
export function apiV3KeyBytes(apiV3Key: string): Buffer {
  const key = Buffer.from(apiV3Key, 'utf8');
  if (key.length !== 32) throw new Error('WeChat Pay APIv3 key must be 32 bytes');
  return key;
}

/** Encrypts a resource as WeChat Pay does (the simulator and tests use it). */
export function encryptResource(
  apiV3Key: string,
  plaintext: string,
  associatedData: string,
  nonce = randomNonce(12),
): EncryptedResource {
  const cipher = crypto.createCipheriv('aes-256-gcm', apiV3KeyBytes(apiV3Key), Buffer.from(nonce, 'utf8'), {
    authTagLength: GCM_TAG_BYTES,
  });
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return { algorithm: RESOURCE_ALGORITHM, ciphertext: ct.toString('base64'), nonce, associated_data: associatedData };
}

/**
 * Decrypts a notification resource. Any tampering with ciphertext, tag, nonce or associated data
 * fails the GCM tag check: `{ok:false}`, never a throw and never partial plaintext.
 */
export function decryptResource(
  apiV3Key: string,
  resource: EncryptedResource,
): { ok: true; plaintext: string } | { ok: false; reason: string } {
  if (resource.algorithm !== undefined && resource.algorithm !== RESOURCE_ALGORITHM)
    return { ok: false, reason: 'unsupported_algorithm' };
  if (typeof resource.ciphertext !== 'string' || typeof resource.nonce !== 'string')
    return { ok: false, reason: 'malformed_resource' };
  const iv = Buffer.from(resource.nonce, 'utf8');
  const data = Buffer.from(resource.ciphertext, 'base64');
  if (iv.length !== 12 || data.length < GCM_TAG_BYTES) return { ok: false, reason: 'malformed_resource' };
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', apiV3KeyBytes(apiV3Key), iv, {
      authTagLength: GCM_TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(resource.associated_data ?? '', 'utf8'));
    decipher.setAuthTag(data.subarray(data.length - GCM_TAG_BYTES));
    const plain = Buffer.concat([decipher.update(data.subarray(0, data.length - GCM_TAG_BYTES)), decipher.final()]);
    return { ok: true, plaintext: plain.toString('utf8') };
  } catch {
    return { ok: false, reason: 'decrypt_failed' };
  }
}

/** What the mini-program passes to `wx.requestPayment` (field names are WeChat's). */
export interface PaymentRequestParams {
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}

/** Builds and signs the `wx.requestPayment` parameters for one prepay id. */
export function paymentRequestParams(input: {
  appId: string;
  prepayId: string;
  privateKey: KeyObject;
  timestamp: string;
  nonce: string;
}): PaymentRequestParams {
  const pkg = `prepay_id=${input.prepayId}`;
  const paySign = rsaSign(input.privateKey, `${input.appId}\n${input.timestamp}\n${input.nonce}\n${pkg}\n`);
  return { timeStamp: input.timestamp, nonceStr: input.nonce, package: pkg, signType: 'RSA', paySign };
}

/** An openid fit for a log line: first 4 and last 2 characters. */
export function maskOpenid(openid: string): string {
  return openid.length <= 8 ? '***' : `${openid.slice(0, 4)}***${openid.slice(-2)}`;
}

/**
 * A time as WeChat Pay writes it: RFC 3339 in Beijing time, `2026-12-05T20:21:14+08:00`
 * (the simulator's answers; the adapter passes WeChat's strings through untouched).
 */
export function wechatTime(ms: number): string {
  return rfc3339Utc8(ms);
}
