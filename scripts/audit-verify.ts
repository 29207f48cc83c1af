/**
 * `npm run audit:verify -- <accountId> [--endpoint URL] [--table NAME] [--region REGION] [--allow-expired-head]`
 *
 * Reads an account's audit chain and recomputes it (functions/src/domain/audit.ts verifyChain).
 * Prints `ok` with the record count and head hash (exit 0), or the first broken link (exit 1).
 * Usage or connection errors exit 2.
 *
 * Where it reads, like the functions' configuration: DYNAMODB_ENDPOINT, TABLE_NAME, AWS_REGION.
 * With neither DYNAMODB_ENDPOINT nor TABLE_NAME set it reads the local stack of `npm start`
 * (dynalite on http://127.0.0.1:8000, table hongbao-local; if `npm start` took another port,
 * pass --endpoint). With TABLE_NAME and no endpoint it reads DynamoDB on AWS with the ambient
 * credentials (read-only: Query only).
 */
import { verifyChain } from '../functions/src/domain/audit';
import { verifyLedgerChain } from '../functions/src/domain/ledger-chain';
import { DynamoWalletStore } from '../functions/src/store/ledger';
import { DynamoDb } from '../functions/src/store/db';
import { DynamoAuditStore } from '../functions/src/store/audit';

const LOCAL_ENDPOINT = 'http://127.0.0.1:8000';
const LOCAL_TABLE = 'hongbao-local';
const DEFAULT_REGION = 'ap-southeast-1';

interface Args {
  accountId: string;
  endpoint: string | undefined;
  table: string;
  region: string;
  allowExpiredHead: boolean;
}

function usage(msg: string): never {
  console.error(
    `audit:verify: ${msg}\nusage: npm run audit:verify -- <accountId> [--endpoint URL] [--table NAME] [--region REGION] [--allow-expired-head]`,
  );
  process.exit(2);
}

function parseArgs(argv: string[], env: NodeJS.ProcessEnv): Args {
  const flags: Record<string, string> = {};
  const positional: string[] = [];
  let allowExpiredHead = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--allow-expired-head') allowExpiredHead = true;
    else if (a.startsWith('--')) {
      const [name, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
      if (!['endpoint', 'table', 'region'].includes(name)) usage(`unknown option ${a}`);
      const value = inline ?? argv[++i];
      if (value === undefined || value === '') usage(`${a} needs a value`);
      flags[name] = value!;
    } else positional.push(a);
  }
  if (positional.length !== 1) usage('exactly one account id is required');
  const local = !env.DYNAMODB_ENDPOINT && !env.TABLE_NAME;
  return {
    accountId: positional[0]!,
    endpoint: flags.endpoint ?? (env.DYNAMODB_ENDPOINT || (local ? LOCAL_ENDPOINT : undefined)),
    table: flags.table ?? (env.TABLE_NAME || LOCAL_TABLE),
    region: flags.region ?? (env.AWS_REGION || DEFAULT_REGION),
    allowExpiredHead,
  };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2), process.env);
  const db = new DynamoDb({ tableName: args.table, region: args.region, endpoint: args.endpoint });
  const records = await new DynamoAuditStore(db).chain(args.accountId);
  const where = `${args.table}${args.endpoint ? ` at ${args.endpoint}` : ''}`;
  let code = 0;
  if (records.length === 0) {
    console.log(`ok: no audit records for this account in ${where}`);
  } else {
    const result = verifyChain(records, { accountId: args.accountId, allowExpiredHead: args.allowExpiredHead });
    if (result.ok) {
      console.log(
        `ok: ${result.count} records, seq ${records[0]!.seq}–${records.at(-1)!.seq}, head ${result.head} (${where})`,
      );
    } else {
      console.log(`broken at seq ${result.seq}: ${result.reason} — ${result.message} (${where})`);
      code = 1;
    }
  }
  // Money movements are chained in the ledger itself (domain/ledger-chain): verify it too.
  const ledger = verifyLedgerChain(await new DynamoWalletStore(db).chain(args.accountId));
  if (ledger.ok) console.log(`ledger ok: ${ledger.entries} entries (${where})`);
  else {
    console.log(`ledger broken at seq ${ledger.seq}: ${ledger.reason} (${where})`);
    code = 1;
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`audit:verify: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    process.exit(2);
  },
);
