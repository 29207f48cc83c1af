/**
 * Code links in the app: extractCode reads a code link (`…/o/<code>`), an H5 link, a deep link
 * or a bare code (property test); the open page takes its code from `c` or from WeChat's `q`
 * (the scanned URL, encoded once) and forwards a receive code to the pay page; QR codes show the
 * link and 复制链接 copies it.
 */
import { render } from '@testing-library/react';
import fc from 'fast-check';
import { codeFromParams, extractCode, h5OpenLink, openPath, qrText, shareLink } from '../src/lib/links';
import { parseReceiveCode } from '../src/lib/receiveCode';
import { saveSession } from '../src/api/session';
import OpenPage from '../src/pages/open/index';
import { flush } from './helpers';

let mockParams: Record<string, string> = {};
const mockRedirect = jest.fn(async (_o: unknown) => undefined);
jest.mock('@tarojs/taro', () =>
  require('./taroMock').taroWith({
    useRouter: () => ({ params: mockParams }),
    useDidShow: () => undefined,
    useDidHide: () => undefined,
    useShareAppMessage: () => undefined,
    redirectTo: (o: unknown) => mockRedirect(o),
  }),
);
const mockApi = { openCode: jest.fn(), claim: jest.fn(), packet: jest.fn(), newCode: jest.fn() };
jest.mock('../src/api', () => ({
  get api() {
    return mockApi;
  },
}));

/** Codes as the server writes them: `1.<kid>.<kind><target>.<iat>[.<ref>].<sig>`. */
const seg = (re: RegExp) => fc.stringMatching(re);
const anyCode = fc
  .tuple(
    seg(/^[a-z0-9]{1,4}$/),
    fc.constantFrom('l', 's', 'r'),
    seg(/^[A-Za-z0-9_-]{1,32}$/),
    seg(/^[1-9a-z][0-9a-z]{0,10}$/),
    fc.option(seg(/^[A-Za-z0-9_-]{1,24}$/), { nil: undefined }),
    seg(/^[A-Za-z0-9_-]{22}$/),
  )
  .map(([kid, kind, target, iat, ref, sig]) =>
    ['1', kid, `${kind}${target}`, iat, ...(ref ? [ref] : []), sig].join('.'),
  );
const base = fc.constantFrom(
  'https://hb.example.cn',
  'http://localhost:10086',
  'https://hb.example.cn/base',
  'HTTPS://HB.EXAMPLE.CN',
);
const space = fc.constantFrom('', ' ', '\n', '  \r\n\t');

describe('extractCode', () => {
  test('every form a code travels in gives back exactly the code', () => {
    fc.assert(
      fc.property(anyCode, base, space, space, (code, b, before, after) => {
        const link = `${b}/o/${code}`;
        const forms = [
          code,
          link,
          `${link}/`,
          `${link}?from=timeline`,
          `${b}/o/${encodeURIComponent(code)}#x`,
          // WeChat's `q`, decoded once by the page: the link itself.
          decodeURIComponent(encodeURIComponent(link)),
          h5OpenLink(code, { origin: b, pathname: '/' }),
          openPath(code).slice(1),
          `${openPath(code)}&scancode_time=1733390000`,
        ];
        for (const f of forms) expect({ f, got: extractCode(`${before}${f}${after}`) }).toEqual({ f, got: code });
        // What a page gets from WeChat: q (encoded once) or c.
        expect(codeFromParams({ q: encodeURIComponent(link), scancode_time: '1733390000' })).toBe(code);
        expect(codeFromParams({ c: encodeURIComponent(code) })).toBe(code);
        expect(codeFromParams({ c: code, q: encodeURIComponent(`${b}/o/other`) })).toBe(code);
      }),
    );
  });

  test('a link whose path is not /o/<code> is not read as one', () => {
    expect(extractCode('https://hb.example.cn/x/abc')).toBe('https://hb.example.cn/x/abc');
    expect(extractCode('https://hb.example.cn/o/')).toBe('https://hb.example.cn/o/');
    expect(codeFromParams({})).toBe('');
  });

  test('a friend’s 收款码 link reads as their receive code (专属红包)', () => {
    const code = '1.k1.ruAlice0123456789.m3x9k2.abcdefghijklmnopqrstuv';
    expect(parseReceiveCode(`https://hb.example.cn/o/${code}`)).toEqual({
      ok: true,
      accountId: 'uAlice0123456789',
      code,
    });
  });

  test('QR codes show the link; 复制链接 copies it (a code stored before links: the bare code / H5 link)', () => {
    const view = { code: 'CODE', link: 'https://hb.example.cn/o/CODE' };
    expect(qrText(view)).toBe('https://hb.example.cn/o/CODE');
    expect(shareLink(view)).toBe('https://hb.example.cn/o/CODE');
    expect(qrText({ code: 'CODE' })).toBe('CODE');
    expect(shareLink({ code: 'CODE' })).toBe(h5OpenLink('CODE'));
  });
});

describe('the open page opened by a WeChat scan (q)', () => {
  const summary = {
    id: 'p1',
    sender: { id: 'u-alice', name: 'Alice' },
    total: 1_000,
    count: 5,
    mode: 'lucky',
    greeting: '新年快乐',
    scene: 'none',
    status: 'active',
    claimedCount: 0,
    refundedAmount: 0,
    createdAt: '2026-11-28T05:00:00Z',
    expiresAt: '2126-11-29T05:00:00Z',
  };
  beforeEach(() => {
    for (const f of Object.values(mockApi)) f.mockReset();
    mockRedirect.mockClear();
    saveSession({
      token: 't',
      userId: 'u-bob',
      name: 'Bob',
      tier: 'personal',
      roles: ['user'],
      expiresAt: '2126-11-29T00:00:00Z',
    });
  });

  test('q = the code link, encoded once, with scancode_time: the page opens that code', async () => {
    const code = '1.k1.sp1.m3x9k2.abcdefghijklmnopqrstuv';
    mockParams = { q: encodeURIComponent(`https://hb.example.cn/o/${code}`), scancode_time: '1733390000' };
    mockApi.openCode.mockResolvedValue({ target: 'packet', packet: summary, claimable: true });
    const { container } = render(<OpenPage />);
    await flush();
    await flush();
    expect(mockApi.openCode.mock.calls.map((c: unknown[]) => c[0])).toEqual([code]);
    expect(container.textContent).toContain('新年快乐');
    expect(container.querySelector('[aria-label="开红包"]')).not.toBeNull();
  });

  test('q naming a receive code: forwarded to the pay page with the bare code', async () => {
    const code = '1.k1.ruAlice0123456789.m3x9k2.abcdefghijklmnopqrstuv';
    mockParams = { q: encodeURIComponent(`https://hb.example.cn/o/${code}`), scancode_time: '1733390000' };
    mockApi.openCode.mockResolvedValue({ target: 'receive', payee: { id: 'uAlice0123456789', name: 'Alice' } });
    render(<OpenPage />);
    await flush();
    await flush();
    expect(mockApi.openCode.mock.calls.map((c: unknown[]) => c[0])).toEqual([code]);
    expect(mockRedirect).toHaveBeenCalledWith({ url: `/pages/pay/index?c=${encodeURIComponent(code)}` });
  });

  test('c still works (share cards)', async () => {
    mockParams = { c: 'SHARE-CODE-1' };
    mockApi.openCode.mockResolvedValue({ target: 'packet', packet: summary, claimable: true });
    render(<OpenPage />);
    await flush();
    expect(mockApi.openCode.mock.calls.map((c: unknown[]) => c[0])).toEqual(['SHARE-CODE-1']);
  });
});
