/**
 * The API base URL, in this order:
 *   1. H5: `window.__HONGBAO_API__`, set in index.html by the server that serves the app
 *      (scripts/start.js knows the API port; the build does not);
 *   2. `TARO_APP_API` at build time (e.g. `TARO_APP_API=https://api.example.com npm run build:weapp`);
 *   3. http://localhost:3000 (the local stack's API).
 */
export const DEFAULT_API = 'http://localhost:3000';

export function apiBase(): string {
  if (
    process.env.TARO_ENV === 'h5' &&
    typeof window !== 'undefined' &&
    typeof window.__HONGBAO_API__ === 'string' &&
    window.__HONGBAO_API__
  ) {
    return trimSlash(window.__HONGBAO_API__);
  }
  const built = process.env.TARO_APP_API;
  if (typeof built === 'string' && built) return trimSlash(built);
  return DEFAULT_API;
}

function trimSlash(s: string): string {
  return s.replace(/\/+$/, '');
}

/** Whether the login page offers the dev login (pick a name; local and sandbox APIs only). */
export function devLoginEnabled(): boolean {
  const flag = process.env.TARO_APP_DEV_LOGIN;
  if (flag === '1') return true;
  if (flag === '0') return false;
  return process.env.TARO_ENV === 'h5';
}

/**
 * Whether this build talks to a stage with dev features on (local, sandbox): the same switch as
 * the dev login. There the sandbox top-up stays available and, on H5, the WeChat Pay simulator's
 * screens stand in for WeChat's payment sheet and transfer confirmation.
 */
export function devFeaturesEnabled(): boolean {
  return devLoginEnabled();
}

/** The local WeChat Pay simulator's default port (`WXPAY_SIM_PORT`). */
export const DEFAULT_WXPAY_SIM_PORT = 3010;

/**
 * The WeChat Pay simulator's base URL (H5 with dev features only; never used on weapp):
 *   1. `window.__HONGBAO_WXPAY_SIM__`, set in index.html by scripts/start.js;
 *   2. `TARO_APP_WXPAY_SIM` at build time;
 *   3. the API's host on port 3010 (the local stack's simulator).
 */
export function wxpaySimBase(): string {
  if (
    typeof window !== 'undefined' &&
    typeof window.__HONGBAO_WXPAY_SIM__ === 'string' &&
    window.__HONGBAO_WXPAY_SIM__
  ) {
    return trimSlash(window.__HONGBAO_WXPAY_SIM__);
  }
  const built = process.env.TARO_APP_WXPAY_SIM;
  if (typeof built === 'string' && built) return trimSlash(built);
  const m = /^(https?:\/\/[^/:]+)/i.exec(apiBase());
  return `${m ? m[1] : 'http://127.0.0.1'}:${DEFAULT_WXPAY_SIM_PORT}`;
}
