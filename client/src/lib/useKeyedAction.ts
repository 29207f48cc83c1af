import { useRef, useState } from 'react';
import { ApiError } from '../api/errors';
import { ActionKey } from './ids';

/** What a keyed action reports back. */
export interface KeyedActionHandlers<R> {
  /** The key is chosen and the request is about to go (the send form saves its draft here). */
  sending?: () => void;
  /** The API accepted it; the action is over. */
  done: (res: R) => void;
  /**
   * It failed. `ended`: a definite refusal — the next attempt is a new action with a new key.
   * Otherwise the answer may have been lost (no answer, 5xx, 429): the key is kept, so doing it
   * again returns the first result instead of moving money twice.
   */
  failed: (e: ApiError, ended: boolean) => void;
}

/**
 * One money action of the user — a top-up, a transfer, a packet, a campaign: single-flight (a
 * second tap while one is in flight does nothing) and keyed by {@link ActionKey} (the same body
 * reuses its Idempotency-Key until the action succeeds or is refused). Anything thrown that is
 * not an ApiError counts as a lost answer. `key` is exposed so a saved draft can restore its
 * pending key.
 */
export function useKeyedAction(prefix: string) {
  const key = useRef(new ActionKey(prefix));
  const busy = useRef(false);
  const [running, setRunning] = useState(false);

  const run = async <B, R>(
    body: B,
    call: (body: B, idempotencyKey: string) => Promise<R>,
    on: KeyedActionHandlers<R>,
  ): Promise<void> => {
    if (busy.current) return;
    busy.current = true;
    setRunning(true);
    const idempotencyKey = key.current.for(body);
    on.sending?.();
    try {
      const res = await call(body, idempotencyKey);
      key.current.done();
      on.done(res);
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError('NETWORK_ERROR', 0);
      if (!e.retryable) key.current.done();
      on.failed(e, !e.retryable);
    } finally {
      busy.current = false;
      setRunning(false);
    }
  };

  return { run, running, inFlight: () => busy.current, key };
}
