import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  AUDIT_RETENTION_MS,
  GENESIS_HASH,
  auditDetails,
  hashRecord,
  mask,
  maskedRecord,
  verifyChain,
  type AuditRecord,
} from '../../functions/src/domain/audit';
import { DynamoAuditStore } from '../../functions/src/store/audit';
import { AuditKeys } from '../../functions/src/store/keys';
import type { Expr } from '../../functions/src/store/db';
import { baseDb } from '../helpers/app';

const db = baseDb();
const audit = new DynamoAuditStore(db);
const T0 = Date.parse('2026-05-01T10:00:00Z');
const acct = () => `u${randomBytes(6).toString('hex')}`;

async function appendMany(accountId: string, n: number) {
  for (let i = 1; i <= n; i++) {
    await audit.append(accountId, {
      type: i % 2 ? 'transfer_debit' : 'login',
      atMs: T0 + i * 1_000,
      details: { amount: 100 * i, toId: `u-counterparty-${i}`, transferId: `x${i}`, ok: true },
    });
  }
}

describe('append', () => {
  test('20 concurrent appends to one account keep a dense, linked chain that verifies', async () => {
    const a = acct();
    const written = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        audit.append(a, { type: 'claim_credit', atMs: T0 + i, details: { amount: i + 1, packetId: `p${i}` } }),
      ),
    );
    expect(written.map((r) => r.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const chain = await audit.chain(a);
    expect(chain.map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(chain[0]!.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < chain.length; i++) expect(chain[i]!.prevHash).toBe(chain[i - 1]!.hash);
    // Every append's answer is what was stored.
    for (const r of written) expect(chain[r.seq - 1]).toEqual(r);
    expect(verifyChain(chain)).toEqual({ ok: true, count: 20, head: chain[19]!.hash });
    expect(new Set(chain.map((r) => r.details.packetId)).size).toBe(20);
  });

  test('chains of different accounts are independent; records expire after 3 years', async () => {
    const [a, b] = [acct(), acct()];
    await Promise.all([appendMany(a, 3), appendMany(b, 2)]);
    expect(verifyChain(await audit.chain(a))).toMatchObject({ ok: true, count: 3 });
    expect(verifyChain(await audit.chain(b))).toMatchObject({ ok: true, count: 2 });
    const item = await db.get(AuditKeys.record(a, 1));
    expect(item!.expiresAt).toBe(Math.ceil((T0 + 1_000 + AUDIT_RETENTION_MS) / 1000));
    // A record moved to another chain does not verify there.
    const moved = (await audit.chain(a)).map((r) => ({ ...r, accountId: b }));
    expect(verifyChain(moved, { accountId: b })).toMatchObject({ ok: false, seq: 1, reason: 'hash' });
  });

  test('unknown types are refused; details are sanitised before they are hashed and stored', async () => {
    const a = acct();
    await expect(audit.append(a, { type: 'wire_fraud' as never, atMs: T0 })).rejects.toThrow(RangeError);
    const r = await audit.append(a, {
      type: 'login',
      atMs: T0,
      details: {
        token: 'tok_secret',
        deviceId: 'device-abcdef-123',
        code: 'RISK_BLOCKED',
        sessionCode: '1.k1.rABCDEFG.abc.sig',
        nested: { a: 1 },
        opId: 'op-123456789',
      },
    });
    expect(r.details).toEqual({
      deviceId: 'dev***23',
      code: 'RISK_BLOCKED',
      opId: 'op-123456789',
      dropped: 'nested,sessionCode,token',
    });
    const stored = JSON.stringify(await db.get(AuditKeys.record(a, 1)));
    expect(stored).not.toContain('tok_secret');
    expect(stored).not.toContain('device-abcdef-123');
    expect(stored).not.toContain('1.k1.rABCDEFG');
  });
});

describe('tampering', () => {
  type Edit = { name: string; update: string; expr: Expr };
  const edits: Edit[] = [
    { name: 'an amount in details', update: 'SET details.amount = :v', expr: { values: { ':v': 1 } } },
    { name: 'the type', update: 'SET #t = :v', expr: { names: { '#t': 'type' }, values: { ':v': 'topup' } } },
    {
      name: 'the time',
      update: 'SET #at = :v',
      expr: { names: { '#at': 'at' }, values: { ':v': '2020-01-01T00:00:00.000Z' } },
    },
    {
      name: 'the stored hash',
      update: 'SET #h = :v',
      expr: { names: { '#h': 'hash' }, values: { ':v': 'f'.repeat(64) } },
    },
    { name: 'the previous hash', update: 'SET prevHash = :v', expr: { values: { ':v': 'e'.repeat(64) } } },
    { name: 'a detail added', update: 'SET details.note = :v', expr: { values: { ':v': 'refunded' } } },
    { name: 'the account id', update: 'SET accountId = :v', expr: { values: { ':v': 'someone-else' } } },
  ];

  test.each(edits)('editing $name of any stored record makes verify name that record', async ({ update, expr }) => {
    const a = acct();
    await appendMany(a, 6);
    const original = await audit.chain(a);
    expect(verifyChain(original).ok).toBe(true);
    for (const k of [1, 3, 6]) {
      const before = (await db.get(AuditKeys.record(a, k)))!;
      const changed = await db.update(AuditKeys.record(a, k), update, expr);
      expect(changed).toBeDefined();
      const result = verifyChain(await audit.chain(a), { accountId: a });
      expect(result).toMatchObject({ ok: false, seq: k });
      // Put the record back: the chain verifies again.
      await db.put(before);
      expect(verifyChain(await audit.chain(a)).ok).toBe(true);
    }
  });

  test('a record rewritten with a recomputed hash breaks the link of the next one', async () => {
    const a = acct();
    await appendMany(a, 4);
    const r2 = (await audit.chain(a))[1]!;
    const forged: AuditRecord = { ...r2, details: { ...r2.details, amount: 1 } };
    forged.hash = hashRecord(forged);
    await db.update(AuditKeys.record(a, 2), 'SET details.amount = :v, #h = :h', {
      names: { '#h': 'hash' },
      values: { ':v': 1, ':h': forged.hash },
    });
    expect(verifyChain(await audit.chain(a))).toMatchObject({ ok: false, seq: 3, reason: 'link' });
  });

  test('a missing record is a gap at its seq; an expired head is accepted only when asked', async () => {
    const a = acct();
    await appendMany(a, 5);
    const chain = await audit.chain(a);
    expect(verifyChain([...chain.slice(0, 2), ...chain.slice(3)])).toMatchObject({ ok: false, seq: 3, reason: 'gap' });
    expect(verifyChain([chain[0]!, chain[2]!, chain[1]!])).toMatchObject({ ok: false, seq: 2, reason: 'gap' });
    expect(verifyChain([chain[0]!, chain[0]!])).toMatchObject({ ok: false, seq: 2, reason: 'order' });
    expect(verifyChain(chain.slice(2))).toMatchObject({ ok: false, seq: 1, reason: 'gap' });
    expect(verifyChain(chain.slice(2), { allowExpiredHead: true })).toMatchObject({ ok: true, count: 3 });
    expect(verifyChain([])).toEqual({ ok: true, count: 0, head: GENESIS_HASH });
  });
});

describe('reading', () => {
  test('a user reads their own last 30 days, newest first', async () => {
    const a = acct();
    const now = T0 + 60 * 86_400_000;
    for (const daysAgo of [45, 31, 30, 29, 1]) {
      await audit.append(a, { type: 'topup', atMs: now - daysAgo * 86_400_000, details: { amount: daysAgo } });
    }
    const page = await audit.recent(a, { nowMs: now });
    expect(page.records.map((r) => r.details.amount)).toEqual([1, 29, 30]);
    expect(page.next).toBeUndefined();
    // Paging inside the window.
    const first = await audit.recent(a, { nowMs: now, limit: 2 });
    expect(first.records.map((r) => r.details.amount)).toEqual([1, 29]);
    const second = await audit.recent(a, { nowMs: now, limit: 2, after: first.next! });
    expect(second.records.map((r) => r.details.amount)).toEqual([30]);
  });
});

describe('masking', () => {
  test('first 3 and last 2 characters; short ids are hidden whole', () => {
    expect(mask('u8f3a9c2d1e0b')).toBe('u8f***0b');
    expect(mask('abcdef')).toBe('abc***ef');
    expect(mask('abcde')).toBe('***');
    expect(mask('')).toBe('***');
    expect(mask('设备号一二三四五')).toBe('设备号***四五');
  });

  test('details mask account and device ids, keep operation ids, drop secrets', () => {
    expect(
      auditDetails({
        accountId: 'u1234567890',
        payeeId: 'u0987654321',
        device_id: 'dev-abcdefgh',
        packetId: 'p_abcdefghijkl',
        amount: 500,
        fee: 0.5,
        authorization: 'Bearer abc',
        note: 'Bearer eyJhbGciOi',
        apiKey: 'k',
        signingSecret: 's',
        reason: 'night_velocity',
      }),
    ).toEqual({
      accountId: 'u12***90',
      payeeId: 'u09***21',
      device_id: 'dev***gh',
      packetId: 'p_abcdefghijkl',
      amount: 500,
      reason: 'night_velocity',
      dropped: 'apiKey,authorization,fee,note,signingSecret',
    });
  });

  test('support sees a record with the account masked', async () => {
    const a = acct();
    const r = await audit.append(a, { type: 'freeze', atMs: T0, details: { reason: 'breaker' } });
    const m = maskedRecord(r);
    expect(m.accountId).toBe(mask(a));
    expect(JSON.stringify(m)).not.toContain(a);
  });
});

describe('npm run audit:verify', () => {
  const root = path.resolve(__dirname, '../..');
  const run = (args: string[]) =>
    new Promise<{ code: number; out: string }>((resolve) => {
      execFile(
        path.join(root, 'node_modules/.bin/tsx'),
        [path.join(root, 'scripts/audit-verify.ts'), ...args],
        { cwd: root, env: process.env, timeout: 60_000 },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
      );
    });

  test('prints ok for an intact chain and the first broken link (exit 1) after an edit', async () => {
    const a = acct();
    await appendMany(a, 4);
    const ok = await run([a]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^ok: 4 records/);
    await db.update(AuditKeys.record(a, 3), 'SET details.amount = :v', { values: { ':v': 999_999 } });
    const broken = await run([a]);
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(/^broken at seq 3: hash/);
    const usage = await run([]);
    expect(usage.code).toBe(2);
  });
});
