/**
 * Local DynamoDB (dynalite) bootstrap, shared by `npm start` (scripts/start.js) and the Jest
 * global setup (test/helpers/dynalite.ts). The table comes from infra/table.json — the same file
 * serverless.yml uses for the AWS::DynamoDB::Table resource.
 */
const fs = require('node:fs');
const path = require('node:path');

// The SDK warns on Node < 22 (harmless: the SDK works on Node 20); keep local tooling output readable.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const ROOT = path.resolve(__dirname, '..');
const TABLE_FILE = path.join(ROOT, 'infra', 'table.json');
const DEFAULT_REGION = 'ap-southeast-1';
const LOCAL_CREDENTIALS = Object.freeze({ accessKeyId: 'local', secretAccessKey: 'local' });

/** infra/table.json, parsed (a fresh copy each call). */
function readTableDefinition() {
  return JSON.parse(fs.readFileSync(TABLE_FILE, 'utf8'));
}

/**
 * CreateTable input for dynalite from infra/table.json. dynalite 4.0.0 accepts
 * BillingMode PAY_PER_REQUEST as is (verified), so nothing is stripped; CloudFormation-only
 * properties (if ever added to the file) are dropped here.
 */
function createTableInput(tableName, definition = readTableDefinition()) {
  const cfnOnly = [
    'PointInTimeRecoverySpecification',
    'DeletionProtectionEnabled',
    'TimeToLiveSpecification',
    'Tags',
    'ContributorInsightsSpecification',
  ];
  const input = { ...definition, TableName: tableName };
  for (const key of cfnOnly) delete input[key];
  return input;
}

/**
 * Starts dynalite in this process.
 * @param {{ port?: number, host?: string, path?: string }} [opts] `path` persists to LevelDB on disk;
 *   without it the store lives in memory. `port` 0 picks a free port.
 * @returns {Promise<{ server: import('node:http').Server, endpoint: string, port: number, close: () => Promise<void> }>}
 */
function startDynalite(opts = {}) {
  const dynalite = require('dynalite');
  const host = opts.host ?? '127.0.0.1';
  const options = { createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 };
  if (opts.path) {
    fs.mkdirSync(opts.path, { recursive: true });
    options.path = opts.path;
  }
  const server = dynalite(options);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      const { port } = server.address();
      const endpoint = `http://${host}:${port}`;
      let closing;
      const close = () =>
        (closing ??= new Promise((done) => {
          // dynalite closes its LevelDB when the server closes; drop idle keep-alive sockets too.
          server.close(() => done());
          server.closeAllConnections?.();
        }));
      resolve({ server, endpoint, port, close });
    });
  });
}

/** A DynamoDB client for a local endpoint (dummy credentials; dynalite does not check them). */
function localClient(endpoint, region = DEFAULT_REGION) {
  const { DynamoDBClient } = require('@aws-sdk/client-dynamodb');
  return new DynamoDBClient({ endpoint, region, credentials: { ...LOCAL_CREDENTIALS }, maxAttempts: 2 });
}

/**
 * Creates `tableName` from infra/table.json unless it exists, then waits until it and its
 * indexes are ACTIVE. Returns true when it created the table.
 */
async function ensureTable(endpoint, tableName, { region = DEFAULT_REGION, timeoutMs = 10000 } = {}) {
  const { CreateTableCommand, DescribeTableCommand } = require('@aws-sdk/client-dynamodb');
  const client = localClient(endpoint, region);
  try {
    let created = false;
    try {
      await client.send(new DescribeTableCommand({ TableName: tableName }));
    } catch (err) {
      if (err?.name !== 'ResourceNotFoundException') throw err;
      try {
        await client.send(new CreateTableCommand(createTableInput(tableName)));
        created = true;
      } catch (createErr) {
        if (createErr?.name !== 'ResourceInUseException') throw createErr; // created concurrently
      }
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === 'ACTIVE');
      if (Table?.TableStatus === 'ACTIVE' && indexesActive) return created;
      if (Date.now() > deadline)
        throw new Error(`table ${tableName} not ACTIVE after ${timeoutMs} ms (${Table?.TableStatus})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    client.destroy();
  }
}

module.exports = {
  ROOT,
  TABLE_FILE,
  DEFAULT_REGION,
  LOCAL_CREDENTIALS,
  readTableDefinition,
  createTableInput,
  startDynalite,
  localClient,
  ensureTable,
};
