/** Bundled size of each function, as esbuild would build it for Lambda (minified, CommonJS). */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { build } from 'esbuild';

const ROOT = path.resolve(__dirname, '..', '..');

export interface BundleSize {
  fn: string;
  /** Everything each function imports, the AWS SDK included (what serverless.yml deploys). */
  bytes: number;
  gzipBytes: number;
  /** With @aws-sdk/* left to the Lambda runtime. */
  bytesSdkExternal: number;
  /** The largest contributors to the full bundle, by package (minified bytes). */
  top: Array<{ pkg: string; kb: number }>;
  error?: string;
}

function pkgOf(input: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return m ? m[1]! : input.startsWith('functions/') ? 'functions/ (app code)' : input;
}

async function size(
  entry: string,
  external: string[],
): Promise<{ bytes: number; gzipBytes: number; top: Array<{ pkg: string; kb: number }> }> {
  const r = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    external,
    write: false,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: ROOT,
  });
  const js = r.outputFiles.find((f) => f.path.endsWith('.js')) ?? r.outputFiles[0];
  if (!js) throw new Error('no output');
  const byPkg = new Map<string, number>();
  for (const out of Object.values(r.metafile.outputs)) {
    for (const [input, v] of Object.entries(out.inputs))
      byPkg.set(pkgOf(input), (byPkg.get(pkgOf(input)) ?? 0) + v.bytesInOutput);
  }
  const top = [...byPkg.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([pkg, b]) => ({ pkg, kb: Math.round((b / 1024) * 10) / 10 }));
  return { bytes: js.contents.length, gzipBytes: zlib.gzipSync(js.contents, { level: 9 }).length, top };
}

export async function bundleSizes(): Promise<BundleSize[]> {
  const dir = path.join(ROOT, 'functions', 'handlers');
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort();
  const out: BundleSize[] = [];
  // Two at a time: esbuild is multi-threaded already.
  for (let i = 0; i < files.length; i += 2) {
    const batch = files.slice(i, i + 2);
    out.push(
      ...(await Promise.all(
        batch.map(async (f) => {
          const entry = path.join(dir, f);
          const fn = f.replace(/\.ts$/, '');
          try {
            const all = await size(entry, []);
            const ext = await size(entry, ['@aws-sdk/*']);
            return { fn, bytes: all.bytes, gzipBytes: all.gzipBytes, bytesSdkExternal: ext.bytes, top: all.top };
          } catch (err) {
            return {
              fn,
              bytes: Number.NaN,
              gzipBytes: Number.NaN,
              bytesSdkExternal: Number.NaN,
              top: [],
              error: err instanceof Error ? err.message.split('\n')[0] : String(err),
            };
          }
        }),
      )),
    );
  }
  return out;
}
