/**
 * Current names and avatars for the views (claim lists, the open view's sender, the packet
 * page, forwards, receive-code payees).
 *
 * Packets, slots and forwards keep the name their writer had (a snapshot taken from the session
 * at the time): the claim path reads no profile and must not start to. Instead a view resolves
 * the accounts it shows when it is built — one BatchGetItem of their profiles (eventually
 * consistent, half a read unit each), bounded to {@link MAX_RESOLVED} accounts a view, with a
 * short per-process cache, so a page polled every few seconds costs about one batch read per
 * {@link NAME_CACHE_MS}. Beyond the bound (claim lists of thousands) an account shows its
 * snapshot name and no avatar; the sender, the caller and the first claims come first.
 *
 * Staleness: a rename is seen at once by the instance that wrote it (it forgets its cache
 * entry) and within NAME_CACHE_MS by every other warm instance.
 */
import type { PublicProfile } from '../store/accounts';
import type { Deps } from './deps';
import { log } from '../log';

/** How long a process trusts a resolved name. */
export const NAME_CACHE_MS = 10_000;
/** Accounts resolved per view at most (one BatchGetItem request of 100 keys, two at most). */
export const MAX_RESOLVED = 200;
/** Accounts a process remembers at most. */
const CACHE_MAX = 5_000;

const cache = new Map<string, { p: PublicProfile | null; atMs: number }>();

/** Forgets an account's cached name (after this process changed it) — or every one (tests). */
export function forgetName(userId?: string): void {
  if (userId === undefined) cache.clear();
  else cache.delete(userId);
}

/** A name lookup: the current profile of an account the view asked for, if resolved. */
export type Names = (userId: string) => PublicProfile | undefined;

/**
 * Resolves the current names and avatars of `userIds` (in priority order; duplicates ignored):
 * the first {@link MAX_RESOLVED} distinct ones, from the cache or one batch read. A failed read
 * leaves the snapshots in place rather than failing the view.
 */
export async function resolveNames(d: Deps, userIds: Iterable<string>): Promise<Names> {
  const nowMs = d.now();
  const wanted: string[] = [];
  const seen = new Set<string>();
  for (const id of userIds) {
    if (!id || seen.has(id)) continue;
    seen.add(id);
    wanted.push(id);
    if (wanted.length >= MAX_RESOLVED) break;
  }
  const result = new Map<string, PublicProfile>();
  const missing: string[] = [];
  for (const id of wanted) {
    const hit = cache.get(id);
    // A clock that went backwards (tests move clocks) also refreshes.
    if (hit && nowMs >= hit.atMs && nowMs - hit.atMs < NAME_CACHE_MS) {
      if (hit.p) result.set(id, hit.p);
    } else missing.push(id);
  }
  if (missing.length > 0) {
    try {
      const got = await d.accounts.publicProfiles(missing);
      for (const id of missing) {
        const p = got.get(id) ?? null;
        if (p) result.set(id, p);
        cache.delete(id);
        if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
        cache.set(id, { p, atMs: nowMs });
      }
    } catch (err) {
      // Names are decoration: the view still answers, with the names its items recorded.
      log('warn', 'names not resolved', {
        accounts: missing.length,
        error: err instanceof Error ? err.name : 'unknown',
      });
    }
  }
  return (id) => result.get(id);
}

/** `{ name, avatar? }` of an account: the current one if resolved, else the snapshot. */
export function shown(names: Names, userId: string, snapshot: string): { name: string; avatar?: string } {
  const p = names(userId);
  if (!p) return { name: snapshot };
  return { name: p.name, ...(p.avatar ? { avatar: p.avatar } : {}) };
}
