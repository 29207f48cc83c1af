import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, errorText } from '../api/errors';

/** How a page's load behaves; every option defaults to off (the plainest page: the wallet). */
export interface LoadOptions {
  /**
   * A 403 means the page is not for this account (business pages, the operator view):
   * `forbidden` is set instead of an error, and the page shows its refusal screen.
   */
  forbidden?: boolean;
  /** The message for a failed load (default: `errorText`). */
  errorText?: (err: unknown) => string;
  /**
   * The last error stays until a load succeeds, for pages that keep showing the last data beside
   * it ("显示的是上次的数据"). Otherwise the error is cleared as a load starts (and a load that
   * succeeds does not clear an error set meanwhile by another).
   */
  keepError?: boolean;
  /** A load asked for while one is in flight does nothing (pages that also refresh on a timer). */
  singleFlight?: boolean;
  /** Asked at each load: false skips it (no session yet, no id in the route). */
  enabled?: () => boolean;
  /** A new value loads again (what the data is of, e.g. the campaign's id). */
  key?: unknown;
}

/** A page's data with its load state. */
export interface Loaded<T> {
  /** The last data loaded (kept while loading again and after a failed load). */
  data: T | undefined;
  /** Replaces the data (a page that learns the new value from an action's answer). */
  setData: (update: T | undefined | ((prev: T | undefined) => T | undefined)) => void;
  error: string | undefined;
  loading: boolean;
  /** The page is not for this account (a 403, or `forbid`). */
  forbidden: boolean;
  /** Another call of the page answered 403: show the refusal screen. */
  forbid: () => void;
  /** Loads again; resolves when done (never rejects: a failure is `error`). */
  reload: () => Promise<void>;
}

/**
 * The load / error / forbidden pattern of a page: loads on mount (and again when `key`
 * changes), exposes `reload` for retry buttons, pull-down refresh and "shown again", and turns
 * a failure into the error text to show — or, with `forbidden`, a 403 into the refusal screen.
 * Nothing is set once the page is unmounted.
 */
export function useLoad<T>(fetch: () => Promise<T>, options: LoadOptions = {}): Loaded<T> {
  const [data, setData] = useState<T | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [loading, setLoading] = useState(false);
  const [forbidden, setForbidden] = useState(false);
  const fetchRef = useRef(fetch);
  fetchRef.current = fetch;
  const optionsRef = useRef(options);
  optionsRef.current = options;
  const inFlight = useRef(false);
  const alive = useRef(true);

  const reload = useCallback(async () => {
    const o = optionsRef.current;
    if (o.enabled && !o.enabled()) return;
    if (o.singleFlight && inFlight.current) return;
    inFlight.current = true;
    setLoading(true);
    if (!o.keepError) setError(undefined);
    try {
      const value = await fetchRef.current();
      if (!alive.current) return;
      setData(value);
      if (o.keepError) setError(undefined);
    } catch (err) {
      if (!alive.current) return;
      if (o.forbidden && err instanceof ApiError && err.status === 403) setForbidden(true);
      else setError((o.errorText ?? errorText)(err));
    } finally {
      inFlight.current = false;
      if (alive.current) setLoading(false);
    }
  }, []);

  // On mount, and again for a new `key` (what the data is of).
  const { key } = options;
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` is the trigger: new data to load.
  useEffect(() => {
    alive.current = true;
    void reload();
    return () => {
      alive.current = false;
    };
  }, [reload, key]);

  const forbid = useCallback(() => setForbidden(true), []);
  return { data, setData, error, loading, forbidden, forbid, reload };
}
