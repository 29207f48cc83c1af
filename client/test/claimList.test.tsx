import { render, screen } from '@testing-library/react';
import type { ClaimView } from '../../functions/src/http/contract';
import { CLAIMS_PAGE, ClaimList } from '../src/components/ClaimList';
import { click } from './helpers';

/** A finished 1,000-share packet: the best share is the 900th claim, the caller the 700th. */
const claims: ClaimView[] = Array.from({ length: 1_000 }, (_, i) => ({
  userId: `u${i}`,
  name: `用户${i}`,
  amount: i === 899 ? 5_000 : 100,
  claimedAt: new Date(Date.UTC(2026, 10, 28, 2, 0, i)).toISOString(),
  best: i === 899,
}));

const lines = () => screen.getAllByRole('listitem');

describe('ClaimList on a large packet', () => {
  test('renders a page, pins the caller and 手气最佳, and 查看更多 adds lines until all are shown', () => {
    render(<ClaimList claims={claims} me="u699" finished />);
    expect(lines()).toHaveLength(CLAIMS_PAGE + 2);
    // Pinned on top: the caller's line and the best share, though far down the list.
    expect(lines()[0]!.textContent).toContain('用户699（我）');
    expect(lines()[1]!.textContent).toContain('★ 手气最佳');
    expect(screen.getByLabelText('查看更多领取记录').textContent).toBe(`查看更多（还有 ${1_000 - CLAIMS_PAGE} 人）`);
    click('查看更多领取记录');
    expect(lines()).toHaveLength(CLAIMS_PAGE * 5 + 2);
    for (let k = 0; k < 4; k++) click('查看更多领取记录');
    // Every line once: nothing pinned twice.
    expect(lines()).toHaveLength(1_000);
    expect(screen.queryByLabelText('查看更多领取记录')).toBeNull();
    expect(screen.getAllByText('★ 手气最佳')).toHaveLength(1);
  });

  test('a small packet shows every line and no button', () => {
    render(<ClaimList claims={claims.slice(0, 10)} me="u3" finished={false} />);
    expect(lines()).toHaveLength(10);
    expect(screen.queryByLabelText('查看更多领取记录')).toBeNull();
  });
});
