import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The WeChat build (client/dist/weapp) for the tests that read it: built once (npm run
 * build:weapp, ~15–45 s) when missing or older than the client's sources, then reused. Two test
 * files may ask at once (jest runs files in parallel): a lock directory makes the second wait for
 * the first's build instead of building into the same folder at the same time.
 */
export const ROOT = path.resolve(__dirname, '..', '..');
export const DIST = path.join(ROOT, 'client', 'dist', 'weapp');
const LOCK = path.join(ROOT, 'client', 'dist', '.weapp-build.lock');
/** A lock older than this is a crashed build's. */
const STALE_LOCK_MS = 10 * 60_000;

function newest(dir: string): number {
  let t = 0;
  if (!fs.existsSync(dir)) return t;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

function fresh(): boolean {
  const appJson = path.join(DIST, 'app.json');
  const built = fs.existsSync(appJson) ? fs.statSync(appJson).mtimeMs : 0;
  const sources = Math.max(newest(path.join(ROOT, 'client', 'src')), newest(path.join(ROOT, 'client', 'config')));
  return built >= sources;
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Builds client/dist/weapp unless it is up to date; throws with the build's output when it fails. */
export function ensureWeappBuild(): void {
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    if (fresh()) return;
    fs.mkdirSync(path.dirname(LOCK), { recursive: true });
    try {
      fs.mkdirSync(LOCK);
    } catch {
      // Someone else is building: wait for them, then look again.
      if (fs.existsSync(LOCK) && Date.now() - fs.statSync(LOCK).mtimeMs > STALE_LOCK_MS)
        fs.rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error('waited 5 minutes for another weapp build');
      sleep(1000);
      continue;
    }
    try {
      if (fresh()) return;
      const b = spawnSync('npm', ['run', '--silent', 'build:weapp'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, CI: '1' },
      });
      if (b.status !== 0)
        throw new Error(`npm run build:weapp failed (${b.status}):\n${(b.stdout + b.stderr).slice(-4000)}`);
      return;
    } finally {
      fs.rmSync(LOCK, { recursive: true, force: true });
    }
  }
}
