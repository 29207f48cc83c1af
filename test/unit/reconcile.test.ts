/**
 * Reconciliation's pure checks (functions/src/domain/reconcile.ts) on hand-built ledgers and
 * packets: a clean world yields no mismatch and balances; each kind of mismatch fires, naming
 * its account, packet, transfer or top-up; the cutoff keeps later operations out of both sides.
 */
import { ledgerEntryHash, LEDGER_GENESIS } from '../../functions/src/domain/ledger-chain';
import {
  LedgerWalk,
  MoneyFacts,
  MismatchKinds,
  addToBag,
  campaignPacketMoney,
  checkCampaign,
  checkConservation,
  checkPacket,
  checkTopups,
  checkTransfers,
  checkWithdrawals,
  emptyBag,
  fingerprint,
  holderFp,
  lookupsNeeded,
  missingPackets,
  type Bag,
  type LedgerLine,
  type Lookups,
  type Mismatch,
  type PacketFacts,
  type PacketInput,
  type ReconcileClock,
  type SlotFact,
} from '../../functions/src/domain/reconcile';

const T0 = Date.parse('2026-11-28T04:00:00Z');
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const clock: ReconcileClock = {
  nowMs: T0 + HOUR,
  cutoffIso: iso(T0 + HOUR - 60_000),
  graceMs: 600_000,
  sweepLagMs: 300_000,
};

type Row = [opId: string, type: string, amount: number, atMs: number];

/** A well-formed hash chain from rows, as the ledger store writes it. */
function chain(userId: string, rows: Row[]): LedgerLine[] {
  let prevHash = LEDGER_GENESIS;
  let balance = 0;
  return rows.map(([opId, type, amount, atMs], i) => {
    balance += amount;
    const e = {
      userId,
      seq: i + 1,
      opId,
      type,
      amount,
      balance,
      sentDay: '',
      sentToday: 0,
      ref: opId.slice(opId.indexOf(':') + 1),
      at: iso(atMs),
      prevHash,
    };
    const hash = ledgerEntryHash(e);
    prevHash = hash;
    return { ...e, hash };
  });
}

function walk(facts: MoneyFacts, userId: string, lines: LedgerLine[]): Mismatch[] {
  const w = new LedgerWalk(userId, facts);
  for (const l of lines) w.push(l);
  return [...w.mismatches];
}

const tag = (ms: readonly Mismatch[]) => ms.map((m) => `${m.kind}:${m.id}`).sort();

const P1: PacketFacts = {
  id: 'p1',
  senderId: 'uA',
  total: 300,
  count: 2,
  fee: 0,
  state: 'active',
  claimed: 2,
  createdAt: iso(T0),
  expiresAtMs: T0 + 24 * HOUR,
};
const SLOTS: SlotFact[] = [
  { index: 0, userId: 'uB', amount: 100, at: iso(T0 + 1_000) },
  { index: 1, userId: 'uC', amount: 200, at: iso(T0 + 2_000) },
];
const input = (
  over: Partial<PacketFacts> = {},
  slots: SlotFact[] = SLOTS,
  shares: number[] | undefined = [100, 200],
): PacketInput => ({ packet: { ...P1, ...over }, shares, slots });

function holders(...users: string[]): Bag {
  const b = emptyBag();
  for (const u of users) addToBag(b, 0, holderFp(u));
  return b;
}

/** A sender, two claimers, the packet p1 fully claimed, one top-up record. */
function cleanWorld(rows: { uA?: Row[]; uB?: Row[]; uC?: Row[] } = {}) {
  const facts = new MoneyFacts(clock.cutoffIso);
  facts.topups.set('t1', { record: { userId: 'uA', amount: 1_000, state: 'done', at: iso(T0 - 1_000) } });
  const m = [
    ...walk(
      facts,
      'uA',
      chain(
        'uA',
        rows.uA ?? [
          ['topup:t1', 'topup', 1_000, T0 - 1_000],
          ['pkt:p1', 'packet_debit', -300, T0],
        ],
      ),
    ),
    ...walk(facts, 'uB', chain('uB', rows.uB ?? [['claim:p1', 'claim_credit', 100, T0 + 1_000]])),
    ...walk(facts, 'uC', chain('uC', rows.uC ?? [['claim:p1', 'claim_credit', 200, T0 + 2_000]])),
  ];
  return { facts, m };
}

/** checkPacket with the point reads the use case would do (markers and credits from `have`). */
function check(
  p: PacketInput,
  facts: MoneyFacts,
  have: { markers?: string[]; credits?: Record<string, [number, number]> } = {},
) {
  const money = facts.packets.get(p.packet.id);
  const need = lookupsNeeded(p, money, holders(...(have.markers ?? ['uB', 'uC'])), clock.cutoffIso);
  const lookups: Lookups = {};
  if (need.markers) lookups.markers = new Set(have.markers ?? ['uB', 'uC']);
  if (need.credits) {
    const credits = have.credits ?? { uB: [1, 100], uC: [1, 200] };
    lookups.credits = new Map(Object.keys(credits).map((u) => [u, { count: credits[u]![0], amount: credits[u]![1] }]));
  }
  return checkPacket(p, money, lookups, clock);
}

describe('reconciliation checks (pure)', () => {
  test('a clean world: no mismatch, no point reads, conservation holds', () => {
    const { facts, m } = cleanWorld();
    expect(m).toEqual([]);
    expect(lookupsNeeded(input(), facts.packets.get('p1'), holders('uB', 'uC'), clock.cutoffIso)).toEqual({
      markers: false,
      credits: false,
    });
    const out = checkPacket(input(), facts.packets.get('p1'), {}, clock);
    expect(out).toEqual({
      mismatches: [],
      escrow: 0,
      sharesInTransit: 0,
      feeInTransit: 0,
      staleShares: 0,
      refundInTransit: 0,
      refundPaidOut: 0,
    });
    expect(checkTopups(facts, clock)).toEqual({ mismatches: [], total: 1_000 });
    expect(checkTransfers(facts, clock)).toEqual({ mismatches: [], inTransit: 0 });
    expect(missingPackets(facts, new Set(['p1']))).toEqual([]);
    expect(
      checkConservation({
        balances: facts.balances,
        escrow: out.escrow,
        inTransit: { shares: 0, transfers: 0, fees: 0, campaigns: 0 },
        topups: facts.topupsIn,
      }),
    ).toEqual([]);
    expect(facts.balances).toBe(1_000);
    expect(facts.topupsIn).toBe(1_000);
  });

  test('fingerprints are multiset sums: order does not matter, a swap of amounts does', () => {
    const a = emptyBag();
    const b = emptyBag();
    addToBag(a, 1, fingerprint('x', 1));
    addToBag(a, 2, fingerprint('y', 2));
    addToBag(b, 2, fingerprint('y', 2));
    addToBag(b, 1, fingerprint('x', 1));
    expect(a).toEqual(b);
    const swapped = emptyBag();
    addToBag(swapped, 2, fingerprint('x', 2));
    addToBag(swapped, 1, fingerprint('y', 1));
    expect(swapped.count).toBe(a.count);
    expect(swapped.sum).toBe(a.sum);
    expect(swapped.fp).not.toBe(a.fp);
  });

  test('ledger breaks are named by account: balance, gap, link, hash, negative balance, unknown operation', () => {
    const base = chain('uX', [
      ['topup:a', 'topup', 100, T0],
      ['topup:b', 'topup', 50, T0],
      ['topup:c', 'topup', 5, T0],
    ]);
    const kinds = (lines: LedgerLine[]) => tag(walk(new MoneyFacts(clock.cutoffIso), 'uX', lines));
    expect(kinds([base[0]!, { ...base[1]!, balance: 151 }, base[2]!])).toEqual(['ledger_balance:uX']);
    expect(kinds([base[0]!, base[2]!])).toEqual(['ledger_gap:uX']);
    expect(kinds([base[1]!, base[2]!])).toEqual(['ledger_gap:uX']);
    expect(kinds([base[0]!, { ...base[1]!, prevHash: 'f'.repeat(64) }, base[2]!])).toEqual(['ledger_link:uX']);
    expect(kinds([base[0]!, { ...base[1]!, ref: 'edited' }, base[2]!])).toEqual(['ledger_hash:uX']);
    expect(
      kinds(
        chain('uX', [
          ['topup:a', 'topup', 100, T0],
          ['xfer:x', 'transfer_debit', -101, T0],
        ]),
      ),
    ).toEqual(['negative_balance:uX']);
    // Re-sealed by a forger (hashes fine): an operation that is no money movement.
    const facts = new MoneyFacts(clock.cutoffIso);
    walk(
      facts,
      'uX',
      chain('uX', [
        ['gift:x', 'topup', 100, T0],
        ['claim:p', 'topup', 5, T0],
      ]),
    );
    expect(tag(facts.mismatches)).toEqual(['unknown_op:uX', 'unknown_op:uX']);
    expect(facts.balances).toBe(105); // still counted: conservation will not balance either
  });

  test('a duplicated operation, even re-sealed, shows on its key: a claim credited twice, a debit twice, a top-up twice', () => {
    // uB's ledger holds claim:p1 twice (a forged, well-chained second entry).
    const { facts, m } = cleanWorld({
      uB: [
        ['claim:p1', 'claim_credit', 100, T0 + 1_000],
        ['claim:p1', 'claim_credit', 100, T0 + 1_000],
      ],
    });
    expect(m).toEqual([]);
    expect(lookupsNeeded(input(), facts.packets.get('p1'), holders('uB', 'uC'), clock.cutoffIso).credits).toBe(true);
    expect(tag(check(input(), facts, { credits: { uB: [2, 200], uC: [1, 200] } }).mismatches)).toEqual([
      'credit_wrong:p1',
    ]);
    const twice = cleanWorld({
      uA: [
        ['topup:t1', 'topup', 1_000, T0 - 1_000],
        ['pkt:p1', 'packet_debit', -300, T0],
        ['pkt:p1', 'packet_debit', -300, T0],
      ],
    });
    expect(tag(check(input(), twice.facts).mismatches)).toEqual(['debit_wrong:p1']);
    const topupTwice = cleanWorld({
      uA: [
        ['topup:t1', 'topup', 1_000, T0 - 1_000],
        ['topup:t1', 'topup', 1_000, T0 - 1_000],
        ['pkt:p1', 'packet_debit', -300, T0],
      ],
    });
    const twiceIn = checkTopups(topupTwice.facts, clock);
    expect(tag(twiceIn.mismatches)).toEqual(['topup_wrong:t1']);
    // Money in is what the provider was paid (the record), so the second credit is money from
    // nowhere: conservation is off by it.
    expect(twiceIn.total).toBe(1_000);
    expect(topupTwice.facts.balances).toBe(2_000 - 300 + 100 + 200);
  });

  test('packet structure: shares sum, slot amount, slot beyond the counter, duplicate share, missing marker, over-granted', () => {
    const { facts } = cleanWorld();
    const kinds = (p: PacketInput, have?: Parameters<typeof check>[2]) => tag(check(p, facts, have).mismatches);
    expect(kinds(input({}, SLOTS, [100, 100]))).toEqual(['share_amount:p1', 'shares_sum:p1']);
    expect(kinds({ ...input(), shares: undefined })).toEqual(['shares_sum:p1']);
    expect(kinds(input({}, SLOTS, [150, 150]))).toEqual(['share_amount:p1', 'share_amount:p1']);
    expect(kinds(input({ claimed: 1 }))).toEqual(['slot_beyond_counter:p1']);
    // A second share for uB: the one-per-account gate bypassed (its credit would be a second
    // `claim:p1` entry in uB's ledger — the ledger refuses that, so the share is uncredited).
    const dup = [...SLOTS, { index: 2, userId: 'uB', amount: 50, at: iso(T0 + 3_000) }];
    expect(
      kinds(input({ count: 3, claimed: 3, total: 350 }, dup, [100, 200, 50]), {
        credits: { uB: [1, 100], uC: [1, 200] },
      }),
    ).toContain('duplicate_share:p1');
    expect(kinds(input(), { markers: ['uB'] })).toEqual(['marker_missing:p1']);
    expect(kinds(input({ total: 250 }, SLOTS, [100, 150]))).toEqual(expect.arrayContaining(['shares_exceed_total:p1']));
  });

  test('recorded layout: every share a counter handed out has its record, and one position one holder', () => {
    const { facts } = cleanWorld();
    const kinds = (p: PacketInput, have?: Parameters<typeof check>[2]) => tag(check(p, facts, have).mismatches);
    // p1 on one recorded counter of 2 shares; the records are the slots (no claim markers).
    const counter = (claimed: number) => [{ counter: 0, start: 0, size: 2, claimed, closed: false }];
    const recorded = (claimed: number, slots: SlotFact[] = SLOTS) =>
      input({ recorded: true, claimed, counters: counter(claimed) }, slots);
    expect(kinds(recorded(2), { markers: [] })).toEqual([]);
    // A record beyond what the counter handed out, and a share handed out with no record.
    expect(kinds(recorded(1), { markers: [] })).toEqual(['slot_beyond_counter:p1']);
    const one = cleanWorld({ uC: [] });
    expect(
      tag(check(recorded(2, SLOTS.slice(0, 1)), one.facts, { markers: [], credits: { uB: [1, 100] } }).mismatches),
    ).toEqual(['slot_beyond_counter:p1']);
    // An account whose counter entry resolves to no record: reported, and no share of it
    // counts (its credit is then one no share accounts for).
    const broken = [SLOTS[0]!, { index: 9, userId: 'uC', amount: 0, at: '', broken: 'no record at 9' }];
    expect(tag(check(recorded(2, broken), facts, { markers: [] }).mismatches)).toEqual([
      'credit_without_share:p1',
      'slot_beyond_counter:p1',
      'slot_beyond_counter:p1',
    ]);
    // Two accounts on one position: the share is granted twice (and more than the total).
    const twice = [...SLOTS, { index: 0, userId: 'uD', amount: 100, at: iso(T0 + 3_000) }];
    expect(
      kinds(input({ recorded: true, counters: counter(2) }, twice), {
        markers: [],
        credits: { uB: [1, 100], uC: [1, 200], uD: [0, 0] },
      }),
    ).toEqual(['duplicate_share:p1', 'shares_exceed_total:p1', 'shares_exceed_total:p1']);
  });

  test('credits: uncredited after settlement, credited with the wrong amount, credited without a share', () => {
    const none = cleanWorld({ uB: [], uC: [['claim:p1', 'claim_credit', 200, T0 + 2_000]] });
    // Settled (before the cutoff: a later settlement is the next run's to judge) with uB's share never credited.
    const settled = input({
      state: 'settled',
      refundedAmount: 0,
      settledAt: iso(T0 + 30 * 60_000),
      expiresAtMs: T0 + 29 * 60_000,
    });
    expect(tag(check(settled, none.facts, { credits: { uB: [0, 0], uC: [1, 200] } }).mismatches)).toEqual([
      'uncredited_share:p1',
    ]);
    const wrong = cleanWorld({ uB: [['claim:p1', 'claim_credit', 101, T0 + 1_000]] });
    expect(tag(check(input(), wrong.facts, { credits: { uB: [1, 101], uC: [1, 200] } }).mismatches)).toEqual([
      'credit_wrong:p1',
    ]);
    const extra = cleanWorld();
    walk(extra.facts, 'uD', chain('uD', [['claim:p1', 'claim_credit', 7, T0 + 5_000]]));
    expect(tag(check(input(), extra.facts).mismatches)).toEqual(['credit_without_share:p1']);
  });

  test('a share recorded and not yet credited is in transit: no mismatch within the grace or before the packet is due', () => {
    const { facts } = cleanWorld({ uB: [], uC: [] });
    const recent = [{ index: 0, userId: 'uB', amount: 100, at: iso(clock.nowMs - 120_000) }];
    const out = check(input({ claimed: 1 }, recent), facts, { markers: ['uB'], credits: { uB: [0, 0] } });
    expect(out.mismatches).toEqual([]);
    expect(out).toMatchObject({ escrow: 200, sharesInTransit: 100, staleShares: 0 });
    expect(
      checkConservation({
        balances: facts.balances,
        escrow: out.escrow,
        inTransit: { shares: out.sharesInTransit, transfers: 0, fees: 0, campaigns: 0 },
        topups: facts.topupsIn,
      }),
    ).toEqual([]);
    // Older than the grace on an active packet (a claim crashed after its slot, the user never
    // came back): still in transit — the settlement credits it — but counted as stale.
    const old = check(input(), facts, { credits: { uB: [0, 0], uC: [0, 0] } });
    expect(old.mismatches).toEqual([]);
    expect(old.staleShares).toBe(2);
    // Expired long ago and never settled: now they are mismatches (and so is the packet).
    const due = check(input({ expiresAtMs: clock.nowMs - 20 * 60_000 }), facts, {
      credits: { uB: [0, 0], uC: [0, 0] },
    });
    expect(tag(due.mismatches)).toEqual(['uncredited_share:p1', 'uncredited_share:p1', 'unrefunded_expired:p1']);
  });

  test('debit, fee and refund of a packet', () => {
    const kinds = (p: PacketInput, f: MoneyFacts) => tag(check(p, f).mismatches);
    const undebited = cleanWorld({ uA: [['topup:t1', 'topup', 1_000, T0 - 1_000]] });
    expect(kinds(input(), undebited.facts)).toEqual(['missing_debit:p1']);
    const wrongDebit = cleanWorld({
      uA: [
        ['topup:t1', 'topup', 1_000, T0 - 1_000],
        ['pkt:p1', 'packet_debit', -299, T0],
      ],
    });
    expect(kinds(input(), wrongDebit.facts)).toEqual(['debit_wrong:p1']);
    // A fee debited with the packet and never credited to the fee account.
    const fee = cleanWorld({
      uA: [
        ['topup:t1', 'topup', 1_000, T0 - 1_000],
        ['pkt:p1', 'packet_debit', -302, T0],
      ],
    });
    const out = check(input({ fee: 2 }), fee.facts);
    expect(tag(out.mismatches)).toEqual(['fee_wrong:p1']);
    expect(out.feeInTransit).toBe(2);
    walk(fee.facts, 'platform-fees', chain('platform-fees', [['fee:p1', 'fee', 3, T0]]));
    expect(kinds(input({ fee: 2 }), fee.facts)).toEqual(['fee_wrong:p1']);
    // Stuck in funding with the money taken; canceled with the money taken.
    const debitedOnly = () => cleanWorld({ uB: [], uC: [] }).facts;
    expect(kinds(input({ state: 'funding', claimed: 0 }, []), debitedOnly())).toEqual(['funding_stuck:p1']);
    expect(kinds(input({ state: 'canceled', claimed: 0 }, []), debitedOnly())).toEqual(['canceled_debited:p1']);
    // Refunds: settled with the wrong rest, refunded twice, refunded while active.
    const halfSlots = [SLOTS[0]!];
    const settled = input(
      {
        state: 'settled',
        claimed: 1,
        refundedAmount: 200,
        settledAt: iso(T0 + 10 * 60_000),
        expiresAtMs: T0 + 9 * 60_000,
      },
      halfSlots,
    );
    const refunded = (rows: Row[]) =>
      cleanWorld({
        uA: [['topup:t1', 'topup', 1_000, T0 - 1_000], ['pkt:p1', 'packet_debit', -300, T0], ...rows],
        uC: [],
      });
    const have = { markers: ['uB'], credits: { uB: [1, 100] as [number, number] } };
    expect(
      tag(check(settled, refunded([['refund:p1', 'refund_credit', 200, T0 + 10 * 60_000]]).facts, have).mismatches),
    ).toEqual([]);
    expect(tag(check(settled, refunded([]).facts, have).mismatches)).toEqual(['refund_wrong:p1']);
    expect(
      tag(
        check(
          { ...settled, packet: { ...settled.packet, refundedAmount: 150 } },
          refunded([['refund:p1', 'refund_credit', 150, T0 + 10 * 60_000]]).facts,
          have,
        ).mismatches,
      ),
    ).toEqual(['refund_wrong:p1']);
    expect(
      tag(
        check(
          settled,
          refunded([
            ['refund:p1', 'refund_credit', 200, T0 + 10 * 60_000],
            ['refund:p1', 'refund_credit', 200, T0 + 10 * 60_000],
          ]).facts,
          have,
        ).mismatches,
      ),
    ).toEqual(expect.arrayContaining(['refund_wrong:p1']));
    const whileActive = refunded([['refund:p1', 'refund_credit', 200, T0 + 10 * 60_000]]);
    expect(tag(check(input({ claimed: 1 }, halfSlots), whileActive.facts, have).mismatches)).toEqual([
      'refund_wrong:p1',
    ]);
  });

  test('an expired packet still active or settling after the sweep lag is unrefunded; within the lag it is not', () => {
    const { facts } = cleanWorld();
    expect(tag(check(input({ expiresAtMs: clock.nowMs - 300_001 }), facts).mismatches)).toEqual([
      'unrefunded_expired:p1',
    ]);
    expect(tag(check(input({ state: 'settling', expiresAtMs: clock.nowMs - 300_001 }), facts).mismatches)).toEqual([
      'unrefunded_expired:p1',
    ]);
    expect(check(input({ expiresAtMs: clock.nowMs - 299_000 }), facts).mismatches).toEqual([]);
  });

  test('operations after the cutoff are left out on both sides; a packet created after it is not judged', () => {
    const late = clock.nowMs - 30_000;
    const { facts } = cleanWorld({
      uA: [
        ['topup:t1', 'topup', 1_000, T0 - 1_000],
        ['pkt:p1', 'packet_debit', -300, T0],
        ['topup:t2', 'topup', 500, late],
        ['pkt:p2', 'packet_debit', -50, late],
      ],
      uB: [
        ['claim:p1', 'claim_credit', 100, T0 + 1_000],
        ['claim:p2', 'claim_credit', 20, late],
      ],
    });
    expect(facts.topupsIn).toBe(1_000);
    expect(facts.balances).toBe(1_000);
    expect(facts.entriesAfterCutoff).toBe(3);
    expect(facts.packets.has('p2')).toBe(false);
    // p2 with a slot after the cutoff and no debit seen: nothing to say yet.
    const p2 = {
      packet: { ...P1, id: 'p2', total: 50, createdAt: iso(late), claimed: 1 },
      shares: [20, 30],
      slots: [{ index: 0, userId: 'uB', amount: 20, at: iso(late) }],
    };
    expect(checkPacket(p2, undefined, {}, clock)).toEqual({
      mismatches: [],
      escrow: 0,
      sharesInTransit: 0,
      feeInTransit: 0,
      staleShares: 0,
      refundInTransit: 0,
      refundPaidOut: 0,
    });
  });

  test('transfers: in transit, stuck after the grace, unmatched, doubled', () => {
    const facts = new MoneyFacts(clock.cutoffIso);
    walk(
      facts,
      'uA',
      chain('uA', [
        ['topup:t', 'topup', 1_000, T0],
        ['xfer:x1', 'transfer_debit', -10, clock.nowMs - 120_000],
        ['xfer:x2', 'transfer_debit', -20, T0],
        ['xfer:x4', 'transfer_debit', -30, T0 + 1],
        ['xfer:x5', 'transfer_debit', -5, T0 + 2],
      ]),
    );
    walk(
      facts,
      'uB',
      chain('uB', [
        ['xfer:x2', 'transfer_credit', 21, T0],
        ['xfer:x3', 'transfer_credit', 5, T0],
        ['xfer:x5', 'transfer_credit', 5, T0 + 2],
        ['xfer:x5', 'transfer_credit', 5, T0 + 2],
      ]),
    );
    const t = checkTransfers(facts, clock);
    expect(tag(t.mismatches)).toEqual([
      'transfer_stuck:x4',
      'transfer_unmatched:x2',
      'transfer_unmatched:x3',
      'transfer_unmatched:x5',
    ]);
    // x1 (2 minutes old) and x4 are debited and not credited: both in transit.
    expect(t.inTransit).toBe(10 + 30);
  });

  test('top-ups: a completed top-up without its credit (a deleted newest entry), a credit without a record, a wrong amount', () => {
    const facts = new MoneyFacts(clock.cutoffIso);
    facts.topups.set('gone', { record: { userId: 'uA', amount: 5, state: 'done', at: iso(T0) } });
    facts.topups.set('later', { record: { userId: 'uA', amount: 5, state: 'done', at: iso(clock.nowMs - 1_000) } });
    facts.topups.set('pending', { record: { userId: 'uA', amount: 5, state: 'pending', at: iso(T0) } });
    facts.topups.set('t2', { record: { userId: 'uA', amount: 9, state: 'done', at: iso(T0) } });
    walk(
      facts,
      'uA',
      chain('uA', [
        ['topup:t1', 'topup', 100, T0],
        ['topup:t2', 'topup', 10, T0],
      ]),
    );
    const r = checkTopups(facts, clock);
    expect(tag(r.mismatches)).toEqual(['topup_uncredited:gone', 'topup_wrong:t1', 'topup_wrong:t2']);
    // In: gone (done, paid) 5 + t1 (no record: its credit) 100 + t2 (the record) 9; not the
    // pending one nor the one after the cutoff.
    expect(r.total).toBe(5 + 100 + 9);
    expect(facts.balances).toBe(110);
  });

  test('conservation sees money from nowhere: a forged extra claim credit is not "negative in transit"', () => {
    const { facts } = cleanWorld();
    walk(facts, 'uD', chain('uD', [['claim:p1', 'claim_credit', 7, T0 + 5_000]]));
    const out = check(input(), facts);
    expect(out.sharesInTransit).toBe(0);
    const c = checkConservation({
      balances: facts.balances,
      escrow: out.escrow,
      inTransit: { shares: out.sharesInTransit, transfers: 0, fees: 0, campaigns: 0 },
      topups: checkTopups(facts, clock).total,
    });
    expect(c).toEqual([{ kind: 'conservation', id: 'platform', detail: expect.stringContaining('off by 7') }]);
    // A transfer credited more than debited: not in transit either.
    const t = new MoneyFacts(clock.cutoffIso);
    walk(
      t,
      'uA',
      chain('uA', [
        ['topup:t', 'topup', 100, T0],
        ['xfer:x', 'transfer_debit', -10, T0],
      ]),
    );
    walk(t, 'uB', chain('uB', [['xfer:x', 'transfer_credit', 12, T0]]));
    expect(checkTransfers(t, clock).inTransit).toBe(0);
    expect(t.balances - t.topupsIn).toBe(2);
  });

  test('ledger entries of a packet that does not exist; conservation off by a fen', () => {
    const { facts } = cleanWorld();
    expect(tag(missingPackets(facts, new Set()))).toEqual(['missing_packet:p1']);
    expect(
      tag(
        checkConservation({
          balances: 1,
          escrow: 1,
          inTransit: { shares: 1, transfers: 0, fees: 0, campaigns: 0 },
          topups: 4,
        }),
      ),
    ).toEqual(['conservation:platform']);
  });

  test("a scoped run counts only its own packets' fees from the shared fee account", () => {
    const facts = new MoneyFacts(clock.cutoffIso, new Set(['p1']));
    walk(
      facts,
      'platform-fees',
      chain('platform-fees', [
        ['fee:p1', 'fee', 2, T0],
        ['fee:other', 'fee', 7, T0],
      ]),
    );
    expect(facts.balances).toBe(2);
    expect(facts.packets.has('other')).toBe(false);
  });

  test('fee ledger shards: a fee counts once whichever shard holds it, twice when on two, and balances sum every shard', () => {
    const once = cleanWorld({
      uA: [
        ['topup:t1', 'topup', 1_000, T0 - 1_000],
        ['pkt:p1', 'packet_debit', -302, T0],
      ],
    });
    const before = once.facts.balances;
    walk(once.facts, 'platform-fees#7', chain('platform-fees#7', [['fee:p1', 'fee', 2, T0]]));
    walk(once.facts, 'platform-fees#3', chain('platform-fees#3', [['fee:p9', 'fee', 5, T0]]));
    expect(once.facts.balances - before).toBe(7);
    expect(tag(check(input({ fee: 2 }), once.facts).mismatches)).toEqual([]);
    const twice = cleanWorld({
      uA: [
        ['topup:t1', 'topup', 1_000, T0 - 1_000],
        ['pkt:p1', 'packet_debit', -302, T0],
      ],
    });
    walk(twice.facts, 'platform-fees#7', chain('platform-fees#7', [['fee:p1', 'fee', 2, T0]]));
    walk(twice.facts, 'platform-fees#2', chain('platform-fees#2', [['fee:p1', 'fee', 2, T0]]));
    expect(tag(check(input({ fee: 2 }), twice.facts).mismatches)).toEqual(['fee_wrong:p1']);
  });

  test('campaigns: one debit and one fee fund all packets; wrong debit, missing packets, stuck funding, entries without a record', () => {
    const facts = new MoneyFacts(clock.cutoffIso);
    walk(
      facts,
      'uC',
      chain('uC', [
        ['topup:t9', 'topup', 10_000, T0 - 1000],
        ['camp:c1', 'packet_debit', -3_020, T0],
      ]),
    );
    walk(facts, 'platform-fees', chain('platform-fees', [['fee:camp:c1', 'fee', 20, T0]]));
    const rec = {
      id: 'c1',
      quantity: 10,
      total: 300,
      feePerPacket: 2,
      debit: 3_020,
      state: 'active',
      createdAt: iso(T0),
    };
    // Each packet sees its share of the one debit and fee.
    expect(campaignPacketMoney(facts.campaigns.get('c1'), { total: 300, fee: 2 })).toEqual({
      debit: { count: 1, amount: -302, at: iso(T0) },
      fee: { count: 1, amount: 2, at: iso(T0) },
    });
    expect(checkCampaign('c1', rec, facts.campaigns.get('c1'), 10, clock)).toEqual({ mismatches: [], inTransit: 0 });
    expect(tag(checkCampaign('c1', rec, facts.campaigns.get('c1'), 9, clock).mismatches)).toEqual([
      'campaign_wrong:c1',
    ]);
    expect(tag(checkCampaign('c1', { ...rec, debit: 3_000 }, facts.campaigns.get('c1'), 10, clock).mismatches)).toEqual(
      ['campaign_wrong:c1'],
    );
    // Funding, fresh: the unwritten packets' money is in transit (fee already credited), no alarm.
    const fresh = { ...rec, state: 'funding', createdAt: iso(clock.nowMs - 60_000) };
    expect(checkCampaign('c1', fresh, facts.campaigns.get('c1'), 4, clock)).toEqual({
      mismatches: [],
      inTransit: 6 * 300,
    });
    expect(
      tag(checkCampaign('c1', { ...fresh, createdAt: iso(T0) }, facts.campaigns.get('c1'), 4, clock).mismatches),
    ).toEqual(['campaign_wrong:c1']);
    expect(tag(checkCampaign('c9', undefined, facts.campaigns.get('c1'), 0, clock).mismatches)).toEqual([
      'campaign_wrong:c9',
    ]);
    expect(facts.packets.size).toBe(0); // campaign entries are not mistaken for packets
  });

  test('every mismatch kind is exercised above', () => {
    // Kept in sync by hand: a new kind needs a case here.
    expect(Object.keys(MismatchKinds).sort()).toEqual(
      [
        'ledger_gap',
        'ledger_link',
        'ledger_hash',
        'ledger_balance',
        'negative_balance',
        'unknown_op',
        'shares_sum',
        'share_amount',
        'slot_beyond_counter',
        'duplicate_share',
        'marker_missing',
        'shares_exceed_total',
        'uncredited_share',
        'credit_wrong',
        'credit_without_share',
        'missing_debit',
        'debit_wrong',
        'fee_wrong',
        'refund_wrong',
        'funding_stuck',
        'canceled_debited',
        'unrefunded_expired',
        'missing_packet',
        'campaign_wrong',
        'transfer_unmatched',
        'transfer_stuck',
        'topup_uncredited',
        'topup_wrong',
        'conservation',
        // Exercised in the withdrawals block below.
        'withdrawal_wrong',
        'withdrawal_stuck',
        // Refunds to WeChat Pay below; wechatpay_state (WeChat's own word) in test/integration/refunds.test.ts.
        'refund_to_wechatpay_wrong',
        'wechatpay_state',
      ].sort(),
    );
  });
});

describe('withdrawals', () => {
  const W = `wd${'a'.repeat(30)}`;
  const rec = (state: string, extra: Record<string, unknown> = {}) => ({
    userId: 'uw',
    amount: 1_000,
    fee: 0,
    state,
    returned: false,
    ...extra,
  });

  it('an open hold is in transit, a success is paid out, a returned one is neither; conservation holds', () => {
    for (const [state, rows, transit, paid] of [
      [
        'wait_user_confirm',
        [
          ['topup:t', 'topup', 5_000, T0],
          [`wd:${W}`, 'withdrawal_debit', -1_000, T0 + 1],
        ],
        1_000,
        0,
      ],
      [
        'success',
        [
          ['topup:t', 'topup', 5_000, T0],
          [`wd:${W}`, 'withdrawal_debit', -1_000, T0 + 1],
        ],
        0,
        1_000,
      ],
      [
        'failed',
        [
          ['topup:t', 'topup', 5_000, T0],
          [`wd:${W}`, 'withdrawal_debit', -1_000, T0 + 1],
          [`wdret:${W}`, 'withdrawal_return', 1_000, T0 + 2],
        ],
        0,
        0,
      ],
    ] as Array<[string, Row[], number, number]>) {
      const facts = new MoneyFacts(clock.cutoffIso);
      expect(walk(facts, 'uw', chain('uw', rows))).toEqual([]);
      facts.withdrawals.get(W)!.record = rec(state);
      const r = checkWithdrawals(facts, clock);
      expect([state, r.mismatches, r.inTransit, r.paidOut]).toEqual([state, [], transit, paid]);
      const topups = checkTopups(facts, clock).total;
      expect(
        checkConservation({
          balances: facts.balances,
          escrow: 0,
          inTransit: { shares: 0, transfers: 0, fees: 0, campaigns: 0, withdrawals: r.inTransit },
          topups,
          paidOut: r.paidOut,
        }),
      ).toEqual([]);
      // Counting a success as still held (or an open hold as paid) breaks conservation.
      expect(
        checkConservation({
          balances: facts.balances,
          escrow: 0,
          inTransit: { shares: 0, transfers: 0, fees: 0, campaigns: 0, withdrawals: r.inTransit },
          topups,
          paidOut: r.paidOut + 1,
        }),
      ).toHaveLength(1);
    }
  });

  it('a return twice, a return of a success, a hold without a record and a hold never returned are mismatches', () => {
    const cases: Array<[string, Row[], ReturnType<typeof rec> | undefined, string]> = [
      [
        'twice',
        [
          ['topup:t', 'topup', 5_000, T0],
          [`wd:${W}`, 'withdrawal_debit', -1_000, T0 + 1],
          [`wdret:${W}`, 'withdrawal_return', 1_000, T0 + 2],
          [`wdret:${W}`, 'withdrawal_return', 1_000, T0 + 3],
        ],
        rec('failed'),
        'withdrawal_wrong',
      ],
      [
        'success returned',
        [
          ['topup:t', 'topup', 5_000, T0],
          [`wd:${W}`, 'withdrawal_debit', -1_000, T0 + 1],
          [`wdret:${W}`, 'withdrawal_return', 1_000, T0 + 2],
        ],
        rec('success'),
        'withdrawal_wrong',
      ],
      [
        'no record',
        [
          ['topup:t', 'topup', 5_000, T0],
          [`wd:${W}`, 'withdrawal_debit', -1_000, T0 + 1],
        ],
        undefined,
        'withdrawal_wrong',
      ],
      [
        'stuck',
        [
          ['topup:t', 'topup', 5_000, T0],
          [`wd:${W}`, 'withdrawal_debit', -1_000, T0 + 1],
        ],
        rec('canceled', { finishedAt: iso(T0 + 2) }),
        'withdrawal_stuck',
      ],
    ];
    for (const [name, rows, record, kind] of cases) {
      const facts = new MoneyFacts(clock.cutoffIso);
      walk(facts, 'uw', chain('uw', rows));
      if (record) facts.withdrawals.get(W)!.record = record;
      expect([name, tag(checkWithdrawals(facts, clock).mismatches)]).toEqual([name, [`${kind}:${W}`]]);
    }
  });
});

describe('refunds to WeChat Pay', () => {
  // A packet of 300 paid directly, nothing claimed, expired and settled: all of it goes back.
  const at = iso(T0 + 30 * 60_000);
  const settled: Partial<PacketFacts> = {
    state: 'settled',
    claimed: 0,
    refundedAmount: 300,
    settledAt: at,
    expiresAtMs: T0 + 20 * 60_000,
  };
  const money = (credit?: number) => ({
    debit: { count: 1, amount: -300, at: iso(T0) },
    credits: emptyBag(),
    ...(credit ? { refund: { count: 1, amount: credit, at } } : {}),
  });
  const rf = (state: string, over: Record<string, unknown> = {}) => ({
    id: 'rNo',
    amount: 300,
    state,
    createdAt: at,
    ...over,
  });
  const run = (over: Partial<PacketFacts>, credit?: number) => checkPacket(input(over, []), money(credit), {}, clock);

  test('requested or processing: out of the escrow, in transit; success: paid out; failed and credited: on the balance', () => {
    expect(run({ ...settled, refund: rf('processing') })).toMatchObject({
      mismatches: [],
      escrow: 0,
      refundInTransit: 300,
      refundPaidOut: 0,
    });
    // The record written, the packet not yet settled (a crash between): the same money, counted once.
    expect(run({ state: 'settling', claimed: 0, expiresAtMs: clock.nowMs, refund: rf('requested') })).toMatchObject({
      mismatches: [],
      escrow: 0,
      refundInTransit: 300,
    });
    expect(run({ ...settled, refund: rf('success') })).toMatchObject({
      mismatches: [],
      escrow: 0,
      refundInTransit: 0,
      refundPaidOut: 300,
    });
    expect(run({ ...settled, refund: rf('failed', { finishedAt: at }) }, 300)).toMatchObject({
      mismatches: [],
      escrow: 0,
      refundInTransit: 0,
      refundPaidOut: 0,
    });
    // Failed, the credit not yet in (within the grace): still in transit, no alarm.
    expect(run({ ...settled, refund: rf('failed', { finishedAt: iso(clock.nowMs - 60_000) }) })).toMatchObject({
      mismatches: [],
      refundInTransit: 300,
    });
    expect(
      checkConservation({
        balances: 0,
        escrow: 0,
        inTransit: { shares: 0, transfers: 0, fees: 0, campaigns: 0, refunds: 300 },
        topups: 300,
      }),
    ).toEqual([]);
    expect(
      checkConservation({
        balances: 0,
        escrow: 0,
        inTransit: { shares: 0, transfers: 0, fees: 0, campaigns: 0, refunds: 0 },
        topups: 300,
        paidOut: 300,
      }),
    ).toEqual([]);
    // A record dated after the cutoff is the next run's: the money is still the packet's.
    expect(
      run({
        state: 'settling',
        claimed: 0,
        expiresAtMs: clock.nowMs,
        refund: rf('requested', { createdAt: iso(clock.nowMs) }),
      }),
    ).toMatchObject({ escrow: 300, refundInTransit: 0 });
  });

  test('credited while not failed, failed and never credited, a record of another amount: mismatches', () => {
    const tag = (ms: Mismatch[]) => ms.map((m) => `${m.kind}:${m.id}`);
    expect(tag(run({ ...settled, refund: rf('success') }, 300).mismatches)).toEqual(['refund_to_wechatpay_wrong:rNo']);
    expect(tag(run({ ...settled, refund: rf('failed', { finishedAt: iso(T0) }) }).mismatches)).toEqual([
      'refund_to_wechatpay_wrong:rNo',
    ]);
    expect(tag(run({ ...settled, refund: rf('processing', { amount: 200 }) }).mismatches)).toEqual(['refund_wrong:p1']);
  });
});
