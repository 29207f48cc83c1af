import fc from 'fast-check';
import {
  ALLOW,
  BASE_MARKETING_WORDS,
  foldText,
  riskRulesFor,
  type RiskContext,
  type RiskDecision,
} from '../../functions/src/domain/risk';
import { checkGreeting, findMarketingWord, normalizeGreeting } from '../../functions/src/domain/greeting';

/**
 * The marketing-words filter against the ways of writing a listed word that a reader still reads
 * as the word: invisible characters, marks, fillers, compatibility forms, spacing, traditional
 * characters — alone and combined.
 */
const enterprise = riskRulesFor('enterprise').marketing;
const ctx: RiskContext = {
  userId: 'u_shop_0001',
  tier: 'enterprise',
  opId: 'op1',
  nowMs: Date.parse('2026-03-01T06:30:00Z'),
};
const check = (g: string) => checkGreeting(g, ctx, enterprise);

function refused(d: RiskDecision): boolean {
  return d.kind === 'refuse' && d.code === 'GREETING_REJECTED';
}

/** Puts `sep` between every two characters (code points) of `word`. */
const between = (word: string, sep: string) => [...word].join(sep);

/** The listed words as written in traditional characters. */
const TRADITIONAL: Record<string, string> = { 免单: '免單', 全额返现: '全額返現' };

/** Each bypass: how it rewrites a listed word (undefined: it does not apply to that word). */
const BYPASSES: Record<string, (w: string) => string | undefined> = {
  'combining grapheme joiner U+034F': (w) => between(w, '\u034f'),
  'variation selector U+FE00': (w) => between(w, '\ufe00'),
  'variation selector U+FE0F': (w) => between(w, '\ufe0f'),
  'variation selector U+E0100': (w) => between(w, '\u{e0100}'),
  'variation selector U+E01EF': (w) => between(w, '\u{e01ef}'),
  'combining acute accent U+0301': (w) => between(w, '\u0301'),
  'combining marks stacked (U+0300 U+0308 U+20DD)': (w) => between(w, '\u0300\u0308\u20dd'),
  'Hangul filler U+3164': (w) => between(w, '\u3164'),
  'Hangul choseong filler U+115F': (w) => between(w, '\u115f'),
  'Hangul jungseong filler U+1160': (w) => between(w, '\u1160'),
  'half-width Hangul filler U+FFA0': (w) => between(w, '\uffa0'),
  'zero-width space U+200B': (w) => between(w, '\u200b'),
  'zero-width non-joiner U+200C': (w) => between(w, '\u200c'),
  'zero-width joiner U+200D': (w) => between(w, '\u200d'),
  'word joiner U+2060': (w) => between(w, '\u2060'),
  'byte order mark U+FEFF': (w) => between(w, '\ufeff'),
  'soft hyphen U+00AD': (w) => between(w, '\u00ad'),
  'Mongolian free variation selector U+180B': (w) => between(w, '\u180b'),
  'tag characters U+E0020': (w) => between(w, '\u{e0020}'),
  'ideographic space U+3000': (w) => between(w, '\u3000'),
  'no-break space U+00A0': (w) => between(w, '\u00a0'),
  'full-width punctuation': (w) => between(w, '．'),
  'full-width symbols': (w) => between(w, '＊☆'),
  'emoji between': (w) => between(w, '❤️'),
  'compatibility ideograph (U+FA32 for 免)': (w) => (w.includes('免') ? w.replace('免', '\ufa32') : undefined),
  traditional: (w) => TRADITIONAL[w]!,
  'traditional, partly': (w) => w.slice(0, -1) + TRADITIONAL[w]!.slice(-1),
  'Japanese shinjitai (単 for 单)': (w) => (w.includes('单') ? w.replace('单', '単') : undefined),
  'traditional + CGJ': (w) => between(TRADITIONAL[w]!, '\u034f'),
  'traditional + accent + Hangul filler': (w) => between(TRADITIONAL[w]!, '\u0301\u3164'),
  'traditional + variation selectors + zero-width': (w) => between(TRADITIONAL[w]!, '\ufe0f\u{e0100}\u200b'),
};

const CASES = BASE_MARKETING_WORDS.flatMap((word) =>
  Object.entries(BYPASSES).flatMap(([name, f]) => {
    const written = f(word);
    return written === undefined ? [] : [[word, name, written] as const];
  }),
);

describe('marketing words: bypasses are refused', () => {
  test.each(CASES)('%s with %s is refused 422', (word, _name, written) => {
    expect(written).not.toBe(word); // the bypass really rewrites the word
    const d = check(`本店周年庆，${written}！`);
    expect(refused(d)).toBe(true);
    expect(d.kind === 'refuse' && d.details).toEqual({ word });
    expect(d.events.map((e) => [e.rule, e.action])).toEqual([['marketing_words', 'refuse']]);
  });

  test('full-width Latin: a configured Latin word is caught in full-width and accented forms', () => {
    const words = riskRulesFor('enterprise', { extraWords: ['free order'] }).marketing.words;
    expect(findMarketingWord('ＦＲＥＥ ＯＲＤＥＲ', words)).toBe('free order');
    expect(findMarketingWord('Frée\u034f Ordér', words)).toBe('free order');
  });

  test('a configured word is normalised as the greeting is (a traditional or spaced list entry still matches)', () => {
    const words = riskRulesFor('enterprise', { extraWords: ['穩賺 不賠'] }).marketing.words;
    expect(findMarketingWord('稳赚\u3164不赔', words)).toBe('穩賺 不賠');
    // An entry made only of invisible characters is no word: it is dropped, it never matches all.
    expect(riskRulesFor('enterprise', { extraWords: ['\u034f\u3164'] }).marketing.words).toEqual([
      ...BASE_MARKETING_WORDS,
    ]);
  });
});

describe('marketing words: ordinary greetings pass', () => {
  test.each([
    '恭喜发财',
    '新年快乐',
    '生日快乐',
    '恭喜发财，大吉大利',
    '恭喜發財，萬事如意', // traditional, and innocent
    '❤️ 生日快乐 ❤️',
    '🧧新年快乐🎉👍🏽',
    '☺️✌️ 新婚快乐',
    '免费的祝福，全额心意', // neither word as a whole
    '单身快乐，免得孤单', // the characters of a word, not the word
  ])('"%s" passes', (g) => {
    expect(check(g)).toEqual(ALLOW);
  });

  test('the folded form keeps the letters of ordinary greetings', () => {
    expect(normalizeGreeting('❤️ 生日快乐 ❤️')).toBe('生日快乐');
    expect(normalizeGreeting('恭喜發財，萬事如意！')).toBe('恭喜发财万事如意');
    expect(normalizeGreeting('한국어 인사')).toBe('한국어인사'); // Hangul syllables survive decomposition
    // Regional variants and shinjitai reach simplified too.
    expect(['衞生', '衛生', '為你', '爲你', '免単'].map(normalizeGreeting)).toEqual([
      '卫生',
      '卫生',
      '为你',
      '为你',
      '免单',
    ]);
  });
});

/**
 * Every code point that is a combining mark or default-ignorable (fillers, variation selectors,
 * zero-width characters, tags…), and every whitespace or separator: the characters a sender can
 * slip between the characters of a word without a reader seeing them.
 */
const INVISIBLE: string[] = (() => {
  const out: string[] = [];
  const re = /^[\p{M}\p{Default_Ignorable_Code_Point}\p{Z}\s]$/u;
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const ch = String.fromCodePoint(cp);
    if (re.test(ch)) out.push(ch);
  }
  return out;
})();

describe('marketing words: no invisible character evades the filter', () => {
  test('the pool holds every mark, default-ignorable and separator (thousands of code points)', () => {
    expect(INVISIBLE.length).toBeGreaterThan(6_000);
    for (const ch of [
      '\u034f',
      '\ufe0f',
      '\u{e0100}',
      '\u{e01ef}',
      '\u0301',
      '\u3164',
      '\u115f',
      '\u1160',
      '\uffa0',
      '\u200b',
    ])
      expect(INVISIBLE).toContain(ch);
  });

  test('each of them, alone between two characters, folds away (exhaustive)', () => {
    const escaped = INVISIBLE.filter((ch) => foldText(`免${ch}单`) !== '免单').map(
      (ch) => `U+${ch.codePointAt(0)!.toString(16).toUpperCase()}`,
    );
    expect(escaped).toEqual([]);
  });

  test('any of them inserted anywhere into a listed word, simplified or traditional, is still refused (property)', () => {
    const words = BASE_MARKETING_WORDS.flatMap((w) => [w, TRADITIONAL[w]!]);
    fc.assert(
      fc.property(
        fc.constantFrom(...words),
        fc.array(
          fc.record({ at: fc.nat(), chars: fc.array(fc.constantFrom(...INVISIBLE), { minLength: 1, maxLength: 4 }) }),
          { minLength: 1, maxLength: 8 },
        ),
        fc.string({ maxLength: 6 }),
        (word, inserts, prefix) => {
          const cps = [...word];
          for (const ins of inserts) cps.splice(ins.at % (cps.length + 1), 0, ins.chars.join(''));
          const d = check(`${prefix}${cps.join('')}`);
          expect(refused(d)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});
