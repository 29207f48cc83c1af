/**
 * What `<PUBLIC_BASE_URL>/o/<code>` answers when it reaches us rather than WeChat: a browser
 * outside WeChat (a phone camera, a desktop), or WeChat itself before the link rule is published.
 * Inside WeChat, with the rule for the `/o/` prefix registered and published, WeChat never
 * requests the URL: it opens the mini-program's open page with the URL in `q`.
 *
 * Pure: configuration in, response out. No table, no key: a malformed last segment (empty, too
 * long, a character no code has) is refused at once with a 400 page; whether a well-formed code
 * is genuine, live or spent is the app's question (GET /v1/codes/{code}), asked once it opens.
 * Also serves WeChat's check file for the link rule (its owner check when the rule is saved).
 */
import type { LinkPageConfig } from '../config';
import { isCodeShaped } from '../domain/links';

/** The H5 app's open page for a code (hash router; it forwards a receive code to the pay page). */
export function h5OpenUrl(h5AppUrl: string, code: string): string {
  return `${h5AppUrl}#/pages/open/index?c=${encodeURIComponent(code)}`;
}

export interface LinkPageRequest {
  /** `/o/<segment>` (the link route) or `/<segment>` (the root, for the check file only). */
  route: 'link' | 'root';
  /** The path's last part as it arrived (still percent-encoded), possibly with more slashes. */
  segment: string;
  userAgent: string | undefined;
  method: string;
}

export interface LinkPageResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const HTML_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  // A page with no script, no frame, no outside resource.
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;

const STYLE =
  'body{margin:0;font-family:-apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;background:#f5f5f5;color:#222}' +
  'main{max-width:28rem;margin:0 auto;padding:2.5rem 1.25rem;text-align:center}' +
  '.env{background:#d9473b;color:#ffe9b0;border-radius:12px;padding:1.75rem 1rem;margin-bottom:1.5rem}' +
  'h1{font-size:1.35rem;margin:.25rem 0 0}ol{text-align:left;line-height:1.8;padding-left:1.25rem}' +
  'a.btn{display:inline-block;margin-top:1rem;padding:.7rem 1.4rem;border-radius:8px;background:#d9473b;color:#fff;text-decoration:none}' +
  '.muted{color:#888;font-size:.85rem}';

function page(title: string, inner: string): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${title}</title><style>${STYLE}</style></head><body><main>${inner}</main></body></html>\n`;
}

function html(statusCode: number, body: string, method: string): LinkPageResponse {
  return { statusCode, headers: { ...HTML_HEADERS }, body: method === 'HEAD' ? '' : body };
}

/** The page for a link that cannot hold a code. */
function malformed(method: string): LinkPageResponse {
  return html(
    400,
    page(
      '链接无效 · 红包码',
      '<div class="env"><h1>链接无效</h1></div><p>这个链接不完整或已损坏，打不开红包。</p><p class="muted">请让发红包的人重新分享二维码或链接。</p>',
    ),
    method,
  );
}

/** The page a browser outside WeChat sees for a well-formed link. */
function openInWeChat(code: string, cfg: LinkPageConfig, method: string): LinkPageResponse {
  const h5 = cfg.h5AppUrl
    ? `<a class="btn" href="${escapeHtml(h5OpenUrl(cfg.h5AppUrl, code))}">在浏览器中打开</a>`
    : '';
  return html(
    200,
    page(
      '请用微信扫一扫打开 · 红包码',
      '<div class="env"><div>红包码</div><h1>请用微信扫一扫打开</h1></div>' +
        '<ol><li>打开微信，点右上角「+」→「扫一扫」，扫描这个二维码；</li><li>或把这个链接发到微信聊天里，在微信中点开；</li><li>红包会在「红包码」小程序里打开，点「開」领取。</li></ol>' +
        `${h5}<p class="muted">手机相机和其他浏览器无法直接领取红包。</p>`,
    ),
    method,
  );
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** WeChat's in-app browser (the link rule not matched, e.g. not yet published). */
function inWeChat(userAgent: string | undefined): boolean {
  return /MicroMessenger/i.test(userAgent ?? '');
}

/**
 * The answer for one request: the check file when its name is asked (at the root or under
 * `/o/`, where WeChat's rule for `<base>/o/` looks for it); a 400 page for a malformed link; a
 * redirect to the H5 app's open page for a browser outside WeChat when an H5 app is configured;
 * otherwise the "open it in WeChat" page.
 */
export function linkPage(req: LinkPageRequest, cfg: LinkPageConfig): LinkPageResponse {
  const method = req.method.toUpperCase();
  if (method !== 'GET' && method !== 'HEAD')
    return { statusCode: 405, headers: { allow: 'GET, HEAD', 'cache-control': 'no-store' }, body: '' };
  let segment: string;
  try {
    segment = decodeURIComponent(req.segment);
  } catch {
    return malformed(method);
  }
  if (cfg.verifyFile && segment === cfg.verifyFile.name) {
    return {
      statusCode: 200,
      headers: {
        'content-type': 'text/plain; charset=utf-8',
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-cache',
      },
      body: method === 'HEAD' ? '' : cfg.verifyFile.content,
    };
  }
  if (req.route === 'root') {
    return {
      statusCode: 404,
      headers: {
        'content-type': 'text/plain; charset=utf-8',
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
      },
      body: method === 'HEAD' ? '' : 'Not found\n',
    };
  }
  if (!isCodeShaped(segment)) return malformed(method);
  if (cfg.h5AppUrl && !inWeChat(req.userAgent)) {
    return {
      statusCode: 302,
      headers: {
        location: h5OpenUrl(cfg.h5AppUrl, segment),
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
      },
      body: '',
    };
  }
  return openInWeChat(segment, cfg, method);
}
