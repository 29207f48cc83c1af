/**
 * Code links: the one link builder, the code-shape check of the `/o/` page, PUBLIC_BASE_URL and
 * the `/o/` page's configuration, and the page's answers (pure: functions/src/http/link-page.ts).
 */
import fc from 'fast-check';
import {
  loadLinkPageConfig,
  LOCAL_PUBLIC_BASE_URL,
  publicBaseUrlOf,
  Stages,
  type LinkPageConfig,
} from '../../functions/src/config';
import { parseKeyring, signCode } from '../../functions/src/domain/codes';
import { codeLink, isCodeShaped } from '../../functions/src/domain/links';
import { h5OpenUrl, linkPage } from '../../functions/src/http/link-page';

const keyring = parseKeyring(`k1:${Buffer.alloc(32, 7).toString('base64')}`, 'test');
const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/);
const anyCode = fc
  .record({
    kind: fc.constantFrom('live', 'share', 'receive'),
    target: id,
    issuedAt: fc.integer({ min: 1, max: 2 ** 40 }),
    ref: fc.option(fc.stringMatching(/^[A-Za-z0-9_-]{1,24}$/), { nil: undefined }),
  })
  .map((c) =>
    signCode(
      {
        kind: c.kind as 'live' | 'share' | 'receive',
        target: c.target,
        issuedAt: c.issuedAt,
        ...(c.ref ? { ref: c.ref } : {}),
      },
      keyring,
    ),
  );

describe('codeLink', () => {
  test('every signed code: <base>/o/<code>, unescaped, shaped, and read back exactly', () => {
    fc.assert(
      fc.property(
        anyCode,
        fc.constantFrom('https://hb.example.cn', 'http://localhost:10086', 'https://x.cn/base'),
        (code, base) => {
          const link = codeLink(base, code);
          expect(link).toBe(`${base}/o/${code}`);
          expect(isCodeShaped(code)).toBe(true);
          expect(decodeURIComponent(new URL(link).pathname.split('/o/')[1]!)).toBe(code);
        },
      ),
    );
  });

  test('a character a URL path cannot hold is encoded (a guard for a future format)', () => {
    expect(codeLink('https://a.cn', 'a b/c')).toBe('https://a.cn/o/a%20b%2Fc');
  });

  test('isCodeShaped: code characters only, 1..106 of them', () => {
    expect(isCodeShaped('')).toBe(false);
    expect(isCodeShaped('a'.repeat(106))).toBe(true);
    expect(isCodeShaped('a'.repeat(107))).toBe(false);
    for (const bad of ['a b', 'a/b', 'a?b', 'a#b', 'a%20', '红包', '<x>']) expect(isCodeShaped(bad)).toBe(false);
  });
});

describe('PUBLIC_BASE_URL', () => {
  test('local stages default to the local app; every deployed stage requires it', () => {
    for (const stage of Stages) {
      if (stage === 'local' || stage === 'test') expect(publicBaseUrlOf(stage, undefined)).toBe(LOCAL_PUBLIC_BASE_URL);
      else expect(() => publicBaseUrlOf(stage, '')).toThrow(`PUBLIC_BASE_URL is required in ${stage}`);
    }
    expect(LOCAL_PUBLIC_BASE_URL).toBe('http://localhost:10086');
  });

  test.each([
    ['hb.example.cn', /absolute http\(s\) URL/],
    ['/o', /absolute http\(s\) URL/],
    ['ftp://hb.example.cn', /absolute http\(s\) URL/],
    ['https://hb.example.cn/', /must not end with a slash/],
    ['https://hb.example.cn/base/', /must not end with a slash/],
    ['https://hb.example.cn?x=1', /no credentials, query or fragment/],
    ['https://hb.example.cn#x', /no credentials, query or fragment/],
    ['https://u:p@hb.example.cn', /no credentials, query or fragment/],
  ])('%s is refused', (raw, err) => {
    expect(() => publicBaseUrlOf('sandbox', raw)).toThrow(err);
  });

  test('accepted as given; https only where money is real', () => {
    expect(publicBaseUrlOf('prod', 'https://hb.example.cn')).toBe('https://hb.example.cn');
    expect(publicBaseUrlOf('sandbox', 'https://abc.execute-api.ap-southeast-1.amazonaws.com')).toBe(
      'https://abc.execute-api.ap-southeast-1.amazonaws.com',
    );
    expect(publicBaseUrlOf('local', 'http://localhost:4321')).toBe('http://localhost:4321');
    expect(() => publicBaseUrlOf('prod', 'http://hb.example.cn')).toThrow(/must be https in prod/);
    expect(() => publicBaseUrlOf('dev', 'http://hb.example.cn')).toThrow(/must be https in dev/);
  });
});

describe('the /o/ page configuration', () => {
  const base = { STAGE: 'prod', PUBLIC_BASE_URL: 'https://hb.example.cn' };
  test('needs no table and no secret; optional H5 app and check file', () => {
    expect(loadLinkPageConfig(base)).toEqual({
      publicBaseUrl: 'https://hb.example.cn',
      h5AppUrl: undefined,
      verifyFile: undefined,
    });
    expect(
      loadLinkPageConfig({
        ...base,
        H5_APP_URL: 'https://app.example.cn/',
        WX_LINK_VERIFY_FILE: 'Ab3dE9xYz1.txt',
        WX_LINK_VERIFY_CONTENT: '0f1e2d3c4b5a',
      }),
    ).toEqual({
      publicBaseUrl: 'https://hb.example.cn',
      h5AppUrl: 'https://app.example.cn/',
      verifyFile: { name: 'Ab3dE9xYz1.txt', content: '0f1e2d3c4b5a' },
    });
  });
  test.each([
    [{ PUBLIC_BASE_URL: '' }, /PUBLIC_BASE_URL is required in prod/],
    [{ H5_APP_URL: 'app.example.cn' }, /H5_APP_URL/],
    [{ H5_APP_URL: 'https://app.example.cn/#/x' }, /H5_APP_URL/],
    [{ WX_LINK_VERIFY_FILE: 'Ab3dE9xYz1.txt' }, /go together/],
    [{ WX_LINK_VERIFY_CONTENT: 'abc' }, /go together/],
    [{ WX_LINK_VERIFY_FILE: '../etc/passwd', WX_LINK_VERIFY_CONTENT: 'abc' }, /file name/],
    [{ WX_LINK_VERIFY_FILE: 'a.txt', WX_LINK_VERIFY_CONTENT: `<script>${'x'.repeat(300)}` }, /printable ASCII/],
  ])('%p is refused', (extra, err) => {
    expect(() => loadLinkPageConfig({ ...base, ...extra })).toThrow(err);
  });
});

describe('the /o/ page', () => {
  const code = signCode({ kind: 'share', target: 'pkt123', issuedAt: 1_800_000_000 }, keyring);
  const cfg: LinkPageConfig = {
    publicBaseUrl: 'https://hb.example.cn',
    h5AppUrl: undefined,
    verifyFile: { name: 'Ab3dE9xYz1.txt', content: '0f1e2d3c4b5a' },
  };
  const SAFARI = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1';
  const WECHAT = 'Mozilla/5.0 (iPhone) MicroMessenger/8.0.50';
  const get = (
    segment: string,
    c: LinkPageConfig = cfg,
    userAgent = SAFARI,
    route: 'link' | 'root' = 'link',
    method = 'GET',
  ) => linkPage({ route, segment, userAgent, method }, c);

  test('a browser outside WeChat: a Chinese page saying to scan with WeChat, no script', () => {
    const r = get(code);
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('请用微信扫一扫打开');
    expect(r.body).toContain('扫一扫');
    expect(r.headers['content-security-policy']).toContain("default-src 'none'");
    expect(r.body).not.toMatch(/<script/i);
    expect(get(code, cfg, SAFARI, 'link', 'HEAD')).toMatchObject({ statusCode: 200, body: '' });
    expect(get(code, cfg, SAFARI, 'link', 'POST').statusCode).toBe(405);
  });

  test('with an H5 app: a browser is sent to its open page; WeChat (rule not matched) gets the page with a link to it', () => {
    const withH5 = { ...cfg, h5AppUrl: 'https://app.example.cn/' };
    const r = get(code, withH5);
    expect(r.statusCode).toBe(302);
    expect(r.headers.location).toBe(`https://app.example.cn/#/pages/open/index?c=${code}`);
    expect(h5OpenUrl('https://app.example.cn/', code)).toBe(r.headers.location);
    const w = get(code, withH5, WECHAT);
    expect(w.statusCode).toBe(200);
    expect(w.body).toContain(`href="https://app.example.cn/#/pages/open/index?c=${code}"`);
  });

  test("WeChat's check file: under /o/ (where the rule's check looks) and at the root; other root names 404", () => {
    for (const route of ['link', 'root'] as const) {
      const r = get('Ab3dE9xYz1.txt', cfg, SAFARI, route);
      expect(r).toMatchObject({ statusCode: 200, body: '0f1e2d3c4b5a' });
      expect(r.headers['content-type']).toMatch(/^text\/plain/);
    }
    expect(get('Other.txt', cfg, SAFARI, 'root').statusCode).toBe(404);
    expect(get('Ab3dE9xYz1.txt', { ...cfg, verifyFile: undefined }, SAFARI, 'root').statusCode).toBe(404);
  });

  test('malformed: 400 page whatever the H5 setting, nothing redirected', () => {
    for (const seg of ['', 'a b', '%E4%ZZ', 'a'.repeat(107), 'abc/def', '%3Cscript%3E']) {
      const r = get(seg, { ...cfg, h5AppUrl: 'https://app.example.cn/' });
      expect({ seg, status: r.statusCode, location: r.headers.location }).toEqual({
        seg,
        status: 400,
        location: undefined,
      });
      expect(r.body).toContain('链接无效');
    }
  });
});
