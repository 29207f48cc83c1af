import { fail } from '../domain/errors';
import type { MarkerRecord, PacketRecord, SlotRecord } from '../store/packets';
import type { WalletState } from '../store/ledger';
import { iso, type Outcome, type Principal } from './context';
import type { Deps } from './deps';
import { packetOfCode } from './packets';
import { claimCredit } from './settlement';
import { claimList } from './views';
import { rateLimit, riskCheck, riskCount } from './risk-gate';

/**
 * A claim's first request is certainly dead once its marker is older than this: the claim
 * function's Lambda timeout (6 s in serverless.yml) plus margin. Only then may a retry take over.
 */
export const CLAIM_TAKEOVER_MS = 15_000;
/** How long a repeat waits for its twin still in flight before answering CLAIM_IN_PROGRESS. */
const REPEAT_WAIT_MS = 3_000;
const REPEAT_POLL_MS = 50;

export interface ClaimResult {
  packetId: string;
  amount: number;
  claimedAt: string;
  repeat: boolean;
  best?: boolean;
}

/** Why no share can be taken from `p`. */
function refuse(p: PacketRecord | undefined): never {
  if (!p || p.state === 'funding' || p.state === 'canceled') return fail('CODE_INVALID', '无效的红包码');
  if (p.claimed >= p.count) return fail('PACKET_FINISHED', '来晚了，红包已被领完');
  return fail('PACKET_EXPIRED', '红包已过期');
}

/**
 * POST /v1/claims — take one share of a packet, at most one per account, whatever the retries.
 *
 * Timeline of a first claim; every write goes to its own partition key (≤ 1 WCU on any one):
 *   W1 put CLAIM#<packet>#<user> if absent ......... the one-per-account gate
 *   W2 update PKT#<packet>: claimed + 1 if active, not full, not expired → share index i
 *      (> 100 shares: update CNTR#<packet>#<k> of a random counter with room instead; closed
 *      by settlement, not full, not expired → share index start(k) + claimed(k) − 1)
 *   W3 put SLOTS#<packet>[#<k>]/<i> {user, amount} if absent ... the share is now the user's
 *   W4 append claim_credit to LEDGER#<user> (opId claim:<packet>) ... the wallet has the money
 *      (> 100 shares, in parallel: note i on the marker, so the account's slot is one read away)
 * What a crash leaves, and who completes it:
 *   - after W1: a marker, no share. Retries wait while the first request could still be alive
 *     (< CLAIM_TAKEOVER_MS), then one retry takes the marker over (conditional on its attempt
 *     counter) and claims anew.
 *   - after W2: index i taken by nobody. The retry above claims another index; i stays in the
 *     packet's remaining money and the sweeper voids and refunds it at expiry (§8.3 holds:
 *     claimed counts recorded slots only).
 *   - after W3: the share is recorded, not credited. A retry finds the slot and appends the
 *     credit; so does the sweeper when the packet expires (settlePacket step C). The ledger
 *     append is keyed by opId, so the credit lands once even if both run. Sharded, the marker
 *     may lack the index: the retry looks through every counter's slots before taking over,
 *     and notes the index it finds.
 *   - a slot put that fails (W3) means the sweeper voided i after expiry: PACKET_EXPIRED.
 */
export async function claim(d: Deps, who: Principal, code: string, deviceId?: string): Promise<Outcome<ClaimResult>> {
  // This process's last view of the packet is enough here: W2 re-checks everything atomically.
  const opened = await packetOfCode(d, code, true);
  let packet = opened.packet;
  const packetId = packet.id;
  // 专属红包: only its recipient may claim (a fixed field: the cached view is exact for it).
  if (packet.recipientId && packet.recipientId !== who.userId) {
    fail('FORBIDDEN', `这是发给${packet.recipientName ?? '指定好友'}的专属红包，只有 TA 可以领取`);
  }
  // The forward this code came through (share codes minted by a forward carry its id).
  const via = opened.claims.ref;
  const nowMs = d.now();
  if (packet.state === 'funding' || packet.state === 'canceled') packet = (await d.packets.get(packetId)) ?? packet;
  // Refuse without writing what is plainly over (finished and expired never come back).
  if (packet.state !== 'active' || packet.claimed >= packet.count || nowMs >= packet.expiresAtMs) {
    const mine = await d.packets.slotOf(packet, who.userId);
    if (mine && !mine.void) return repeatClaim(d, who, packet);
    refuse(packet);
  }

  const movement = { kind: 'claim' as const, amount: 0, opId: `claim:${packetId}`, deviceId };
  const [tail] = await Promise.all([d.wallets.state(who.userId), riskCheck(d, who, who.tier, movement), rateLimit(d, who, 'claim', deviceId)]);
  if (deviceId) await riskCount(d, who, who.tier, movement);
  const marker = { packetId, userId: who.userId, at: iso(nowMs), atMs: nowMs, attempt: 0, seqHint: tail.seq };
  if (!(await d.packets.putMarker(marker))) return repeatClaim(d, who, packet);
  // The marker is new, so no credit of this claim can exist yet: the append may go straight to
  // the entry after `tail` (it falls back to the full check if that entry was taken meanwhile).
  return takeAndCredit(d, who, packetId, tail, via);
}

async function takeAndCredit(d: Deps, who: Principal, packetId: string, from: WalletState | number, via?: string): Promise<Outcome<ClaimResult>> {
  const seqHint = typeof from === 'number' ? from : from.seq;
  const nowMs = d.now();
  const taken = await d.packets.takeShare(packetId, nowMs);
  if (taken.kind === 'refused') refuse(taken.packet);
  const { index, packet, last, amount: carried } = taken as { index: number; packet: PacketRecord; last: boolean; amount?: number };
  // A sharded packet's counter returned the amount with the index; otherwise the (cached) list.
  const amount = carried ?? (await d.packets.shares(packetId))?.amounts[index];
  if (amount === undefined) throw new Error(`claim: packet ${packetId} has no share ${index}`);
  const slot: SlotRecord = { index, userId: who.userId, name: who.name, amount, at: iso(nowMs), seqHint, ...(via ? { via } : {}) };
  if (!(await d.packets.putSlot(packetId, slot))) fail('PACKET_EXPIRED', '红包已过期');
  await Promise.all([
    d.wallets.append(who.userId, seqHint, claimCredit(packetId, slot), typeof from === 'number' ? undefined : from),
    packet.counters ? d.packets.noteSlotIndex(packetId, who.userId, index) : undefined,
  ]);
  const result: ClaimResult = { packetId, amount, claimedAt: slot.at, repeat: false };
  if (last) {
    const best = await bestOf(d, packet, who.userId);
    if (best !== undefined) result.best = best;
  }
  return { status: 200, body: result };
}

/** 手气最佳 for this user, once every share is recorded. */
async function bestOf(d: Deps, packet: PacketRecord, userId: string): Promise<boolean | undefined> {
  const slots = await d.packets.slots(packet);
  const list = claimList(packet, slots);
  if (list.length !== packet.count) return undefined;
  return list.some((c) => c.userId === userId && c.best);
}

/**
 * The account already has a marker on this packet: return its share (crediting it if a crash
 * left it uncredited), wait for a twin request in flight, or take over a dead one.
 */
async function repeatClaim(d: Deps, who: Principal, packet: PacketRecord): Promise<Outcome<ClaimResult>> {
  const packetId = packet.id;
  // Waiting is measured on the real clock: the domain clock may be frozen in tests.
  const started = Date.now();
  for (;;) {
    // Sharded: the marker's index while polling; every counter's slots only before a takeover.
    let slot = await d.packets.slotOf(packet, who.userId, { thorough: false });
    let marker: MarkerRecord | undefined;
    if (!slot) {
      marker = await d.packets.marker(packetId, who.userId);
      if (!marker) throw new Error('claim: marker vanished');
      if (d.now() - marker.atMs >= CLAIM_TAKEOVER_MS) slot = await d.packets.slotOf(packet, who.userId);
    }
    if (slot?.void) slot = undefined;
    if (slot && !slot.void) {
      if (packet.counters && marker && marker.index === undefined) await d.packets.noteSlotIndex(packetId, who.userId, slot.index);
      await d.wallets.append(who.userId, slot.seqHint, claimCredit(packetId, slot));
      const fresh = (await d.packets.get(packetId)) ?? packet;
      const result: ClaimResult = { packetId, amount: slot.amount, claimedAt: slot.at, repeat: true };
      if (fresh.claimed >= fresh.count) {
        const best = await bestOf(d, fresh, who.userId);
        if (best !== undefined) result.best = best;
      }
      return { status: 200, body: result };
    }
    if (!marker) throw new Error('claim: marker vanished');
    const nowMs = d.now();
    if (nowMs - marker.atMs >= CLAIM_TAKEOVER_MS) {
      // The first request is past its Lambda timeout: it can no longer write. One retry wins.
      if (await d.packets.takeOverMarker(marker, iso(nowMs), nowMs)) return takeAndCredit(d, who, packetId, marker.seqHint);
      continue;
    }
    const current = await d.packets.get(packetId);
    if (!current || current.state !== 'active' || current.claimed >= current.count || nowMs >= current.expiresAtMs) {
      // No share can be taken any more; only a twin's pending W3 could still give us one.
      if (Date.now() - started >= REPEAT_WAIT_MS / 3) refuse(current);
    }
    if (Date.now() - started >= REPEAT_WAIT_MS) fail('CLAIM_IN_PROGRESS', '正在领取中，请稍候');
    await new Promise((r) => setTimeout(r, REPEAT_POLL_MS));
  }
}
