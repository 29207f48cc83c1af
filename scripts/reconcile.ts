/**
 * `npm run reconcile [-- --endpoint URL] [--table NAME] [--region REGION] [--no-save]`
 *
 * One reconciliation run (functions/src/app/reconcile.ts) over the whole table: prints a summary
 * and the report as JSON, saves the report (unless --no-save). Exit 0 clean, 1 mismatches,
 * 2 usage or connection errors. Where it reads, like audit:verify: DYNAMODB_ENDPOINT /
 * TABLE_NAME / AWS_REGION, else the local stack of `npm start` (http://127.0.0.1:8000,
 * hongbao-local). The same code runs hourly on AWS (functions/handlers/reconcile.ts).
 */
import { reconcile } from '../functions/src/app/reconcile';
import { DynamoDb } from '../functions/src/store/db';
import { DynamoWalletStore } from '../functions/src/store/ledger';
import { DynamoPacketStore } from '../functions/src/store/packets';
import { formatYuan } from '../functions/src/domain/money';

function option(argv: string[], name: string): string | undefined {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  const a = argv[i]!;
  const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1];
  if (!v) {
    console.error(`reconcile: --${name} needs a value`);
    process.exit(2);
  }
  return v;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  for (const a of argv) {
    if (a.startsWith('--') && !/^--(endpoint|table|region|no-save)(=|$)/.test(a)) {
      console.error(`reconcile: unknown option ${a}`);
      return 2;
    }
  }
  const local = !process.env.DYNAMODB_ENDPOINT && !process.env.TABLE_NAME;
  const endpoint = option(argv, 'endpoint') ?? (process.env.DYNAMODB_ENDPOINT || (local ? 'http://127.0.0.1:8000' : undefined));
  const table = option(argv, 'table') ?? (process.env.TABLE_NAME || 'hongbao-local');
  const region = option(argv, 'region') ?? (process.env.AWS_REGION || 'ap-southeast-1');
  const db = new DynamoDb({ tableName: table, region, endpoint });
  const report = await reconcile({ db, wallets: new DynamoWalletStore(db), packets: new DynamoPacketStore(db), now: () => Date.now() }, { save: !argv.includes('--no-save') });
  const c = report.checked;
  console.log(`${report.ok ? 'ok' : 'MISMATCHES'}: ${report.mismatches} mismatch(es) — ${c.accounts} accounts, ${c.ledgerEntries} ledger entries, ${c.packets} packets, ${c.slots} slots, ${c.transfers} transfers`);
  console.log(`as of ${report.cutoff}: balances ${formatYuan(report.balances)} + escrow ${formatYuan(report.escrow)} + in transit ${formatYuan(report.inTransit)} vs top-ups ${formatYuan(report.topups)} yuan`);
  console.log(`${report.itemsRead} items read in ${report.durationMs} ms (${Math.round((report.itemsRead * 1000) / Math.max(1, report.durationMs))} items/s) — ${table}${endpoint ? ` at ${endpoint}` : ''}`);
  for (const m of report.listed) console.log(`  ${m.kind} ${m.id}: ${m.detail}`);
  console.log(JSON.stringify(report));
  return report.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`reconcile: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    process.exit(2);
  },
);
