/**
 * The API base URL, in this order:
 *   1. H5: `window.__HONGBAO_API__`, set in index.html by the server that serves the app
 *      (scripts/start.js knows the API port; the build does not);
 *   2. `TARO_APP_API` at build time (e.g. `TARO_APP_API=https://api.example.com npm run build:weapp`);
 *   3. http://localhost:3000 (the local stack's API).
 */
export const DEFAULT_API = 'http://localhost:3000';

export function apiBase(): string {
  if (process.env.TARO_ENV === 'h5' && typeof window !== 'undefined' && typeof window.__HONGBAO_API__ === 'string' && window.__HONGBAO_API__) {
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
