/**
 * @jest-environment node
 *
 * The WeChat build's main package stays under 1 MB (WeChat's cap is 2 MB), and the enterprise
 * pages and what only they use sit in the biz/ subpackage. Measures client/dist/weapp with
 * scripts/weapp-size.js, building it first (npm run build:weapp, ~20–45 s) when it is missing or
 * older than the client's sources; the figures are printed.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DIST, ensureWeappBuild as ensureBuild, ROOT } from './weappBuild';

interface SizeReport {
  mainBytes: number;
  limit: number;
  ok: boolean;
  subpackages: { root: string; bytes: number; files: number; limit: number; ok: boolean }[];
}

/** Every built file (not source maps) whose text holds `needle` (minified JS writes CJK as \\uXXXX). */
function filesHolding(needle: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(js|wxss|wxml|json)$/.test(e.name)) {
        const text = fs
          .readFileSync(p, 'utf8')
          .replace(/\\u([0-9a-fA-F]{4})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
        if (text.includes(needle)) out.push(path.relative(DIST, p).split(path.sep).join('/'));
      }
    }
  };
  walk(DIST);
  return out;
}

test('weapp main package < 1 MB, each subpackage < 2 MB (figures printed)', () => {
  ensureBuild();
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'weapp-size.js'), DIST, '--json'], {
    encoding: 'utf8',
  });
  const report = JSON.parse(r.stdout) as SizeReport;
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  console.log(
    `weapp main package ${kb(report.mainBytes)} (limit ${kb(report.limit)}); ${report.subpackages.map((p) => `${p.root}/ ${kb(p.bytes)}`).join(', ')}`,
  );
  expect(report.limit).toBe(1024 * 1024);
  expect(report.mainBytes).toBeGreaterThan(50 * 1024); // a real build, not an empty folder
  expect(report.mainBytes).toBeLessThan(1024 * 1024);
  expect(report.subpackages.map((p) => p.root)).toEqual(['biz']);
  for (const p of report.subpackages) expect(p.bytes).toBeLessThan(2 * 1024 * 1024);
  expect(r.status).toBe(0);
}, 300_000);

test('the enterprise pages and what only they use are in the biz/ subpackage; uPlot and the operator view are not in the build', () => {
  ensureBuild();
  const app = JSON.parse(fs.readFileSync(path.join(DIST, 'app.json'), 'utf8')) as {
    pages: string[];
    subPackages?: { root: string; pages: string[] }[];
  };
  expect(app.subPackages).toEqual([
    { root: 'biz', pages: ['campaigns/index', 'campaign-create/index', 'campaign/index', 'apikeys/index'] },
  ]);
  expect(app.pages.filter((p) => /campaign|apikeys|ops/.test(p))).toEqual([]);
  for (const page of app.subPackages![0]!.pages) expect(fs.existsSync(path.join(DIST, 'biz', `${page}.js`))).toBe(true);
  // Text only each module holds: CampaignForm, HourlyClaims (the weapp table), BusinessOnly, biz.scss.
  const inBizOnly = (needle: string) => {
    const where = filesHolding(needle);
    expect(where.length).toBeGreaterThan(0);
    expect(where.filter((f) => !f.startsWith('biz/'))).toEqual([]);
  };
  inBizOnly('活动名称');
  inBizOnly('每小时领取次数');
  inBizOnly('仅对企业和服务商账户开放');
  inBizOnly('biz-head');
  // H5 only: uPlot (LineChart) and the operator view never enter the mini-program.
  expect(filesHolding('uPlot')).toEqual([]);
  expect(filesHolding('运营看板')).toEqual([]);
}, 300_000);
