import { act, render, screen } from '@testing-library/react';
import type { CodeView } from '../../functions/src/http/contract';
import { ApiError } from '../src/api/errors';
import { refreshDelayMs, useRotatingCode, type HeldCode } from '../src/lib/useRotatingCode';

/** A live code as the API issues it: valid 120 s, to be refreshed after 60 s. */
function liveCode(n: number, issuedAtMs: number, validity = 120_000, refresh = 60_000): CodeView {
  return {
    code: `code-${n}`,
    link: `http://localhost:10086/o/code-${n}`,
    kind: 'live',
    issuedAt: new Date(issuedAtMs).toISOString(),
    expiresAt: new Date(issuedAtMs + validity).toISOString(),
    refreshAfter: new Date(issuedAtMs + refresh).toISOString(),
  };
}

function Probe(props: {
  fetchCode: () => Promise<CodeView>;
  initial?: HeldCode;
  active?: boolean;
  onFatal?: (e: ApiError) => void;
}) {
  const rot = useRotatingCode({
    fetchCode: props.fetchCode,
    initial: props.initial,
    active: props.active ?? true,
    onFatal: props.onFatal,
  });
  return (
    <div>
      <span data-testid="code">{rot.code?.view.code ?? ''}</span>
      <span data-testid="left">{rot.secondsLeft}</span>
      <span data-testid="expired">{String(rot.expired)}</span>
      <span data-testid="error">{rot.error ?? ''}</span>
    </div>
  );
}

const text = (id: string) => screen.getByTestId(id).textContent;
const advance = async (ms: number) => {
  await act(async () => {
    await jest.advanceTimersByTimeAsync(ms);
  });
};

describe('QR refresh timer', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2026-11-28T08:00:00Z') });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  test('fetches a new code at refreshAfter, before the old one expires, and keeps rotating', async () => {
    const t0 = Date.now();
    let n = 1;
    const fetchTimes: number[] = [];
    const fetchCode = jest.fn(async () => {
      fetchTimes.push(Date.now() - t0);
      n += 1;
      return liveCode(n, Date.now());
    });
    render(<Probe fetchCode={fetchCode} initial={{ view: liveCode(1, t0), receivedAt: t0 }} />);
    expect(text('code')).toBe('code-1');
    expect(text('left')).toBe('60');

    await advance(30_000);
    expect(text('left')).toBe('30'); // the countdown
    await advance(29_000);
    expect(fetchCode).not.toHaveBeenCalled();
    await advance(1_000);
    expect(fetchCode).toHaveBeenCalledTimes(1);
    expect(text('code')).toBe('code-2');
    expect(text('expired')).toBe('false');
    expect(fetchTimes[0]).toBeLessThan(120_000); // well before the first code expired

    await advance(60_000);
    expect(fetchCode).toHaveBeenCalledTimes(2);
    expect(text('code')).toBe('code-3');
    expect(fetchTimes).toEqual([60_000, 120_000]);
  });

  test('without a code in hand it fetches one at once', async () => {
    const fetchCode = jest.fn(async () => liveCode(7, Date.now()));
    render(<Probe fetchCode={fetchCode} />);
    await advance(0);
    expect(fetchCode).toHaveBeenCalledTimes(1);
    expect(text('code')).toBe('code-7');
  });

  test('a failed refresh is retried with back-off while the old code still shows', async () => {
    const t0 = Date.now();
    const fetchCode = jest
      .fn<Promise<CodeView>, []>()
      .mockRejectedValueOnce(new ApiError('NETWORK_ERROR', 0))
      .mockRejectedValueOnce(new ApiError('INTERNAL', 500))
      .mockImplementation(async () => liveCode(2, Date.now()));
    render(<Probe fetchCode={fetchCode} initial={{ view: liveCode(1, t0), receivedAt: t0 }} />);
    await advance(60_000);
    expect(fetchCode).toHaveBeenCalledTimes(1);
    expect(text('code')).toBe('code-1');
    expect(text('error')).toMatch(/刷新失败/);
    await advance(2_000);
    expect(fetchCode).toHaveBeenCalledTimes(2);
    await advance(5_000);
    expect(fetchCode).toHaveBeenCalledTimes(3);
    expect(text('code')).toBe('code-2');
    expect(text('error')).toBe('');
  });

  test('stops on an error that ends the packet, and while inactive', async () => {
    const t0 = Date.now();
    const onFatal = jest.fn();
    const fetchCode = jest.fn<Promise<CodeView>, []>().mockRejectedValue(new ApiError('PACKET_FINISHED', 409));
    const view = render(
      <Probe fetchCode={fetchCode} onFatal={onFatal} initial={{ view: liveCode(1, t0), receivedAt: t0 }} />,
    );
    await advance(60_000);
    expect(onFatal).toHaveBeenCalledTimes(1);
    await advance(300_000);
    expect(fetchCode).toHaveBeenCalledTimes(1);
    view.unmount();

    const idle = jest.fn(async () => liveCode(2, Date.now()));
    render(
      <Probe fetchCode={idle} active={false} initial={{ view: liveCode(1, Date.now()), receivedAt: Date.now() }} />,
    );
    await advance(600_000);
    expect(idle).not.toHaveBeenCalled();
  });

  test('the delay comes from the code, measured on the local clock (clock skew does not matter)', () => {
    const skewed = liveCode(1, Date.parse('2020-01-01T00:00:00Z'));
    expect(refreshDelayMs(skewed)).toBe(60_000);
    const noHint = { ...liveCode(1, 0, 180_000), refreshAfter: undefined };
    expect(refreshDelayMs(noHint)).toBe(90_000);
    // never later than 5 s before expiry
    expect(refreshDelayMs(liveCode(1, 0, 30_000, 60_000))).toBe(25_000);
  });
});
