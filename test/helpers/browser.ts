/**
 * The one place the tests get a headless Chromium, so that `npm test` needs no system browser:
 *
 *   1. `CHROMIUM_PATH`, when set (a developer's own build);
 *   2. Debian's `/usr/bin/chromium`, when installed (`.ci/run` installs it);
 *   3. otherwise the Chromium inside the npm devDependency `@sparticuz/chromium`, unpacked once
 *      into a private folder under the temp directory (about 2 s, 210 MB) and reused afterwards.
 *
 * Every choice runs with the same flags (`CHROMIUM_ARGS`). @sparticuz/chromium's own `args` are
 * meant for AWS Lambda: `--single-process` and `--no-zygote` put every page in one process, and
 * `--disable-web-security` / `--allow-running-insecure-content` would hide exactly the CORS and
 * mixed-content mistakes an end-to-end test is there to catch (the app and the API are on
 * different origins). Its binary starts headless with the flags below.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (package `chromium`). */
export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/** Headless, no sandbox (containers, root), nothing that phones home or updates itself. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const CHROMIUM_SOURCES = {
  env: 'CHROMIUM_PATH',
  debian: 'Debian chromium',
  npm: 'npm @sparticuz/chromium',
} as const;
export type ChromiumSource = (typeof CHROMIUM_SOURCES)[keyof typeof CHROMIUM_SOURCES];

/** Which browser to use, before anything is unpacked: `npm` means @sparticuz/chromium. */
export type ChromiumChoice =
  | { source: typeof CHROMIUM_SOURCES.env | typeof CHROMIUM_SOURCES.debian; executablePath: string }
  | { source: typeof CHROMIUM_SOURCES.npm };

/**
 * The choice rule on its own (the probes are passed in so that a test can check the rule without
 * installing or removing a browser).
 */
export function chooseChromium(env: NodeJS.ProcessEnv, isFile: (p: string) => boolean): ChromiumChoice {
  const fromEnv = env.CHROMIUM_PATH?.trim();
  if (fromEnv) return { source: CHROMIUM_SOURCES.env, executablePath: fromEnv };
  if (isFile(DEBIAN_CHROMIUM)) return { source: CHROMIUM_SOURCES.debian, executablePath: DEBIAN_CHROMIUM };
  return { source: CHROMIUM_SOURCES.npm };
}

export interface ResolvedChromium {
  source: ChromiumSource;
  executablePath: string;
  /** e.g. `npm @sparticuz/chromium 153.0.0` or `Debian chromium (/usr/bin/chromium)`, for logs. */
  description: string;
}

/**
 * The browser `launchChromium` would start for `choice`, unpacking @sparticuz/chromium when it is
 * the one (once per process).
 */
export async function resolveChromium(
  choice: ChromiumChoice = chooseChromium(process.env, existsSync),
): Promise<ResolvedChromium> {
  if (choice.source !== CHROMIUM_SOURCES.npm) {
    return { ...choice, description: `${choice.source} (${choice.executablePath})` };
  }
  npmChromium ??= unpackNpmChromium();
  const { executablePath, version } = await npmChromium.catch((err: unknown) => {
    npmChromium = undefined;
    throw err;
  });
  return { source: choice.source, executablePath, description: `${choice.source} ${version} (${executablePath})` };
}

let npmChromium: Promise<{ executablePath: string; version: string }> | undefined;

/**
 * Starts Chromium headless with `CHROMIUM_ARGS` — by default the one `chooseChromium` picks
 * from the environment. A failed start says which binary and, when ldd finds any, the missing
 * shared libraries.
 */
export async function launchChromium(
  choice?: ChromiumChoice,
): Promise<{ browser: Browser; chromium: ResolvedChromium }> {
  const resolved = await resolveChromium(choice);
  try {
    const browser = await chromium.launch({ executablePath: resolved.executablePath, args: [...CHROMIUM_ARGS] });
    return { browser, chromium: resolved };
  } catch (err) {
    const missing = missingLibraries(resolved.executablePath);
    const hint = missing.length
      ? `\nmissing shared libraries: ${missing.join(', ')} (on Debian: apt-get install libnss3, or install the chromium package)`
      : '';
    throw new Error(`could not start ${resolved.description}: ${(err as Error).message}${hint}`);
  }
}

/**
 * Whether fontconfig knows a font with Chinese glyphs (Debian: fonts-noto-cjk). Without one,
 * Chromium draws every Chinese character as a box; a QR code does not need fonts.
 */
export function hasCjkFonts(): boolean {
  const res = spawnSync('fc-list', [':lang=zh', 'family'], { encoding: 'utf8' });
  return res.status === 0 && res.stdout.trim().length > 0;
}

function missingLibraries(executable: string): string[] {
  const res = spawnSync('ldd', [executable], { encoding: 'utf8' });
  if (res.status !== 0) return [];
  return res.stdout
    .split('\n')
    .filter((l) => l.includes('not found'))
    .map((l) => l.trim().split(/\s+/)[0]!);
}

const execFileAsync = promisify(execFile);

/**
 * Unpacks @sparticuz/chromium's brotli archives into `<tmp>/hongbao-chromium-<version>-<uid>/`.
 *
 * The package unpacks into `os.tmpdir()` itself (its binary, swiftshader libraries and fonts
 * land loose in /tmp) and treats an existing `/tmp/chromium` as done, even a half-written one
 * from an interrupted run or a concurrent one. So it runs in a child process with TMPDIR set to
 * a staging folder of its own (a child also because the package is an ES module, which Jest's
 * CommonJS runtime cannot import). Timeline:
 *   1. staging folder `<final>.partial-<pid>` gets the whole unpack;
 *   2. it is renamed to `<final>` — one atomic step, so `<final>/chromium` exists only complete;
 *   3. a concurrent run that renamed first wins; ours is deleted and theirs is used.
 * A crash before 2 leaves only a staging folder, deleted by the next run once its pid is gone.
 */
async function unpackNpmChromium(): Promise<{ executablePath: string; version: string }> {
  const entry = require.resolve('@sparticuz/chromium');
  const version = (
    JSON.parse(readFileSync(path.join(path.dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }
  ).version;
  const parent = tmpdir();
  const name = `hongbao-chromium-${version}-${process.getuid?.() ?? 'user'}`;
  const final = path.join(parent, name);
  const finalBinary = path.join(final, 'chromium');
  if (existsSync(finalBinary)) return { executablePath: finalBinary, version };

  removeAbandonedStaging(parent, name);
  const staging = `${final}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    const script = `const m = await import(${JSON.stringify(pathToFileURL(entry).href)}); process.stdout.write(await m.default.executablePath());`;
    const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, TMPDIR: staging, TMP: staging, TEMP: staging },
      timeout: 180_000,
    });
    if (path.resolve(stdout.trim()) !== path.join(staging, 'chromium')) {
      throw new Error(`@sparticuz/chromium unpacked to ${stdout.trim()}, expected ${path.join(staging, 'chromium')}`);
    }
    try {
      renameSync(staging, final);
    } catch (err) {
      if (!existsSync(finalBinary)) throw err;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return { executablePath: finalBinary, version };
}

/** Deletes staging folders whose process is gone (a run killed while unpacking). */
function removeAbandonedStaging(parent: string, name: string): void {
  for (const entry of readdirSync(parent)) {
    const m = entry.startsWith(`${name}.partial-`) ? /\.partial-(\d+)$/.exec(entry) : null;
    if (!m || isAlive(Number(m[1]))) continue;
    rmSync(path.join(parent, entry), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
