import { act, render, screen } from '@testing-library/react';
import type { CodeView } from '../../functions/src/http/contract';
import { ApiError } from '../src/api/errors';
import { useRotatingCode } from '../src/lib/useRotatingCode';

function liveCode(n: number, issuedAtMs: number): CodeView {
  return {
    code: `code-${n}`,
    link: `http://localhost:10086/o/code-${n}`,
    kind: 'live',
    issuedAt: new Date(issuedAtMs).toISOString(),
    expiresAt: new Date(issuedAtMs + 120_000).toISOString(),
    refreshAfter: new Date(issuedAtMs + 60_000).toISOString(),
  };
}

function Probe({ fetchCode }: { fetchCode: () => Promise<CodeView> }) {
  const t0 = Date.now();
  const rot = useRotatingCode({ fetchCode, initial: { view: liveCode(1, t0), receivedAt: t0 }, active: true });
  return (
    <div>
      <span data-testid="code">{rot.code?.view.code ?? ''}</span>
      <span data-testid="limited">{rot.limited ? String(rot.limited.retryAfter) : ''}</span>
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

describe('code refresh after 429 RATE_LIMITED', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2026-11-28T08:00:00Z') });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  test('waits the Retry-After seconds (not the 2 s back-off), gives the refusal, keeps the old code', async () => {
    const fetchCode = jest
      .fn<Promise<CodeView>, []>()
      .mockRejectedValueOnce(new ApiError('RATE_LIMITED', 429, { retryAfter: 25 }))
      .mockImplementation(async () => liveCode(2, Date.now()));
    render(<Probe fetchCode={fetchCode} />);
    await advance(60_000);
    expect(fetchCode).toHaveBeenCalledTimes(1);
    expect(text('limited')).toBe('25');
    expect(text('error')).toBe(''); // the page shows the refusal panel, not a retry line
    expect(text('code')).toBe('code-1');
    await advance(24_000);
    expect(fetchCode).toHaveBeenCalledTimes(1); // no hammering inside the window
    await advance(1_000);
    expect(fetchCode).toHaveBeenCalledTimes(2);
    expect(text('code')).toBe('code-2');
    expect(text('limited')).toBe('');
  });
});
