import { ledgerEntryHash, LEDGER_GENESIS } from '../../functions/src/domain/ledger-chain';
import {
  LedgerCheck,
  LedgerFacts,
  checkConservation,
  checkPacket,
  checkTransfers,
  orphanCredits,
  uncreditedTopups,
  type LedgerLine,
  type PacketFacts,
  type ReconcileClock,
} from '../../functions/src/domain/reconcile';

const T0 = Date.parse('2026-11-28T04:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const clock: ReconcileClock = { nowMs: T0 + 3_600_000, cutoffIso: iso(T0 + 3_540_000), graceMs: 600_000, sweepLagMs: 300_000 };

/** A well-formed chain from (opId, type, amount, at) rows. */
function chain(userId: string, rows: Array<[string, LedgerLine['type'], number, number, string?]>): LedgerLine[] {
  let prevHash = LEDGER_GENESIS;
  let balance = 0;
  return rows.map(([opId, type, amount, atMs, ref], i) => {
    balance += amount;
    const e = { userId, seq: i + 1, opId, type, amount, balance, sentDay: '', sentToday: 0, ref: ref ?? opId, at: iso(atMs), prevHash } as unknown as LedgerLine;
    const hash = ledgerEntryHash(e);
    prevHash = hash;
    return { ...e, hash };
  });
}

function feed(facts: LedgerFacts, userId: string, lines: LedgerLine[]) {
  const c = new LedgerCheck(userId, facts, clock);
  lines.forEach((l) => c.push(l));
  return c.mismatches;
}

const packet = (over: Partial<PacketFacts> = {}): PacketFacts => ({
  id: 'p1', senderId: 'uA', total: 300, count: 2, fee: 0, state: 'active', claimed: 2, createdAt: iso(T0), expiresAtMs: T0 + 86_400_000,
  shares: [100, 200], slots: [{ index: 0, userId: 'uB', amount: 100, at: iso(T0 + 1000) }, { index: 1, userId: 'uC', amount: 200, at: iso(T0 + 2000) }],
  markers: new Set(['uB', 'uC']), ...over,
});

function cleanWorld() {
  const facts = new LedgerFacts();
  const m = [
    ...feed(facts, 'uA', chain('uA', [['topup:t1', 'topup', 1_000, T0 - 1000], ['pkt:p1', 'packet_debit', -300, T0]])),
    ...feed(facts, 'uB', chain('uB', [['claim:p1', 'claim_credit', 100, T0 + 1000]])),
    ...feed(facts, 'uC', chain('uC', [['claim:p1', 'claim_credit', 200, T0 + 2000]])),
  ];
  return { facts, m };
}

describe('reconciliation checks (pure)', () => {
  test('a clean world: no mismatch, conservation holds', () => {
    const { facts, m } = cleanWorld();
    expect(m).toEqual([]);
    const p = checkPacket(packet(), facts, clock);
    expect(p.mismatches).toEqual([]);
    expect(p.escrowAtCutoff).toBe(0);
    expect(orphanCredits(facts, new Set(['p1']))).toEqual([]);
    expect(checkConservation({ balances: facts.balancesAtCutoff, escrow: p.escrowAtCutoff, inTransit: 0, topups: facts.topupsAtCutoff })).toEqual([]);
    expect(uncreditedTopups(['t1'], facts)).toEqual([]);
  });

  test('ledger breaks are named by account: balance, gap, link, hash, duplicate op', () => {
    const base = chain('uX', [['topup:a', 'topup', 100, T0], ['topup:b', 'topup', 50, T0], ['topup:c', 'topup', 5, T0]]);
    const kinds = (lines: LedgerLine[]) => feed(new LedgerFacts(), 'uX', lines).map((x) => `${x.kind}:${x.id}`);
    expect(kinds([base[0]!, { ...base[1]!, balance: 151 }, base[2]!])).toEqual(['ledger_balance:uX']);
    expect(kinds([base[0]!, base[2]!])).toEqual(['ledger_gap:uX']);
    expect(kinds([base[0]!, { ...base[1]!, prevHash: 'f'.repeat(64) }, base[2]!])).toEqual(['ledger_link:uX']);
    expect(kinds([base[0]!, { ...base[1]!, ref: 'edited' }, base[2]!])).toEqual(['ledger_hash:uX']);
    const dup = chain('uX', [['topup:a', 'topup', 100, T0], ['topup:a', 'topup', 100, T0]]);
    expect(kinds(dup)).toEqual(['duplicate_op:uX']);
  });

  test('packet checks: duplicate share, missing marker, wrong amount, uncredited, unrefunded expired, wrong refund, missing debit', () => {
    const kinds = (p: PacketFacts, facts = cleanWorld().facts) => checkPacket(p, facts, clock).mismatches.map((x) => x.kind).sort();
    expect(kinds(packet({ slots: [...packet().slots, { index: 1, userId: 'uB', amount: 200, at: iso(T0) }], claimed: 3 }))).toContain('duplicate_share');
    expect(kinds(packet({ markers: new Set(['uB']) }))).toEqual(['marker_missing']);
    expect(kinds(packet({ shares: [150, 150] }))).toEqual(['share_amount', 'share_amount']);
    expect(kinds(packet({ shares: [100, 100] }))).toContain('shares_sum');
    const noCredit = new LedgerFacts();
    feed(noCredit, 'uA', chain('uA', [['topup:t1', 'topup', 1_000, T0 - 1000], ['pkt:p1', 'packet_debit', -300, T0]]));
    expect(kinds(packet(), noCredit)).toEqual(['uncredited_share', 'uncredited_share']);
    expect(kinds(packet({ expiresAtMs: clock.nowMs - 300_001 }))).toEqual(['unrefunded_expired']);
    expect(kinds(packet({ expiresAtMs: clock.nowMs - 299_000 }))).toEqual([]);
    expect(kinds(packet({ state: 'settled', refundedAmount: 5 }))).toEqual(['refund_wrong']);
    const undebited = new LedgerFacts();
    expect(kinds(packet(), undebited)).toContain('missing_debit');
  });

  test('a share recorded but not yet credited is in transit, not a mismatch, within the grace', () => {
    const facts = new LedgerFacts();
    feed(facts, 'uA', chain('uA', [['topup:t1', 'topup', 1_000, T0 - 1000], ['pkt:p1', 'packet_debit', -300, T0]]));
    const recent = iso(clock.nowMs - 120_000);
    const out = checkPacket(packet({ slots: [{ index: 0, userId: 'uB', amount: 100, at: recent }] }), facts, clock);
    expect(out.mismatches).toEqual([]);
    expect(out.sharesInTransit).toBe(100);
    expect(out.escrowAtCutoff).toBe(200);
    expect(checkConservation({ balances: facts.balancesAtCutoff, escrow: out.escrowAtCutoff, inTransit: out.sharesInTransit, topups: facts.topupsAtCutoff })).toEqual([]);
  });

  test('entries after the cutoff are left out of the totals on both sides', () => {
    const facts = new LedgerFacts();
    feed(facts, 'uA', chain('uA', [['topup:t1', 'topup', 1_000, T0], ['topup:t2', 'topup', 500, clock.nowMs - 1000]]));
    expect(facts.topupsAtCutoff).toBe(1_000);
    expect(facts.balancesAtCutoff).toBe(1_000);
  });

  test('transfers: in transit, stuck after the grace, unmatched; orphan credits; uncredited top-ups; conservation', () => {
    const facts = new LedgerFacts();
    feed(facts, 'uA', chain('uA', [['topup:t', 'topup', 1_000, T0], ['xfer:x1', 'transfer_debit', -10, clock.nowMs - 700_000], ['xfer:x2', 'transfer_debit', -20, T0]]));
    feed(facts, 'uB', chain('uB', [['xfer:x2', 'transfer_credit', 21, T0], ['xfer:x3', 'transfer_credit', 5, T0], ['claim:p9', 'claim_credit', 7, T0]]));
    const t = checkTransfers(facts, clock);
    expect(t.mismatches.map((x) => `${x.kind}:${x.id}`).sort()).toEqual(['transfer_stuck:x1', 'transfer_unmatched:x2', 'transfer_unmatched:x3']);
    expect(t.inTransit).toBe(10);
    expect(orphanCredits(facts, new Set(['p9'])).map((x) => x.kind)).toEqual(['credit_without_share']);
    expect(orphanCredits(facts, new Set())).toEqual([]);
    expect(uncreditedTopups(['t', 'gone'], facts).map((x) => x.id)).toEqual(['gone']);
    expect(checkConservation({ balances: 1, escrow: 1, inTransit: 1, topups: 4 }).map((x) => x.kind)).toEqual(['conservation']);
  });
});
