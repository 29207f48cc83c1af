import { DomainError, errorBody, fail } from '../domain/errors';
import { requestHash } from '../domain/ids';
import type { ErrorBody } from '../http/contract';
import type { IdempotencyBegin, StoredResponse } from '../store/idempotency';
import type { Deps } from './deps';
import type { Outcome } from './context';

export interface IdempotentCall {
  principal: string;
  /** The route, e.g. `POST /v1/packets`. */
  scope: string;
  key: string | undefined;
  body: unknown;
  /**
   * How long a begun request may still be alive: its function's Lambda timeout plus margin.
   * Only a record older than this is taken over by a retry without waiting for its owner.
   */
  takeoverMs?: number;
}

/** The money functions' Lambda timeout (10 s in serverless.yml) plus margin. */
export const IDEM_TAKEOVER_MS = 15_000;
/** How long a twin waits for the request in flight before it runs the (convergent) work itself. */
export const TWIN_WAIT_MS = 5_000;
/** A twin's first look comes soon (most requests take tens of ms), later ones back off to 250 ms. */
const TWIN_POLL_MS = 40;
const TWIN_POLL_MAX_MS = 250;

const mismatch = () => fail('IDEMPOTENCY_MISMATCH', 'This Idempotency-Key was used with another request body');

/**
 * Runs a money-moving use case at most once per (caller, route, Idempotency-Key), and gives
 * every request with that key the same answer: the first response stored.
 *
 * 1. Look first (read only): a stored response is replayed; another body → 409.
 * 2. `precheck` refuses what it can without writing (limits, funds): nothing is stored, so the
 *    same key may be used again once the cause is gone.
 * 3. The pending record is put; `run` does the work. Its ids derive from the key, so a re-run
 *    after a crash (record still pending) lands on the same items and converges.
 * 4. The response — success or a refusal met after writes began — is stored unless a twin
 *    stored one first; the stored one is what every request answers. Not UNAVAILABLE (the
 *    payment provider's answer is not known yet): the record stays pending, so a retry with
 *    the same key resumes the work.
 *
 * Twins (the same request again while the first is in flight — a double tap, a client retry):
 *   - it finds the record pending and younger than `takeoverMs`: the first is presumably alive.
 *     It does NOT re-run the checks (the first passed them; its own debit would now make a
 *     tight balance look short) and waits, polling, up to TWIN_WAIT_MS for the first response.
 *   - the first is still pending after that (slow, or dead before its timeout): the twin runs
 *     the work itself. It converges on the first's items (derived ids, conditional writes), so
 *     no money moves twice, and step 4 gives both the one response stored first.
 *   - a twin that peeked before the first began may still meet the first's effects in its own
 *     checks (funds already debited): a refusal there is re-judged against the record, and a
 *     begun twin is followed instead of answering the refusal.
 *   - the record is older than `takeoverMs`: the first is certainly dead (past its Lambda
 *     timeout). One retry takes it over (conditional on `at`) after re-running the checks as a
 *     new request would, and re-runs the work; other retries then see it fresh and wait.
 * A crash after the work and before step 4 leaves the record pending: the next retry re-runs
 * the convergent work and stores the answer. (docs/crash-timelines.md: every flow built on this.)
 */
export async function idempotent<T>(
  d: Deps,
  call: IdempotentCall,
  precheck: () => Promise<void>,
  run: () => Promise<Outcome<T>>,
): Promise<Outcome<T | ErrorBody>> {
  // A stored answer is what `run` (or its refusal) gave the first request of this key and body.
  return (await runIdempotent(d, call, precheck, run)) as Outcome<T | ErrorBody>;
}

async function runIdempotent(
  d: Deps,
  call: IdempotentCall,
  precheck: () => Promise<void>,
  run: () => Promise<Outcome>,
): Promise<Outcome> {
  if (!call.key) fail('IDEMPOTENCY_KEY_REQUIRED', 'Idempotency-Key header is required for this call');
  const key = call.key;
  const hash = requestHash('', call.scope, call.body);
  const takeoverMs = call.takeoverMs ?? IDEM_TAKEOVER_MS;
  const alive = (s: { at: string }) => d.now() - Date.parse(s.at) < takeoverMs;

  const work = async (): Promise<Outcome> => {
    let outcome: Outcome;
    try {
      outcome = await run();
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      // A transient refusal is not the request's result (see step 4).
      if (err.code === 'UNAVAILABLE') throw err;
      outcome = { status: err.status, body: errorBody(err.code, err.message) };
    }
    return d.idem.complete(call.principal, call.scope, key, outcome);
  };

  /** Waits for the request in flight to store its response; runs the work itself if it does not. */
  const followFirst = async (): Promise<Outcome> => {
    const started = Date.now();
    for (
      let pause = TWIN_POLL_MS;
      Date.now() - started < TWIN_WAIT_MS;
      pause = Math.min(pause * 1.5, TWIN_POLL_MAX_MS)
    ) {
      await new Promise((r) => setTimeout(r, pause));
      const now = await d.idem.peek(call.principal, call.scope, key, hash);
      if (now.kind === 'replay') return now.response;
      if (now.kind === 'mismatch') mismatch();
    }
    return work();
  };

  /** What a record already there means for this request (undefined: it is stale, take it over). */
  const judge = (seen: IdempotencyBegin): Promise<StoredResponse> | StoredResponse | undefined => {
    if (seen.kind === 'mismatch') mismatch();
    if (seen.kind === 'replay') return seen.response;
    if (seen.kind === 'resume' && alive(seen)) return followFirst();
    return undefined;
  };

  const seen = await d.idem.peek(call.principal, call.scope, key, hash);
  const known = judge(seen);
  if (known) return known;

  try {
    await precheck();
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    // A twin may have begun meanwhile and already spent what this check looked for.
    const now = await d.idem.peek(call.principal, call.scope, key, hash);
    if (now.kind === 'new' || (now.kind === 'resume' && !alive(now))) throw err;
    const followed = judge(now);
    if (followed) return followed;
    throw err;
  }

  const at = new Date(d.now()).toISOString();
  if (seen.kind === 'resume') {
    // The first request is past its timeout: one retry takes it over, the others follow it.
    if (await d.idem.takeOver(call.principal, call.scope, key, seen.at, at)) return work();
    const now = await d.idem.peek(call.principal, call.scope, key, hash);
    return judge(now) ?? work();
  }
  const begun = await d.idem.begin(call.principal, call.scope, key, hash, at);
  if (begun.kind === 'new') return work();
  // A twin put the record first.
  return judge(begun) ?? work();
}
