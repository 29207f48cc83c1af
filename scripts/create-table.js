#!/usr/bin/env node

/**
 * Creates the table from infra/table.json on a DynamoDB-compatible endpoint (dynalite), unless
 * it exists. `npm start` and the Jest setup do this themselves (scripts/local-store.js); this is
 * for a store started some other way.
 *
 *   node scripts/create-table.js [--endpoint http://127.0.0.1:8000] [--table hongbao-local]
 * Defaults: $DYNAMODB_ENDPOINT or http://127.0.0.1:8000, $TABLE_NAME or hongbao-local.
 * Local endpoints only: it uses dummy credentials.
 */
const { ensureTable } = require('./local-store.js');

function arg(name) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const endpoint = arg('endpoint') ?? process.env.DYNAMODB_ENDPOINT ?? 'http://127.0.0.1:8000';
const table = arg('table') ?? process.env.TABLE_NAME ?? 'hongbao-local';

ensureTable(endpoint, table).then(
  (created) => console.log(`[create-table] ${table} ${created ? 'created' : 'already exists'} at ${endpoint}`),
  (err) => {
    console.error(`[create-table] ERROR: ${err?.message ?? err}`);
    process.exit(1);
  },
);
