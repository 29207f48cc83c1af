/**
 * Jest globalSetup (parent process): one in-memory dynalite for the whole run, table
 * hongbao-test from infra/table.json. The environment set here reaches the test workers,
 * which jest starts after this returns.
 */
import { startTestStore, testEnvironment, type TestStore } from './dynalite';
import { startS3Sim, type S3Sim } from '../../scripts/s3-sim/sim.js';

declare global {
  var __HONGBAO_DYNALITE__: TestStore | undefined;
  var __HONGBAO_S3SIM__: S3Sim | undefined;
}

/** The avatar bucket of the tests, served by the S3 stand-in in memory. */
export const TEST_AVATAR_BUCKET = 'hongbao-avatars-test';

export default async function globalSetup(): Promise<void> {
  const store = await startTestStore();
  globalThis.__HONGBAO_DYNALITE__ = store;
  // Never let a test reach a real AWS account through a profile or session token.
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  Object.assign(process.env, testEnvironment(store));
  // Avatars: the S3-protocol stand-in in this process, verifying the adapter's SigV4 signatures
  // with the test credentials (testEnvironment's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
  const s3 = await startS3Sim({
    buckets: [TEST_AVATAR_BUCKET],
    credentials: { [process.env.AWS_ACCESS_KEY_ID!]: process.env.AWS_SECRET_ACCESS_KEY! },
  });
  globalThis.__HONGBAO_S3SIM__ = s3;
  Object.assign(process.env, { AVATAR_BUCKET: TEST_AVATAR_BUCKET, S3_ENDPOINT: s3.endpoint });
}
