/**
 * Enterprise campaigns (docs/rules.md, Campaigns): `quantity` packets of the same shape funded by one
 * debit. Pure: money totals, the packets' ids, and the deterministic random source that makes a
 * re-run after a crash rebuild byte-identical packets.
 *
 * Why deterministic: the packets are written with BatchWriteItem (25 items a request, no
 * conditions). A retry must never write a different split over a packet that claims have
 * started to use, so each packet's split comes from HMAC-SHA256(seed, "packet:<i>:<n>") — a
 * 256-bit secret seed stored on the campaign record, as unpredictable to a claimer as the
 * CSPRNG — and a retry writes exactly what the first run wrote, and only the packets
 * still missing.
 */
import { createHmac } from 'node:crypto';
import { derivedId } from './ids';
import { feeFor, type Fen } from './money';
import type { RandomSource } from './split';

/** Most packets one campaign creates. */
export const MAX_CAMPAIGN_QUANTITY = 1_000;

/** The money of a campaign: each packet's fee rounded up on its own (as a single packet's is). */
export function campaignTotals(
  total: Fen,
  quantity: number,
  feeBps: number,
): { feePerPacket: Fen; fees: Fen; debit: Fen; totals: Fen } {
  const feePerPacket = feeFor(total, feeBps);
  const totals = total * quantity;
  const fees = feePerPacket * quantity;
  if (!Number.isSafeInteger(totals + fees)) throw new RangeError('campaign amount out of range');
  return { feePerPacket, fees, debit: totals + fees, totals };
}

/** The id of packet `index` of a campaign: stable, so a retry lands on the same items. */
export function campaignPacketId(campaignId: string, index: number): string {
  return derivedId('p', 'campaign', campaignId, String(index));
}

const TWO_53 = 2 ** 53;

/**
 * A deterministic random source keyed by a secret seed: HMAC-SHA256(seed, `<label>:<n>`)
 * blocks read as 53-bit integers, unbiased ranges by rejection sampling.
 */
export function seededCryptoRandom(seed: Buffer, label: string): RandomSource {
  let block = Buffer.alloc(0);
  let pos = 0;
  let n = 0;
  const next32 = (): number => {
    if (pos + 4 > block.length) {
      block = createHmac('sha256', seed).update(`${label}:${n++}`).digest();
      pos = 0;
    }
    const v = block.readUInt32BE(pos);
    pos += 4;
    return v;
  };
  const next53 = () => next32() * 2 ** 21 + (next32() >>> 11);
  return {
    int(minInclusive: number, maxInclusive: number): number {
      if (!Number.isSafeInteger(minInclusive) || !Number.isSafeInteger(maxInclusive))
        throw new RangeError('random bounds must be safe integers');
      if (minInclusive > maxInclusive) throw new RangeError('random range is empty');
      const span = maxInclusive - minInclusive + 1;
      if (span > TWO_53) throw new RangeError('random range too wide');
      const limit = Math.floor(TWO_53 / span) * span;
      for (;;) {
        const v = next53();
        if (v < limit) return minInclusive + (v % span);
      }
    },
  };
}

/** Claims per UTC+8 clock hour ("YYYY-MM-DDTHH"), oldest first. */
export function claimsPerHour(claimTimesIso: readonly string[]): Array<{ hour: string; claims: number }> {
  const counts = new Map<string, number>();
  for (const at of claimTimesIso) {
    const hour = new Date(Date.parse(at) + 8 * 3_600_000).toISOString().slice(0, 13);
    counts.set(hour, (counts.get(hour) ?? 0) + 1);
  }
  return [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([hour, claims]) => ({ hour, claims }));
}
