import { createCipheriv, randomBytes } from 'node:crypto';

/** A WeChat session_key as jscode2session returns it: 16 random bytes, standard base64. */
export const newSessionKey = () => randomBytes(16).toString('base64');

/**
 * Group data built the way WeChat builds it for `wx.getGroupEnterInfo`: JSON with the group id and
 * a watermark {appid, timestamp (epoch seconds)}, AES-128-CBC with PKCS#7 padding under
 * base64-decode(session_key) and a random 16-byte iv, both sent in standard base64.
 * `plaintext` replaces the JSON (non-JSON and odd payloads in tests).
 */
export function wxGroupData(opts: {
  sessionKey: string;
  openGId?: string;
  appid: string;
  timestamp: number;
  plaintext?: string;
  field?: 'opengid' | 'openGId';
}): { encryptedData: string; iv: string } {
  const iv = randomBytes(16);
  const body =
    opts.plaintext ??
    JSON.stringify({
      [opts.field ?? 'opengid']: opts.openGId ?? 'tGzv3C5w3ixd5bJcwQ2wGAVJq0mwA',
      watermark: { appid: opts.appid, timestamp: opts.timestamp },
    });
  const c = createCipheriv('aes-128-cbc', Buffer.from(opts.sessionKey, 'base64'), iv);
  const encryptedData = Buffer.concat([c.update(body, 'utf8'), c.final()]).toString('base64');
  return { encryptedData, iv: iv.toString('base64') };
}
