import { act, renderHook, waitFor } from '@testing-library/react';
import { ApiError, ERROR_MESSAGES } from '../src/api/errors';
import { useLoad, type LoadOptions } from '../src/lib/useLoad';

/** A fetch whose answers the test gives one by one (each call waits for its own). */
function controlled<T>() {
  const pending: Array<{ resolve: (v: T) => void; reject: (e: unknown) => void }> = [];
  const fetch = jest.fn(
    () =>
      new Promise<T>((resolve, reject) => {
        pending.push({ resolve, reject });
      }),
  );
  const next = () => {
    const p = pending.shift();
    if (!p) throw new Error('no call is waiting');
    return p;
  };
  return {
    fetch,
    resolve: (v: T) => act(async () => next().resolve(v)),
    reject: (e: unknown) => act(async () => next().reject(e)),
  };
}

const mount = <T,>(fetch: () => Promise<T>, options?: LoadOptions) =>
  renderHook((o: LoadOptions | undefined) => useLoad(fetch, o), { initialProps: options });

describe('useLoad: a page’s load, error and forbidden states', () => {
  test('loads on mount: loading while out, then the data', async () => {
    const c = controlled<{ balance: number }>();
    const { result } = mount(c.fetch);
    expect(c.fetch).toHaveBeenCalledTimes(1);
    expect(result.current.loading).toBe(true);
    expect(result.current.data).toBeUndefined();
    await c.resolve({ balance: 100 });
    expect(result.current).toMatchObject({
      data: { balance: 100 },
      loading: false,
      error: undefined,
      forbidden: false,
    });
  });

  test('a failed load is an error in words; retry loads again and clears it; the last data stays through a failure', async () => {
    const c = controlled<number>();
    const { result } = mount(c.fetch);
    await c.resolve(1);
    act(() => void result.current.reload());
    await c.reject(new ApiError('UNAVAILABLE', 503));
    expect(result.current.error).toBe(ERROR_MESSAGES.UNAVAILABLE);
    expect(result.current.data).toBe(1);
    expect(result.current.loading).toBe(false);
    // Retry: a new request; the error goes as it starts (the default) and the new data comes.
    act(() => void result.current.reload());
    expect(c.fetch).toHaveBeenCalledTimes(3);
    expect(result.current.error).toBeUndefined();
    expect(result.current.loading).toBe(true);
    await c.resolve(2);
    expect(result.current).toMatchObject({ data: 2, error: undefined, loading: false });
  });

  test('reload resolves when the load is over, also when it failed', async () => {
    const fetch = jest.fn().mockRejectedValueOnce(new Error('boom')).mockResolvedValue('ok');
    const { result } = mount(fetch);
    await waitFor(() => expect(result.current.loading).toBe(false));
    await act(() => result.current.reload());
    expect(result.current.data).toBe('ok');
    await expect(act(() => result.current.reload())).resolves.toBeUndefined();
  });

  test('with `forbidden`, a 403 is the forbidden screen, not an error; without it, a 403 is an error', async () => {
    const denied = () => Promise.reject(new ApiError('FORBIDDEN', 403));
    const biz = mount(denied, { forbidden: true });
    await waitFor(() => expect(biz.result.current.forbidden).toBe(true));
    expect(biz.result.current.error).toBeUndefined();

    const wallet = mount(denied);
    await waitFor(() => expect(wallet.result.current.error).toBe(ERROR_MESSAGES.FORBIDDEN));
    expect(wallet.result.current.forbidden).toBe(false);
  });

  test('with `forbidden`, other failures (404, 500, no answer) stay errors', async () => {
    for (const e of [new ApiError('NOT_FOUND', 404), new ApiError('INTERNAL', 500), new ApiError('NETWORK_ERROR', 0)]) {
      const { result } = mount(() => Promise.reject(e), { forbidden: true });
      await waitFor(() => expect(result.current.error).toBe(e.message));
      expect(result.current.forbidden).toBe(false);
    }
  });

  test('forbid() shows the forbidden screen (another call of the page answered 403)', async () => {
    const { result } = mount(() => Promise.resolve(1));
    await waitFor(() => expect(result.current.data).toBe(1));
    act(() => result.current.forbid());
    expect(result.current.forbidden).toBe(true);
  });

  test('`errorText` words the error', async () => {
    const { result } = mount(() => Promise.reject(new ApiError('NOT_FOUND', 404)), {
      errorText: (e) => (e instanceof ApiError && e.code === 'NOT_FOUND' ? '活动不存在' : 'other'),
    });
    await waitFor(() => expect(result.current.error).toBe('活动不存在'));
  });

  test('`keepError`: the error stays while loading again and goes when a load succeeds', async () => {
    const c = controlled<number>();
    const { result } = mount(c.fetch, { keepError: true });
    await c.reject(new ApiError('INTERNAL', 500));
    act(() => void result.current.reload());
    expect(result.current.loading).toBe(true);
    expect(result.current.error).toBe(ERROR_MESSAGES.INTERNAL);
    await c.resolve(5);
    expect(result.current.error).toBeUndefined();
    expect(result.current.data).toBe(5);
  });

  test('`singleFlight`: a reload while one is out sends nothing; without it, it sends another request', async () => {
    const single = controlled<number>();
    const s = mount(single.fetch, { singleFlight: true });
    act(() => void s.result.current.reload());
    act(() => void s.result.current.reload());
    expect(single.fetch).toHaveBeenCalledTimes(1);
    await single.resolve(1);
    act(() => void s.result.current.reload());
    expect(single.fetch).toHaveBeenCalledTimes(2);
    await single.resolve(2);

    const plain = controlled<number>();
    const p = mount(plain.fetch);
    act(() => void p.result.current.reload());
    expect(plain.fetch).toHaveBeenCalledTimes(2);
    await plain.resolve(1);
    await plain.resolve(2);
  });

  test('`enabled` is asked at each load: false sends nothing and shows no loading', async () => {
    let ready = false;
    const fetch = jest.fn(() => Promise.resolve('x'));
    const { result } = mount(fetch, { enabled: () => ready });
    expect(fetch).not.toHaveBeenCalled();
    expect(result.current.loading).toBe(false);
    ready = true;
    await act(() => result.current.reload());
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(result.current.data).toBe('x');
  });

  test('a new `key` loads again; the same key does not', async () => {
    const fetch = jest.fn(() => Promise.resolve(1));
    const { rerender } = mount(fetch, { key: 'c1' });
    await waitFor(() => expect(fetch).toHaveBeenCalledTimes(1));
    rerender({ key: 'c1' });
    rerender({ key: 'c2' });
    await waitFor(() => expect(fetch).toHaveBeenCalledTimes(2));
  });

  test('reload is the same function from render to render (pages put it in effect dependencies)', async () => {
    const fetch = jest.fn(() => Promise.resolve(1));
    const { result, rerender } = mount(fetch);
    const first = result.current.reload;
    await waitFor(() => expect(result.current.data).toBe(1));
    rerender(undefined);
    expect(result.current.reload).toBe(first);
  });
});
