/**
 * Links. A code travels three ways:
 *   - its link, `<PUBLIC_BASE_URL>/o/<code>` (the server's `link` on every code): what QR codes
 *     and copied links carry; a camera or WeChat's 扫一扫 opens it. Scanned in WeChat with the
 *     link rule registered, the open page gets the whole URL in `q` (encoded once);
 *   - the mini-program page path `pages/open/index?c=<code>` (share cards: a card holds a path,
 *     never a URL), and the H5 app's `#/pages/open/index?c=<code>`;
 *   - the bare code, pasted.
 * {@link extractCode} reads any of them.
 */
export const OPEN_PAGE = 'pages/open/index';

export function openPath(code: string): string {
  return `/${OPEN_PAGE}?c=${encodeURIComponent(code)}`;
}

/** The full H5 link: `<origin><path>#/pages/open/index?c=<code>` (hash router). */
export function h5OpenLink(code: string, loc: { origin: string; pathname: string } = window.location): string {
  return `${loc.origin}${loc.pathname}#${openPath(code)}`;
}

/** A code as the API returns it; `link` may be missing from one stored before links existed. */
export interface LinkedCode {
  code: string;
  link?: string | undefined;
}

/** What a QR code shows: the code's link (a camera opens it), else the bare code (our scanner reads it). */
export function qrText(view: LinkedCode): string {
  return view.link || view.code;
}

/** What 复制链接 copies: the code's link, else (H5) the app's own open-page link. */
export function shareLink(view: LinkedCode): string {
  return view.link || h5OpenLink(view.code);
}

function decodeOnce(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * The code in something scanned or pasted: a code link (`…/o/<code>`), a deep link or an H5
 * link with `c=`, or a bare code — possibly with spaces or line breaks around it.
 */
export function extractCode(text: string): string {
  const s = text.trim();
  const c = /[?&#]c=([^&#\s]+)/.exec(s);
  if (c?.[1]) return decodeOnce(c[1]);
  // A code link: the segment after the last `/o/` of the URL's path (before any query or fragment).
  const o = /^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]+(?:\/[^?#\s]*)?\/o\/([^/?#\s]+)\/?(?:[?#]\S*)?$/i.exec(s);
  if (o?.[1]) return decodeOnce(o[1]);
  return s.replace(/\s+/g, '');
}

/**
 * The code a page was opened with: `c` (share card, H5 link, our own navigation) or `q` (WeChat's
 * "scan an ordinary link QR to open the mini-program": the scanned URL, encoded once).
 */
export function codeFromParams(params: Partial<Record<string, string | undefined>>): string {
  if (params.c) return paramText(params.c);
  if (params.q) return extractCode(paramText(params.q));
  return '';
}

/** A query parameter as text: decoded once more if it still looks encoded, never throwing. */
export function paramText(v: string | undefined): string {
  if (!v) return '';
  if (!/%[0-9A-Fa-f]{2}/.test(v)) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}
