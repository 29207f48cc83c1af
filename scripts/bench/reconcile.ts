/**
 * (g) Reconciliation cost: a table holding 100,000 well-formed ledger entries (1,000 accounts ×
 * 100 top-ups, hash-chained as the ledger writes them, loaded with BatchWriteItem), reconciled
 * whole — discovery Scan, every ledger paged, checks — timed, with items read per second.
 */
import { reconcile } from '../../functions/src/app/reconcile';
import { LEDGER_GENESIS, ledgerEntryHash } from '../../functions/src/domain/ledger-chain';
import { DynamoDb, type Item } from '../../functions/src/store/db';
import { DynamoWalletStore } from '../../functions/src/store/ledger';
import { DynamoPacketStore } from '../../functions/src/store/packets';
import { Keys } from '../../functions/src/store/keys';
import { createTable, REGION } from './store';

export interface ReconcileBench {
  ledgerEntries: number;
  accounts: number;
  loadSeconds: number;
  seconds: number;
  itemsRead: number;
  itemsPerSec: number;
  mismatches: number;
}

export async function reconcileBench(endpoint: string, accounts = 1_000, perAccount = 100): Promise<ReconcileBench> {
  const tableName = 'hongbao-recon';
  await createTable(endpoint, tableName);
  const db = new DynamoDb({ tableName, region: REGION, endpoint });
  const at = new Date(Date.now() - 3_600_000).toISOString();
  const loadStart = Date.now();
  const accountIds = Array.from({ length: accounts }, (_, i) => `ubench${String(i).padStart(10, '0')}`);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < accountIds.length) {
        const userId = accountIds[next++]!;
        let prevHash = LEDGER_GENESIS;
        const items: Item[] = [];
        for (let seq = 1; seq <= perAccount; seq++) {
          const e = { userId, seq, opId: `topup:${userId}-${seq}`, type: 'topup', amount: 100, balance: 100 * seq, sentDay: '', sentToday: 0, ref: `${userId}-${seq}`, at, prevHash };
          const hash = ledgerEntryHash(e);
          items.push({ ...Keys.ledgerEntry(userId, seq), ...e, hash });
          prevHash = hash;
        }
        await db.batchPut(items);
      }
    }),
  );
  const loadSeconds = (Date.now() - loadStart) / 1000;
  const started = Date.now();
  const report = await reconcile({ db, wallets: new DynamoWalletStore(db), packets: new DynamoPacketStore(db), now: () => Date.now() }, { save: false });
  const seconds = (Date.now() - started) / 1000;
  return {
    ledgerEntries: report.checked.ledgerEntries,
    accounts: report.checked.accounts,
    loadSeconds: Math.round(loadSeconds * 10) / 10,
    seconds: Math.round(seconds * 10) / 10,
    itemsRead: report.itemsRead,
    itemsPerSec: Math.round(report.itemsRead / seconds),
    mismatches: report.mismatches,
  };
}
