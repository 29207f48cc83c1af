import type { Deps } from '../../functions/src/app/deps';

/**
 * SPEC §8.4 for a closed set of accounts and packets: balances + open escrow (total − recorded
 * shares − refunds of every packet) = top-ups. Returns both sides so tests can print them.
 */
export async function conservation(d: Deps, userIds: string[], packetIds: string[], topups: number) {
  let balances = 0;
  for (const u of userIds) balances += (await d.wallets.state(u)).balance;
  let escrow = 0;
  for (const id of packetIds) {
    const p = await d.packets.get(id);
    if (!p || p.state === 'funding' || p.state === 'canceled') continue;
    const slots = await d.packets.slots(id);
    const granted = slots.filter((s) => !s.void).reduce((a, s) => a + s.amount, 0);
    escrow += p.total - granted - (p.refundedAmount ?? 0);
  }
  return { balances, escrow, topups, holds: balances + escrow === topups };
}
