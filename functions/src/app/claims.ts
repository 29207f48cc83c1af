import { fail } from '../domain/errors';
import { WriteOutcomeUnknown } from '../store/db';
import { log } from '../log';
import type { PacketRecord } from '../store/packets';
import type { MarkerRecord, SlotRecord } from '../store/claims';
import type { WalletState } from '../store/ledger';
import type { RecordedTake } from '../store/packets';
import type { Taker } from '../store/recorded';
import { homeCounter, ShareLayouts } from '../domain/share-counters';
import { iso, type Outcome, type Principal } from './context';
import type { Deps } from './deps';
import { packetOfCode } from './packets';
import { claimCredit } from './settlement';
import { claimList } from './views';
import { refuseOverRate, riskCheck, riskCount } from './risk-gate';
import { rateWindow } from '../domain/risk';
import { slotOfAccount } from './slots';
import { groupStanding, refuseDevGroup, refuseGroup, type GroupContext } from './groups';
import { notifyPacketFinished } from './notifications';

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

/**
 * Takes of a share the store refused without the packet saying why, tried again before the
 * claim fails as an internal error (see {@link takeOrRefuse}).
 */
const UNEXPLAINED_TAKE_RETRIES = 2;

/** Why no share can be taken from a packet. */
type Refusal = 'invalid' | 'finished' | 'expired';

/**
 * Why no share can be taken from `p` at `nowMs`, as the packet tells — or undefined when it does
 * not tell (active, shares left, before expiry): such a refusal is never reported as a reason.
 */
function refusalOf(p: PacketRecord | undefined, nowMs: number): Refusal | undefined {
  if (!p || p.state === 'funding' || p.state === 'canceled') return 'invalid';
  if (p.claimed >= p.count) return 'finished';
  // `settling`/`settled`: the sweeper closed it (only ever after expiry).
  if (p.state !== 'active' || nowMs >= p.expiresAtMs) return 'expired';
  return undefined;
}

/** Refuses the claim with the packet's reason; one it cannot name is a bug, not "expired". */
function refuse(p: PacketRecord | undefined, nowMs: number): never {
  const why = refusalOf(p, nowMs);
  if (why === 'invalid') return fail('CODE_INVALID', '无效的红包码');
  if (why === 'finished') return fail('PACKET_FINISHED', '来晚了，红包已被领完');
  if (why === 'expired') return fail('PACKET_EXPIRED', '红包已过期');
  throw new Error(`claim: packet ${p?.id ?? '?'} refused a share it still has`);
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
 *   W4 append claim_credit to LEDGER#<user> (opId claim:<packet>) ... the wallet has the money;
 *      the entry also carries the slot's index i (so a sharded packet's slot is found from the
 *      credit, app/slots.ts) and the account's claim count of this minute (the rate limit)
 *   (W1 and W3 through the claim store, d.claims; W2 the packet store's takeShare; W4 the wallet's append.)
 * Before W1, one round trip of two reads: the wallet's newest entry (the ledger hint, and the
 * claims already counted into this minute — over the limit: 429 and nothing written), and the
 * account's and device's blacklist entries with the device binding, by key (incoming money is
 * refused only by a blacklist: no freezes are read). The device binding is written only when
 * the binding read does not show the account bound and seen within the hour (app/risk-gate.ts).
 * What a crash leaves, and who completes it:
 *   - after W1: a marker, no share. Retries wait while the first request could still be alive
 *     (< CLAIM_TAKEOVER_MS), then one retry takes the marker over (conditional on its attempt
 *     counter) and claims anew.
 *   - after W2: index i taken by nobody. The retry above claims another index; i stays in the
 *     packet's remaining money and the sweeper voids and refunds it at expiry (claimed +
 *     refunded + remaining = total holds: claimed counts recorded slots only).
 *   - after W3: the share is recorded, not credited. A retry finds the slot and appends the
 *     credit; so does the sweeper when the packet expires (settlePacket step C). The ledger
 *     append is keyed by opId, so the credit lands once even if both run. Sharded, nothing names
 *     the index yet (no credit): the retry looks through every counter's slots before taking
 *     over, and the credit it appends names the index it found.
 *   - after W4: done. A repeat finds the slot through the credit and answers the same share.
 *   - a slot put that fails (W3) means the sweeper voided i after expiry: PACKET_EXPIRED (the
 *     slot is read to be sure: held by another account it would be a double allocation → 500).
 * A write whose answer was lost is retried by the SDK; the store's door (store/db.ts) tells such
 * a write's own item apart from someone else's, so none of these refusals is a lost answer. A
 * refusal the packet cannot explain is never reported as "expired" (see takeOrRefuse).
 */
export async function claim(
  d: Deps,
  who: Principal,
  code: string,
  deviceId?: string,
  group?: GroupContext,
): Promise<Outcome<ClaimResult>> {
  refuseDevGroup(d, group);
  // This process's last view of the packet is enough here: W2 re-checks everything atomically.
  const opened = await packetOfCode(d, code, true);
  let packet = opened.packet;
  const packetId = packet.id;
  // 专属红包: only its recipient may claim (a fixed field: the cached view is exact for it).
  if (packet.recipientId && packet.recipientId !== who.userId) {
    fail('FORBIDDEN', `这是发给${packet.recipientName ?? '指定好友'}的专属红包，只有 TA 可以领取`);
  }
  // 仅限本群: only from the packet's group (binding it if this is the first verified group).
  // Ordinary packets skip this entirely: no read, no write. A refusal writes nothing, except
  // that an account already holding a share gets it back (as any repeat claim does).
  if (packet.groupOnly) {
    const standing = await groupStanding(d, who, packet, group, true);
    if (standing !== 'member') {
      const mine = await slotOfAccount(d, packet, who.userId);
      if (mine && !mine.void) return repeatClaim(d, who, packet);
      refuseGroup(standing);
    }
  }
  // The forward this code came through (share codes minted by a forward carry its id).
  const via = opened.claims.ref;
  const nowMs = d.now();
  if (packet.state === 'funding' || packet.state === 'canceled') packet = (await d.packets.get(packetId)) ?? packet;
  // Refuse without writing what is plainly over (finished and expired never come back).
  if (packet.state !== 'active' || packet.claimed >= packet.count || nowMs >= packet.expiresAtMs) {
    const mine = await slotOfAccount(d, packet, who.userId);
    if (mine && !mine.void) return repeatClaim(d, who, packet);
    refuse(packet, nowMs);
  }

  const movement = { kind: 'claim' as const, amount: 0, opId: `claim:${packetId}`, deviceId };
  // One round trip of reads: the wallet's newest entry (the ledger hint, and the claims counted
  // into this minute) and the blacklist entries and device binding (app/risk-gate.ts).
  const [tail, checked] = await Promise.all([d.wallets.state(who.userId), riskCheck(d, who, who.tier, movement)]);
  const minute = rateWindow(nowMs).startMs;
  await refuseOverRate(d, who, 'claim', claimsIn(tail, minute) + 1, nowMs, deviceId);
  if (deviceId) await riskCount(d, who, who.tier, movement, checked.device);
  if (packet.layout === ShareLayouts.recorded) return claimRecorded(d, who, packet, tail, minute, nowMs, via);
  const marker = { packetId, userId: who.userId, at: iso(nowMs), atMs: nowMs, attempt: 0, seqHint: tail.seq };
  if (!(await d.claims.putMarker(marker))) return repeatClaim(d, who, packet);
  // The marker is new, so no credit of this claim can exist yet: the append may go straight to
  // the entry after `tail` (it falls back to the full check if that entry was taken meanwhile).
  return takeAndCredit(d, who, packetId, tail, minute, via);
}

/**
 * Claims the account's ledger counted into clock minute `minute` (the claim rate limit): the
 * count rides on the claim credits (store/ledger.ts `claimMin`/`claimN`), so the limit costs
 * no write of its own. Exact for claims in sequence; claims of one account in flight at once
 * all read the same count (each is still credited once and counted, so the minute's later
 * attempts see them all).
 */
function claimsIn(tail: WalletState, minute: number): number {
  return tail.claimMin === minute ? (tail.claimN ?? 0) : 0;
}

async function takeAndCredit(
  d: Deps,
  who: Principal,
  packetId: string,
  from: WalletState | number,
  minute: number,
  via?: string,
): Promise<Outcome<ClaimResult>> {
  const seqHint = typeof from === 'number' ? from : from.seq;
  const nowMs = d.now();
  const { index, packet, last, amount: carried } = await takeOrRefuse(d, packetId, nowMs);
  // A sharded packet's counter returned the amount with the index; otherwise the (cached) list.
  const amount = carried ?? (await d.packets.shares(packetId))?.amounts[index];
  if (amount === undefined) throw new Error(`claim: packet ${packetId} has no share ${index}`);
  let slot: SlotRecord = {
    index,
    userId: who.userId,
    name: who.name,
    amount,
    at: iso(nowMs),
    seqHint,
    ...(via ? { via } : {}),
  };
  if (!(await d.claims.putSlot(packetId, slot))) {
    // The store's door already told its own retried write apart, so another write holds share
    // i: the sweeper's void (it closed the packet after expiry and sealed the untaken index),
    // or — a double allocation, never a reason to give the user — another claim's share.
    const held = await d.claims.slotAt(packetId, index);
    if (held?.void) fail('PACKET_EXPIRED', '红包已过期');
    if (!held || held.userId !== who.userId)
      throw new Error(`claim: share ${index} of packet ${packetId} is held by another write`);
    slot = held;
  }
  return creditTaken(d, who, packet, slot, last, minute, from);
}

/**
 * The last write of a first claim: the credit of share `slot` (carrying the slot's index, so a
 * sharded packet's marker needs no note of it, and the claim rate count of `minute`), then the
 * answer. `from`: the wallet state read before the claim's gate was written (no credit of it can
 * exist yet, so the append may go straight to the next entry), or just the ledger hint.
 * `isLast`: whether the share was the packet's last, or the read that tells it, run beside the
 * credit so that it adds no round trip.
 */
async function creditTaken(
  d: Deps,
  who: Principal,
  packet: PacketRecord,
  slot: SlotRecord,
  isLast: boolean | Promise<boolean>,
  minute: number,
  from: WalletState | number,
): Promise<Outcome<ClaimResult>> {
  const packetId = packet.id;
  const nowMs = d.now();
  const [, last] = await Promise.all([
    d.wallets.append(
      who.userId,
      typeof from === 'number' ? from : from.seq,
      { ...claimCredit(packetId, slot), claimMinute: minute },
      typeof from === 'number' ? undefined : from,
    ),
    isLast,
  ]);
  const result: ClaimResult = { packetId, amount: slot.amount, claimedAt: slot.at, repeat: false };
  if (last) {
    // Only the claim that took the last share: 手气最佳 and, beside it, the sender's "all
    // claimed" message — after the credit (the money is the user's already), bounded by the
    // message's own timeout, never failing the claim (app/notifications.ts has the timeline).
    const [best] = await Promise.all([bestOf(d, packet, who.userId), notifyPacketFinished(d, packet, nowMs)]);
    if (best !== undefined) result.best = best;
  }
  return { status: 200, body: result };
}

/**
 * W2 with a named refusal. The store refuses a take only when its condition failed against the
 * packet's real state (its door tells its own retried write apart, and retries a take of unknown
 * outcome), so a refusal reads the packet to say why: invalid, finished or expired. A refusal the
 * packet does not explain (active, shares left, before expiry — e.g. a sharded take that ran out
 * of tries among lost answers) is taken again: any index it took and lost is held by nobody and
 * the sweeper voids and refunds it at expiry. Still unexplained: an internal error, logged.
 */
async function takeOrRefuse(
  d: Deps,
  packetId: string,
  nowMs: number,
): Promise<{ index: number; packet: PacketRecord; last: boolean; amount?: number }> {
  for (let attempt = 0; ; attempt++) {
    const taken = await d.packets.takeShare(packetId, nowMs);
    if (taken.kind === 'taken') return taken;
    if (refusalOf(taken.packet, nowMs) !== undefined || attempt >= UNEXPLAINED_TAKE_RETRIES)
      refuse(taken.packet, nowMs);
    log('warn', 'claim: unexplained refusal of a share, taking again', { packetId, attempt });
  }
}

/** 手气最佳 for this user, once every share is recorded. */
async function bestOf(d: Deps, packet: PacketRecord, userId: string): Promise<boolean | undefined> {
  const slots = await d.claims.slots(packet);
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
    // Sharded: the index the credit (or the marker) names while polling; every counter's slots
    // only before a takeover.
    let slot = await slotOfAccount(d, packet, who.userId, { thorough: false });
    let marker: MarkerRecord | undefined;
    if (!slot) {
      marker = await d.claims.marker(packetId, who.userId);
      if (!marker) throw new Error('claim: marker vanished');
      if (d.now() - marker.atMs >= CLAIM_TAKEOVER_MS) slot = await slotOfAccount(d, packet, who.userId);
    }
    if (slot?.void) slot = undefined;
    if (slot && !slot.void) return answerRepeat(d, who, packet, slot);
    if (!marker) throw new Error('claim: marker vanished');
    const nowMs = d.now();
    if (nowMs - marker.atMs >= CLAIM_TAKEOVER_MS) {
      // The first request is past its Lambda timeout: it can no longer write. One retry wins.
      // (Unknown outcome: read the marker again — a takeover of ours looks like a fresh twin.)
      let won = false;
      try {
        won = await d.claims.takeOverMarker(marker, iso(nowMs), nowMs);
      } catch (err) {
        if (!(err instanceof WriteOutcomeUnknown)) throw err;
      }
      if (won && packet.layout === ShareLayouts.recorded) {
        // Only a claim whose home counter was full writes a marker: it takes elsewhere.
        const taker = takerOf(who, nowMs, marker.seqHint);
        const home = homeCounter(packetId, who.userId, packet.counters ?? 1);
        const taken = await d.packets.takeRecordedElsewhere(packet, home, taker, nowMs);
        return recordedOutcome(d, who, packet, taken, rateWindow(nowMs).startMs, nowMs, marker.seqHint);
      }
      if (won) return takeAndCredit(d, who, packetId, marker.seqHint, rateWindow(nowMs).startMs);
      continue;
    }
    const current = await d.packets.get(packetId);
    if (current?.state !== 'active' || current.claimed >= current.count || nowMs >= current.expiresAtMs) {
      // No share can be taken any more; only a twin's pending W3 could still give us one.
      if (Date.now() - started >= REPEAT_WAIT_MS / 3) refuse(current, nowMs);
    }
    if (Date.now() - started >= REPEAT_WAIT_MS) fail('CLAIM_IN_PROGRESS', '正在领取中，请稍候');
    await new Promise((r) => setTimeout(r, REPEAT_POLL_MS));
  }
}

/**
 * A repeat that found the account's share: credits it if a crash left it uncredited (the append
 * is keyed by the claim's operation, so the credit lands once however many requests run it),
 * and answers with the same share.
 */
async function answerRepeat(
  d: Deps,
  who: Principal,
  packet: PacketRecord,
  slot: SlotRecord,
): Promise<Outcome<ClaimResult>> {
  const packetId = packet.id;
  await d.wallets.append(who.userId, slot.seqHint, claimCredit(packetId, slot));
  const fresh = (await d.packets.get(packetId)) ?? packet;
  const result: ClaimResult = { packetId, amount: slot.amount, claimedAt: slot.at, repeat: true };
  if (fresh.claimed >= fresh.count) {
    const best = await bestOf(d, fresh, who.userId);
    if (best !== undefined) result.best = best;
  }
  return { status: 200, body: result };
}

function takerOf(who: Principal, nowMs: number, seqHint: number, via?: string): Taker {
  return { userId: who.userId, name: who.name, atMs: nowMs, seqHint, ...(via ? { via } : {}) };
}

/**
 * A first claim of a packet of the recorded layout (store/recorded.ts). Timeline:
 *   W1 update CNTR#<packet>#<home>: claimed + 1 and the account's record, if open, not full, not
 *      expired and the account not yet recorded there ... the gate, the take and the record in
 *      one write (1 WCU); the home counter is fixed by the two ids (domain/share-counters.ts)
 *   W2 append claim_credit to LEDGER#<user> (opId claim:<packet>) ... as in the slots layout
 * Before W1, the same round trip of reads as the slots layout, so a claim is two reads, then
 * two writes: 4 requests, 3 round trips, 2 WCU.
 * The home counter full (packets of > 10 shares; full stays full, so an account never takes by
 * both ways): W1' put the claim marker if absent — the gate across counters — then W1 on
 * another counter with room, then W2.
 * What a crash leaves, and who completes it:
 *   - after W1: the share is recorded, not credited. A retry finds the record (W1 refused by the
 *     account's own entry, read back) and appends the credit; so does the sweeper when the
 *     packet expires. The append is keyed by opId, so the credit lands once.
 *   - after W1' (overflow): a marker, no share: the slots layout's takeover applies (after
 *     CLAIM_TAKEOVER_MS one retry takes over and takes elsewhere).
 *   - a take whose answer was lost reads the counter back: recorded → ours; not → it never
 *     landed, taken again. No share is ever held by nobody, so the sweeper voids nothing.
 */
async function claimRecorded(
  d: Deps,
  who: Principal,
  packet: PacketRecord,
  tail: WalletState,
  minute: number,
  nowMs: number,
  via?: string,
): Promise<Outcome<ClaimResult>> {
  const taker = takerOf(who, nowMs, tail.seq, via);
  const n = packet.counters ?? 1;
  const home = homeCounter(packet.id, who.userId, n);
  // Whether the home's refusal was read back already (it tells a share of the account's own).
  let homeRead = false;
  if (n === 1 || !d.packets.seenFull(packet.id, home)) {
    const taken = await d.packets.takeRecorded(packet, home, taker, nowMs);
    if (taken.kind !== 'full' || n === 1) return recordedOutcome(d, who, packet, taken, minute, nowMs, tail);
    homeRead = true;
  }
  // The home is full, and stays so. Only the counter tells whether the account holds one of its
  // shares (a repeat), so a home this process already knew full is read beside the gate across
  // counters: the marker, put — or, when every counter is known full, only looked up (an
  // account that overflowed earlier has one; the others are too late, and nothing is written).
  const allFull = d.packets.seenAllFull(packet);
  const marker = {
    packetId: packet.id,
    userId: who.userId,
    at: iso(nowMs),
    atMs: nowMs,
    attempt: 0,
    seqHint: tail.seq,
  };
  const [atHome, gate] = await Promise.all([
    homeRead ? undefined : d.packets.takeRecorded(packet, home, taker, nowMs),
    allFull
      ? d.claims.marker(packet.id, who.userId).then((m) => (m ? 'held' : 'none'))
      : d.claims.putMarker(marker).then((fresh) => (fresh ? 'fresh' : 'held')),
  ]);
  // Its own share at home (a marker put meanwhile stays: a stray marker of a repeat is harmless).
  if (atHome && atHome.kind !== 'full') return recordedOutcome(d, who, packet, atHome, minute, nowMs, tail);
  if (gate === 'held') return repeatClaim(d, who, packet);
  if (gate === 'none') return refuse({ ...packet, claimed: packet.count }, nowMs);
  const taken = await d.packets.takeRecordedElsewhere(packet, home, taker, nowMs);
  return recordedOutcome(d, who, packet, taken, minute, nowMs, tail);
}

/** The answer to a recorded take: the credit and the share, the repeat's share, or the refusal. */
async function recordedOutcome(
  d: Deps,
  who: Principal,
  packet: PacketRecord,
  taken: RecordedTake,
  minute: number,
  nowMs: number,
  from: WalletState | number,
): Promise<Outcome<ClaimResult>> {
  switch (taken.kind) {
    case 'taken':
      // A take that filled its counter asks, beside the credit, whether every counter is full.
      return creditTaken(d, who, packet, taken.slot, taken.filled ? d.packets.allFull(packet) : false, minute, from);
    case 'held':
      return answerRepeat(d, who, packet, taken.slot);
    case 'full':
      return refuse(await d.packets.get(packet.id), nowMs);
    case 'refused':
      return refuse(taken.packet, nowMs);
  }
}
