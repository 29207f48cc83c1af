/**
 * The marketing-words rule: inducement words (免单, 全额返现, …) in an enterprise or provider
 * greeting refuse the packet or campaign with `422 GREETING_REJECTED`.
 *
 * Pure (no I/O, no SDK), but a module of its own: the traditional → simplified dictionaries
 * (opencc-js) are bundled only into the functions that import this module — packets and
 * campaigns, the two places a greeting is written — and not into every function that uses the
 * other risk rules (domain/risk/). Only opencc's core and four character tables are imported
 * (about 60 KB of minified bundle); its ready-made `opencc-js/t2cn` entry would bring every
 * regional phrase table as well (about 195 KB, as esbuild writes it: non-ASCII escaped).
 *
 * A greeting and every listed word go through the same {@link normalizeGreeting}, and a word
 * matches when its normal form is a substring of the greeting's. The normal form is built to
 * defeat the ways of writing a word so that a reader still reads it but a byte comparison does
 * not: invisible characters or marks between its characters, full-width or other compatibility
 * forms, spaces and punctuation between them, traditional or Japanese (shinjitai) characters.
 */
import { ConverterFactory } from 'opencc-js/core';
import HKVariantsRev from 'opencc-js/dict/HKVariantsRev';
import JPShinjitaiCharacters from 'opencc-js/dict/JPShinjitaiCharacters';
import TSCharacters from 'opencc-js/dict/TSCharacters';
import TWVariantsRev from 'opencc-js/dict/TWVariantsRev';
import {
  ALLOW,
  RiskRules,
  foldText,
  refuse,
  riskEventId,
  type RiskContext,
  type RiskDecision,
  type TierRiskRules,
} from './risk';

let simplify: ((s: string) => string) | undefined;

/**
 * Traditional characters (OpenCC standard, Taiwan and Hong Kong variants) and Japanese shinjitai
 * to simplified Chinese, character by character. Character tables only, no phrase tables: the
 * mapping is then context-free, so a word's converted form is a substring of the converted
 * greeting whenever the word is a substring of the greeting — what the matcher relies on.
 * The tables run in turn: Taiwan variants and shinjitai to OpenCC's standard traditional form
 * (單 for 単), Hong Kong variants back from the forms those write (衛 for 衞, 爲 for 為), then
 * traditional to simplified.
 * Built on first use (about 40 ms, once per container): a cold start of the packets or
 * campaigns function that never checks a greeting does not pay for it.
 */
function toSimplified(s: string): string {
  const convert = (simplify ??= ConverterFactory(
    [TWVariantsRev],
    [JPShinjitaiCharacters],
    [HKVariantsRev],
    [TSCharacters],
  ));
  return convert(s);
}

/**
 * The form a greeting and a listed word are compared in: {@link foldText} (compatibility forms,
 * marks, default-ignorable code points and fillers, whitespace, punctuation and symbols removed,
 * lower case), then traditional → simplified. Folding comes first so that an invisible character
 * inside a traditional word cannot keep the dictionary from seeing the word.
 */
export function normalizeGreeting(s: string): string {
  return toSimplified(foldText(s));
}

/** The first listed word contained in `greeting` (both normalised), if any. */
export function findMarketingWord(greeting: string, words: readonly string[]): string | undefined {
  const text = normalizeGreeting(greeting);
  return words.find((w) => {
    const n = normalizeGreeting(w);
    return n.length > 0 && text.includes(n);
  });
}

/** Marketing words in an enterprise or provider greeting → `422 GREETING_REJECTED` and an event. */
export function checkGreeting(
  greeting: string | undefined,
  ctx: RiskContext,
  rules: TierRiskRules['marketing'],
): RiskDecision {
  if (!rules.enabled || !greeting) return ALLOW;
  const word = findMarketingWord(greeting, rules.words);
  if (word === undefined) return ALLOW;
  return refuse(
    'GREETING_REJECTED',
    `祝福语含有营销诱导词“${word}”，请修改后再发`,
    { word },
    {
      events: [
        {
          id: riskEventId(RiskRules.marketing_words, ctx.userId, ctx.opId),
          rule: RiskRules.marketing_words,
          action: 'refuse',
          atMs: ctx.nowMs,
          tier: ctx.tier,
          accountId: ctx.userId,
          details: { word },
        },
      ],
    },
  );
}

/**
 * The greeting check as an extra read-only rule for the risk gate (app/risk-gate.ts `riskCheck`),
 * which stays free of this module's dictionaries.
 */
export function greetingRule(greeting: string | undefined): (ctx: RiskContext, rules: TierRiskRules) => RiskDecision {
  return (ctx, rules) => checkGreeting(greeting, ctx, rules.marketing);
}
