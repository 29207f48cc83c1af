/** Jest globalTeardown: closes the dynalite started by global-setup.ts. */
import type { TestStore } from './dynalite';

export default async function globalTeardown(): Promise<void> {
  const s3 = (globalThis as { __HONGBAO_S3SIM__?: { close(): Promise<void> } }).__HONGBAO_S3SIM__;
  (globalThis as { __HONGBAO_S3SIM__?: unknown }).__HONGBAO_S3SIM__ = undefined;
  await s3?.close();
  const store = (globalThis as { __HONGBAO_DYNALITE__?: TestStore }).__HONGBAO_DYNALITE__;
  if (!store) return;
  globalThis.__HONGBAO_DYNALITE__ = undefined;
  await store.close();
}
