/**
 * `npm run reconcile [-- --endpoint URL] [--table NAME] [--region REGION] [--no-save]`
 *
 * One reconciliation run (functions/src/app/reconcile.ts) over the whole table while traffic
 * goes on: prints a readable summary, then the report as one JSON line; saves the report, the
 * latest copy and the ops events (unless --no-save). Never repairs anything.
 * Exit 0: clean; 1: mismatches; 2: usage or connection errors.
 *
 * Where it reads, like audit:verify: DYNAMODB_ENDPOINT / TABLE_NAME / AWS_REGION; with neither
 * DYNAMODB_ENDPOINT nor TABLE_NAME set, the local stack of `npm start` (dynalite on
 * http://127.0.0.1:8000, table hongbao-local). The same code runs hourly on AWS
 * (functions/handlers/reconcile.ts).
 */
import { reconcile } from '../functions/src/app/reconcile';
import { DynamoDb } from '../functions/src/store/db';
import { DynamoReconcileStore } from '../functions/src/store/reconcile';
import { formatYuan } from '../functions/src/domain/money';

const LOCAL_ENDPOINT = 'http://127.0.0.1:8000';
const LOCAL_TABLE = 'hongbao-local';
const DEFAULT_REGION = 'ap-southeast-1';
const USAGE = 'usage: npm run reconcile [-- --endpoint URL] [--table NAME] [--region REGION] [--no-save]';

class Usage extends Error {}

function parseArgs(argv: string[], env: NodeJS.ProcessEnv) {
  const flags: Record<string, string> = {};
  let save = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--no-save') save = false;
    else if (a === '--help' || a === '-h') throw new Usage('');
    else if (a.startsWith('--')) {
      const [name, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
      if (!['endpoint', 'table', 'region'].includes(name)) throw new Usage(`unknown option ${a}`);
      const value = inline ?? argv[++i];
      if (value === undefined || value === '' || value.startsWith('--')) throw new Usage(`${a} needs a value`);
      flags[name] = value;
    } else throw new Usage(`unexpected argument ${a}`);
  }
  const local = !env.DYNAMODB_ENDPOINT && !env.TABLE_NAME;
  return {
    endpoint: flags.endpoint ?? (env.DYNAMODB_ENDPOINT || (local ? LOCAL_ENDPOINT : undefined)),
    table: flags.table ?? (env.TABLE_NAME || LOCAL_TABLE),
    region: flags.region ?? (env.AWS_REGION || DEFAULT_REGION),
    save,
  };
}

async function main(): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof Usage)) throw err;
    console.error(err.message ? `reconcile: ${err.message}\n${USAGE}` : USAGE);
    return 2;
  }
  const db = new DynamoDb({ tableName: args.table, region: args.region, endpoint: args.endpoint });
  const r = await reconcile(
    { reconciliation: new DynamoReconcileStore(db), now: () => Date.now() },
    { save: args.save },
  );
  const c = r.checked;
  const y = (fen: number) => `${formatYuan(fen)} 元`;
  console.log(
    `${r.ok ? 'OK' : 'MISMATCHES'} — ${r.mismatches} mismatch(es); ${args.table}${args.endpoint ? ` at ${args.endpoint}` : ''}; run ${r.runId}${args.save ? '' : ' (not saved)'}`,
  );
  console.log(
    `checked: ${c.accounts} accounts, ${c.ledgerEntries} ledger entries (${c.entriesAfterCutoff} after the cutoff), ${c.packets} packets, ${c.slots} slots, ${c.transfers} transfers, ${c.topups} top-ups`,
  );
  console.log(
    `as of ${r.cutoff}: balances ${y(r.balances)} + escrow ${y(r.escrow)} + in transit ${y(r.inTransit)} (shares ${y(r.inTransitBy.shares)}, transfers ${y(r.inTransitBy.transfers)}, fees ${y(r.inTransitBy.fees)}) vs top-ups ${y(r.topups)}`,
  );
  console.log(
    `cost: ${r.itemsRead} items read in ${(r.durationMs / 1000).toFixed(1)} s (${r.itemsPerSecond} items/s); ${c.packetsLookedUp} packet(s) needed point reads`,
  );
  if (r.staleShares)
    console.log(
      `note: ${r.staleShares} share(s) uncredited for more than the grace on packets not yet due (in transit until a retry or the settlement)`,
    );
  if (!r.ok) {
    console.log(
      `by kind: ${Object.entries(r.byKind)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
    );
    for (const m of r.listed) console.log(`  ${m.kind}  ${m.id}  ${m.detail}`);
    if (r.mismatches > r.listed.length) console.log(`  … and ${r.mismatches - r.listed.length} more`);
  }
  console.log(JSON.stringify(r));
  return r.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const e = err as { name?: string; message?: string };
    console.error(`reconcile: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`);
    process.exit(2);
  },
);
