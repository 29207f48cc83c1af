import { mapLimited } from '../../functions/src/concurrency';
import { isTaken, ShareLayouts } from '../../functions/src/domain/share-counters';
import type { Deps } from '../../functions/src/app/deps';
import { verifyLedgerChain } from '../../functions/src/domain/ledger-chain';
import type { DynamoWalletStore } from '../../functions/src/store/ledger';
import { FEE_ACCOUNTS } from '../../functions/src/app/context';
import { refundNoOf } from '../../functions/src/app/refunds';
import type { PacketRecord } from '../../functions/src/store/packets';
import type { RefundRecord } from '../../functions/src/store/refunds';

type Row = { seq: number; opId: string; type: string; amount: number; balance: number };
const toRow = (e: Row): Row => ({ seq: e.seq, opId: e.opId, type: e.type, amount: e.amount, balance: e.balance });

/** Every ledger entry of an account, oldest first. */
export async function ledgerOf(d: Deps, userId: string): Promise<Row[]> {
  return (await (d.wallets as DynamoWalletStore).chain(userId)).map(toRow);
}

/** Every entry of the fee ledgers (all shards and the old single account), tagged with its ledger. */
export async function feeLedger(d: Deps, accounts: readonly string[] = FEE_ACCOUNTS) {
  const all = await Promise.all(
    accounts.map(async (account) => (await ledgerOf(d, account)).map((e) => ({ ...e, account }))),
  );
  return all.flat();
}

/** The platform's fee balance: Σ over the fee ledgers of each one's last balance. */
export async function feeBalance(d: Deps): Promise<number> {
  const tails = await Promise.all(FEE_ACCOUNTS.map(async (a) => (await ledgerOf(d, a)).at(-1)?.balance ?? 0));
  return tails.reduce((a, b) => a + b, 0);
}

/**
 * Checks the money invariants (docs/rules.md) over a closed world of accounts and packets and
 * returns a list of violations (empty when all hold): dense ledgers whose balances chain, one entry per operation, no
 * negative balance; one share per account per packet; Σ recorded shares ≤ total and, once
 * settled, refund = total − Σ recorded shares; conservation: balances + escrow = top-ups.
 */
export async function violations(
  d: Deps,
  world: {
    users: string[];
    packets: string[];
    topups?: number;
    feeAccounts?: readonly string[];
    campaigns?: string[];
    withdrawals?: string[];
    payments?: string[];
  },
) {
  const out: string[] = [];
  let balances = 0;
  let toppedUp = 0;
  // Each account's ledger is read once (a few at a time: worlds reach 10,000 accounts).
  const ledgers = new Map<string, Row[]>();
  const chains = await mapLimited(world.users, 8, async (u) => {
    const entries = await (d.wallets as DynamoWalletStore).chain(u);
    ledgers.set(u, entries.map(toRow));
    return verifyLedgerChain(entries);
  });
  for (const [k, u] of world.users.entries()) {
    const chain = chains[k]!;
    if (!chain.ok) out.push(`${u}: ledger chain broken at ${chain.seq} (${chain.reason})`);
    const entries = ledgers.get(u)!;
    let prev = 0;
    const ops = new Set<string>();
    entries.forEach((e, i) => {
      if (e.seq !== i + 1) out.push(`${u}: ledger gap at ${e.seq}`);
      if (e.balance !== prev + e.amount) out.push(`${u}: balance chain broken at ${e.seq}`);
      if (e.balance < 0) out.push(`${u}: negative balance at ${e.seq}`);
      if (ops.has(e.opId)) out.push(`${u}: operation ${e.opId} applied twice`);
      ops.add(e.opId);
      if (e.type === 'topup') toppedUp += e.amount;
      prev = e.balance;
    });
    balances += prev;
  }
  if (world.feeAccounts) {
    // The fee ledgers are shared by every test: count only this world's fee entries, summed
    // over every shard (a fee on two shards is applied twice).
    const mine = new Set([
      ...world.packets.map((id) => `fee:${id}`),
      ...(world.campaigns ?? []).map((id) => `fee:camp:${id}`),
    ]);
    const fees = (await feeLedger(d, world.feeAccounts)).filter((e) => mine.has(e.opId));
    if (new Set(fees.map((e) => e.opId)).size !== fees.length) out.push('fee account: a fee applied twice');
    balances += fees.reduce((a, e) => a + e.amount, 0);
  }
  let escrow = 0;
  let refundsInTransit = 0;
  let refundsPaidOut = 0;
  for (const id of world.packets) {
    const p = await d.packets.get(id);
    if (!p) continue;
    const slots = await d.claims.slots(p);
    const granted = slots.filter((s) => !s.void);
    // Every slot (granted or voided) is a share its counter handed out.
    const counters = await d.packets.counters(p);
    for (const s of slots)
      if (!isTaken(counters, s.index)) out.push(`${id}: slot ${s.index} was never taken from its counter`);
    // Recorded layout: the take is its record, so every share a counter handed out has one.
    if (p.layout === ShareLayouts.recorded)
      for (const c of counters) {
        const recs = slots.filter((s) => s.index >= c.start && s.index < c.start + c.size).length;
        if (recs !== Math.min(c.claimed, c.size))
          out.push(`${id}: counter ${c.counter} handed out ${c.claimed} shares but records ${recs}`);
      }
    const users = new Set(granted.map((s) => s.userId));
    if (users.size !== granted.length) out.push(`${id}: an account holds two shares`);
    const sum = granted.reduce((a, s) => a + s.amount, 0);
    if (sum > p.total) out.push(`${id}: shares exceed total`);
    for (const s of granted) {
      const credited = (ledgers.get(s.userId) ?? (await ledgerOf(d, s.userId))).filter((e) => e.opId === `claim:${id}`);
      if (credited.length !== 1 || credited[0]!.amount !== s.amount)
        out.push(`${id}: share of ${s.userId} credited ${credited.length} times`);
    }
    if (p.state === 'settled' && (p.refundedAmount ?? 0) !== p.total - sum)
      out.push(`${id}: refund ${p.refundedAmount} != ${p.total - sum}`);
    // A campaign's packets share its one debit (`camp:<campaign>`).
    const debitOp = p.campaignId ? `camp:${p.campaignId}` : `pkt:${id}`;
    const senderLedger = await ledgerOf(d, p.senderId);
    const debited = senderLedger.some((e) => e.opId === debitOp);
    // A refund to WeChat Pay: its record takes the remainder out of the escrow (even before the
    // packet says so) and holds it in transit until WeChat's final word.
    const rf = p.funding === 'wechatpay' ? await d.refunds.get(refundNoOf(id)) : undefined;
    if (rf) {
      const r = refundFacts(id, p, rf, sum, senderLedger);
      out.push(...r.problems);
      refundsInTransit += r.inTransit;
      refundsPaidOut += r.paidOut;
    } else if (p.state === 'settled' && p.refundedTo === 'wechatpay')
      out.push(`${id}: refunded to WeChat Pay without a refund record`);
    if (debited) escrow += p.total - sum - (p.refundedAmount ?? rf?.amount ?? 0);
    else if (p.state !== 'funding' && p.state !== 'canceled') out.push(`${id}: ${p.state} without a debit`);
  }
  // Withdrawals: what is held and not yet paid out or returned is in transit; a success is paid out.
  const w = await withdrawalFacts(d, world.withdrawals ?? [], world.feeAccounts);
  out.push(...w.problems);
  balances += w.fees;
  out.push(...(await paymentProblems(d, world.payments ?? [])));
  // Money enters only by top-ups: the ledger's own record of them must match the expectation.
  if (world.topups !== undefined && toppedUp !== world.topups)
    out.push(`top-ups ${toppedUp} != expected ${world.topups}`);
  if (balances + escrow + w.inTransit + refundsInTransit !== toppedUp - w.paidOut - refundsPaidOut) {
    out.push(
      `conservation: balances ${balances} + escrow ${escrow} + withdrawals in transit ${w.inTransit} + refunds in transit ${refundsInTransit} != top-ups ${toppedUp} - paid out ${w.paidOut} - refunded to WeChat Pay ${refundsPaidOut}`,
    );
  }
  return out;
}

/**
 * The money of a refund to WeChat Pay: exactly the packet's remainder; in transit while open
 * (and while failed but not yet on the balance), paid out once WeChat says SUCCESS, on the
 * sender's balance (one `refund:<packet>` credit of the amount) once it failed — never both.
 */
function refundFacts(
  id: string,
  p: PacketRecord,
  r: RefundRecord,
  granted: number,
  senderLedger: Array<{ opId: string; amount: number }>,
) {
  const problems: string[] = [];
  const credits = senderLedger.filter((e) => e.opId === `refund:${id}`);
  const back = credits.reduce((a, e) => a + e.amount, 0);
  if (r.amount !== p.total - granted) problems.push(`${id}: refund of ${r.amount} != remainder ${p.total - granted}`);
  if (p.state === 'settled' && p.refundedAmount !== r.amount)
    problems.push(`${id}: packet says refunded ${p.refundedAmount}, refund record ${r.amount}`);
  if (credits.length > 1) problems.push(`${id}: refund credited ${credits.length} times`);
  if (credits.length > 0 && r.state !== 'failed')
    problems.push(`${id}: credited to the balance but the refund is ${r.state}`);
  if (credits[0] && back !== r.amount) problems.push(`${id}: credited ${back} != refund ${r.amount}`);
  if (r.returned && !credits[0]) problems.push(`${id}: refund marked returned without a credit`);
  const paidOut = r.state === 'success' ? r.amount : 0;
  return { problems, paidOut, inTransit: r.amount - paidOut - back };
}

/**
 * The money of withdrawals: each one's hold (`wd:<id>`) either is in transit (open), left
 * (success: the amount paid out, the fee to the fee account) or came back once (`wdret:<id>`,
 * only for failed or canceled ones, and then the record says `returned`).
 */
async function withdrawalFacts(d: Deps, ids: readonly string[], feeAccounts: readonly string[] | undefined) {
  const problems: string[] = [];
  let inTransit = 0;
  let paidOut = 0;
  let fees = 0;
  const feeEntries =
    feeAccounts && ids.length ? (await Promise.all(feeAccounts.map((a) => ledgerOf(d, a)))).flat() : [];
  for (const id of ids) {
    const w = await d.withdrawals.get(id);
    if (!w) continue;
    const entries = await ledgerOf(d, w.userId);
    const holds = entries.filter((e) => e.opId === `wd:${id}`);
    const returns = entries.filter((e) => e.opId === `wdret:${id}`);
    const feeCredits = feeEntries.filter((e) => e.opId === `fee:wd:${id}`);
    if (holds.length > 1 || returns.length > 1 || feeCredits.length > 1)
      problems.push(
        `${id}: applied twice (holds ${holds.length}, returns ${returns.length}, fees ${feeCredits.length})`,
      );
    const held = -(holds[0]?.amount ?? 0);
    const back = returns[0]?.amount ?? 0;
    const fee = feeCredits[0]?.amount ?? 0;
    fees += fee;
    if (holds[0] && held !== w.amount + w.fee) problems.push(`${id}: held ${held} != ${w.amount + w.fee}`);
    if (returns[0] && !holds[0]) problems.push(`${id}: returned without a hold`);
    if (returns[0] && back !== held) problems.push(`${id}: returned ${back} != held ${held}`);
    if (returns[0] && w.state !== 'failed' && w.state !== 'canceled') problems.push(`${id}: returned but ${w.state}`);
    if (w.returned && !returns[0]) problems.push(`${id}: marked returned without a return`);
    if (w.state === 'success') {
      if (!holds[0]) problems.push(`${id}: success without a hold`);
      paidOut += w.amount;
    }
    const transit = held - back - fee - (w.state === 'success' ? w.amount : 0);
    if (transit < 0) problems.push(`${id}: negative money in transit ${transit}`);
    if (w.returned && transit !== 0) problems.push(`${id}: returned yet ${transit} in transit`);
    inTransit += transit;
  }
  return { problems, inTransit, paidOut, fees };
}

/**
 * Money paid in through WeChat Pay: a confirmed (`paid`) payment is credited exactly once, in
 * full, as a `topup` with opId `topup:<payment>` (a packet paid directly then debits it like any
 * packet); an unpaid order — pending or closed — is not money yet and has no credit. A settled
 * paid packet payment has left its packet funding.
 */
async function paymentProblems(d: Deps, ids: readonly string[]) {
  const problems: string[] = [];
  for (const id of ids) {
    const p = await d.payIns.get(id);
    if (!p) continue;
    const credits = (await ledgerOf(d, p.userId)).filter((e) => e.opId === `topup:${id}`);
    if (credits.length > 1) problems.push(`${id}: credited ${credits.length} times`);
    if (p.state === 'paid') {
      if (p.settled && credits.length !== 1)
        problems.push(`${id}: paid and settled but credited ${credits.length} times`);
      if (credits[0] && credits[0].amount !== p.amount)
        problems.push(`${id}: credited ${credits[0].amount} != paid ${p.amount}`);
      if (credits[0] && credits[0].type !== 'topup') problems.push(`${id}: credited as ${credits[0].type}`);
    } else if (credits.length > 0) problems.push(`${id}: ${p.state} but credited`);
    if (p.purpose === 'packet' && p.packetId) {
      const packet = await d.packets.get(p.packetId);
      if (packet && p.state === 'paid' && p.settled && packet.state === 'funding')
        problems.push(`${id}: paid yet its packet is still awaiting payment`);
      if (packet && p.state !== 'paid' && packet.state !== 'funding' && packet.state !== 'canceled')
        problems.push(`${id}: unpaid yet its packet is ${packet.state}`);
    }
  }
  return problems;
}
