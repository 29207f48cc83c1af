import type { PacketRef } from '../store/packets';
import type { SlotRecord } from '../store/claims';
import type { Deps } from './deps';

/**
 * Ledger entries after a claim's hint that are read to find its credit: the credit is nearly
 * always the first one (it follows the hint unless the wallet moved in between).
 */
const CREDIT_LOOKAHEAD = 10;

/**
 * The account's slot on a packet, if it recorded one. A sharded packet's claim writes no note
 * on its marker: its ledger credit carries the slot's index, so the slot is found through the
 * marker's ledger hint and one short ledger read (older claims: the index noted on the marker).
 * A claim that recorded its slot but died before its credit is found by reading every
 * counter's slots, unless `thorough` is false.
 */
export function slotOfAccount(
  d: Deps,
  p: PacketRef,
  userId: string,
  opts: { thorough?: boolean } = {},
): Promise<SlotRecord | undefined> {
  return d.claims.slotOf(p, userId, {
    ...opts,
    locate: async (seqHint) => (await d.wallets.find(userId, seqHint, `claim:${p.id}`, CREDIT_LOOKAHEAD))?.slotIndex,
  });
}
