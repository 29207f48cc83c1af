import { DomainError } from '../../functions/src/domain/errors';
import { BASE_MARKETING_WORDS } from '../../functions/src/domain/risk';
import {
  avatarKey,
  avatarObjectOf,
  avatarRef,
  checkAvatarUrl,
  checkName,
  codePoints,
  defaultNameCandidates,
  MAX_NAME_CHARS,
  parseAvatarRef,
  sniffImage,
} from '../../functions/src/domain/profile';

/** The error code `f` refuses with, or 'ok'. */
function codeOf(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (err) {
    if (err instanceof DomainError) return err.code;
    throw err;
  }
}
const name = (s: string) => codeOf(() => checkName(s, BASE_MARKETING_WORDS));

describe('nickname rules', () => {
  test('1–20 code points: emoji and CJK count as one each; surrounding spaces trimmed', () => {
    expect(checkName('  小明  ', BASE_MARKETING_WORDS)).toBe('小明');
    expect(name('a')).toBe('ok');
    expect(name('红'.repeat(MAX_NAME_CHARS))).toBe('ok');
    expect(name('😀'.repeat(MAX_NAME_CHARS))).toBe('ok'); // 40 UTF-16 units, 20 characters
    expect(codePoints('😀'.repeat(MAX_NAME_CHARS))).toBe(20);
    expect(name('红'.repeat(MAX_NAME_CHARS + 1))).toBe('VALIDATION_FAILED');
    expect(name('😀'.repeat(MAX_NAME_CHARS + 1))).toBe('VALIDATION_FAILED');
  });

  test('empty, blank or invisible-only names are refused', () => {
    expect(name('')).toBe('VALIDATION_FAILED');
    expect(name('   ')).toBe('VALIDATION_FAILED');
    expect(name('\u200b\u200b')).toBe('VALIDATION_FAILED');
    expect(name('\u3164')).toBe('VALIDATION_FAILED'); // Hangul filler: looks empty
  });

  test.each([
    ['NUL', 'a\u0000b'],
    ['newline', '小\n明'],
    ['tab', '小\t明'],
    ['DEL', 'a\u007f'],
    ['C1 control', 'a\u0085b'],
    ['line separator', 'a\u2028b'],
    ['right-to-left override', 'abc\u202edef'],
    ['bidi isolate', '\u2066abc'],
  ])('control characters refused: %s', (_label, s) => {
    expect(name(s)).toBe('VALIDATION_FAILED');
  });

  test.each(['微信用户', '微信用户ABCD', '微 信 用 户', '微信用戶X', '\u200b微信用户'])(
    'names that pass for a default name are refused: %s',
    (s) => {
      expect(name(s)).toBe('VALIDATION_FAILED');
    },
  );

  test('a name may contain 微信用户 after its start', () => {
    expect(name('我不是微信用户')).toBe('ok');
  });

  test.each(['免单达人', '全額返現', '免\u200b单', 'ｍ免单'])(
    'marketing words as in greetings → GREETING_REJECTED: %s',
    (s) => {
      expect(name(s)).toBe('GREETING_REJECTED');
    },
  );
});

describe('default names', () => {
  test('微信用户 + 4 letters first, longer later, deterministic per account, distinct per attempt', () => {
    const a = [...defaultNameCandidates('uAlice')];
    expect(a).toEqual([...defaultNameCandidates('uAlice')]);
    expect(new Set(a).size).toBe(a.length);
    expect(a[0]).toMatch(/^微信用户[2-9A-HJ-NP-Z]{4}$/);
    expect(a[4]).toMatch(/^微信用户[2-9A-HJ-NP-Z]{6}$/);
    expect(a[a.length - 1]).toMatch(/^微信用户[2-9A-HJ-NP-Z]{8}$/);
    expect(a[0]).not.toBe([...defaultNameCandidates('uBob')][0]);
    // A default name is not something a person may choose (it would be ambiguous).
    expect(name(a[0]!)).toBe('VALIDATION_FAILED');
  });
});

describe('avatar images and references', () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]);
  const webp = Buffer.concat([Buffer.from('RIFF'), Buffer.from([1, 2, 3, 4]), Buffer.from('WEBPVP8 ')]);

  test('magic bytes: PNG, JPEG, WebP; anything else (GIF, SVG, HTML, truncated) is no image', () => {
    expect(sniffImage(png)).toBe('image/png');
    expect(sniffImage(jpeg)).toBe('image/jpeg');
    expect(sniffImage(webp)).toBe('image/webp');
    expect(sniffImage(Buffer.from('GIF89a......'))).toBeUndefined();
    expect(sniffImage(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeUndefined();
    expect(sniffImage(Buffer.from('<html><script>'))).toBeUndefined();
    expect(sniffImage(png.subarray(0, 7))).toBeUndefined();
    expect(
      sniffImage(Buffer.concat([Buffer.from('RIFF'), Buffer.from([1, 2, 3, 4]), Buffer.from('WAVE')])),
    ).toBeUndefined();
    expect(sniffImage(Buffer.alloc(0))).toBeUndefined();
  });

  test('reference ↔ object: content-addressed under the account; malformed references are none', () => {
    const o = { userId: 'uAbc_12-3', sha256: 'a'.repeat(64), ext: 'png' as const };
    expect(avatarKey(o)).toBe(`avatars/uAbc_12-3/${'a'.repeat(64)}.png`);
    expect(parseAvatarRef(avatarRef(o))).toEqual(o);
    for (const bad of [
      `/v1/avatars/uA/${'a'.repeat(63)}.png`,
      `/v1/avatars/uA/${'A'.repeat(64)}.png`,
      `/v1/avatars/uA/${'a'.repeat(64)}.gif`,
      `/v1/avatars/../${'a'.repeat(64)}.png`,
      `/v1/avatars/uA/x/${'a'.repeat(64)}.png`,
      `https://x.example/v1/avatars/uA/${'a'.repeat(64)}.png`,
    ]) {
      expect(parseAvatarRef(bad)).toBeUndefined();
    }
    expect(avatarObjectOf('u#1', `${'a'.repeat(64)}.png`)).toBeUndefined();
  });

  test('avatar URLs: https on the WeChat avatar CDN only, no credentials or spaces, bounded', () => {
    expect(codeOf(() => checkAvatarUrl('https://thirdwx.qlogo.cn/mmopen/abc/132'))).toBe('ok');
    expect(codeOf(() => checkAvatarUrl('https://wx.qlogo.cn/mmhead/abc/0'))).toBe('ok');
    // Any other host would be an image every viewer fetches from a server the user chose.
    for (const bad of [
      'https://tracker.example/p.png',
      'https://qlogo.cn.evil.example/a.png',
      'https://evilqlogo.cn/a.png',
      'http://thirdwx.qlogo.cn/a/132',
      'http://x.example/a.png',
      'javascript:alert(1)',
      'https://u:p@x.example/a.png',
      'https://x.example/a b.png',
      `https://x.example/${'a'.repeat(600)}`,
      'not a url',
      'data:image/png;base64,AAAA',
    ]) {
      expect(codeOf(() => checkAvatarUrl(bad))).toBe('VALIDATION_FAILED');
    }
  });
});
