/** Deep links: the share card and the H5 link carry `pages/open/index?c=<code>` (SPEC §4). */
export const OPEN_PAGE = 'pages/open/index';

export function openPath(code: string): string {
  return `/${OPEN_PAGE}?c=${encodeURIComponent(code)}`;
}

/** The full H5 link: `<origin><path>#/pages/open/index?c=<code>` (hash router). */
export function h5OpenLink(code: string, loc: { origin: string; pathname: string } = window.location): string {
  return `${loc.origin}${loc.pathname}#${openPath(code)}`;
}

/**
 * The code in something scanned or pasted: a bare code, a deep link or an H5 link with `c=`,
 * possibly with spaces or line breaks around it.
 */
export function extractCode(text: string): string {
  const s = text.trim();
  const m = /[?&#]c=([^&#\s]+)/.exec(s);
  if (m && m[1]) {
    try {
      return decodeURIComponent(m[1]);
    } catch {
      return m[1];
    }
  }
  return s.replace(/\s+/g, '');
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
