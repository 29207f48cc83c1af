import { act, fireEvent, screen } from '@testing-library/react';

/**
 * Taro's H5 components are web components; in jsdom they are bare custom elements with React
 * listeners on the host. A Taro <Input> reports typing as an `input` event whose detail holds
 * the value; our Field puts its label on the host as data-label (and on the real <input> as
 * aria-label in the browser).
 */
export function field(label: string): HTMLElement {
  const el = document.querySelector<HTMLElement>(`[data-label="${label}"]`);
  if (!el) throw new Error(`no field labelled ${label}`);
  return el;
}

export function type(label: string, value: string): void {
  act(() => {
    field(label).dispatchEvent(new CustomEvent('input', { detail: { value } }));
  });
}

/** The value a Field shows (the Taro Input's `value` property). */
export function fieldValue(label: string): string {
  return String((field(label) as HTMLElement & { value?: unknown }).value ?? '');
}

export function click(label: string): void {
  fireEvent.click(screen.getByLabelText(label));
}

export async function flush(): Promise<void> {
  await act(async () => {
    await Promise.resolve();
  });
}

/** Alice's active packet p1 as an open view or a list shows it: 10 yuan in 5 lucky shares, one claimed. */
export const PACKET_SUMMARY = {
  id: 'p1',
  sender: { id: 'u-alice', name: 'Alice' },
  total: 1_000,
  count: 5,
  mode: 'lucky',
  greeting: '新年快乐',
  scene: 'none',
  status: 'active',
  claimedCount: 1,
  refundedAmount: 0,
  createdAt: '2026-11-28T05:00:00Z',
  expiresAt: '2126-11-29T05:00:00Z',
} as const;
