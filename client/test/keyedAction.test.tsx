import { act, renderHook } from '@testing-library/react';
import { ApiError } from '../src/api/errors';
import { useKeyedAction } from '../src/lib/useKeyedAction';

/** A call that records the keys it was given and answers as told. */
function recorder() {
  const keys: string[] = [];
  const answers: Array<() => Promise<string>> = [];
  const call = (_body: { amount: number }, key: string) => {
    keys.push(key);
    return (answers.shift() ?? (() => Promise.resolve('ok')))();
  };
  return { keys, answers, call };
}

describe('useKeyedAction: one money action, single-flight and keyed', () => {
  test('a lost answer (no answer, 5xx, 429, anything not an ApiError) keeps the key; a refusal or a success renews it', async () => {
    const { result } = renderHook(() => useKeyedAction('t'));
    const r = recorder();
    const seen: Array<[string, boolean]> = [];
    const on = {
      done: () => seen.push(['done', true]),
      failed: (e: ApiError, ended: boolean) => seen.push([String(e.code), ended]),
    };
    r.answers.push(
      () => Promise.reject(new ApiError('NETWORK_ERROR', 0)),
      () => Promise.reject(new ApiError('INTERNAL', 500)),
      () => Promise.reject(new ApiError('RATE_LIMITED', 429)),
      () => Promise.reject(new Error('socket hang up')),
      () => Promise.reject(new ApiError('INSUFFICIENT_FUNDS', 422)),
    );
    for (let i = 0; i < 6; i++) await act(() => result.current.run({ amount: 100 }, r.call, on));
    await act(() => result.current.run({ amount: 100 }, r.call, on));
    expect(seen).toEqual([
      ['NETWORK_ERROR', false],
      ['INTERNAL', false],
      ['RATE_LIMITED', false],
      ['NETWORK_ERROR', false],
      ['INSUFFICIENT_FUNDS', true],
      ['done', true],
      ['done', true],
    ]);
    // The first five attempts are one action; the refusal ended it; so did the success.
    expect(new Set(r.keys.slice(0, 5)).size).toBe(1);
    expect(r.keys[5]).not.toBe(r.keys[4]);
    expect(r.keys[6]).not.toBe(r.keys[5]);
    expect(r.keys.every((k) => k.startsWith('t'))).toBe(true);
  });

  test('a changed body is a new action; a second run while one is in flight does nothing', async () => {
    const { result } = renderHook(() => useKeyedAction('x'));
    const r = recorder();
    let release!: (v: string) => void;
    r.answers.push(
      () => Promise.reject(new ApiError('TIMEOUT', 0)),
      () => new Promise<string>((res) => (release = res)),
    );
    const on = { done: jest.fn(), failed: jest.fn(), sending: jest.fn() };
    await act(() => result.current.run({ amount: 100 }, r.call, on));
    let first!: Promise<void>;
    act(() => {
      first = result.current.run({ amount: 200 }, r.call, on);
    });
    expect(result.current.running).toBe(true);
    expect(result.current.inFlight()).toBe(true);
    await act(() => result.current.run({ amount: 200 }, r.call, on));
    expect(r.keys).toHaveLength(2);
    expect(r.keys[1]).not.toBe(r.keys[0]);
    await act(async () => {
      release('ok');
      await first;
    });
    expect(on.sending).toHaveBeenCalledTimes(2);
    expect(on.done).toHaveBeenCalledWith('ok');
    expect(result.current.running).toBe(false);
  });
});
