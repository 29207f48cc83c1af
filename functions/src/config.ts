import { parseKeyring, type Keyring } from './domain/codes';
import { createWeChatPay, type WeChatPayConfig } from './wechatpay/client';
import { sessionKeySealKey } from './domain/group';
import {
  NotificationKinds,
  parseTemplateSetting,
  type NotificationKind,
  type TemplateSetting,
} from './domain/notifications';
import type { MiniprogramState } from './wechat/subscribe-messages';
import { loadStoreSettings, required } from './table-config';
import { ShareLayouts, type ShareLayout } from './domain/share-counters';

/** Deployment stages. Dev login and `now` overrides exist only in local, test and sandbox. */
export const Stages = ['local', 'test', 'sandbox', 'dev', 'prod'] as const;
export type Stage = (typeof Stages)[number];

/** Stages with dev features (dev login, the sweep's `now`); the others never have them. */
export const DevStages: readonly Stage[] = ['local', 'test', 'sandbox'];
/**
 * Stages that run on this machine (or in CI) only: dev login needs no secret there. A deployed
 * dev stage (sandbox) allows dev login only with `DEV_LOGIN_SECRET` configured.
 */
const LOCAL_STAGES: readonly Stage[] = ['local', 'test'];

/**
 * How money comes in. `wechatpay`: JSAPI orders, credited on WeChat Pay's word (the only one on
 * a stage with real money). `sandbox`: instant top-ups that take no money, only where dev
 * features are on (and their default there).
 */
export const PaymentProviders = ['sandbox', 'wechatpay'] as const;
export type PaymentProviderName = (typeof PaymentProviders)[number];
/** Stages where money is real: the sandbox provider (or none) refuses to start there. */
export const RealMoneyStages: readonly Stage[] = ['dev', 'prod'];

/**
 * How `devUser` login is guarded: `open` (local, test), `secret` (a deployed dev stage with
 * `DEV_LOGIN_SECRET`: the request must carry it), `off` (everything else → DEV_LOGIN_DISABLED).
 */
export type DevLogin = { mode: 'open' } | { mode: 'secret'; secret: Buffer } | { mode: 'off' };

/** Shortest `DEV_LOGIN_SECRET` accepted: a random value, not a password (`openssl rand -base64 32`). */
const MIN_DEV_LOGIN_SECRET_CHARS = 32;

export interface Config {
  stage: Stage;
  tableName: string;
  region: string;
  /** Set only on the local stack and in tests (dynalite). */
  dynamoEndpoint: string | undefined;
  codeKeys: Keyring;
  sessionSecret: Buffer;
  sessionTtlSeconds: number;
  /** The default top-up method (see {@link PaymentProviders}). */
  paymentProvider: PaymentProviderName;
  dueShards: number;
  /**
   * How new packets record who took their shares (`SHARE_LAYOUT`, default `recorded`: the take
   * records its taker). `slots` keeps the layout packets were stored with before, as a way back.
   * Packets keep the layout they were created with, so switching is safe at any time.
   */
  shareLayout: ShareLayout;
  /** Mini-program code2session (production login). */
  wx: { appId: string; secret: string; apiBase: string } | undefined;
  /** True where test clocks (and dev login, guarded by `devLogin`) are allowed. */
  devFeatures: boolean;
  devLogin: DevLogin;
  /** WeChat Pay v3 (merchant transfers for withdrawals); undefined when not configured. */
  wechatPay: WeChatPaySettings | undefined;
  /**
   * Group-only packets: the AES-256-GCM key WeChat session keys are sealed with on the account
   * item. Derived from SESSION_SECRET with its own HKDF label (no new secret to deploy): rotating
   * SESSION_SECRET ends every session anyway, and the next login stores a fresh session key.
   */
  sessionKeySeal: Buffer;
  /** Where code links point: `<publicBaseUrl>/o/<code>` (see {@link publicBaseUrlOf}). */
  publicBaseUrl: string;
  /** Avatar storage (see {@link loadAvatars}); undefined where no bucket is configured. */
  avatars: AvatarSettings | undefined;
  /** Subscribe messages (订阅消息); see {@link loadNotify}. */
  notify: NotifySettings;
}

// ---- Avatars (profiles) ----

/**
 * The avatar bucket. `AVATAR_BUCKET` is set only on the functions that upload or serve avatars
 * (serverless.yml); `S3_ENDPOINT` only locally and in tests, where an S3-protocol stand-in
 * (scripts/s3-sim) answers path-style requests — the same adapter runs against both.
 */
export interface AvatarSettings {
  bucket: string;
  region: string;
  /** The local stand-in's URL; absent on AWS. */
  endpoint: string | undefined;
}

/** Avatar settings, or undefined without `AVATAR_BUCKET`. Throws on a malformed bucket name or endpoint. */
export function loadAvatars(env: NodeJS.ProcessEnv): AvatarSettings | undefined {
  const bucket = env.AVATAR_BUCKET;
  if (bucket === undefined || bucket === '') return undefined;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new Error('config: AVATAR_BUCKET is not a valid bucket name');
  const endpoint = env.S3_ENDPOINT || undefined;
  // Like DYNAMODB_ENDPOINT, never in a deployed environment (serverless-package.test.ts checks the keys).
  if (endpoint !== undefined && !/^https?:\/\//.test(endpoint))
    throw new Error('config: S3_ENDPOINT must be an http(s) URL');
  return { bucket, region: env.AWS_REGION ?? 'ap-southeast-1', endpoint };
}
// ---- end Avatars ----

/** Subscribe messages: the template of each message; a message without one is off. */
export interface NotifySettings {
  templates: Partial<Record<NotificationKind, TemplateSetting>>;
  /** Which build of the mini-program a message opens: the released one on prod only. */
  miniprogramState: MiniprogramState;
}

/** The environment variable of each message's template (`<id>` or `<id>:<keyword>,…`; unset, empty or `off`: off). */
export const TEMPLATE_ENV: Record<NotificationKind, string> = {
  packet_finished: 'WX_TMPL_PACKET_FINISHED',
  refund_arrived: 'WX_TMPL_REFUND_ARRIVED',
  withdrawal_arrived: 'WX_TMPL_WITHDRAWAL_ARRIVED',
};

/** The adapter's configuration plus what our calls add to it. */
export interface WeChatPaySettings extends WeChatPayConfig {
  /** Where WeChat Pay sends notifications (`…/v1/pay/wechat/notify`). */
  notifyUrl: string;
  /** The merchant-transfer scene WeChat granted us (`transfer_scene_id`), '1000' 现金营销 by default. */
  transferSceneId: string;
}

/** Reads and validates the environment. Throws on the first missing or malformed value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const stage = required(env, 'STAGE') as Stage;
  if (!Stages.includes(stage)) throw new Error(`config: unknown STAGE ${stage}`);
  const sessionSecret = Buffer.from(required(env, 'SESSION_SECRET'), 'base64');
  if (sessionSecret.length < 32) throw new Error('config: SESSION_SECRET must be at least 32 bytes (base64)');
  const dueShards = Number.parseInt(env.OPEN_SHARDS ?? '8', 10);
  if (!Number.isInteger(dueShards) || dueShards < 1 || dueShards > 256)
    throw new Error('config: OPEN_SHARDS must be 1..256');
  const shareLayout = (env.SHARE_LAYOUT || ShareLayouts.recorded) as ShareLayout;
  if (!Object.values(ShareLayouts).includes(shareLayout))
    throw new Error('config: SHARE_LAYOUT must be recorded or slots');
  const paymentProvider = paymentProviderOf(stage, env.PAYMENT_PROVIDER);
  const devFeatures = DevStages.includes(stage);
  const devLogin = devLoginFor(stage, env.DEV_LOGIN_SECRET);
  const wechatPay = loadWeChatPay(env);
  if (paymentProvider === 'wechatpay' && !wechatPay)
    throw new Error('config: PAYMENT_PROVIDER wechatpay needs the WXPAY_* settings');
  const wx =
    env.WX_APPID && env.WX_SECRET
      ? { appId: env.WX_APPID, secret: env.WX_SECRET, apiBase: env.WX_API_BASE || 'https://api.weixin.qq.com' }
      : undefined;
  if (stage === 'prod' && !wx) throw new Error('config: WX_APPID and WX_SECRET are required in prod');
  const publicBaseUrl = publicBaseUrlOf(stage, env.PUBLIC_BASE_URL);
  const notify = loadNotify(stage, env);
  if (Object.keys(notify.templates).length > 0 && !wx)
    throw new Error('config: subscribe message templates (WX_TMPL_*) need WX_APPID and WX_SECRET');
  return {
    stage,
    ...loadStoreSettings(env),
    codeKeys: parseKeyring(required(env, 'CODE_KEYS'), stage),
    sessionSecret,
    sessionTtlSeconds: Number.parseInt(env.SESSION_TTL_SECONDS ?? '7200', 10),
    paymentProvider,
    dueShards,
    shareLayout,
    wx,
    devFeatures,
    devLogin,
    wechatPay,
    // Group-only packets (see the field's comment).
    sessionKeySeal: sessionKeySealKey(sessionSecret),
    publicBaseUrl,
    avatars: loadAvatars(env),
    notify,
  };
}

// ---- Code links (PUBLIC_BASE_URL) ----------------------------------------------------------

/** The local app's address (scripts/start.js, APP_PORT 10086): the default where nothing is deployed. */
export const LOCAL_PUBLIC_BASE_URL = 'http://localhost:10086';

/**
 * `PUBLIC_BASE_URL`: the origin (and optional path) code links start with, `<base>/o/<code>`.
 * An absolute http(s) URL with no trailing slash, query, fragment or credentials, so that
 * appending `/o/<code>` gives exactly the URL the mini-program rule is registered for. Required
 * on every deployed stage (a link to localhost on a phone opens nothing); on the local stages it
 * defaults to the local app. Stages with real money need https (WeChat matches the scheme too).
 */
export function publicBaseUrlOf(stage: Stage, raw: string | undefined): string {
  const value = raw?.trim();
  if (!value) {
    if (LOCAL_STAGES.includes(stage)) return LOCAL_PUBLIC_BASE_URL;
    throw new Error(`config: PUBLIC_BASE_URL is required in ${stage}`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error('config: PUBLIC_BASE_URL must be an absolute http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new Error('config: PUBLIC_BASE_URL must be an absolute http(s) URL');
  if (RealMoneyStages.includes(stage) && url.protocol !== 'https:')
    throw new Error(`config: PUBLIC_BASE_URL must be https in ${stage}`);
  if (url.username || url.password || url.search || url.hash || value.includes('?') || value.includes('#')) {
    throw new Error('config: PUBLIC_BASE_URL must have no credentials, query or fragment');
  }
  if (value.endsWith('/')) throw new Error('config: PUBLIC_BASE_URL must not end with a slash');
  return value;
}

/** What the `/o/` page function needs: it reads no table and no secret. */
export interface LinkPageConfig {
  publicBaseUrl: string;
  /** The H5 app a browser outside WeChat is sent to (`<h5AppUrl>#/pages/open/index?c=<code>`), if any. */
  h5AppUrl: string | undefined;
  /** WeChat's check file for the link rule (downloaded from the mini-program admin), if configured. */
  verifyFile: { name: string; content: string } | undefined;
}

/**
 * The `/o/` page's configuration: PUBLIC_BASE_URL as above; `H5_APP_URL` (optional, an absolute
 * http(s) URL); `WX_LINK_VERIFY_FILE` and `WX_LINK_VERIFY_CONTENT` (both or neither: the name of
 * WeChat's check file, `<letters and digits>.txt`, and its short text content).
 */
export function loadLinkPageConfig(env: NodeJS.ProcessEnv = process.env): LinkPageConfig {
  const stage = required(env, 'STAGE') as Stage;
  if (!Stages.includes(stage)) throw new Error(`config: unknown STAGE ${stage}`);
  const publicBaseUrl = publicBaseUrlOf(stage, env.PUBLIC_BASE_URL);
  const h5Raw = env.H5_APP_URL?.trim();
  let h5AppUrl: string | undefined;
  if (h5Raw) {
    let u: URL | undefined;
    try {
      u = new URL(h5Raw);
    } catch {
      u = undefined;
    }
    if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:') || u.hash || u.username || u.password)
      throw new Error('config: H5_APP_URL must be an absolute http(s) URL without a fragment');
    h5AppUrl = h5Raw;
  }
  const name = env.WX_LINK_VERIFY_FILE?.trim() ?? '';
  const content = env.WX_LINK_VERIFY_CONTENT?.trim() ?? '';
  if (!!name !== !!content) throw new Error('config: WX_LINK_VERIFY_FILE and WX_LINK_VERIFY_CONTENT go together');
  if (name && !/^[A-Za-z0-9_-]{1,64}\.txt$/.test(name))
    throw new Error('config: WX_LINK_VERIFY_FILE must be a file name like AbC123.txt');
  if (content && !/^[\x21-\x7e]{1,256}$/.test(content))
    throw new Error('config: WX_LINK_VERIFY_CONTENT must be 1..256 printable ASCII characters');
  return { publicBaseUrl, h5AppUrl, verifyFile: name ? { name, content } : undefined };
}
let cachedLinkPage: LinkPageConfig | undefined;
/** The `/o/` page function's configuration, read once at cold start. */
export function linkPageConfig(): LinkPageConfig {
  cachedLinkPage ??= loadLinkPageConfig();
  return cachedLinkPage;
}
// ---- end code links ------------------------------------------------------------------------

/**
 * Subscribe-message settings: each WX_TMPL_* read through parseTemplateSetting (a malformed one
 * throws at cold start, not at the first message). Messages open the released mini-program on
 * prod, the trial build on dev and sandbox, the developer build on this machine.
 */
export function loadNotify(stage: Stage, env: NodeJS.ProcessEnv): NotifySettings {
  const templates: Partial<Record<NotificationKind, TemplateSetting>> = {};
  for (const kind of NotificationKinds) {
    try {
      const t = parseTemplateSetting(kind, env[TEMPLATE_ENV[kind]]);
      if (t) templates[kind] = t;
    } catch (err) {
      throw new Error(`config: ${TEMPLATE_ENV[kind]}: ${err instanceof Error ? err.message : 'malformed'}`);
    }
  }
  const miniprogramState: MiniprogramState =
    stage === 'prod' ? 'formal' : stage === 'local' || stage === 'test' ? 'developer' : 'trial';
  return { templates, miniprogramState };
}

/**
 * The payment provider: a known one, and never the sandbox (which mints money) on a stage with
 * real money — unset included, so a missing line of deployment configuration cannot fall back to it.
 */
function paymentProviderOf(stage: Stage, raw: string | undefined): PaymentProviderName {
  const realMoney = RealMoneyStages.includes(stage);
  if (raw === undefined || raw === '') {
    if (realMoney) throw new Error(`config: PAYMENT_PROVIDER is required in ${stage}`);
    return 'sandbox';
  }
  const provider = PaymentProviders.find((p) => p === raw);
  if (provider === undefined) throw new Error(`config: unknown PAYMENT_PROVIDER ${raw}`);
  if (provider === 'sandbox' && realMoney)
    throw new Error(`config: PAYMENT_PROVIDER sandbox is refused in ${stage} (it credits wallets without payment)`);
  return provider;
}

/**
 * The dev-login guard of `stage` given `DEV_LOGIN_SECRET` (see {@link DevLogin}): off outside
 * {@link DevStages} whatever the secret; a configured secret is always required; without one,
 * open only on the local stages. Throws on a secret too short to be random.
 */
export function devLoginFor(stage: Stage, raw: string | undefined): DevLogin {
  if (!DevStages.includes(stage)) return { mode: 'off' };
  const secret = raw?.trim();
  if (secret) {
    if (secret.length < MIN_DEV_LOGIN_SECRET_CHARS)
      throw new Error(`config: DEV_LOGIN_SECRET must be at least ${MIN_DEV_LOGIN_SECRET_CHARS} characters`);
    return { mode: 'secret', secret: Buffer.from(secret, 'utf8') };
  }
  return LOCAL_STAGES.includes(stage) ? { mode: 'open' } : { mode: 'off' };
}

const WXPAY_REQUIRED = [
  'WXPAY_MCHID',
  'WXPAY_MCH_SERIAL',
  'WXPAY_MCH_PRIVATE_KEY',
  'WXPAY_APIV3_KEY',
  'WXPAY_PLATFORM_KEYS',
  'WXPAY_NOTIFY_URL',
] as const;

/**
 * WeChat Pay settings, or undefined when none is set. Partly set is a mistake and throws, as
 * does a key that the adapter's own checks refuse (createWeChatPay: RSA merchant key, 32-byte
 * APIv3 key, at least one parseable platform key), so a bad secret fails the cold start, not the
 * first withdrawal. `WXPAY_PLATFORM_KEYS` is JSON: serial or `PUB_KEY_ID_…` → PEM.
 */
export function loadWeChatPay(env: NodeJS.ProcessEnv): WeChatPaySettings | undefined {
  const set = WXPAY_REQUIRED.filter((n) => env[n] !== undefined && env[n] !== '');
  if (set.length === 0) return undefined;
  if (set.length < WXPAY_REQUIRED.length) {
    throw new Error(
      `config: WeChat Pay is partly configured; missing ${WXPAY_REQUIRED.filter((n) => !set.includes(n)).join(', ')}`,
    );
  }
  const appid = env.WXPAY_APPID || env.WX_APPID;
  if (!appid) throw new Error('config: WXPAY_APPID (or WX_APPID) is required with WeChat Pay');
  let platformKeys: Record<string, string>;
  try {
    const parsed: unknown = JSON.parse(required(env, 'WXPAY_PLATFORM_KEYS'));
    if (
      parsed === null ||
      typeof parsed !== 'object' ||
      Array.isArray(parsed) ||
      !Object.values(parsed).every((v) => typeof v === 'string')
    )
      throw new Error('shape');
    platformKeys = parsed as Record<string, string>;
  } catch {
    throw new Error('config: WXPAY_PLATFORM_KEYS must be a JSON object of serial → PEM');
  }
  const notifyUrl = required(env, 'WXPAY_NOTIFY_URL');
  if (!/^https?:\/\//.test(notifyUrl)) throw new Error('config: WXPAY_NOTIFY_URL must be an http(s) URL');
  const timeoutMs = env.WXPAY_TIMEOUT_MS === undefined ? undefined : Number.parseInt(env.WXPAY_TIMEOUT_MS, 10);
  if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 30_000))
    throw new Error('config: WXPAY_TIMEOUT_MS must be 100..30000');
  const settings: WeChatPaySettings = {
    baseUrl: env.WXPAY_API_BASE || 'https://api.mch.weixin.qq.com',
    mchid: required(env, 'WXPAY_MCHID'),
    appid,
    merchantSerialNo: required(env, 'WXPAY_MCH_SERIAL'),
    merchantPrivateKey: required(env, 'WXPAY_MCH_PRIVATE_KEY'),
    apiV3Key: required(env, 'WXPAY_APIV3_KEY'),
    platformKeys,
    notifyUrl,
    transferSceneId: env.WXPAY_TRANSFER_SCENE_ID || '1000',
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  };
  try {
    createWeChatPay(settings);
  } catch (err) {
    throw new Error(`config: WeChat Pay keys refused (${err instanceof Error ? err.message : 'bad key'})`);
  }
  return settings;
}

let cached: Config | undefined;
/** The configuration of this process, read once at cold start. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
