#!/usr/bin/env node

/**
 * `npm start` — the local stack:
 *   - dynalite in this process (data in .data/dynalite, survives restarts), table hongbao-local
 *     from infra/table.json;
 *   - local secrets generated once into .data/secrets.json and reused;
 *   - the API: `osls offline start --stage local` (serverless-offline, in-process handlers)
 *     on http://localhost:$API_PORT (3000);
 *   - the app: a static server for client/dist/h5 (or client/placeholder) on $APP_PORT (10086);
 *     it also answers code links, `/o/<code>` (the API's PUBLIC_BASE_URL is this app's URL);
 *   - the WeChat Pay simulator (`tsx scripts/wxpay-sim/cli.ts`, its own process) on
 *     $WXPAY_SIM_PORT (3010), with its keys (merchant and platform key pairs, APIv3 key) in
 *     .data/wxpay-sim-keys.json, generated once; the API's real WeChat Pay adapter talks to it.
 *   - the S3-protocol stand-in for the avatar bucket (scripts/s3-sim, in this process) on
 *     $S3_SIM_PORT (3012), objects under .data/s3/; the API's real S3 adapter talks to it.
 *   - the WeChat open-API simulator (`tsx scripts/wx-sim/cli.ts`, its own process) on
 *     $WX_SIM_PORT (3011): access tokens, subscribe messages and jscode2session for the API's
 *     real adapters (WX_API_BASE), with a local WX_SECRET generated once into .data/secrets.json;
 * Ctrl-C stops everything.
 *
 * Environment: WX_SIM_PORT (3011), API_PORT (3000), APP_PORT (10086), DYNAMO_PORT (8000; another free port is
 * taken when the default is busy), LAMBDA_PORT (API_PORT + 2, serverless-offline's invoke
 * port), LOCAL_SWEEP_SCHEDULE=false (no sweep every minute), READY_TIMEOUT_MS (180000).
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { ROOT, startDynalite, ensureTable, DEFAULT_REGION } = require('./local-store.js');

const t0 = Date.now();
const STAGE = 'local';
const TABLE_NAME = `hongbao-${STAGE}`;
// HONGBAO_DATA_DIR lets the end-to-end tests run an isolated stack beside a developer's.
const DATA_DIR = path.resolve(ROOT, process.env.HONGBAO_DATA_DIR || '.data');
const SECRETS_FILE = path.join(DATA_DIR, 'secrets.json');

function intEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) fail(`${name} must be a port number, got ${JSON.stringify(raw)}`);
  return n;
}

function log(msg) {
  console.log(`[start] ${msg}`);
}

function fail(msg) {
  console.error(`[start] ERROR: ${msg}`);
  process.exit(1);
}

const API_PORT = intEnv('API_PORT', 3000);
const APP_PORT = intEnv('APP_PORT', 10086);
const LAMBDA_PORT = intEnv('LAMBDA_PORT', API_PORT + 2);
const DYNAMO_PORT_SET = process.env.DYNAMO_PORT !== undefined && process.env.DYNAMO_PORT !== '';
const DYNAMO_PORT = intEnv('DYNAMO_PORT', 8000);
const READY_TIMEOUT_MS = intEnv('READY_TIMEOUT_MS', 180000);
const WXPAY_SIM_PORT = intEnv('WXPAY_SIM_PORT', 3010);
const WXPAY_SIM_URL = `http://127.0.0.1:${WXPAY_SIM_PORT}`;
const WXPAY_KEYS_FILE = path.join(DATA_DIR, 'wxpay-sim-keys.json');

// ---- Avatars: the S3-protocol stand-in (scripts/s3-sim) ----
const S3_SIM_PORT = intEnv('S3_SIM_PORT', 3012);
const S3_SIM_URL = `http://127.0.0.1:${S3_SIM_PORT}`;
const AVATAR_BUCKET = 'hongbao-avatars-local';
let s3Sim;
/** Starts the stand-in in this process; objects persist under .data/s3/<bucket>/. */
async function startAvatarStore() {
  if (!(await portFree(S3_SIM_PORT)))
    fail(
      `port ${S3_SIM_PORT} (S3_SIM_PORT) is in use — is another \`npm start\` running? Set S3_SIM_PORT to use another port.`,
    );
  const { startS3Sim } = require('./s3-sim/sim.js');
  const dir = path.join(DATA_DIR, 's3');
  // Signatures checked with the same dummy credentials the API process gets below.
  s3Sim = await startS3Sim({ port: S3_SIM_PORT, dir, buckets: [AVATAR_BUCKET], credentials: { local: 'local' } });
  log(`S3 stand-in at ${S3_SIM_URL} (bucket ${AVATAR_BUCKET}, objects in ${path.relative(ROOT, dir)}/)`);
}
/** What the API needs to reach it (serverless.env.yml S3_ENDPOINT, serverless.yml custom.avatarBucket). */
const avatarEnv = () => ({ S3_ENDPOINT: S3_SIM_URL, AVATAR_BUCKET });
// ---- end Avatars ----
const WX_SIM_PORT = intEnv('WX_SIM_PORT', 3011);
const WX_SIM_URL = `http://127.0.0.1:${WX_SIM_PORT}`;
const API_URL = `http://localhost:${API_PORT}`;
const APP_URL = `http://localhost:${APP_PORT}`;
const HEALTH_URL = `${API_URL}/v1/health`;

// ---------------------------------------------------------------------------------------------
// Secrets

/** Local-only secrets, generated once. Same formats as on AWS (see serverless.yml). */
function localSecrets() {
  fs.mkdirSync(DATA_DIR, { recursive: true });
  if (fs.existsSync(SECRETS_FILE)) {
    const s = JSON.parse(fs.readFileSync(SECRETS_FILE, 'utf8'));
    if (typeof s.CODE_KEYS === 'string' && typeof s.SESSION_SECRET === 'string') return { secrets: s, created: false };
    log(`${path.relative(ROOT, SECRETS_FILE)} is malformed: generating new secrets`);
  }
  const secrets = {
    CODE_KEYS: `k1:${crypto.randomBytes(32).toString('base64')}`,
    SESSION_SECRET: crypto.randomBytes(32).toString('base64'),
  };
  fs.writeFileSync(SECRETS_FILE, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return { secrets, created: true };
}

const WXPAY_KEY_FIELDS = [
  'mchid',
  'appid',
  'merchantSerialNo',
  'merchantPrivateKey',
  'merchantPublicKey',
  'apiV3Key',
  'platformPublicKeyId',
  'platformPrivateKey',
  'platformPublicKey',
];

/**
 * The WeChat Pay simulator's keys (the same file and format as scripts/wxpay-sim/keys.ts reads):
 * our merchant key pair, the simulator's platform key pair and the APIv3 key, generated once like
 * the other local secrets, so orders made before a restart still verify after it.
 */
function wxpaySimKeys() {
  if (fs.existsSync(WXPAY_KEYS_FILE)) {
    const k = JSON.parse(fs.readFileSync(WXPAY_KEYS_FILE, 'utf8'));
    if (WXPAY_KEY_FIELDS.every((f) => typeof k[f] === 'string' && k[f] !== '')) return { keys: k, created: false };
    fail(
      `${path.relative(ROOT, WXPAY_KEYS_FILE)} is not a WeChat Pay simulator key file: move it away and start again`,
    );
  }
  const pair = () =>
    crypto.generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
  const digits = (n) => Array.from(crypto.randomBytes(n), (b) => String(b % 10)).join('');
  const merchant = pair();
  const platform = pair();
  const mchid = `19${digits(8)}`;
  const keys = {
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
  const tmp = `${WXPAY_KEYS_FILE}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(keys, null, 2), { mode: 0o600 });
  fs.renameSync(tmp, WXPAY_KEYS_FILE);
  return { keys, created: true };
}

/** The local stage's WeChat Pay settings (functions/src/config.ts loadWeChatPay): the simulator, our merchant key. */
function wxpayEnv(keys) {
  return {
    WXPAY_API_BASE: WXPAY_SIM_URL,
    WXPAY_MCHID: keys.mchid,
    WXPAY_APPID: keys.appid,
    WXPAY_MCH_SERIAL: keys.merchantSerialNo,
    WXPAY_MCH_PRIVATE_KEY: keys.merchantPrivateKey,
    WXPAY_APIV3_KEY: keys.apiV3Key,
    WXPAY_PLATFORM_KEYS: JSON.stringify({ [keys.platformPublicKeyId]: keys.platformPublicKey }),
    WXPAY_NOTIFY_URL: `${API_URL}/v1/pay/wechat/notify`,
  };
}

// ---------------------------------------------------------------------------------------------
// WeChat open-API simulator (access tokens, subscribe messages, jscode2session)

/** The local subscribe-message templates: ids of our own, the default keywords (config.ts WX_TMPL_*). */
const LOCAL_TEMPLATES = {
  WX_TMPL_PACKET_FINISHED: 'local_tmpl_packet_finished',
  WX_TMPL_REFUND_ARRIVED: 'local_tmpl_refund_arrived',
  WX_TMPL_WITHDRAWAL_ARRIVED: 'local_tmpl_withdrawal_arrived',
};

/**
 * The mini-program's settings on this machine: the appid WeChat Pay's simulator already uses
 * (one mini-program, as on AWS) and an AppSecret generated once, kept beside the other local
 * secrets (added to an existing .data/secrets.json without touching its other values).
 */
function wxEnv(secrets, wxpayKeys) {
  if (typeof secrets.WX_SECRET !== 'string' || secrets.WX_SECRET.length < 32) {
    secrets.WX_SECRET = crypto.randomBytes(16).toString('hex');
    fs.writeFileSync(SECRETS_FILE, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  }
  return { WX_API_BASE: WX_SIM_URL, WX_APPID: wxpayKeys.appid, WX_SECRET: secrets.WX_SECRET, ...LOCAL_TEMPLATES };
}

// ---------------------------------------------------------------------------------------------
// Checks before starting anything

function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, () => srv.close(() => resolve(true)));
  });
}

/** Handler files named in serverless.yml that do not exist yet (clear message instead of a bundle error). */
function missingHandlers() {
  const yml = fs.readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8');
  const missing = [];
  for (const m of yml.matchAll(/^\s+handler:\s*['"]?([\w./-]+)\.\w+['"]?\s*$/gm)) {
    const base = path.join(ROOT, m[1]);
    if (!['.ts', '.js', '.mts', '.mjs'].some((ext) => fs.existsSync(base + ext))) missing.push(`${m[1]}.ts`);
  }
  return missing;
}

const PID_FILE = path.join(DATA_DIR, 'start.pid');
let pidFileOwned = false;

function claimDataDir() {
  fs.mkdirSync(DATA_DIR, { recursive: true });
  const other = Number.parseInt(fs.existsSync(PID_FILE) ? fs.readFileSync(PID_FILE, 'utf8') : '', 10);
  if (Number.isInteger(other) && other > 0 && other !== process.pid) {
    let alive = false;
    try {
      process.kill(other, 0);
      alive = true;
    } catch (err) {
      alive = err?.code === 'EPERM';
    }
    if (alive) fail(`another \`npm start\` (pid ${other}) is using ${path.relative(ROOT, DATA_DIR)}/ — stop it first.`);
  }
  fs.writeFileSync(PID_FILE, `${process.pid}\n`);
  pidFileOwned = true;
}

function releaseDataDir() {
  if (!pidFileOwned) return;
  try {
    if (fs.readFileSync(PID_FILE, 'utf8').trim() === String(process.pid)) fs.unlinkSync(PID_FILE);
  } catch {
    /* gone */
  }
}

// ---------------------------------------------------------------------------------------------
// Static app server

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.webmanifest': 'application/manifest+json',
};

const H5_DIR = path.join(ROOT, 'client', 'dist', 'h5');

/** Newest modification time of the files below `dir` (0 when absent). */
function newestMtime(dir) {
  let newest = 0;
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return newest;
}

/**
 * Builds the H5 app when it is missing or older than its sources (client/src, client/config),
 * so a fresh clone's `npm start` serves the real app. SKIP_H5_BUILD=1 serves what exists.
 */
function ensureH5Build() {
  if (process.env.SKIP_H5_BUILD === '1' || !fs.existsSync(path.join(ROOT, 'client', 'config'))) return;
  const index = path.join(H5_DIR, 'index.html');
  const built = fs.existsSync(index) ? fs.statSync(index).mtimeMs : 0;
  const sources = Math.max(
    newestMtime(path.join(ROOT, 'client', 'src')),
    newestMtime(path.join(ROOT, 'client', 'config')),
  );
  if (built >= sources) return;
  log(
    built
      ? 'the H5 app is older than its sources: rebuilding (npm run build:h5, about 1–2 min)'
      : 'building the H5 app (npm run build:h5, about 1–2 min, first start only)',
  );
  const r = require('node:child_process').spawnSync('npm', ['run', '--silent', 'build:h5'], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) fail('the H5 build failed (npm run build:h5); see above');
}

function appDir() {
  if (fs.existsSync(path.join(H5_DIR, 'index.html'))) return { dir: H5_DIR, placeholder: false };
  return { dir: path.join(ROOT, 'client', 'placeholder'), placeholder: true };
}

/** The API's address, told to the H5 app at run time (its build does not know the port). */
function runtimeConfigScript() {
  // The WeChat Pay simulator's address too: the H5 app's 模拟微信支付 / 模拟确认收款 screens call its hooks.
  return `<script>window.__HONGBAO_API__=${JSON.stringify(API_URL)};window.__HONGBAO_WXPAY_SIM__=${JSON.stringify(WXPAY_SIM_URL)};</script>`;
}

// ---- Code links: /o/<code> on the app's port --------------------------------------------------
// Every code the API returns carries `link` = <PUBLIC_BASE_URL>/o/<code>, and locally that base is
// this server. A browser (or a phone camera) opening a link lands on the H5 app's open page for
// the code, which forwards a receive code to the pay page; a path that cannot hold a code gets a
// 400 page, not the app. Shape only — the same as functions/src/domain/links.ts isCodeShaped: the
// characters of a code, at most 106 of them; the API judges the code itself.
const LINK_CODE = /^[A-Za-z0-9._-]{1,106}$/;

/** Answers `/o/...` (true) or leaves the request to the static files (false). */
function serveCodeLink(req, res, rawPath) {
  if (rawPath !== '/o' && !rawPath.startsWith('/o/')) return false;
  let code = '';
  try {
    code = decodeURIComponent(rawPath.slice(3));
  } catch {
    code = '';
  }
  if (!LINK_CODE.test(code)) {
    const body = Buffer.from(
      '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>链接无效</title></head>' +
        '<body style="font-family:sans-serif;text-align:center;padding:3rem 1rem"><h1>链接无效</h1><p>这个链接不完整或已损坏，打不开红包。请让发红包的人重新分享。</p></body></html>\n',
    );
    res.writeHead(400, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-length': body.length,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }
  res.writeHead(302, {
    location: `/#/pages/open/index?c=${encodeURIComponent(code)}`,
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
  });
  res.end();
  return true;
}
// ---- end code links -----------------------------------------------------------------------------

function startStaticServer({ dir, placeholder }) {
  const root = path.resolve(dir);
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (serveCodeLink(req, res, (req.url ?? '/').split(/[?#]/)[0])) return;
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    let file = path.join(root, path.normalize(pathname));
    if (file !== root && !file.startsWith(root + path.sep)) {
      res.writeHead(403).end();
      return;
    }
    let stat = fs.statSync(file, { throwIfNoEntry: false });
    if (stat?.isDirectory()) {
      file = path.join(file, 'index.html');
      stat = fs.statSync(file, { throwIfNoEntry: false });
    }
    if (!stat?.isFile()) {
      // SPA fallback (H5 browser-mode routes); a missing asset with an extension stays a 404.
      if (path.extname(pathname) && path.extname(pathname) !== '.html') {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
        return;
      }
      file = path.join(root, 'index.html');
      stat = fs.statSync(file, { throwIfNoEntry: false });
      if (!stat?.isFile()) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
        return;
      }
    }
    const ext = path.extname(file).toLowerCase();
    const headers = {
      'content-type': CONTENT_TYPES[ext] ?? 'application/octet-stream',
      'cache-control': ext === '.html' ? 'no-cache' : 'public, max-age=300',
      'x-content-type-options': 'nosniff',
    };
    if (ext === '.html') {
      const html = fs.readFileSync(file, 'utf8');
      const body = Buffer.from(
        placeholder
          ? html.replaceAll('__API_URL__', API_URL)
          : html.replace('<head>', `<head>${runtimeConfigScript()}`),
      );
      res.writeHead(200, { ...headers, 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': stat.size });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    fs.createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(APP_PORT, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Health wait

function getStatus(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 3000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

// ---------------------------------------------------------------------------------------------
// Main

let shuttingDown = false;
let offline; // ChildProcess
let offlineExited;
let wxpaySim; // ChildProcess
let wxpaySimExited;
let wxSim; // ChildProcess (WeChat open-API simulator)
let wxSimExited;
let appServer;
let store;

async function shutdown(code, why) {
  if (shuttingDown) return;
  shuttingDown = true;
  if (why) log(why);
  if (offline && offline.exitCode === null && offline.signalCode === null) {
    try {
      process.kill(-offline.pid, 'SIGTERM'); // the whole group: osls and anything it started
    } catch {
      /* already gone */
    }
    const killer = setTimeout(() => {
      try {
        process.kill(-offline.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, 5000);
    await offlineExited;
    clearTimeout(killer);
  }
  if (wxpaySim && wxpaySim.exitCode === null && wxpaySim.signalCode === null) {
    try {
      process.kill(-wxpaySim.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    await wxpaySimExited;
  }
  if (s3Sim) await s3Sim.close().catch((err) => console.error('[start] closing the S3 stand-in:', err));
  if (wxSim && wxSim.exitCode === null && wxSim.signalCode === null) {
    try {
      process.kill(-wxSim.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    await wxSimExited;
  }
  if (appServer) {
    await new Promise((r) => {
      appServer.close(() => r());
      appServer.closeAllConnections();
    });
  }
  if (store) await store.close().catch((err) => console.error('[start] closing dynalite:', err));
  releaseDataDir();
  log('stopped');
  process.exit(code);
}

async function main() {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => shutdown(0, `${sig}: stopping`));

  const missing = missingHandlers();
  if (missing.length) fail(`handler files named in serverless.yml do not exist yet:\n  ${missing.join('\n  ')}`);
  for (const [name, port] of [
    ['API_PORT', API_PORT],
    ['APP_PORT', APP_PORT],
    ['LAMBDA_PORT', LAMBDA_PORT],
    ['WXPAY_SIM_PORT', WXPAY_SIM_PORT],
    ['WX_SIM_PORT', WX_SIM_PORT],
  ]) {
    if (!(await portFree(port)))
      fail(`port ${port} (${name}) is in use — is another \`npm start\` running? Set ${name} to use another port.`);
  }

  // 1. Store. LevelDB allows one process per directory (dynalite crashes on a locked one), so
  // claim .data/ first with a pid file.
  claimDataDir();
  const dbPath = path.join(DATA_DIR, 'dynalite');
  try {
    store = await startDynalite({ port: DYNAMO_PORT, host: '127.0.0.1', path: dbPath });
  } catch (err) {
    if (err?.code === 'EADDRINUSE' && !DYNAMO_PORT_SET) {
      store = await startDynalite({ port: 0, host: '127.0.0.1', path: dbPath });
    } else {
      throw err;
    }
  }
  const created = await ensureTable(store.endpoint, TABLE_NAME);
  log(
    `dynalite at ${store.endpoint} (data in ${path.relative(ROOT, dbPath)}/), table ${TABLE_NAME} ${created ? 'created' : 'found'}`,
  );

  // 2. Secrets
  const { secrets, created: secretsCreated } = localSecrets();
  log(`local secrets ${secretsCreated ? 'generated into' : 'read from'} ${path.relative(ROOT, SECRETS_FILE)}`);

  // 2b. WeChat Pay simulator (its own process group), ready before the API takes orders.
  const { created: wxKeysCreated, keys: wxKeys } = wxpaySimKeys();
  log(
    `WeChat Pay simulator keys ${wxKeysCreated ? 'generated into' : 'read from'} ${path.relative(ROOT, WXPAY_KEYS_FILE)}`,
  );
  const tsx = path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'tsx.cmd' : 'tsx');
  wxpaySim = spawn(tsx, [path.join('scripts', 'wxpay-sim', 'cli.ts')], {
    cwd: ROOT,
    detached: true,
    stdio: 'inherit',
    env: { ...process.env, WXPAY_SIM_PORT: String(WXPAY_SIM_PORT), HONGBAO_DATA_DIR: DATA_DIR },
  });
  wxpaySimExited = new Promise((resolve) => wxpaySim.once('exit', resolve));
  wxpaySim.once('exit', (code, signal) => {
    if (!shuttingDown) shutdown(1, `the WeChat Pay simulator exited (${signal ?? `code ${code}`})`);
  });
  const simDeadline = Date.now() + 60000;
  while (!shuttingDown && (await getStatus(`${WXPAY_SIM_URL}/sim/state`)) !== 200) {
    if (Date.now() > simDeadline) return shutdown(1, `the WeChat Pay simulator did not answer on ${WXPAY_SIM_URL}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  // 2c. Avatars: the S3 stand-in.
  await startAvatarStore();
  // 2d. WeChat open-API simulator (its own process group): the API's login exchange and
  // subscribe messages go to it (WX_API_BASE).
  const wx = wxEnv(secrets, wxKeys);
  wxSim = spawn(tsx, [path.join('scripts', 'wx-sim', 'cli.ts')], {
    cwd: ROOT,
    detached: true,
    stdio: 'inherit',
    env: { ...process.env, ...wx, WX_SIM_PORT: String(WX_SIM_PORT) },
  });
  wxSimExited = new Promise((resolve) => wxSim.once('exit', resolve));
  wxSim.once('exit', (code, signal) => {
    if (!shuttingDown) shutdown(1, `the WeChat open-API simulator exited (${signal ?? `code ${code}`})`);
  });
  const wxSimDeadline = Date.now() + 60000;
  while (!shuttingDown && (await getStatus(`${WX_SIM_URL}/sim/state`)) !== 200) {
    if (Date.now() > wxSimDeadline) return shutdown(1, `the WeChat open-API simulator did not answer on ${WX_SIM_URL}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  // 3. App (static), built first if needed
  ensureH5Build();
  const app = appDir();
  appServer = await startStaticServer(app);
  log(
    `serving ${path.relative(ROOT, app.dir)}/ on port ${APP_PORT}${app.placeholder ? ' (placeholder: no client/dist/h5 build yet)' : ''}`,
  );

  // 4. API (serverless-offline). Own process group so Ctrl-C is handled here, then the whole group stopped.
  const osls = path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'osls.cmd' : 'osls');
  const args = [
    'offline',
    'start',
    '--stage',
    STAGE,
    '--httpPort',
    String(API_PORT),
    '--lambdaPort',
    String(LAMBDA_PORT),
    '--useInProcess',
    '--noPrependStageInUrl',
    '--noSponsor',
  ];
  log(`starting the API: osls ${args.join(' ')}`);
  const env = {
    ...process.env,
    DYNAMODB_ENDPOINT: store.endpoint,
    CODE_KEYS: secrets.CODE_KEYS,
    SESSION_SECRET: secrets.SESSION_SECRET,
    ...wxpayEnv(wxKeys),
    // Code links point at this machine's app (serveCodeLink above answers them).
    PUBLIC_BASE_URL: APP_URL,
    ...avatarEnv(),
    ...wx,
    // Dummy credentials: nothing local may reach a real AWS account.
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: DEFAULT_REGION,
    AWS_DEFAULT_REGION: DEFAULT_REGION,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  for (const name of ['AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_DEFAULT_PROFILE']) delete env[name];
  offline = spawn(osls, args, { cwd: ROOT, detached: true, stdio: 'inherit', env });
  offlineExited = new Promise((resolve) => offline.once('exit', resolve));
  offline.once('exit', (code, signal) => {
    if (!shuttingDown) shutdown(1, `the API process exited (${signal ?? `code ${code}`})`);
  });
  offline.once('error', (err) => {
    if (!shuttingDown) shutdown(1, `could not start the API process: ${err.message}`);
  });

  // 5. Ready when the health route answers 200 (handler + store both up).
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let status = 0;
  while (!shuttingDown) {
    status = await getStatus(HEALTH_URL);
    if (status === 200) break;
    if (Date.now() > deadline)
      return shutdown(
        1,
        `${HEALTH_URL} did not answer 200 within ${READY_TIMEOUT_MS} ms (last status ${status || 'no answer'})`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
  if (shuttingDown) return;

  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  const line = '─'.repeat(60);
  console.log(
    `\n${line}\n  红包码 local stack ready in ${secs} s\n\n  API  ${API_URL}   (health: ${HEALTH_URL})\n  WeChat Pay simulator ${WXPAY_SIM_URL}\n  WeChat open-API simulator ${WX_SIM_URL}\n  App  ${APP_URL}${app.placeholder ? '   (placeholder page)' : ''}\n\n  Store ${store.endpoint}  table ${TABLE_NAME}   Ctrl-C to stop\n${line}\n`,
  );
  console.log(`  Avatars: S3 stand-in ${S3_SIM_URL}  bucket ${AVATAR_BUCKET}\n`);
}

main().catch((err) => {
  console.error('[start] ERROR:', err);
  shutdown(1);
});
