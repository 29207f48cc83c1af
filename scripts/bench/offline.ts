/**
 * The real local stack: `osls offline start --stage local --useInProcess` as a child process in its
 * own process group (stopped as a group), pointed at the bench's dynalite. Output goes to a log
 * file, not to the bench's stdout.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { REGION } from './store';

const ROOT = path.resolve(__dirname, '..', '..');

export interface Offline {
  base: string;
  startedInMs: number;
  stop(): Promise<void>;
}

export interface OfflineOptions {
  httpPort: number;
  lambdaPort: number;
  dynamoEndpoint: string;
  codeKeys: string;
  sessionSecret: string;
  logFile: string;
  readyTimeoutMs: number;
}

function getStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 3000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

function tail(file: string, lines = 25): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

let running: ChildProcess | undefined;

/** Synchronous last-resort kill of the group (process 'exit' handler). */
export function killOfflineSync(): void {
  if (running?.pid && running.exitCode === null && running.signalCode === null) {
    try {
      process.kill(-running.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

export async function startOffline(o: OfflineOptions): Promise<Offline> {
  const t0 = Date.now();
  const osls = path.join(ROOT, 'node_modules', '.bin', 'osls');
  if (!fs.existsSync(osls)) throw new Error(`${path.relative(ROOT, osls)} does not exist`);
  const args = [
    'offline',
    'start',
    '--stage',
    'local',
    '--host',
    '127.0.0.1',
    '--httpPort',
    String(o.httpPort),
    '--lambdaPort',
    String(o.lambdaPort),
    '--useInProcess',
    '--noPrependStageInUrl',
    '--noSponsor',
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DYNAMODB_ENDPOINT: o.dynamoEndpoint,
    CODE_KEYS: o.codeKeys,
    SESSION_SECRET: o.sessionSecret,
    LOG_REQUESTS: '0',
    // No sweep every minute during the measurement.
    LOCAL_SWEEP_SCHEDULE: 'false',
    // Dummy credentials: nothing local may reach a real AWS account.
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
  };
  for (const name of ['AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_DEFAULT_PROFILE']) delete env[name];
  fs.mkdirSync(path.dirname(o.logFile), { recursive: true });
  const out = fs.openSync(o.logFile, 'w');
  const child = spawn(osls, args, { cwd: ROOT, detached: true, stdio: ['ignore', out, out], env });
  fs.closeSync(out);
  running = child;
  let exited = false;
  let exitInfo = '';
  const exitedP = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      exitInfo = signal ? `signal ${signal}` : `code ${code}`;
      resolve();
    });
    child.once('error', (err) => {
      exited = true;
      exitInfo = `spawn error: ${err.message}`;
      resolve();
    });
  });

  const stop = async () => {
    if (!exited && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const killer = setTimeout(() => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }, 5000);
      await exitedP;
      clearTimeout(killer);
    }
    running = undefined;
  };

  const base = `http://127.0.0.1:${o.httpPort}`;
  const deadline = Date.now() + o.readyTimeoutMs;
  let status = 0;
  while (!exited) {
    status = await getStatus(`${base}/v1/health`);
    if (status === 200) return { base, startedInMs: Date.now() - t0, stop };
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(
    exited
      ? `osls offline exited (${exitInfo}) before answering; log tail:\n${tail(o.logFile)}`
      : `${base}/v1/health did not answer 200 within ${o.readyTimeoutMs} ms (last status ${status || 'none'}); log tail:\n${tail(o.logFile)}`,
  );
}
