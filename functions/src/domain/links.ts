/**
 * Links a camera opens: every code travels as `<public base>/o/<code>`. Scanned with WeChat, the
 * "scan an ordinary link QR to open the mini-program" rule for the `/o/` prefix opens the
 * mini-program's open page with the whole URL in `q`; opened in a browser, the same URL reaches
 * our own `/o/` page (the H5 app locally, a small page or a redirect on AWS).
 */
import { MAX_CODE_LENGTH } from './codes';

/** The path prefix of every code link; the mini-program rule is registered for `<base>/o/`. */
export const LINK_PREFIX = '/o/';

/**
 * What a code link's last segment may be: the characters a code is made of ([A-Za-z0-9._-],
 * see codes.ts) and no longer than the longest code. Checked without any key, so the `/o/` page
 * can refuse a malformed link at once; whether the code is genuine is the API's business.
 */
const CODE_SHAPE = new RegExp(`^[A-Za-z0-9._-]{1,${MAX_CODE_LENGTH}}$`);

/** True when `s` could be a code (shape only, no signature check). */
export function isCodeShaped(s: string): boolean {
  return CODE_SHAPE.test(s);
}

/**
 * The link of a code: `<base>/o/<code>`. `base` is an absolute http(s) URL without a trailing
 * slash (config.ts checks it once). Codes are URL-safe already; the encoding is a guard should
 * the format ever gain a character that is not.
 */
export function codeLink(base: string, code: string): string {
  return `${base}${LINK_PREFIX}${encodeURIComponent(code)}`;
}
