/**
 * dynalite for tests — the same bootstrap as `npm start` (scripts/local-store.js): the table
 * comes from infra/table.json.
 */
import { randomBytes } from 'node:crypto';
import { ensureTable, startDynalite, type LocalDynalite } from '../../scripts/local-store.js';

export const TEST_TABLE = 'hongbao-test';
export const TEST_REGION = 'ap-southeast-1';

export interface TestStore extends LocalDynalite {
  tableName: string;
}

/** An in-memory dynalite on a free 127.0.0.1 port with `tableName` created and ACTIVE. */
export async function startTestStore(tableName: string = TEST_TABLE): Promise<TestStore> {
  const store = await startDynalite({ port: 0, host: '127.0.0.1' });
  try {
    await ensureTable(store.endpoint, tableName, { region: TEST_REGION });
  } catch (err) {
    await store.close();
    throw err;
  }
  return { ...store, tableName };
}

/** `k1:<base64 32 bytes>,k0:<base64 32 bytes>` — the current key first, then the previous one. */
export function randomCodeKeys(): string {
  return `k1:${randomBytes(32).toString('base64')},k0:${randomBytes(32).toString('base64')}`;
}

/** The environment the functions read (functions/src/config.ts) for a test store. */
export function testEnvironment(store: { endpoint: string; tableName: string }): Record<string, string> {
  return {
    DYNAMODB_ENDPOINT: store.endpoint,
    TABLE_NAME: store.tableName,
    STAGE: 'test',
    AWS_REGION: TEST_REGION,
    AWS_DEFAULT_REGION: TEST_REGION,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    CODE_KEYS: randomCodeKeys(),
    SESSION_SECRET: randomBytes(32).toString('base64'),
    PAYMENT_PROVIDER: 'sandbox',
    OPEN_SHARDS: '8',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // Quiet EMF output; test/integration/metrics.test.ts turns it on to read it.
    POWERTOOLS_METRICS_DISABLED: 'true',
    // No live-figure writes (they would show in the tests that count store writes).
    OPS_FIGURES: 'off',
  };
}
