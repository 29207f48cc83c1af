import { act, renderHook } from '@testing-library/react';
import { ApiError } from '../src/api/errors';
import { useClaim, type ClaimHandlers } from '../src/lib/useClaim';
import type { GroupContext } from '../src/lib/useGroupContext';

const mockApi = { claim: jest.fn() };
jest.mock('../src/api', () => ({
  get api() {
    return mockApi;
  },
}));

const RES = { packetId: 'p1', amount: 321, claimedAt: '2026-11-28T05:00:00Z', repeat: false };

function handlers() {
  const seen: string[] = [];
  const on: ClaimHandlers = {
    claimed: jest.fn((res) => seen.push(`claimed ${res.amount}`)),
    failed: jest.fn((err) => seen.push(`failed ${err instanceof ApiError ? err.code : String(err)}`)),
  };
  return { on, seen };
}

function mount(
  groupOnly?: boolean,
  groupContext = jest.fn(async (): Promise<GroupContext | undefined> => ({ devGroup: '群A' })),
) {
  const hook = renderHook(() => useClaim({ code: 'CODE-1', groupOnly, groupContext }));
  return { ...hook, groupContext };
}

/** Lets the fake clock run `ms`, with the promises between the timers settling. */
const advance = (ms: number) => act(() => jest.advanceTimersByTimeAsync(ms));

beforeEach(() => {
  mockApi.claim.mockReset();
  jest.useFakeTimers();
});
afterEach(() => {
  jest.useRealTimers();
});

describe('useClaim: the 開 of the open page', () => {
  test('a double tap sends one claim; `opening` while it is out; the share is reported once', async () => {
    const answers: Array<(v: typeof RES) => void> = [];
    mockApi.claim.mockImplementation(() => new Promise((res) => answers.push(res)));
    const { result } = mount();
    const { on, seen } = handlers();
    let first!: Promise<void>;
    act(() => {
      first = result.current.claim(on);
    });
    expect(result.current.opening).toBe(true);
    let second!: Promise<void>;
    act(() => {
      second = result.current.claim(on); // the second tap: sends nothing
    });
    expect(mockApi.claim).toHaveBeenCalledTimes(1);
    for (const answer of answers) answer(RES);
    await advance(600);
    await act(() => Promise.all([first, second]));
    expect(seen).toEqual(['claimed 321']);
    expect(result.current.opening).toBe(false);
  });

  test('once over, the next tap claims again (a failure ends the flight too)', async () => {
    mockApi.claim.mockRejectedValueOnce(new ApiError('RATE_LIMITED', 429)).mockResolvedValueOnce(RES);
    const { result } = mount();
    const { on, seen } = handlers();
    await act(() => result.current.claim(on));
    expect(seen).toEqual(['failed RATE_LIMITED']);
    expect(result.current.opening).toBe(false);
    let second!: Promise<void>;
    act(() => {
      second = result.current.claim(on);
    });
    await advance(600);
    await act(() => second);
    expect(mockApi.claim).toHaveBeenCalledTimes(2);
    expect(seen).toEqual(['failed RATE_LIMITED', 'claimed 321']);
  });

  test('the coin spins at least 600 ms: a fast answer is reported only then', async () => {
    mockApi.claim.mockResolvedValue(RES);
    const { result } = mount();
    const { on } = handlers();
    let p!: Promise<void>;
    act(() => {
      p = result.current.claim(on);
    });
    await advance(590);
    expect(on.claimed).not.toHaveBeenCalled();
    expect(result.current.opening).toBe(true);
    await advance(10);
    await act(() => p);
    expect(on.claimed).toHaveBeenCalledWith(RES);
    expect(result.current.opening).toBe(false);
  });

  test('CLAIM_IN_PROGRESS is asked again, 800 ms apart, up to 5 times; then it is the failure', async () => {
    const busy = new ApiError('CLAIM_IN_PROGRESS', 409);
    mockApi.claim.mockRejectedValueOnce(busy).mockRejectedValueOnce(busy).mockResolvedValueOnce(RES);
    const { result } = mount();
    const { on } = handlers();
    let p!: Promise<void>;
    act(() => {
      p = result.current.claim(on);
    });
    await advance(0);
    expect(mockApi.claim).toHaveBeenCalledTimes(1);
    await advance(799);
    expect(mockApi.claim).toHaveBeenCalledTimes(1);
    await advance(1);
    expect(mockApi.claim).toHaveBeenCalledTimes(2);
    await advance(800);
    await act(() => p);
    expect(mockApi.claim).toHaveBeenCalledTimes(3);
    expect(on.claimed).toHaveBeenCalledWith(RES);
    expect(on.failed).not.toHaveBeenCalled();

    mockApi.claim.mockReset();
    mockApi.claim.mockRejectedValue(busy);
    const { on: on2 } = handlers();
    act(() => {
      p = result.current.claim(on2);
    });
    await advance(10 * 800);
    await act(() => p);
    expect(mockApi.claim).toHaveBeenCalledTimes(6);
    expect(on2.failed).toHaveBeenCalledWith(busy);
    expect(on2.claimed).not.toHaveBeenCalled();
  });

  test('仅限本群: the group context goes with each attempt, fetched afresh; otherwise none is asked for', async () => {
    const busy = new ApiError('CLAIM_IN_PROGRESS', 409);
    mockApi.claim.mockRejectedValueOnce(busy).mockResolvedValueOnce(RES);
    const g = mount(true);
    let p!: Promise<void>;
    act(() => {
      p = g.result.current.claim(handlers().on);
    });
    await advance(2_000);
    await act(() => p);
    expect(g.groupContext).toHaveBeenCalledTimes(2);
    expect(mockApi.claim.mock.calls).toEqual([
      ['CODE-1', { devGroup: '群A' }],
      ['CODE-1', { devGroup: '群A' }],
    ]);

    mockApi.claim.mockReset();
    mockApi.claim.mockResolvedValue(RES);
    const plain = mount(false);
    act(() => {
      p = plain.result.current.claim(handlers().on);
    });
    await advance(600);
    await act(() => p);
    expect(plain.groupContext).not.toHaveBeenCalled();
    expect(mockApi.claim.mock.calls).toEqual([['CODE-1', undefined]]);
  });

  test('anything thrown (not only an ApiError) is reported as the failure, and the flight ends', async () => {
    const boom = new Error('socket hang up');
    mockApi.claim.mockRejectedValue(boom);
    const { result } = mount();
    const { on } = handlers();
    await act(() => result.current.claim(on));
    expect(on.failed).toHaveBeenCalledWith(boom);
    expect(result.current.opening).toBe(false);
  });
});
