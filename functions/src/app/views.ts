import { bestShareIndex } from '../domain/split';
import { codeExpiresAt, signCode, type CodeKind } from '../domain/codes';
import { codeLink } from '../domain/links';
import type { PacketRecord } from '../store/packets';
import type { SlotRecord } from '../store/claims';
import type { ForwardRecord } from '../store/forwards';
import type { Deps } from './deps';
import { iso, seconds } from './context';
import type { ClaimView, CodeView, ForwardView, PacketStatus, PacketSummary, PacketView } from '../http/contract';
import { shown, type Names } from './names';

export type { PacketStatus };

/** Packet status as the API shows it (http/contract.ts), derived from the stored state and the clock. */

export function packetStatus(p: PacketRecord, nowMs: number): PacketStatus {
  switch (p.state) {
    case 'funding':
      // Paid by WeChat Pay: no code until the payment is confirmed.
      return p.funding === 'wechatpay' ? 'awaiting_payment' : 'active';
    case 'canceled':
      return p.funding === 'wechatpay' ? 'canceled' : 'expired';
    case 'settled':
      return (p.refundedAmount ?? 0) > 0 ? 'refunded' : 'finished';
    default:
      if (p.claimed >= p.count) return 'finished';
      return nowMs >= p.expiresAtMs || p.state === 'settling' ? 'expired' : 'active';
  }
}

/** Whether a claim could take a share now (ignoring who asks). */
export function claimability(
  p: PacketRecord,
  nowMs: number,
): { claimable: boolean; reason?: 'PACKET_FINISHED' | 'PACKET_EXPIRED' | 'PACKET_NOT_READY' } {
  if (p.state === 'funding') return { claimable: false, reason: 'PACKET_NOT_READY' };
  const status = packetStatus(p, nowMs);
  if (status === 'active') return { claimable: true };
  return { claimable: false, reason: status === 'finished' ? 'PACKET_FINISHED' : 'PACKET_EXPIRED' };
}

/** No resolved names: every account shows the name its record holds. */
const SNAPSHOTS: Names = () => undefined;

/**
 * The claim list; 手气最佳 only once every share is claimed (ties: the earliest claim). Names and
 * avatars are the current ones `names` resolved (app/names.ts), else the name the slot recorded.
 */
export function claimList(p: PacketRecord, slots: SlotRecord[], names: Names = SNAPSHOTS): ClaimView[] {
  const granted = grantedSlots(slots);
  const complete = granted.length === p.count;
  const best = complete ? bestShareIndex(granted.map((s) => s.amount)) : -1;
  return granted.map((s, i) => ({
    userId: s.userId,
    ...shown(names, s.userId, s.name),
    amount: s.amount,
    claimedAt: s.at,
    best: i === best,
  }));
}

/** Recorded shares in claim order. */
function grantedSlots(slots: SlotRecord[]): SlotRecord[] {
  return slots.filter((s) => !s.void).sort((a, b) => a.index - b.index);
}

/**
 * The accounts a packet view shows, most important first (the resolution is bounded): the
 * sender, the caller, the recipient, the best share's holder, then claimers in claim order and
 * the forwarders.
 */
export function accountsShown(
  p: PacketRecord,
  callerId: string,
  slots: SlotRecord[] = [],
  forwards: ForwardRecord[] = [],
): string[] {
  const granted = grantedSlots(slots);
  const best = granted.length === p.count ? granted[bestShareIndex(granted.map((s) => s.amount))] : undefined;
  return [
    p.senderId,
    callerId,
    ...(p.recipientId ? [p.recipientId] : []),
    ...(best ? [best.userId] : []),
    ...granted.map((s) => s.userId),
    ...forwards.map((f) => f.by),
  ];
}

export function packetSummary(p: PacketRecord, nowMs: number, names: Names = SNAPSHOTS): PacketSummary {
  return {
    id: p.id,
    sender: { id: p.senderId, ...shown(names, p.senderId, p.senderName) },
    total: p.total,
    count: p.count,
    mode: p.mode,
    greeting: p.greeting,
    scene: p.scene,
    status: packetStatus(p, nowMs),
    claimedCount: Math.min(p.claimed, p.count),
    refundedAmount: p.refundedAmount ?? 0,
    ...(p.state === 'settled' && (p.refundedAmount ?? 0) > 0 ? { refundedTo: p.refundedTo ?? 'balance' } : {}),
    createdAt: p.createdAt,
    expiresAt: p.expiresAt,
    funding: p.funding ?? 'balance',
    groupOnly: p.groupOnly === true,
    ...(p.recipientId
      ? { recipient: { id: p.recipientId, ...shown(names, p.recipientId, p.recipientName ?? '') } }
      : {}),
  };
}

/** The forwarding tree: each forward with the claims that came through its code. */
export function forwardViews(forwards: ForwardRecord[], slots: SlotRecord[], names: Names = SNAPSHOTS): ForwardView[] {
  const through = new Map<string, number>();
  for (const s of slots) if (!s.void && s.via) through.set(s.via, (through.get(s.via) ?? 0) + 1);
  return forwards.map((f) => ({
    id: f.id,
    by: { id: f.by, ...shown(names, f.by, f.byName) },
    ...(f.parent ? { parent: f.parent } : {}),
    at: f.at,
    claims: through.get(f.id) ?? 0,
  }));
}

/** The full packet view; `claims` only for the sender and claimers. */
export function packetView(
  p: PacketRecord,
  slots: SlotRecord[],
  nowMs: number,
  withClaims: boolean,
  forwards?: ForwardRecord[],
  names: Names = SNAPSHOTS,
): PacketView {
  const claims = claimList(p, slots, names);
  return {
    ...packetSummary(p, nowMs, names),
    claimedCount: claims.length,
    claimedAmount: claims.reduce((a, c) => a + c.amount, 0),
    ...(withClaims ? { claims } : {}),
    ...(withClaims && forwards ? { forwards: forwardViews(forwards, slots, names) } : {}),
  };
}

/** Live codes ask to be refreshed after this long (docs/rules.md, Codes), whatever their validity. */
export const LIVE_REFRESH_SECONDS = 60;

/** Signs a fresh code for a packet or a receive code, with its link; lifetime by kind. */
export function issueCode(
  d: Deps,
  kind: CodeKind,
  target: string,
  lifetime: { validitySeconds: number } | { untilSeconds: number },
  ref?: string,
): CodeView {
  const nowMs = d.now();
  const issuedAt = seconds(nowMs);
  const code = signCode({ kind, target, issuedAt, ...(ref ? { ref } : {}) }, d.cfg.codeKeys);
  const expires = codeExpiresAt({ kind, target, issuedAt, keyId: d.cfg.codeKeys.current.id }, lifetime);
  const view: CodeView = {
    code,
    link: codeLink(d.cfg.publicBaseUrl, code),
    kind,
    issuedAt: iso(issuedAt * 1000),
    expiresAt: iso(expires * 1000),
  };
  if (kind !== 'share') view.refreshAfter = iso(Math.min(expires, issuedAt + LIVE_REFRESH_SECONDS) * 1000);
  return view;
}

/** A packet's code; a share code minted by a forward carries the forward's id as its `ref`. */
export function packetCode(d: Deps, p: PacketRecord, kind: 'live' | 'share', ref?: string): CodeView {
  return issueCode(
    d,
    kind,
    p.id,
    kind === 'live' ? { validitySeconds: p.codeValidity } : { untilSeconds: seconds(p.expiresAtMs) },
    ref,
  );
}
