import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Stack {
  api: string;
  app: string;
  /** The WeChat Pay simulator (its `/sim/...` hooks and `GET /sim/state`). */
  sim: string;
  /** The WeChat open-API simulator (`GET /sim/messages`, `POST /sim/login`, `POST /sim/faults`). */
  wx: string;
  stop(): Promise<void>;
  output(): string;
}

/**
 * The real local stack — `scripts/start.js`: dynalite, serverless-offline with the handlers, the
 * H5 build on a static server, the WeChat Pay simulator (start.js gives the API its WXPAY_*
 * settings and the app the simulator's address) — on free ports with its own data folder (its
 * own simulator keys too), so it runs beside a developer's `npm start`.
 */
export async function startStack(timeoutMs = 300_000): Promise<Stack> {
  const [apiPort, appPort, lambdaPort, dynamoPort, simPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const wxSimPort = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hongbao-e2e-'));
  // Avatars: the S3 stand-in start.js runs in its process, on a free port too.
  const s3Port = await freePort();
  let out = '';
  const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'scripts', 'start.js')], {
    cwd: ROOT,
    env: {
      ...process.env,
      API_PORT: String(apiPort),
      APP_PORT: String(appPort),
      LAMBDA_PORT: String(lambdaPort),
      DYNAMO_PORT: String(dynamoPort),
      WXPAY_SIM_PORT: String(simPort),
      S3_SIM_PORT: String(s3Port),
      WX_SIM_PORT: String(wxSimPort),
      HONGBAO_DATA_DIR: dataDir,
      LOCAL_SWEEP_SCHEDULE: 'false',
      LOG_REQUESTS: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: false,
  });
  child.stdout!.on('data', (b) => (out += String(b)));
  child.stderr!.on('data', (b) => (out += String(b)));
  const api = `http://localhost:${apiPort}`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the stack exited (${child.exitCode}):\n${out.slice(-3000)}`);
    if (/local stack ready/.test(out)) break;
    if (Date.now() - started > timeoutMs) {
      child.kill('SIGTERM');
      throw new Error(`the stack was not ready in ${timeoutMs} ms:\n${out.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    api,
    app: `http://localhost:${appPort}`,
    // The address start.js gives the API and the app (runtimeConfigScript).
    sim: `http://127.0.0.1:${simPort}`,
    wx: `http://127.0.0.1:${wxSimPort}`,
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A small JSON client for set-up steps that are not what a test is about. */
export async function call<T = any>(
  api: string,
  method: string,
  p: string,
  opts: { token?: string; body?: unknown; idem?: string } = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(api + p, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.idem ? { 'idempotency-key': opts.idem } : {}),
    },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as T };
}
