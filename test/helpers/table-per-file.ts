/**
 * Jest setupFilesAfterEnv (server project): every test file gets its own table in the run's one
 * dynalite. Tests drive clocks of their own (days in the past or the future) and sweep, settle and
 * reconcile "everything due": on one shared table a file's sweep at real time settles another
 * file's packets created on a clock a week ago. One table per file keeps each file's world its
 * own, and reconciliation scans only what its file wrote.
 */
import { randomBytes } from 'node:crypto';
import { ensureTable } from '../../scripts/local-store.js';
import { TEST_REGION } from './dynalite';

const endpoint = process.env.DYNAMODB_ENDPOINT;
if (endpoint) {
  // Set before the test file is imported, so every loadConfig() of the file reads it.
  process.env.TABLE_NAME = `hongbao-test-${randomBytes(4).toString('hex')}`;
  const tableName = process.env.TABLE_NAME;
  beforeAll(() => ensureTable(endpoint, tableName, { region: TEST_REGION }));
}
