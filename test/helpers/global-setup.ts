/**
 * Jest globalSetup (parent process): one in-memory dynalite for the whole run, table
 * hongbao-test from infra/table.json. The environment set here reaches the test workers,
 * which jest starts after this returns.
 */
import { startTestStore, testEnvironment, type TestStore } from './dynalite';

declare global {
  // eslint-disable-next-line no-var
  var __HONGBAO_DYNALITE__: TestStore | undefined;
}

export default async function globalSetup(): Promise<void> {
  const store = await startTestStore();
  globalThis.__HONGBAO_DYNALITE__ = store;
  // Never let a test reach a real AWS account through a profile or session token.
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  Object.assign(process.env, testEnvironment(store));
}
