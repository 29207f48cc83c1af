import { DomainError, fail } from '../domain/errors';
import { requestHash } from '../domain/ids';
import type { Deps } from './deps';
import type { Outcome } from './context';

export interface IdempotentCall {
  principal: string;
  /** The route, e.g. `POST /v1/packets`. */
  scope: string;
  key: string | undefined;
  body: unknown;
}

/**
 * Runs a money-moving use case at most once per (caller, route, Idempotency-Key).
 *
 * 1. Look first (read only): a stored response is replayed; another body → 409.
 * 2. `precheck` refuses what it can without writing (limits, funds): nothing is stored, so the
 *    same key may be used again once the cause is gone.
 * 3. The pending record is put; `run` does the work. Its ids derive from the key, so a re-run
 *    after a crash (record still pending) lands on the same items and converges.
 * 4. The response — success or a refusal met after writes began — is stored and replayed later
 *    (not UNAVAILABLE: a retry with the same key resumes the work instead).
 */
export async function idempotent(
  d: Deps,
  call: IdempotentCall,
  precheck: () => Promise<void>,
  run: () => Promise<Outcome>,
): Promise<Outcome> {
  if (!call.key) fail('IDEMPOTENCY_KEY_REQUIRED', 'Idempotency-Key header is required for this call');
  const key = call.key!;
  const hash = requestHash('', call.scope, call.body);
  const seen = await d.idem.peek(call.principal, call.scope, key, hash);
  if (seen.kind === 'mismatch') fail('IDEMPOTENCY_MISMATCH', 'This Idempotency-Key was used with another request body');
  if (seen.kind === 'replay') return seen.response;
  await precheck();
  const begun = await d.idem.begin(call.principal, call.scope, key, hash, new Date(d.now()).toISOString());
  if (begun.kind === 'mismatch') fail('IDEMPOTENCY_MISMATCH', 'This Idempotency-Key was used with another request body');
  if (begun.kind === 'replay') return begun.response;
  let outcome: Outcome;
  try {
    outcome = await run();
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    // A transient refusal (the payment provider's answer is not known yet) is not the request's
    // result: the record stays pending, so the same key runs the work again.
    if (err.code === 'UNAVAILABLE') throw err;
    outcome = { status: err.status, body: { error: { code: err.code, message: err.message } } };
  }
  await d.idem.complete(call.principal, call.scope, key, outcome);
  return outcome;
}
