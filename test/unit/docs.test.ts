import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The code explains itself or points into the repository's own docs: no comment sends the reader
 * to a product document outside the repository, a section number of one, or an issue thread, and
 * every docs/*.md a comment names exists (a renamed page breaks this test, not the reader).
 */
const ROOT = resolve(__dirname, '../..');
/** Where the code lives (folders or files); test/ and the deploy are held to the same rule. */
const SOURCES = ['functions', 'client/src', 'scripts', 'test', 'infra', 'serverless.yml', 'serverless.env.yml'];
const SKIP_DIRS = new Set(['node_modules', 'dist', '.data', '.swc']);
const TEXT = /\.(ts|tsx|js|mjs|cjs|jsx|json|ya?ml|scss|css|html|md|sh)$/;

/** Built from parts so that this file does not match itself. */
const FORBIDDEN: ReadonlyArray<{ what: string; re: RegExp }> = [
  { what: 'a section of the product spec', re: new RegExp(['SPEC', '§'].join(' ')) },
  { what: 'an issue number', re: new RegExp(['\\bissues?', '#?[0-9]'].join(' '), 'i') },
  { what: 'a file outside the repository', re: new RegExp(['\\.\\.', 'shared'].join('/')) },
];
/** A docs page named in code: `docs/<name>.md`, optionally with an anchor. */
const DOCS_LINK = /\bdocs\/([A-Za-z0-9_-]+\.md)(#[\p{L}\p{N}_-]+)?/gu;

function filesUnder(dir: string): string[] {
  const abs = join(ROOT, dir);
  if (!existsSync(abs)) return [];
  if (!statSync(abs).isDirectory()) return [abs];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) {
        if (!SKIP_DIRS.has(name)) walk(p);
      } else if (TEXT.test(name)) out.push(p);
    }
  };
  walk(abs);
  return out;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces → '-'. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, 'utf8');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
}

const sources = SOURCES.flatMap(filesUnder);

describe('comments point into the repository', () => {
  test('the source trees are found (the walk itself works)', () => {
    expect(sources.some((f) => f.endsWith(join('functions', 'src', 'app', 'claims.ts')))).toBe(true);
    expect(sources.some((f) => f.endsWith(join('client', 'src', 'app.ts')))).toBe(true);
    expect(sources.some((f) => f.includes(`${join('scripts', 'bench')}`))).toBe(true);
  });

  test('no spec section, issue number or file outside the repository is cited', () => {
    const hits: string[] = [];
    for (const file of sources) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          for (const f of FORBIDDEN) {
            if (f.re.test(line)) hits.push(`${relative(ROOT, file)}:${i + 1} cites ${f.what}: ${line.trim()}`);
          }
        });
    }
    expect(hits).toEqual([]);
  });

  test('every docs/*.md the code names exists, and so does its anchor', () => {
    const broken: string[] = [];
    let links = 0;
    for (const file of sources) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(DOCS_LINK)) {
        links++;
        const page = join(ROOT, 'docs', m[1]!);
        const where = `${relative(ROOT, file)} names docs/${m[1]}`;
        if (!existsSync(page)) broken.push(`${where}, which does not exist`);
        else if (m[2] && !anchorsOf(page).has(m[2].slice(1))) broken.push(`${where}${m[2]}: no such heading`);
      }
    }
    expect(broken).toEqual([]);
    // The comments do point into docs/ (a regex that matched nothing would pass vacuously).
    expect(links).toBeGreaterThan(10);
  });
});

describe('the docs link to each other correctly', () => {
  const pages = readdirSync(join(ROOT, 'docs'))
    .filter((n) => n.endsWith('.md'))
    .map((n) => join(ROOT, 'docs', n));

  test('the index lists every page', () => {
    const index = readFileSync(join(ROOT, 'docs', 'README.md'), 'utf8');
    const listed = (p: string) => index.includes(`](${relative(join(ROOT, 'docs'), p)})`);
    const missing = pages.filter((p) => !p.endsWith('README.md') && !listed(p));
    expect(missing.map((p) => relative(ROOT, p))).toEqual([]);
  });

  test('every relative link in docs/ and README.md points at an existing file and heading', () => {
    const broken: string[] = [];
    for (const file of [...pages, join(ROOT, 'README.md')]) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue; // http(s), mailto
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const abs = path === '' ? file : resolve(dirname(file), path);
        const where = `${relative(ROOT, file)} → ${target}`;
        if (!existsSync(abs)) broken.push(`${where}: no such file`);
        else if (anchor && abs.endsWith('.md') && !anchorsOf(abs).has(anchor)) broken.push(`${where}: no such heading`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe("the README's architecture section matches the folders", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  /** The section: from its heading to the next heading of level 2 or 3, without the diagram. */
  const section = (() => {
    const start = readme.indexOf('\n## Architecture\n');
    const rest = readme.slice(start + 1);
    const end = rest.slice(3).search(/\n#{2,3} /);
    return rest.slice(0, end < 0 ? undefined : end + 3).replace(/```[\s\S]*?```/g, '');
  })();
  /** Its parts: the text before the list, then each bullet with its continuation lines. */
  const parts = section.split(/\n(?=- )/);
  const bullets = parts.filter((b) => b.startsWith('- '));
  /** A backticked token that names a file or folder: `a/b/`, `a/b.ts`, `name.ts` (not `zod/mini`, not a route). */
  const PATHLIKE = /^(?:[A-Za-z0-9_.-]+\/)*(?:[A-Za-z0-9_.-]+\.(?:tsx?|js|json|ya?ml|md|html|scss)|[A-Za-z0-9_.-]+\/)$/;
  const tokensOf = (text: string) =>
    [...text.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]!).filter((t) => PATHLIKE.test(t));
  const IGNORED = new Set(['node_modules', 'coverage', 'dist']);
  const dirsOf = (dir: string) =>
    readdirSync(join(ROOT, dir), { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !IGNORED.has(e.name))
      .map((e) => (dir ? `${dir}/${e.name}/` : `${e.name}/`));

  test('the section is found and has one bullet per folder', () => {
    expect(section.startsWith('## Architecture')).toBe(true);
    expect(bullets.length).toBeGreaterThan(10);
  });

  test('every top-level folder, functions/ folder and functions/src/ folder has a bullet; every client/src/ folder is named', () => {
    const heads = new Set(bullets.map((b) => tokensOf(b.split('\n')[0]!)[0]));
    const named = new Set(tokensOf(section));
    const required = [...dirsOf(''), ...dirsOf('functions'), ...dirsOf('functions/src')];
    expect(required.filter((d) => !heads.has(d))).toEqual([]);
    // The client's folders are named in its bullet, relative to client/src/.
    const clientBullet = bullets.find((b) => b.startsWith('- `client/src/`')) ?? '';
    expect(
      dirsOf('client/src').filter(
        (d) => !tokensOf(clientBullet).includes(d.slice('client/src/'.length)) && !named.has(d),
      ),
    ).toEqual([]);
  });

  test('every file or folder the section names exists', () => {
    const missing: string[] = [];
    let checked = 0;
    for (const bullet of parts) {
      // Names are read relative to the bullet's own folder first (`keys.ts` under `functions/src/store/`).
      const head = bullet.startsWith('- ') ? tokensOf(bullet.split('\n')[0]!)[0] : undefined;
      const base = head?.endsWith('/') ? head : '';
      for (const token of tokensOf(bullet)) {
        const candidates = [base + token, token, `functions/src/${token}`, `client/src/${token}`];
        checked++;
        if (!candidates.some((c) => existsSync(join(ROOT, c))))
          missing.push(`${token} (in ${head ? `the bullet of ${head}` : 'the text before the list'})`);
      }
    }
    expect(missing).toEqual([]);
    expect(checked).toBeGreaterThan(40);
  });
});
