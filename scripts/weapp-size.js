#!/usr/bin/env node

/**
 * Measures the WeChat mini-program build (client/dist/weapp): the main package and each
 * subpackage. Fails when the main package is over 1 MB (our own budget: WeChat caps it at 2 MB,
 * and it is what every user downloads before the first screen) or a subpackage is over WeChat's
 * 2 MB. The main package is everything in the build except the subpackage roots named in
 * app.json; source maps (*.map) are not uploaded and are not counted.
 *
 *   node scripts/weapp-size.js [dir] [--json]
 * Exit codes: 0 within the limit, 1 above it, 2 no build found.
 */
const fs = require('node:fs');
const path = require('node:path');

/** The main package's budget. */
const LIMIT = 1024 * 1024;
/** WeChat's cap for one subpackage. */
const SUB_LIMIT = 2 * 1024 * 1024;
const args = process.argv.slice(2);
const json = args.includes('--json');
const dir = path.resolve(
  args.find((a) => !a.startsWith('--')) ?? path.join(__dirname, '..', 'client', 'dist', 'weapp'),
);

function measure(root) {
  const appJson = path.join(root, 'app.json');
  if (!fs.existsSync(appJson)) return null;
  const app = JSON.parse(fs.readFileSync(appJson, 'utf8'));
  const subRoots = [...(app.subPackages ?? []), ...(app.subpackages ?? [])].map(
    (s) => `${String(s.root).replace(/\/+$/, '')}/`,
  );
  const files = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (!e.name.endsWith('.map'))
        files.push({ file: path.relative(root, p).split(path.sep).join('/'), bytes: fs.statSync(p).size });
    }
  };
  walk(root);
  const main = files.filter((f) => !subRoots.some((r) => f.file.startsWith(r)));
  const mainBytes = main.reduce((a, f) => a + f.bytes, 0);
  const totalBytes = files.reduce((a, f) => a + f.bytes, 0);
  const subpackages = subRoots.map((r) => {
    const own = files.filter((f) => f.file.startsWith(r));
    const bytes = own.reduce((a, f) => a + f.bytes, 0);
    return { root: r.slice(0, -1), bytes, files: own.length, limit: SUB_LIMIT, ok: bytes <= SUB_LIMIT };
  });
  const ok = mainBytes <= LIMIT && subpackages.every((p) => p.ok);
  return {
    dir: root,
    mainBytes,
    totalBytes,
    limit: LIMIT,
    ok,
    files: main.length,
    subpackages,
    largest: main.sort((a, b) => b.bytes - a.bytes).slice(0, 5),
  };
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const r = measure(dir);
if (!r) {
  console.error(`[weapp-size] no weapp build in ${path.relative(process.cwd(), dir) || dir} (run npm run build:weapp)`);
  process.exit(2);
}
if (json) console.log(JSON.stringify(r));
else {
  console.log(
    `[weapp-size] main package: ${kb(r.mainBytes)} in ${r.files} files (limit ${kb(r.limit)}, ${((100 * r.mainBytes) / r.limit).toFixed(1)} % used)${r.totalBytes !== r.mainBytes ? `; all packages ${kb(r.totalBytes)}` : ''}`,
  );
  for (const p of r.subpackages)
    console.log(`[weapp-size] subpackage ${p.root}/: ${kb(p.bytes)} in ${p.files} files (limit ${kb(p.limit)})`);
  console.log(`[weapp-size] largest: ${r.largest.map((f) => `${f.file} ${kb(f.bytes)}`).join(', ')}`);
  if (r.mainBytes > r.limit) console.error(`[weapp-size] FAIL: the main package is over ${kb(r.limit)}`);
  for (const p of r.subpackages.filter((x) => !x.ok))
    console.error(`[weapp-size] FAIL: subpackage ${p.root}/ is over ${kb(p.limit)}`);
}
process.exit(r.ok ? 0 : 1);
