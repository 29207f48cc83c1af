// Imported first by test/integration/metrics.test.ts: Powertools Metrics reads this when its
// module loads, before the test's own statements run.
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
// A table of its own in the shared dynalite: the file sweeps the due index and reads the sweep
// lag, which other files' packets (and their sweeps of this file's packets) would disturb.
// The test creates it (ensureMetricsTable) before its first request.
process.env.TABLE_NAME = 'hongbao-test-metrics';

import { ensureTable } from '../../scripts/local-store.js';
import { TEST_REGION } from './dynalite';

/** Creates this file's table (idempotent). */
export const ensureMetricsTable = () => ensureTable(process.env.DYNAMODB_ENDPOINT!, process.env.TABLE_NAME!, { region: TEST_REGION });
