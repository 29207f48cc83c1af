import { createCipheriv, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import {
  decryptGroupData,
  groupBinding,
  groupIdentity,
  GROUP_DATA_MAX_AGE_MS,
  GROUP_DATA_SKEW_MS,
  isSessionKey,
  openSessionKey,
  sealSessionKey,
  sessionKeySealKey,
} from '../../functions/src/domain/group';
import { ClaimBody, GroupContextBody, OpenCodeQuery, groupOfQuery } from '../../functions/src/http/schemas';
import { newSessionKey, wxGroupData } from '../helpers/wx-group';

const appid = 'wx1234567890abcdef';
const nowMs = Date.UTC(2026, 11, 5, 12, 0, 0);
const nowSec = nowMs / 1000;
const sessionKey = newSessionKey();
const open = (data: { encryptedData: string; iv: string }, key = sessionKey, at = nowMs) =>
  decryptGroupData({ ...data, sessionKey: key, appId: appid, nowMs: at });

/** Flips one bit of byte `i` of a base64 string's bytes. */
function flip(b64: string, i: number): string {
  const b = Buffer.from(b64, 'base64');
  b[(i + b.length) % b.length]! ^= 0x01;
  return b.toString('base64');
}

describe('WeChat group data (AES-128-CBC, PKCS#7, watermark)', () => {
  test('data WeChat built for us opens to its group id, under either field name', () => {
    expect(open(wxGroupData({ sessionKey, openGId: 'tG_group-A', appid, timestamp: nowSec }))).toEqual({
      ok: true,
      openGId: 'tG_group-A',
    });
    expect(open(wxGroupData({ sessionKey, openGId: 'tGold', appid, timestamp: nowSec, field: 'openGId' }))).toEqual({
      ok: true,
      openGId: 'tGold',
    });
  });

  test('tampered ciphertext is refused, whichever block is touched', () => {
    const data = wxGroupData({ sessionKey, openGId: 'tG_group-A', appid, timestamp: nowSec });
    const blocks = Buffer.from(data.encryptedData, 'base64').length;
    for (let i = 0; i < blocks; i++) {
      const r = open({ ...data, encryptedData: flip(data.encryptedData, i) });
      // Some flips garble JSON, the last block's break the padding; none yields a group.
      expect(r.ok).toBe(false);
    }
    // Truncated to a whole block less, or not a whole number of blocks.
    const bytes = Buffer.from(data.encryptedData, 'base64');
    expect(open({ ...data, encryptedData: bytes.subarray(0, bytes.length - 16).toString('base64') }).ok).toBe(false);
    expect(open({ ...data, encryptedData: bytes.subarray(0, bytes.length - 3).toString('base64') })).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  test('a wrong iv, a wrong session key, or a malformed iv/key is refused', () => {
    const data = wxGroupData({ sessionKey, appid, timestamp: nowSec });
    expect(open({ ...data, iv: randomBytes(16).toString('base64') }).ok).toBe(false);
    expect(open({ ...data, iv: flip(data.iv, 0) }).ok).toBe(false);
    for (let i = 0; i < 20; i++) expect(open(data, newSessionKey()).ok).toBe(false);
    expect(open({ ...data, iv: randomBytes(12).toString('base64') })).toEqual({ ok: false, reason: 'malformed' });
    expect(open(data, randomBytes(32).toString('base64'))).toEqual({ ok: false, reason: 'malformed' });
    expect(open({ ...data, encryptedData: '!!notbase64!!' })).toEqual({ ok: false, reason: 'malformed' });
    expect(open({ ...data, encryptedData: '' })).toEqual({ ok: false, reason: 'malformed' });
  });

  test('bad PKCS#7 padding is refused as undecryptable', () => {
    // A plaintext of whole blocks encrypted without padding: its last byte is no valid pad.
    const iv = randomBytes(16);
    const c = createCipheriv('aes-128-cbc', Buffer.from(sessionKey, 'base64'), iv).setAutoPadding(false);
    const body = Buffer.from('{"opengid":"tGx","watermark":{}}'.padEnd(48, 'Z'));
    const encryptedData = Buffer.concat([c.update(body), c.final()]).toString('base64');
    expect(open({ encryptedData, iv: iv.toString('base64') })).toEqual({ ok: false, reason: 'undecryptable' });
  });

  test('non-JSON and JSON that is not an object are refused', () => {
    expect(open(wxGroupData({ sessionKey, appid, timestamp: nowSec, plaintext: 'opengid=tGx' }))).toEqual({
      ok: false,
      reason: 'not_json',
    });
    expect(open(wxGroupData({ sessionKey, appid, timestamp: nowSec, plaintext: '["tGx"]' }))).toEqual({
      ok: false,
      reason: 'not_json',
    });
    expect(open(wxGroupData({ sessionKey, appid, timestamp: nowSec, plaintext: 'null' }))).toEqual({
      ok: false,
      reason: 'not_json',
    });
  });

  test('a watermark of another mini-program, or none, is refused', () => {
    expect(open(wxGroupData({ sessionKey, appid: 'wxOTHERAPP', timestamp: nowSec }))).toEqual({
      ok: false,
      reason: 'foreign_app',
    });
    const bare = JSON.stringify({ opengid: 'tGx' });
    expect(open(wxGroupData({ sessionKey, appid, timestamp: nowSec, plaintext: bare }))).toEqual({
      ok: false,
      reason: 'foreign_app',
    });
  });

  test('freshness: at most 10 minutes old, at most 60 s ahead of our clock', () => {
    const at = (sec: number) => open(wxGroupData({ sessionKey, appid, timestamp: sec }));
    expect(at(nowSec - GROUP_DATA_MAX_AGE_MS / 1000).ok).toBe(true);
    expect(at(nowSec - GROUP_DATA_MAX_AGE_MS / 1000 - 1)).toEqual({ ok: false, reason: 'stale' });
    expect(at(nowSec - 86_400)).toEqual({ ok: false, reason: 'stale' });
    expect(at(nowSec + GROUP_DATA_SKEW_MS / 1000).ok).toBe(true);
    expect(at(nowSec + GROUP_DATA_SKEW_MS / 1000 + 1)).toEqual({ ok: false, reason: 'stale' });
    const text = JSON.stringify({ opengid: 'tGx', watermark: { appid, timestamp: String(nowSec) } });
    expect(open(wxGroupData({ sessionKey, appid, timestamp: nowSec, plaintext: text }))).toEqual({
      ok: false,
      reason: 'stale',
    });
  });

  test('data without a usable group id is refused', () => {
    const none = JSON.stringify({ watermark: { appid, timestamp: nowSec } });
    expect(open(wxGroupData({ sessionKey, appid, timestamp: nowSec, plaintext: none }))).toEqual({
      ok: false,
      reason: 'no_group',
    });
    expect(open(wxGroupData({ sessionKey, appid, timestamp: nowSec, openGId: 'has space' }))).toEqual({
      ok: false,
      reason: 'no_group',
    });
  });
});

describe('WeChat group data (property)', () => {
  const gid = fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/);
  test('whatever the key, group and age within the window, it opens to that group; a flipped bit never opens at all', () => {
    fc.assert(
      fc.property(
        gid,
        fc.integer({ min: -GROUP_DATA_MAX_AGE_MS / 1000, max: GROUP_DATA_SKEW_MS / 1000 }),
        fc.nat(),
        fc.nat(),
        (g, age, at, bit) => {
          const key = newSessionKey();
          const data = wxGroupData({ sessionKey: key, openGId: g, appid, timestamp: nowSec + age });
          expect(open(data, key)).toEqual({ ok: true, openGId: g });
          const bytes = Buffer.from(data.encryptedData, 'base64');
          bytes[at % bytes.length]! ^= 1 << (bit % 8);
          const r = open({ ...data, encryptedData: bytes.toString('base64') }, key);
          // CBC: the flipped block decrypts to 16 garbled bytes (and the last block's flips break
          // the padding), which no check lets through — not as this group, not as another.
          expect(r.ok).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('session keys at rest (AES-256-GCM)', () => {
  const key = sessionKeySealKey(randomBytes(32));

  test('seal and open round trip; the sealed value does not contain the key', () => {
    const sealed = sealSessionKey(key, 'uAlice0000000000', sessionKey);
    expect(sealed).toMatch(/^sk1\./);
    expect(sealed).not.toContain(sessionKey);
    expect(sealed).not.toContain(Buffer.from(sessionKey, 'base64').toString('base64url'));
    expect(sealed).not.toContain(Buffer.from(sessionKey, 'base64').toString('hex'));
    expect(openSessionKey(key, 'uAlice0000000000', sealed)).toBe(sessionKey);
    // A fresh nonce each time.
    expect(sealSessionKey(key, 'uAlice0000000000', sessionKey)).not.toBe(sealed);
  });

  test('another account, another key, or a tampered value does not open', () => {
    const sealed = sealSessionKey(key, 'uAlice0000000000', sessionKey);
    expect(openSessionKey(key, 'uBob000000000000', sealed)).toBeUndefined();
    expect(openSessionKey(sessionKeySealKey(randomBytes(32)), 'uAlice0000000000', sealed)).toBeUndefined();
    // Tamper a character inside the payload: the last base64url character may carry only padding
    // bits a decoder drops, so changing it would not always change a byte.
    const at = sealed.length - 3;
    const swapped = sealed[at] === 'A' ? 'B' : 'A';
    expect(
      openSessionKey(key, 'uAlice0000000000', sealed.slice(0, at) + swapped + sealed.slice(at + 1)),
    ).toBeUndefined();
    expect(openSessionKey(key, 'uAlice0000000000', 'garbage')).toBeUndefined();
  });

  test('the sealing key is derived with its own label, not the secret itself', () => {
    const secret = randomBytes(32);
    expect(sessionKeySealKey(secret).equals(secret)).toBe(false);
    expect(sessionKeySealKey(secret).equals(sessionKeySealKey(secret))).toBe(true);
    expect(isSessionKey(newSessionKey())).toBe(true);
    expect(isSessionKey('k')).toBe(false);
    expect(isSessionKey(randomBytes(24).toString('base64'))).toBe(false);
  });
});

describe('group binding', () => {
  test('salted by packet, dev names never equal a WeChat group, the id itself is not stored', () => {
    const g = groupIdentity('wx', 'tG_group-A');
    expect(groupBinding('p1', g)).toHaveLength(22);
    expect(groupBinding('p1', g)).toBe(groupBinding('p1', g));
    expect(groupBinding('p1', g)).not.toBe(groupBinding('p2', g));
    expect(groupBinding('p1', g)).not.toBe(groupBinding('p1', groupIdentity('dev', 'tG_group-A')));
    expect(groupBinding('p1', g)).not.toContain('tG_group');
  });
});

describe('group context schema (property)', () => {
  const b64 = (min: number, max: number) =>
    fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString('base64'));
  const code = '1.k1.sABC.1.sig';

  test('accepts encrypted data + iv, or a dev group name, and nothing mixed or extra', () => {
    fc.assert(
      fc.property(b64(3, 1500), b64(3, 40), (encryptedData, iv) => {
        expect(ClaimBody.safeParse({ code, group: { encryptedData, iv } }).success).toBe(true);
        expect(GroupContextBody.safeParse({ encryptedData, iv, devGroup: 'A' }).success).toBe(false);
        expect(GroupContextBody.safeParse({ encryptedData }).success).toBe(false);
        expect(GroupContextBody.safeParse({ encryptedData, iv, extra: 1 }).success).toBe(false);
        expect(groupOfQuery(OpenCodeQuery.parse({ encryptedData, iv }))).toEqual({ encryptedData, iv });
        expect(OpenCodeQuery.safeParse({ encryptedData }).success).toBe(false);
        expect(OpenCodeQuery.safeParse({ iv }).success).toBe(false);
        expect(OpenCodeQuery.safeParse({ encryptedData, iv, devGroup: '群A' }).success).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  test('refuses non-base64, over-long data, control characters and blank dev names', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 60 }), (s) => {
        const isB64 = /^[A-Za-z0-9+/]+={0,2}$/.test(s) && s.length >= 4;
        expect(GroupContextBody.safeParse({ encryptedData: s, iv: 'AAAAAAAAAAAAAAAAAAAAAA==' }).success).toBe(isB64);
        const dev = GroupContextBody.safeParse({ devGroup: s });
        const okName = s.length <= 32 && /\S/.test(s) && !/\p{Cc}/u.test(s);
        expect(dev.success).toBe(okName);
      }),
      { numRuns: 500 },
    );
    expect(GroupContextBody.safeParse({ encryptedData: 'A'.repeat(2052), iv: 'AAAA' }).success).toBe(false);
    expect(OpenCodeQuery.safeParse({}).success).toBe(true);
    expect(groupOfQuery(OpenCodeQuery.parse({ devGroup: '群A' }))).toEqual({ devGroup: '群A' });
  });
});
