#!/usr/bin/env node

/**
 * Builds the Taro client: `node scripts/build-client.js weapp|h5` (npm run build:weapp / build:h5).
 *
 * Runs `taro build --type <platform>` in client/ with NODE_ENV=production whatever the caller's
 * environment (Taro keeps an existing NODE_ENV: under Jest, NODE_ENV=test would give a
 * development build with React Refresh hooks that do not run in a static build). Output:
 * client/dist/<platform>. For weapp it then measures the main package (scripts/weapp-size.js)
 * and fails when the main package is over 1 MB (or a subpackage over 2 MB).
 *
 * Environment passed through to the app at build time: TARO_APP_API (API base URL),
 * TARO_APP_DEV_LOGIN (see client/config/index.ts).
 */
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const platform = process.argv[2];
if (platform !== 'weapp' && platform !== 'h5') {
  console.error('usage: node scripts/build-client.js weapp|h5');
  process.exit(2);
}
const root = path.resolve(__dirname, '..');
const taro = path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'taro.cmd' : 'taro');
const started = Date.now();
const r = spawnSync(taro, ['build', '--type', platform], {
  cwd: path.join(root, 'client'),
  stdio: 'inherit',
  env: { ...process.env, NODE_ENV: 'production' },
});
if (r.error) {
  console.error(`[build-client] could not run taro: ${r.error.message}`);
  process.exit(1);
}
if (r.status !== 0) process.exit(r.status ?? 1);
console.log(
  `[build-client] ${platform} built into client/dist/${platform} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
if (platform === 'weapp') {
  const s = spawnSync(
    process.execPath,
    [path.join(__dirname, 'weapp-size.js'), path.join(root, 'client', 'dist', 'weapp')],
    { stdio: 'inherit' },
  );
  process.exit(s.status ?? 1);
}
