import Taro from '@tarojs/taro';
import type { ProfileResponse, SessionResponse } from '../../../functions/src/http/contract';
import { KEYS, load, remove, save } from '../lib/storage';

export type Session = Pick<SessionResponse, 'token' | 'userId' | 'name' | 'tier' | 'expiresAt'> & {
  /** The account's roles (e.g. `admin`); absent in a session stored before roles were kept. */
  roles?: string[];
  /** The account's avatar (a reference or an https URL), when it has one. */
  avatar?: string;
  /** Subscribe-message template ids the server configured (lib/subscribe.ts); absent: none. */
  subscribe?: SessionResponse['subscribe'];
};

/** The stored session, or undefined when absent or expired (a minute early). */
export function currentSession(): Session | undefined {
  const s = load<Session>(KEYS.session);
  if (!s || typeof s.token !== 'string' || !s.token) return undefined;
  const exp = Date.parse(s.expiresAt);
  if (Number.isFinite(exp) && exp - 60_000 < Date.now()) return undefined;
  return s;
}

export function saveSession(s: SessionResponse): void {
  const roles = Array.isArray(s.roles) ? s.roles.filter((r): r is string => typeof r === 'string') : [];
  const subscribe =
    s.subscribe && Array.isArray(s.subscribe.packet) && Array.isArray(s.subscribe.withdrawal)
      ? { subscribe: s.subscribe }
      : {};
  save(KEYS.session, {
    token: s.token,
    userId: s.userId,
    name: s.name,
    tier: s.tier,
    roles,
    expiresAt: s.expiresAt,
    ...(s.avatar ? { avatar: s.avatar } : {}),
    ...subscribe,
  });
}

/**
 * After `PATCH /v1/me`: the new name and avatar, and the token the API re-signed with the new
 * name (same expiry), so what this session records from now on carries the new name.
 */
export function saveProfile(p: ProfileResponse): void {
  const s = currentSession();
  if (!s || s.userId !== p.userId) return;
  const { avatar: _old, ...rest } = s;
  save(KEYS.session, {
    ...rest,
    token: p.token,
    expiresAt: p.expiresAt,
    name: p.name,
    ...(p.avatar ? { avatar: p.avatar } : {}),
  });
}

/** Whether the session's account has a role (the server checks again: this only hides entries). */
export function hasRole(s: Session | undefined, role: string): boolean {
  return !!s && Array.isArray(s.roles) && s.roles.includes(role);
}

/** Enterprise and provider accounts: campaigns and API keys (the server checks again). */
export function isBusiness(s: Session | undefined): boolean {
  return !!s && (s.tier === 'enterprise' || s.tier === 'provider');
}

export function clearSession(): void {
  remove(KEYS.session);
}

/** The current page as a URL ("/pages/open/index?c=…"), to come back to after logging in. */
export function currentPageUrl(): string {
  // The current instance knows its route and query as soon as the page renders (H5 pushes a
  // page onto getCurrentPages() only after it has loaded).
  const router = Taro.getCurrentInstance()?.router;
  let route = router?.path ?? '';
  let options: Record<string, string | undefined> = { ...(router?.params ?? {}) };
  if (!route) {
    const pages = Taro.getCurrentPages();
    const page = pages[pages.length - 1] as
      | { route?: string; options?: Record<string, string | undefined> }
      | undefined;
    route = page?.route ?? '';
    options = { ...(page?.options ?? {}) };
  }
  if (!route) return '/pages/home/index';
  const q = route.indexOf('?');
  if (q >= 0) {
    for (const part of route.slice(q + 1).split('&')) {
      const [k, v] = part.split('=');
      if (k && !(k in options)) options[k] = decodeURIComponent(v ?? '');
    }
    route = route.slice(0, q);
  }
  const query = Object.entries(options)
    .filter(([k, v]) => typeof v === 'string' && !k.startsWith('$') && k !== 'stamp')
    .map(([k, v]) => `${k}=${encodeURIComponent(v!)}`)
    .join('&');
  const path = route.startsWith('/') ? route : `/${route}`;
  return query ? `${path}?${query}` : path;
}

let redirecting = false;

/** Send the user to the login page, then back to where they were. Once at a time. */
export function goLogin(next = currentPageUrl()): void {
  if (redirecting) return;
  if (next.startsWith('/pages/login/')) return;
  redirecting = true;
  const url = `/pages/login/index?next=${encodeURIComponent(next)}`;
  Taro.reLaunch({ url }).finally(() => {
    redirecting = false;
  });
}

/** A dev user id from a typed name: the name itself when it is a valid id, else a stable hash. */
export function devUserFor(name: string): string {
  const n = name.trim();
  if (/^[A-Za-z0-9_-]{1,32}$/.test(n)) return n;
  let h = 2166136261;
  for (const ch of n) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 16777619) >>> 0;
  }
  return `u${h.toString(36)}`;
}
