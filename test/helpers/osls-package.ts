/**
 * `osls package` / `osls print` for the tests, offline and without AWS credentials, with the
 * packages cached: test/integration/serverless-package.test.ts and prod-boots.test.ts read the
 * same prod package, and a package is a build of every function.
 *
 * The cache is keyed by the worktree and a hash of everything that goes into a package
 * (serverless*.yml, infra/, functions/, package.json, tsconfig.json) and lives under the OS temp
 * folder; only a package that exited 0 is cached, and a new one replaces the worktree's older
 * ones of that stage. One osls at a time per worktree (a lock folder): they share the
 * worktree's .esbuild folder, and two test files may package in parallel workers.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
const OSLS = path.join(ROOT, 'node_modules', '.bin', 'osls');

/**
 * Canary values put into the packaging environment: the local stage reads such variables
 * (`${env:...}`), so finding one in a prod artifact would mean the wrong stage was resolved.
 */
export const CANARIES: Record<string, string> = {
  WX_APPID: 'wx-canary-appid-3f9a1c',
  WX_SECRET: 'wx-canary-secret-8d2e7b',
  DYNAMODB_ENDPOINT: 'http://canary-endpoint.invalid:8000',
};

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Packaged {
  run: Run;
  /** The package folder (zips, templates, serverless-state.json); shared: read only. */
  dir: string;
  /** Set when the package exited 0. */
  templateText?: string;
  template?: any;
  stateText?: string;
}

const CACHE = path.join(os.tmpdir(), 'hongbao-osls-packages');
/** This worktree's share of the cache (worktrees package in parallel, each under its own lock). */
const ROOT_ID = createHash('sha256').update(ROOT).digest('hex').slice(0, 12);
const INPUTS = ['serverless.yml', 'serverless.env.yml', 'infra', 'functions', 'package.json', 'tsconfig.json'];

/** The packaging environment: this process's, plus the canaries, minus every AWS credential source. */
export function packageEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...CANARIES };
  for (const k of Object.keys(env))
    if (/^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE|DEFAULT_PROFILE)$/.test(k)) delete env[k];
  const nowhere = path.join(os.tmpdir(), `hongbao-no-aws-${process.pid}`);
  env.AWS_CONFIG_FILE = path.join(nowhere, 'config');
  env.AWS_SHARED_CREDENTIALS_FILE = path.join(nowhere, 'credentials');
  env.AWS_EC2_METADATA_DISABLED = 'true';
  env.SLS_TELEMETRY_DISABLED = '1';
  return env;
}

function hashInputs(): string {
  const h = createHash('sha256');
  const walk = (rel: string) => {
    const abs = path.join(ROOT, rel);
    if (!fs.existsSync(abs)) return;
    if (fs.statSync(abs).isDirectory()) {
      for (const e of fs.readdirSync(abs).sort()) walk(path.join(rel, e));
      return;
    }
    h.update(rel).update('\0').update(fs.readFileSync(abs)).update('\0');
  };
  for (const i of INPUTS) walk(i);
  return h.digest('hex').slice(0, 16);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs `f` holding this worktree's osls lock (a folder; a dead holder's lock is taken over). */
async function withOslsLock<T>(f: () => Promise<T>, budgetMs = 300_000): Promise<T> {
  fs.mkdirSync(CACHE, { recursive: true });
  const lock = path.join(CACHE, `lock-${ROOT_ID}`);
  const until = Date.now() + budgetMs;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number.parseInt(
        fs.existsSync(path.join(lock, 'pid')) ? fs.readFileSync(path.join(lock, 'pid'), 'utf8') : '',
        10,
      );
      if (Number.isInteger(holder) && !alive(holder)) fs.rmSync(lock, { recursive: true, force: true });
      if (Date.now() > until) throw new Error(`osls lock ${lock} still held after ${budgetMs / 1000} s`);
      await sleep(200);
    }
  }
  try {
    return await f();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

function spawnOsls(args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(OSLS, args, { cwd: ROOT, env: packageEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: `${stderr}\n${err.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout,
        stderr: signal ? `${stderr}\nkilled by ${signal} (${timeoutMs / 1000} s timeout?)` : stderr,
      });
    });
  });
}

/** `osls <args>` in the packaging environment, under the lock. */
export function oslsRun(args: string[], timeoutMs: number): Promise<Run> {
  return withOslsLock(() => spawnOsls(args, timeoutMs));
}

function read(dir: string, run: Run): Packaged {
  const templateText = fs.readFileSync(path.join(dir, 'cloudformation-template-update-stack.json'), 'utf8');
  return {
    run,
    dir,
    templateText,
    template: JSON.parse(templateText),
    stateText: fs.readFileSync(path.join(dir, 'serverless-state.json'), 'utf8'),
  };
}

/**
 * `osls package --stage <stage>`, or the cached package of the same inputs. A failed package
 * is returned (its output in `run`) and not cached.
 */
export async function packageStage(stage: string, timeoutMs = 200_000): Promise<Packaged> {
  return withOslsLock(async () => {
    const prefix = `${ROOT_ID}-${stage}-`;
    const dir = path.join(CACHE, `${prefix}${hashInputs()}`);
    const done = path.join(dir, '.complete');
    if (fs.existsSync(done)) return read(dir, JSON.parse(fs.readFileSync(done, 'utf8')) as Run);
    for (const old of fs.readdirSync(CACHE))
      if (old.startsWith(prefix)) fs.rmSync(path.join(CACHE, old), { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const run = await spawnOsls(['package', '--stage', stage, '--package', dir], timeoutMs);
    if (run.code !== 0) {
      fs.rmSync(dir, { recursive: true, force: true });
      return { run, dir };
    }
    fs.writeFileSync(done, JSON.stringify(run));
    return read(dir, run);
  }, timeoutMs + 120_000);
}
