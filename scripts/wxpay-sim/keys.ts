/**
 * Keys of the local WeChat Pay simulator: a merchant identity (what our adapter signs with) and
 * a platform identity in public-key mode (what the simulator signs with), plus the shared
 * APIv3 key. Generated with node:crypto; `npm start` keeps them in a JSON file so an order made
 * before a restart still verifies after it. They protect nothing real.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { WeChatPayConfig } from '../../functions/src/wechatpay/client';

export interface WxPaySimKeys {
  mchid: string;
  appid: string;
  /** Serial of the merchant "certificate" (40 hex digits, as WeChat's are). */
  merchantSerialNo: string;
  merchantPrivateKey: string;
  /** The simulator verifies our request signatures with it. */
  merchantPublicKey: string;
  /** 32 ASCII characters, as WeChat's APIv3 keys are. */
  apiV3Key: string;
  /** `PUB_KEY_ID_…`: the serial the simulator signs answers and notifications under. */
  platformPublicKeyId: string;
  platformPrivateKey: string;
  platformPublicKey: string;
}

const pem = (bits = 2048): { privateKey: string; publicKey: string } =>
  crypto.generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });

const digits = (n: number): string => Array.from(crypto.randomBytes(n), (b) => String(b % 10)).join('');

/** A fresh set of simulator keys (two RSA-2048 key pairs: a fraction of a second). */
export function generateWxPaySimKeys(): WxPaySimKeys {
  const merchant = pem();
  const platform = pem();
  const mchid = `19${digits(8)}`;
  return {
    mchid,
    appid: `wx${crypto.randomBytes(8).toString('hex')}`,
    merchantSerialNo: crypto.randomBytes(20).toString('hex').toUpperCase(),
    merchantPrivateKey: merchant.privateKey,
    merchantPublicKey: merchant.publicKey,
    apiV3Key: crypto.randomBytes(24).toString('base64').replace(/[+/=]/g, 'x').slice(0, 32),
    platformPublicKeyId: `PUB_KEY_ID_01${mchid}${digits(16)}`,
    platformPrivateKey: platform.privateKey,
    platformPublicKey: platform.publicKey,
  };
}

function isKeys(v: unknown): v is WxPaySimKeys {
  const o = v as Record<string, unknown> | null;
  return (
    !!o &&
    [
      'mchid',
      'appid',
      'merchantSerialNo',
      'merchantPrivateKey',
      'merchantPublicKey',
      'apiV3Key',
      'platformPublicKeyId',
      'platformPrivateKey',
      'platformPublicKey',
    ].every((k) => typeof o[k] === 'string' && o[k] !== '')
  );
}

/**
 * The keys in `file`, created (mode 0600, written atomically) when it is missing. A file that is
 * there but unreadable as keys throws instead of being overwritten: the orders of a running
 * stack were signed with it.
 */
export function loadOrCreateWxPaySimKeys(file: string): WxPaySimKeys {
  if (fs.existsSync(file)) {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (!isKeys(parsed)) throw new Error(`${file}: not a WeChat Pay simulator key file`);
    return parsed;
  }
  const keys = generateWxPaySimKeys();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(keys, null, 2), { mode: 0o600 });
  fs.renameSync(tmp, file);
  return keys;
}

/**
 * The adapter's configuration for talking to the simulator: the merchant private key, the APIv3
 * key and the platform public key under its id — the same settings production reads from SSM.
 */
export function adapterConfigFor(keys: WxPaySimKeys, baseUrl: string, timeoutMs?: number): WeChatPayConfig {
  return {
    baseUrl,
    mchid: keys.mchid,
    appid: keys.appid,
    merchantSerialNo: keys.merchantSerialNo,
    merchantPrivateKey: keys.merchantPrivateKey,
    apiV3Key: keys.apiV3Key,
    platformKeys: { [keys.platformPublicKeyId]: keys.platformPublicKey },
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  };
}
