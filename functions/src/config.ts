import { parseKeyring, type Keyring } from './domain/codes';

/** Deployment stages. Dev login and `now` overrides exist only in local, test and sandbox. */
export const Stages = ['local', 'test', 'sandbox', 'dev', 'prod'] as const;
export type Stage = (typeof Stages)[number];

export interface Config {
  stage: Stage;
  tableName: string;
  region: string;
  /** Set only on the local stack and in tests (dynalite). */
  dynamoEndpoint: string | undefined;
  codeKeys: Keyring;
  sessionSecret: Buffer;
  sessionTtlSeconds: number;
  paymentProvider: 'sandbox';
  dueShards: number;
  /** Mini-program code2session (production login). */
  wx: { appId: string; secret: string; apiBase: string } | undefined;
  /** True where dev login and test clocks are allowed. */
  devFeatures: boolean;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (v === undefined || v === '') throw new Error(`config: missing environment variable ${name}`);
  return v;
}

/** Reads and validates the environment. Throws on the first missing or malformed value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const stage = required(env, 'STAGE') as Stage;
  if (!Stages.includes(stage)) throw new Error(`config: unknown STAGE ${stage}`);
  const sessionSecret = Buffer.from(required(env, 'SESSION_SECRET'), 'base64');
  if (sessionSecret.length < 32) throw new Error('config: SESSION_SECRET must be at least 32 bytes (base64)');
  const dueShards = Number.parseInt(env.OPEN_SHARDS ?? '8', 10);
  if (!Number.isInteger(dueShards) || dueShards < 1 || dueShards > 256) throw new Error('config: OPEN_SHARDS must be 1..256');
  const provider = env.PAYMENT_PROVIDER ?? 'sandbox';
  if (provider !== 'sandbox') throw new Error(`config: unknown PAYMENT_PROVIDER ${provider}`);
  const devFeatures = stage === 'local' || stage === 'test' || stage === 'sandbox';
  const wx = env.WX_APPID && env.WX_SECRET
    ? { appId: env.WX_APPID, secret: env.WX_SECRET, apiBase: env.WX_API_BASE ?? 'https://api.weixin.qq.com' }
    : undefined;
  if (stage === 'prod' && !wx) throw new Error('config: WX_APPID and WX_SECRET are required in prod');
  return {
    stage,
    tableName: required(env, 'TABLE_NAME'),
    region: env.AWS_REGION ?? 'ap-southeast-1',
    dynamoEndpoint: env.DYNAMODB_ENDPOINT || undefined,
    codeKeys: parseKeyring(required(env, 'CODE_KEYS'), stage),
    sessionSecret,
    sessionTtlSeconds: Number.parseInt(env.SESSION_TTL_SECONDS ?? '7200', 10),
    paymentProvider: 'sandbox',
    dueShards,
    wx,
    devFeatures,
  };
}

let cached: Config | undefined;
/** The configuration of this process, read once at cold start. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
