#!/usr/bin/env node
'use strict';
/**
 * Measures the WeChat mini-program build (client/dist/weapp) and fails above the main-package
 * limit (2 MB, WeChat's cap for the main package). The main package is everything in the build
 * except the subpackage roots named in app.json; source maps (*.map) are not uploaded and are
 * not counted.
 *
 *   node scripts/weapp-size.js [dir] [--json]
 * Exit codes: 0 within the limit, 1 above it, 2 no build found.
 */
const fs = require('node:fs');
const path = require('node:path');

const LIMIT = 2 * 1024 * 1024;
const args = process.argv.slice(2);
const json = args.includes('--json');
const dir = path.resolve(args.find((a) => !a.startsWith('--')) ?? path.join(__dirname, '..', 'client', 'dist', 'weapp'));

function measure(root) {
  const appJson = path.join(root, 'app.json');
  if (!fs.existsSync(appJson)) return null;
  const app = JSON.parse(fs.readFileSync(appJson, 'utf8'));
  const subRoots = [...(app.subPackages ?? []), ...(app.subpackages ?? [])].map((s) => String(s.root).replace(/\/+$/, '') + '/');
  const files = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (!e.name.endsWith('.map')) files.push({ file: path.relative(root, p).split(path.sep).join('/'), bytes: fs.statSync(p).size });
    }
  };
  walk(root);
  const main = files.filter((f) => !subRoots.some((r) => f.file.startsWith(r)));
  const mainBytes = main.reduce((a, f) => a + f.bytes, 0);
  const totalBytes = files.reduce((a, f) => a + f.bytes, 0);
  return { dir: root, mainBytes, totalBytes, limit: LIMIT, ok: mainBytes <= LIMIT, files: main.length, largest: main.sort((a, b) => b.bytes - a.bytes).slice(0, 5) };
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const r = measure(dir);
if (!r) {
  console.error(`[weapp-size] no weapp build in ${path.relative(process.cwd(), dir) || dir} (run npm run build:weapp)`);
  process.exit(2);
}
if (json) console.log(JSON.stringify(r));
else {
  console.log(`[weapp-size] main package: ${kb(r.mainBytes)} in ${r.files} files (limit ${kb(r.limit)}, ${((100 * r.mainBytes) / r.limit).toFixed(1)} % used)${r.totalBytes !== r.mainBytes ? `; all packages ${kb(r.totalBytes)}` : ''}`);
  console.log(`[weapp-size] largest: ${r.largest.map((f) => `${f.file} ${kb(f.bytes)}`).join(', ')}`);
  if (!r.ok) console.error(`[weapp-size] FAIL: the main package is over ${kb(r.limit)}`);
}
process.exit(r.ok ? 0 : 1);
