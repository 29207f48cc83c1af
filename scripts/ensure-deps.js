#!/usr/bin/env node

/**
 * Installs npm dependencies when node_modules is missing or older than package-lock.json.
 * Run first by `npm start`, `npm test` and `npm run bench`; a no-op (a hash of one file) when
 * up to date. Plain Node, no dependencies.
 *
 * Uses `npm install`, not `npm ci`: `npm ci` fails once the Taro client is in the lock file
 * (missing other-platform @tarojs/binding packages); `npm install` with the
 * committed lock file leaves it unchanged.
 *
 * HONGBAO_SKIP_DEPS=1 skips the check. `--stamp` only records the current lock hash (for a
 * caller that has just run `npm install` itself, e.g. .ci/run).
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const lockFile = path.join(root, 'package-lock.json');
const modulesDir = path.join(root, 'node_modules');
const stampFile = path.join(modulesDir, '.hongbao-lock-hash');

function log(msg) {
  console.log(`[ensure-deps] ${msg}`);
}

function lockHash() {
  if (!fs.existsSync(lockFile))
    return `no-lock:${crypto
      .createHash('sha256')
      .update(fs.readFileSync(path.join(root, 'package.json')))
      .digest('hex')}`;
  return crypto.createHash('sha256').update(fs.readFileSync(lockFile)).digest('hex');
}

function main() {
  if (process.env.HONGBAO_SKIP_DEPS === '1') return;
  const want = lockHash();
  if (process.argv.includes('--stamp')) {
    if (!fs.existsSync(modulesDir)) {
      log('--stamp: node_modules is missing; run npm install first');
      process.exit(1);
    }
    fs.writeFileSync(stampFile, `${want}\n`);
    log('recorded the package-lock.json hash in node_modules/.hongbao-lock-hash');
    return;
  }
  let reason;
  if (!fs.existsSync(modulesDir)) reason = 'node_modules is missing';
  else if (!fs.existsSync(stampFile)) reason = 'node_modules has no install stamp';
  else if (fs.readFileSync(stampFile, 'utf8').trim() !== want)
    reason = 'package-lock.json changed since the last install';
  if (!reason) {
    log('node_modules is up to date with package-lock.json');
    return;
  }

  log(`${reason}: running npm install --no-audit --no-fund`);
  const started = Date.now();
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const res = spawnSync(npm, ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (res.error) {
    log(`could not run npm: ${res.error.message}`);
    process.exit(1);
  }
  if (res.status !== 0) {
    log(`npm install failed with exit code ${res.status}`);
    process.exit(res.status ?? 1);
  }
  // Hash again: npm install may rewrite the lock file (it should not with a committed lock).
  fs.mkdirSync(modulesDir, { recursive: true });
  fs.writeFileSync(stampFile, `${lockHash()}\n`);
  log(`dependencies installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main();
