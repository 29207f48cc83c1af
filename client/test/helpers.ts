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
export function valueOf(label: string): string {
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
