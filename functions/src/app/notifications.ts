/**
 * Subscribe messages the user expects — "your packet was all claimed" (to the sender),
 * "refund arrived" (to the sender: a packet's remainder back on the balance, or back on the
 * WeChat Pay payment once WeChat confirms the refund) and "withdrawal arrived" (to the user,
 * when the transfer succeeds). What they say is domain/notifications.ts; the adapter is
 * wechat/subscribe-messages.ts behind the {@link Notifier} port.
 *
 * A message never blocks or repeats a money movement. Timeline of one event:
 *   M  the money write (the last share's claim credit, the refund credit or the refund's
 *      `success`, the withdrawal's `success`) — the commit point; all below runs after it, and
 *      nothing below can fail the request or the sweep that made M (every error is caught);
 *   N1 put NOTE#<id> if absent (id derived from the event: fin-/rfd-<packet>, wd-<withdrawal>):
 *      `pending` with attempt 1 started (the creator's), due at now + {@link RETRY_AFTER_MS}[0]
 *      — the sweeper's safety net. A re-run
 *      of the event's path (a retry, a repeated WeChat Pay notification, the sweeper running
 *      the same step again) finds it and stops: an event is recorded once;
 *   N2 only the caller that created it sends attempt 1, bounded by {@link INLINE_TIMEOUT_MS};
 *      later attempts are started by the sweeper with a conditional write (`attempts` as read →
 *      + 1, the due entry moved to the next retry time), so two never send the same attempt;
 *   N3 sent → `sent`; errcode 43101 (no subscription left) → `dropped`, quietly (counted);
 *      another failure → stays due: the sweeper tries again on the {@link RETRY_AFTER_MS}
 *      schedule, at most {@link MAX_ATTEMPTS} attempts in all, then `failed` (given up: a
 *      warning and the `Notifications` metric with Outcome=given_up).
 * Crashes: between M and N1 the money moved and the message is lost — at most a message, never
 * money (where the path is re-run anyway — a withdrawal's repeated notification, a refund's
 * sweep — N1 is reached then). Between N1 and N3 the record is due and the sweeper sends it.
 * An attempt whose answer was lost may have reached WeChat, so a retry can deliver a message
 * twice; a one-time subscription is used up by the first, and WeChat refuses the second (43101).
 * (docs/crash-timelines.md has this and every other flow.)
 */
import {
  messageData,
  messagePage,
  messageValues,
  notificationIdOf,
  type NotificationFacts,
  type NotificationKind,
} from '../domain/notifications';
import type { Config } from '../config';
import { log } from '../log';
import { MetricNames, MetricUnit, metricBy } from '../metrics';
import { WriteOutcomeUnknown } from '../store/db';
import type { NotificationRecord } from '../store/notifications';
import type { PacketRecord } from '../store/packets';
import { iso } from './context';
import type { Deps } from './deps';
import { dueShard } from './settlement';
import { openidOf } from './withdrawals';

/** How long a send beside a money movement may take, the access token included. */
export const INLINE_TIMEOUT_MS = 1_500;
/** How long one of the sweeper's sends may take (less when its budget has less left). */
export const SWEEP_TIMEOUT_MS = 1_500;
/** Attempts in all (the first beside the event, the rest by the sweeper), then given up. */
export const MAX_ATTEMPTS = 5;
/** When the next attempt is due after attempt n (index n − 1) did not end the message. */
export const RETRY_AFTER_MS = [60_000, 5 * 60_000, 15 * 60_000, 60 * 60_000] as const;

const retryAfter = (attempt: number) =>
  RETRY_AFTER_MS[Math.min(attempt, RETRY_AFTER_MS.length) - 1] ?? RETRY_AFTER_MS[0];

/** What one delivery attempt came to (`busy`: another caller holds this attempt, or it had ended). */
export type Delivery = 'sent' | 'dropped' | 'failed' | 'retry' | 'busy' | 'none';

/** Whether a message of this kind is on: a template configured and the adapter built. */
export function notificationOn(d: Pick<Deps, 'cfg' | 'notifier'>, kind: NotificationKind): boolean {
  return d.notifier !== undefined && d.cfg.notify?.templates[kind] !== undefined;
}

/**
 * Records the event's message (N1) and, if this call created it, makes the first attempt (N2,
 * N3). Never throws: a message must not fail what it reports.
 */
export async function notify(d: Deps, userId: string, facts: NotificationFacts): Promise<Delivery> {
  if (!notificationOn(d, facts.kind)) return 'none';
  try {
    const nowMs = d.now();
    const record: NotificationRecord = {
      id: notificationIdOf(facts),
      kind: facts.kind,
      userId,
      page: messagePage(facts),
      values: messageValues(facts),
      state: 'pending',
      // Attempt 1 is the creator's, started by the put itself (one write fewer on the last
      // claim): nobody else can hold the record before it falls due, a minute later.
      attempts: 1,
      createdAt: iso(nowMs),
    };
    const created = await d.notifications.create(record, {
      shard: dueShard(d, record.id),
      at: iso(nowMs + RETRY_AFTER_MS[0]),
    });
    if (!created) return 'busy';
    return await send(d, record, nowMs, INLINE_TIMEOUT_MS);
  } catch (err) {
    log('warn', 'notification: not recorded or not sent (the sweeper retries a recorded one)', {
      kind: facts.kind,
      error: err instanceof Error ? err.message : 'unknown',
    });
    return 'retry';
  }
}

/** "Your packet was all claimed": by the claim that took the last share, after its credit. */
export async function notifyPacketFinished(d: Deps, p: PacketRecord, atMs: number): Promise<Delivery> {
  // Campaign packets (up to 1,000 per campaign) would flood their owner: the campaign page reports them.
  if (p.campaignId) return 'none';
  return notify(d, p.senderId, {
    kind: 'packet_finished',
    packetId: p.id,
    greeting: p.greeting,
    total: p.total,
    count: p.count,
    atMs,
  });
}

/**
 * "Refund arrived": after the refund credit (balance) or the refund's `success` (WeChat Pay).
 * `packet`: the packet if the caller has it (else it is read, only when the message is on).
 */
export async function notifyRefundArrived(
  d: Deps,
  r: {
    packetId: string;
    userId: string;
    amount: number;
    to: 'balance' | 'wechatpay';
    atMs: number;
    packet?: PacketRecord;
  },
): Promise<Delivery> {
  if (!notificationOn(d, 'refund_arrived') || r.amount <= 0) return 'none';
  try {
    const p = r.packet ?? (await d.packets.get(r.packetId));
    if (p?.campaignId) return 'none';
    return await notify(d, r.userId, {
      kind: 'refund_arrived',
      packetId: r.packetId,
      greeting: p?.greeting ?? '',
      amount: r.amount,
      to: r.to,
      atMs: r.atMs,
    });
  } catch (err) {
    log('warn', 'notification: refund message not recorded', { error: err instanceof Error ? err.message : 'unknown' });
    return 'retry';
  }
}

/** "Withdrawal arrived": after the withdrawal's `success`. */
export async function notifyWithdrawalArrived(
  d: Deps,
  w: { id: string; userId: string; amount: number; finishedAt?: string | undefined },
): Promise<Delivery> {
  const at = Date.parse(w.finishedAt ?? '');
  return notify(d, w.userId, {
    kind: 'withdrawal_arrived',
    withdrawalId: w.id,
    amount: w.amount,
    atMs: Number.isFinite(at) ? at : d.now(),
  });
}

/** The sweeper's step for a due message: the next attempt (or giving up after the last). */
export async function deliverNotification(
  d: Deps,
  id: string,
  nowMs: number,
  timeoutMs: number = SWEEP_TIMEOUT_MS,
): Promise<Delivery> {
  const n = await d.notifications.get(id);
  if (!n) return 'none';
  return attempt(d, n, nowMs, timeoutMs);
}

/** One attempt (N2–N3) on the record as read. */
async function attempt(d: Deps, n: NotificationRecord, nowMs: number, timeoutMs: number): Promise<Delivery> {
  if (n.state !== 'pending') return 'busy';
  if (n.attempts >= MAX_ATTEMPTS) {
    // The last attempt started and its caller died before recording the outcome.
    return (await end(d, n, 'failed', nowMs, n.lastError ?? 'unknown')) ? 'failed' : 'busy';
  }
  let started: NotificationRecord | undefined;
  try {
    started = await d.notifications.startAttempt(n.id, n.attempts, {
      shard: dueShard(d, n.id),
      at: iso(nowMs + retryAfter(n.attempts + 1)),
    });
  } catch (err) {
    // Whether this attempt is ours cannot be told: leave it to the next sweep.
    if (err instanceof WriteOutcomeUnknown) return 'busy';
    throw err;
  }
  if (!started) return 'busy';
  return send(d, started, nowMs, timeoutMs);
}

/** N3 for an attempt this caller started (`started.attempts` counts it). */
async function send(d: Deps, started: NotificationRecord, nowMs: number, timeoutMs: number): Promise<Delivery> {
  const n = started;
  const template = d.cfg.notify?.templates[n.kind];
  if (!template || !d.notifier) return (await end(d, started, 'dropped', nowMs, 'off')) ? 'dropped' : 'busy';
  const openid = await openidOf(d, n.userId);
  if (!openid) return (await end(d, started, 'dropped', nowMs, 'no_openid')) ? 'dropped' : 'busy';
  let data: ReturnType<typeof messageData>;
  try {
    data = messageData(template.keys, n.values);
  } catch {
    return (await end(d, started, 'failed', nowMs, 'template_mismatch')) ? 'failed' : 'busy';
  }
  const r = await d.notifier.send({ touser: openid, templateId: template.id, page: n.page, data }, { timeoutMs });
  if (r.kind === 'sent') return (await end(d, started, 'sent', nowMs)) ? 'sent' : 'busy';
  if (r.kind === 'refused')
    return (await end(d, started, 'dropped', nowMs, `errcode ${r.errcode}`)) ? 'dropped' : 'busy';
  if (!r.retryable || started.attempts >= MAX_ATTEMPTS)
    return (await end(d, started, 'failed', nowMs, r.reason)) ? 'failed' : 'busy';
  log('warn', 'notification: send failed, the sweeper retries', {
    kind: n.kind,
    attempt: started.attempts,
    reason: r.reason,
  });
  metricBy(MetricNames.notifications, MetricUnit.Count, 1, 'Outcome', 'retry');
  await d.notifications.noteError(n.id, r.reason).catch(() => undefined);
  return 'retry';
}

/** Ends a message (sent / dropped / given up), logs and counts it; false if it had ended already. */
async function end(
  d: Deps,
  n: NotificationRecord,
  state: 'sent' | 'dropped' | 'failed',
  nowMs: number,
  error?: string,
): Promise<boolean> {
  const done = await d.notifications.finish(n.id, state, { atIso: iso(nowMs), ...(error ? { error } : {}) });
  if (!done) return false;
  const outcome = state === 'failed' ? 'given_up' : state;
  metricBy(MetricNames.notifications, MetricUnit.Count, 1, 'Outcome', outcome);
  if (state === 'failed') log('warn', 'notification: given up', { kind: n.kind, attempts: n.attempts, reason: error });
  else if (state === 'dropped') log('info', 'notification: dropped', { kind: n.kind, reason: error });
  return true;
}

/**
 * The template ids the app asks the user to subscribe to, per moment: after sending a packet
 * (all claimed, refund arrived) and when starting a withdrawal. Only configured ones; undefined
 * when none is (the session answer then carries no field).
 */
export function subscribeTemplates(
  cfg: Pick<Config, 'notify' | 'wx'>,
): { packet: string[]; withdrawal: string[] } | undefined {
  const t = cfg.notify?.templates ?? {};
  if (!cfg.wx) return undefined;
  const packet = [t.packet_finished?.id, t.refund_arrived?.id].filter((x): x is string => !!x);
  const withdrawal = [t.withdrawal_arrived?.id].filter((x): x is string => !!x);
  return packet.length + withdrawal.length > 0 ? { packet, withdrawal } : undefined;
}
