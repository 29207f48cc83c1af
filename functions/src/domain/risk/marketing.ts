/** Marketing words: the folding of a text for matching (the matcher: domain/greeting.ts). */

/**
 * Everything a reader does not see as a letter of its own: combining marks (accents, the
 * combining grapheme joiner U+034F, variation selectors U+FE00–FE0F and U+E0100–E01EF), other
 * default-ignorable code points (zero-width characters, the Hangul fillers U+115F, U+1160,
 * U+3164, U+FFA0, tags), controls and unassigned or private code points, separators and
 * whitespace, punctuation and symbols (emoji included).
 */
const NOT_A_LETTER = /[\p{M}\p{C}\p{Z}\s\p{P}\p{S}\p{Default_Ignorable_Code_Point}]/gu;

/**
 * A text folded for matching, without the traditional → simplified step (that step's
 * dictionaries live in domain/greeting.ts, so only the functions that check greetings carry
 * them): compatibility decomposition (NFKD: full-width and other compatibility forms become
 * their plain letters, accented letters become letter + mark), then every character of
 * {@link NOT_A_LETTER} dropped, then canonical composition (Hangul) and lower case.
 *
 * Decomposing before dropping is what makes "é" fold to "e" and "単\u0301" to "単": NFKC alone
 * would compose an accent into its letter and keep it.
 */
export function foldText(s: string): string {
  return s.normalize('NFKD').replace(NOT_A_LETTER, '').normalize('NFC').toLowerCase();
}
