import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../functions/src/store/db';
import { Keys } from '../../functions/src/store/keys';
import type { DynamoWalletStore } from '../../functions/src/store/ledger';
import { verifyLedgerChain } from '../../functions/src/domain/ledger-chain';
import { loadConfig } from '../../functions/src/config';
import { login, makeApi, sendPacket, testDeps, topup } from '../helpers/app';

const d = testDeps();
const api = makeApi(d);
const cfg = loadConfig();
const wallets = d.wallets as DynamoWalletStore;

describe('the ledger is a hash chain (tamper-evident money movements)', () => {
  test('a full flow verifies; editing any entry makes verify name it, and audit:verify exits 1', async () => {
    const alice = await login(api);
    const bob = await login(api);
    await topup(api, alice, 5_000);
    const sent = await sendPacket(api, alice, { total: 900, count: 3, mode: 'lucky' });
    await api('POST', '/v1/claims', { token: bob.token, body: { code: sent.shareCode.code } });
    await topup(api, alice, 100);
    const chain = await wallets.chain(alice.userId);
    expect(chain).toHaveLength(3);
    expect(verifyLedgerChain(chain)).toEqual({ ok: true, entries: 3 });
    expect(verifyLedgerChain(await wallets.chain(bob.userId)).ok).toBe(true);

    const doc = createDocumentClient(cfg.region, cfg.dynamoEndpoint);
    // Edit the middle entry's amount (and balance, so the arithmetic still adds up).
    await doc.send(
      new UpdateCommand({
        TableName: cfg.tableName,
        Key: Keys.ledgerEntry(alice.userId, 2),
        UpdateExpression: 'SET amount = :a, balance = :b',
        ExpressionAttributeValues: { ':a': -800, ':b': 4_200 },
      }),
    );
    expect(verifyLedgerChain(await wallets.chain(alice.userId))).toEqual({ ok: false, seq: 2, reason: 'hash' });

    const script = path.resolve(__dirname, '..', '..', 'scripts', 'audit-verify.ts');
    let code = 0;
    let out = '';
    try {
      out = execFileSync(path.resolve(__dirname, '..', '..', 'node_modules', '.bin', 'tsx'), [script, alice.userId], {
        env: process.env,
        encoding: 'utf8',
      });
    } catch (err) {
      code = (err as { status: number }).status;
      out = String((err as { stdout: string }).stdout);
    }
    expect(code).toBe(1);
    expect(out).toContain('ledger broken at seq 2');
  }, 60_000);
});
