import { useCallback, useEffect, useRef, useState } from 'react';
import type { CodeView } from '../../../functions/src/http/contract';
import { ApiError } from '../api/errors';

/** A code as received, with the local time it arrived (the client's clock may differ from the server's). */
export interface HeldCode {
  view: CodeView;
  receivedAt: number;
}

interface Options {
  /** Fetches a fresh code (POST /v1/packets/{id}/codes, GET /v1/receive-code). */
  fetchCode: () => Promise<CodeView>;
  /** A code already in hand (from the create response), used until its refresh time. */
  initial?: HeldCode | undefined;
  /** Rotate only while true (the page is shown and the packet still active). */
  active: boolean;
  /** Errors that end the rotation (e.g. the packet finished). */
  onFatal?: (err: ApiError) => void;
  now?: () => number;
}

/** Never refresh sooner than this, whatever the server says. */
const MIN_DELAY_MS = 5_000;
const RETRY_MS = [2_000, 5_000, 10_000, 20_000];
const FATAL = new Set([
  'PACKET_FINISHED',
  'PACKET_EXPIRED',
  'FORBIDDEN',
  'NOT_FOUND',
  'UNAUTHENTICATED',
  'CODE_FROZEN',
]);

/**
 * How long after receipt a code should be replaced: its refreshAfter − issuedAt (60 s), measured
 * on the local clock from when it arrived, so clock skew does not matter. Without refreshAfter:
 * half its lifetime.
 */
export function refreshDelayMs(view: CodeView): number {
  const issued = Date.parse(view.issuedAt);
  const refresh = view.refreshAfter ? Date.parse(view.refreshAfter) : NaN;
  const expires = Date.parse(view.expiresAt);
  let delay = Number.isFinite(refresh) ? refresh - issued : (expires - issued) / 2;
  if (!Number.isFinite(delay)) delay = 60_000;
  if (Number.isFinite(expires)) delay = Math.min(delay, expires - issued - 5_000);
  return Math.max(MIN_DELAY_MS, delay);
}

/** Milliseconds until a held code expires (on the local clock). */
export function lifetimeLeftMs(code: HeldCode, now: number): number {
  const life = Date.parse(code.view.expiresAt) - Date.parse(code.view.issuedAt);
  return code.receivedAt + life - now;
}

/**
 * Keeps a live code fresh: fetches a new one when the current one reaches its refresh time
 * (before it expires), retries a failed fetch with back-off while the old code is still valid
 * (after a `429 RATE_LIMITED`: not before its Retry-After, the refusal given as `limited`), and
 * stops on errors that end the rotation. Gives a seconds countdown to the next refresh.
 */
export function useRotatingCode({ fetchCode, initial, active, onFatal, now = Date.now }: Options) {
  const [code, setCode] = useState<HeldCode | undefined>(initial);
  const [error, setError] = useState<string | undefined>();
  const [refreshing, setRefreshing] = useState(false);
  const [tick, setTick] = useState(0);
  const [limited, setLimited] = useState<ApiError | undefined>();
  const attempt = useRef(0);
  /** RATE_LIMITED: no retry before this many ms (the server's Retry-After). */
  const waitMs = useRef(0);
  const inFlight = useRef(false);
  const fetchRef = useRef(fetchCode);
  fetchRef.current = fetchCode;
  const fatalRef = useRef(onFatal);
  fatalRef.current = onFatal;
  const nowRef = useRef(now);
  nowRef.current = now;
  const alive = useRef(true);
  useEffect(
    () => () => {
      alive.current = false;
    },
    [],
  );

  const refresh = useCallback(async () => {
    if (inFlight.current) return;
    inFlight.current = true;
    setRefreshing(true);
    try {
      const view = await fetchRef.current();
      if (!alive.current) return;
      attempt.current = 0;
      waitMs.current = 0;
      setError(undefined);
      setLimited(undefined);
      setCode({ view, receivedAt: nowRef.current() });
    } catch (err) {
      if (!alive.current) return;
      const e = err instanceof ApiError ? err : new ApiError('NETWORK_ERROR', 0);
      if (FATAL.has(String(e.code))) {
        fatalRef.current?.(e);
        setError(e.message);
      } else if (e.code === 'RATE_LIMITED') {
        // Too many refreshes this minute: wait as told (the page shows the refusal and its
        // countdown), then try again; the old code stays shown while still valid.
        attempt.current += 1;
        waitMs.current = (e.retryAfter ?? 0) * 1000;
        setError(undefined);
        setLimited(e);
        setTick((t) => t + 1);
      } else {
        waitMs.current = 0;
        setLimited(undefined);
        attempt.current += 1;
        setError(`二维码刷新失败，正在重试（${e.message}）`);
        setTick((t) => t + 1); // schedules the retry below
      }
    } finally {
      inFlight.current = false;
      if (alive.current) setRefreshing(false);
    }
  }, []);

  // The refresh timer: at the code's refresh time, or after a back-off following a failure.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `tick` is the trigger: a failed refresh re-arms the timer.
  useEffect(() => {
    if (!active) return undefined;
    let delay: number;
    if (attempt.current > 0)
      delay = Math.max(waitMs.current, RETRY_MS[Math.min(attempt.current - 1, RETRY_MS.length - 1)]!);
    else if (code) delay = Math.max(0, code.receivedAt + refreshDelayMs(code.view) - nowRef.current());
    else delay = 0;
    const t = setTimeout(() => void refresh(), delay);
    return () => clearTimeout(t);
  }, [active, code, tick, refresh]);

  // The countdown, once a second.
  const [nowMs, setNowMs] = useState(() => now());
  useEffect(() => {
    if (!active) return undefined;
    setNowMs(nowRef.current());
    const t = setInterval(() => setNowMs(nowRef.current()), 1000);
    return () => clearInterval(t);
  }, [active]);

  const secondsLeft = code ? Math.max(0, Math.ceil((code.receivedAt + refreshDelayMs(code.view) - nowMs) / 1000)) : 0;
  const expired = code ? lifetimeLeftMs(code, nowMs) <= 0 : false;
  return { code, secondsLeft, expired, refreshing, error, limited, refresh };
}
