/**
 * @jest-environment node
 *
 * The WeChat build's main package stays under WeChat's 2 MB limit. Measures client/dist/weapp
 * with scripts/weapp-size.js, building it first (npm run build:weapp, ~20–45 s) when it is
 * missing or older than the client's sources.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const DIST = path.join(ROOT, 'client', 'dist', 'weapp');

function newest(dir: string): number {
  let t = 0;
  if (!fs.existsSync(dir)) return t;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

test('weapp main package < 2 MB', () => {
  const built = fs.existsSync(path.join(DIST, 'app.json')) ? fs.statSync(path.join(DIST, 'app.json')).mtimeMs : 0;
  const sources = Math.max(newest(path.join(ROOT, 'client', 'src')), newest(path.join(ROOT, 'client', 'config')));
  if (built < sources) {
    const b = spawnSync('npm', ['run', '--silent', 'build:weapp'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: '1' } });
    if (b.status !== 0) throw new Error(`npm run build:weapp failed (${b.status}):\n${(b.stdout + b.stderr).slice(-4000)}`);
  }
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'weapp-size.js'), DIST, '--json'], { encoding: 'utf8' });
  const report = JSON.parse(r.stdout) as { mainBytes: number; limit: number; ok: boolean };
  expect(report.limit).toBe(2 * 1024 * 1024);
  expect(report.mainBytes).toBeGreaterThan(50 * 1024); // a real build, not an empty folder
  expect(report.mainBytes).toBeLessThan(2 * 1024 * 1024);
  expect(r.status).toBe(0);
}, 300_000);
