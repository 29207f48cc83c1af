/** Jest globalTeardown: closes the dynalite started by global-setup.ts. */
import type { TestStore } from './dynalite';

export default async function globalTeardown(): Promise<void> {
  const store = (globalThis as { __HONGBAO_DYNALITE__?: TestStore }).__HONGBAO_DYNALITE__;
  if (!store) return;
  globalThis.__HONGBAO_DYNALITE__ = undefined;
  await store.close();
}
