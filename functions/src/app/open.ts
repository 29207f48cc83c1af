import { fail } from '../domain/errors';
import { verifyCode } from '../domain/codes';
import type { OpenCodeResponse } from '../http/contract';
import { seconds, type Outcome, type Principal } from './context';
import type { Deps } from './deps';
import { packetOfCode } from './packets';
import { rateLimit } from './risk-gate';
import { payeeOfCode } from './transfers';
import { claimability, packetSummary } from './views';
import { groupStanding, refuseDevGroup, type GroupContext } from './groups';
import { resolveNames } from './names';
import { slotOfAccount } from './slots';

/**
 * GET /v1/codes/{code} — what a scanned or opened code points at. Changes nothing but the
 * account's read counter (and, for a group-only packet opened from a verified group, its group
 * binding): a valid code's open is counted before anything is read (a big packet's open reads
 * every share counter), a forged one costs only the signature check.
 */
/** The open view of a packet code. */
type PacketOpenView = Extract<OpenCodeResponse, { target: 'packet' }>;

export async function openCode(
  d: Deps,
  who: Principal,
  code: string,
  group?: GroupContext,
): Promise<Outcome<OpenCodeResponse>> {
  const check = verifyCode(code, d.cfg.codeKeys, seconds(d.now()));
  if (!check.ok) fail('CODE_INVALID', '无效的二维码');
  refuseDevGroup(d, group);
  await rateLimit(d, who, 'code_open');
  if (check.claims.kind === 'receive') {
    const payee = await payeeOfCode(d, code);
    return {
      status: 200,
      body: {
        target: 'receive',
        payee: { id: payee.userId, name: payee.name, ...(payee.avatar ? { avatar: payee.avatar } : {}) },
      },
    };
  }
  const { packet } = await packetOfCode(d, code);
  const nowMs = d.now();
  const state = claimability(packet, nowMs);
  // The sender's current name and avatar (cached briefly, app/names.ts) alongside the caller's share.
  const [mine, names] = await Promise.all([
    slotOfAccount(d, packet, who.userId),
    resolveNames(d, [packet.senderId, ...(packet.recipientId ? [packet.recipientId] : [])]),
  ]);
  const body: PacketOpenView = {
    target: 'packet',
    packet: packetSummary(packet, nowMs, names),
    claimable: state.claimable && !mine,
  };
  if (mine && !mine.void) {
    body.reason = 'ALREADY_CLAIMED';
    body.myClaim = { amount: mine.amount, claimedAt: mine.at };
  } else if (state.reason) body.reason = state.reason;
  // 仅限本群: the first verified group an open comes from binds the packet (only while it can
  // still be claimed, and not by an account that already has its share); `group` tells the app
  // where the caller stands, and a caller from elsewhere sees claimable false, GROUP_ONLY.
  if (packet.groupOnly) {
    const standing = await groupStanding(d, who, packet, group, state.claimable && !mine);
    body.group = standing;
    if (standing !== 'member' && body.claimable) {
      body.claimable = false;
      body.reason = 'GROUP_ONLY';
    }
  }
  return { status: 200, body };
}
