import { packetLayout } from '../domain/share-counters';
import { fail } from '../domain/errors';
import { derivedId } from '../domain/ids';
import { dayKeyUtc8, feeFor, policyFor, type Fen } from '../domain/money';
import { greetingRule } from '../domain/greeting';
import { checkSplit, split, type SplitMode, type SplitRefusal } from '../domain/split';
import { verifyCode, isCodeExpired, type CodeClaims } from '../domain/codes';
import { riskRulesFor } from '../domain/risk';
import type { PacketRecord } from '../store/packets';
import { feeAccountFor, iso, seconds, type Outcome, type Principal } from './context';
import type { Deps } from './deps';
import { idempotent } from './idempotent';
import { rateLimit, riskAfter, riskCheck, riskCount } from './risk-gate';
import { dueShard, fundPacket } from './settlement';
import { accountsShown, claimability, packetCode, packetSummary, packetView } from './views';
import { resolveNames } from './names';
import { slotOfAccount } from './slots';
import {
  awaitingPaymentPacket,
  openPayment,
  packetPaymentId,
  PAID_PACKET_NET_MS,
  payerOpenid,
  paymentView,
  placeOrder,
  requireWeChatPay,
} from './payments';
import type {
  AwaitingPaymentPacketResponse,
  CreatePacketResponse,
  ErrorBody,
  MyPacketsResponse,
  NewCodeResponse,
  PacketView,
} from '../http/contract';

export interface CreatePacketInput {
  total: Fen;
  count: number;
  mode: SplitMode;
  greeting?: string | undefined;
  scene?: string | undefined;
  ttlSeconds?: number | undefined;
  /** 专属红包: the only account that may claim. */
  recipient?: string | undefined;
  /** `wechatpay`: paid directly through WeChat Pay (see payments.ts); default the balance. */
  funding?: 'balance' | 'wechatpay' | undefined;
  /** 仅限本群 (see app/groups.ts). */
  groupOnly?: boolean | undefined;
}

export const DEFAULT_GREETING = '恭喜发财，大吉大利';
export const DEFAULT_TTL_SECONDS = 86_400;
/** A funding packet not activated by then is finished or canceled by the sweeper. */
const FUNDING_GRACE_MS = 2 * 60_000;

const SPLIT_REFUSALS: Record<SplitRefusal, () => never> = {
  EQUAL_SPLIT_UNEVEN: () => fail('EQUAL_SPLIT_UNEVEN', '普通红包的总金额必须能被个数整除'),
  TOO_FEW_FEN: () => fail('VALIDATION_FAILED', '每个红包至少 0.01 元'),
  SHARE_CAP: () => fail('LIMIT_PER_PACKET', '单个红包最多 200 元'),
};

/**
 * POST /v1/packets — debit the sender (total + fee) and open a packet with its codes; or, with
 * `funding: wechatpay`, put it awaiting payment and create the WeChat Pay order for total + fee
 * (202, no code: payments.ts opens it when WeChat Pay confirms). Limits and risk rules apply at
 * creation either way.
 */
export async function createPacket(
  d: Deps,
  who: Principal,
  input: CreatePacketInput,
  idemKey: string | undefined,
  deviceId?: string,
): Promise<Outcome<CreatePacketResponse | AwaitingPaymentPacketResponse | ErrorBody>> {
  const profile = await d.accounts.get(who.userId);
  const policy = policyFor(profile?.tier ?? who.tier, profile?.settings);
  const fee = feeFor(input.total, policy.feeBps);
  const movement = () => ({
    kind: 'packet' as const,
    amount: input.total,
    opId: derivedId('p', who.userId, 'packet', idemKey!),
    deviceId,
  });
  const recipient = input.recipient !== undefined ? await exclusiveRecipient(d, who, input) : undefined;
  const paid = input.funding === 'wechatpay';
  if (paid) requireWeChatPay(d);
  let openid = '';
  const precheck = async () => {
    await riskCheck(d, who, policy.tier, movement(), [greetingRule(input.greeting)]);
    if (input.count > policy.maxShares)
      fail('VALIDATION_FAILED', `红包个数最多 ${policy.maxShares} 个`, { maxShares: policy.maxShares });
    if (input.total > policy.perPacketLimit)
      fail('LIMIT_PER_PACKET', '超出单个红包限额', { perPacketLimit: policy.perPacketLimit });
    const refusal = checkSplit(input.total, input.count, input.mode);
    if (refusal) SPLIT_REFUSALS[refusal]();
    const w = await d.wallets.state(who.userId);
    const today = dayKeyUtc8(d.now());
    const sentToday = w.sentDay === today ? w.sentToday : 0;
    if (sentToday + input.total > policy.dailyLimit)
      fail('LIMIT_DAILY', '超出今日发送限额', { dailyLimit: policy.dailyLimit, sentToday });
    if (!paid && w.balance < input.total + fee)
      fail('INSUFFICIENT_FUNDS', '余额不足', { balance: w.balance, needed: input.total + fee });
    if (paid) openid = await payerOpenid(d, who.userId);
    await riskCount(d, who, policy.tier, movement());
  };
  return idempotent<CreatePacketResponse | AwaitingPaymentPacketResponse>(
    d,
    { principal: who.userId, scope: 'POST /v1/packets', key: idemKey, body: input },
    precheck,
    async () => {
      const id = derivedId('p', who.userId, 'packet', idemKey!);
      const nowMs = d.now();
      const ttl = input.ttlSeconds ?? DEFAULT_TTL_SECONDS;
      const expiresAtMs = nowMs + ttl * 1000;
      const result = split(input.total, input.count, input.mode, { sigmaCap: policy.sigmaCap, random: d.random });
      if (!result.ok) return SPLIT_REFUSALS[result.reason]();
      // A retry keeps the first split (put-if-absent returns the stored list).
      const shares = await d.packets.putShares(id, result.shares);
      const feeAccount = fee > 0 ? feeAccountFor(id) : undefined;
      const [senderState, feeState] = await Promise.all([
        d.wallets.state(who.userId),
        feeAccount ? d.wallets.state(feeAccount) : Promise.resolve({ seq: 0 }),
      ]);
      const record: PacketRecord = {
        id,
        senderId: who.userId,
        senderName: profile?.name ?? who.name,
        total: input.total,
        count: input.count,
        mode: input.mode,
        greeting: input.greeting?.trim() || DEFAULT_GREETING,
        scene: input.scene ?? 'none',
        fee,
        state: 'funding',
        claimed: 0,
        createdAt: iso(nowMs),
        expiresAt: iso(expiresAtMs),
        expiresAtMs,
        codeValidity: policy.codeValiditySeconds,
        senderHint: senderState.seq,
        feeHint: feeState.seq,
        ...(feeAccount ? { feeAccount } : {}),
        ...(recipient ? { recipientId: recipient.userId, recipientName: recipient.name } : {}),
        // Claims take on counter items that record their takers (docs/capacity.md).
        ...packetLayout(input.count, d.cfg.shareLayout),
        ...(input.groupOnly ? { groupOnly: true as const } : {}),
      };
      if (paid)
        return createAwaitingPayment(
          d,
          who,
          policy.tier,
          awaitingPaymentPacket(record, packetPaymentId(id)),
          shares.amounts,
          openid,
          movement(),
        );
      const stored = await d.packets.create(
        record,
        { shard: dueShard(d, id), at: iso(nowMs + FUNDING_GRACE_MS) },
        shares.amounts,
      );
      const funded =
        stored.state === 'funding' || stored.state === 'canceled' ? await fundPacket(d, stored, false) : stored;
      if (funded === 'canceled') throw new Error('unreachable: request funding never cancels');
      await riskAfter(d, who, policy.tier, movement());
      return {
        status: 201,
        body: {
          packet: packetView(funded, [], d.now(), true),
          code: packetCode(d, funded, 'live'),
          shareCode: packetCode(d, funded, 'share'),
          fee,
        },
      };
    },
  );
}

/**
 * A packet paid directly: the packet awaiting payment (its own due entry only a net far after
 * the payment window), then the payment and its order (see the timeline in payments.ts).
 */
async function createAwaitingPayment(
  d: Deps,
  who: Principal,
  tier: Principal['tier'],
  record: PacketRecord,
  shares: readonly Fen[],
  openid: string,
  movement: Parameters<typeof riskAfter>[3],
): Promise<Outcome<AwaitingPaymentPacketResponse>> {
  const stored = await d.packets.create(
    record,
    { shard: dueShard(d, record.id), at: iso(Date.parse(record.createdAt) + PAID_PACKET_NET_MS) },
    shares,
  );
  let payment = await openPayment(d, {
    id: record.paymentId!,
    userId: who.userId,
    purpose: 'packet',
    packetId: record.id,
    amount: record.total + record.fee,
  });
  payment = await placeOrder(d, payment, openid || (await payerOpenid(d, who.userId)));
  if (payment.state === 'closed' && !payment.prepayId) fail('UNAVAILABLE', '微信支付下单失败，请稍后重试');
  await riskAfter(d, who, tier, movement);
  const packet = (await d.packets.get(record.id)) ?? stored;
  const body: AwaitingPaymentPacketResponse = {
    packet: packetView(packet, [], d.now(), true),
    payment: paymentView(d, payment),
    fee: record.fee,
  };
  return { status: 202, body };
}

/**
 * 专属红包: the recipient must be another existing account, and the packet one share (the whole
 * amount is theirs). Checked before anything is written.
 */
async function exclusiveRecipient(d: Deps, who: Principal, input: CreatePacketInput) {
  if (input.recipient === who.userId) fail('VALIDATION_FAILED', '专属红包不能发给自己');
  if (input.count !== 1) fail('VALIDATION_FAILED', '专属红包只能有 1 个', { count: input.count });
  const profile = await d.accounts.get(input.recipient!);
  if (!profile) fail('NOT_FOUND', '收红包的人不存在');
  return profile;
}

/** Forwards per page of the packet view (a page's claims through each forward come from the slots read anyway). */
export const FORWARDS_PAGE = 50;

/**
 * GET /v1/packets/{id} — the claim list and a page of the forwarding tree for the sender and
 * claimers, the summary for others.
 *
 * Counted against the account's read limit before anything is read (the id's format was checked
 * by the handler): an insider's view reads every slot of the packet (10,000 for the biggest), so
 * each view is bounded per account. Who is an insider is decided without the slots — the sender,
 * or an account that may hold a share (ClaimStore.mayHold: its claim marker, or its record on
 * its home counter; one or two GetItems) — so an outsider's view reads the packet item and
 * those (a big packet's counters about once per few seconds across all views: see
 * PacketStore.summaryOf), never every share. A marker whose claim took no share (refused, or
 * still in flight) reads the shares once more and gets the summary.
 */
export async function getPacket(
  d: Deps,
  who: Principal,
  id: string,
  forwardsCursor?: string,
): Promise<Outcome<PacketView>> {
  // A bad cursor is bad input: refused before anything is counted or read.
  d.forwards.checkForwardsCursor(id, forwardsCursor);
  await rateLimit(d, who, 'packet_view');
  const nowMs = d.now();
  const read = await d.packets.summaryOf(id, nowMs);
  if (!read) fail('NOT_FOUND', '红包不存在');
  const { packet, takenAmount } = read;
  const outsider = async (): Promise<Outcome<PacketView>> => {
    // The summary shows the sender (and a 专属红包's recipient) only: their current names.
    const names = await resolveNames(d, [packet.senderId, ...(packet.recipientId ? [packet.recipientId] : [])]);
    return { status: 200, body: { ...packetSummary(packet, nowMs, names), claimedAmount: takenAmount } };
  };
  const isSender = packet.senderId === who.userId;
  if (!isSender && !(await d.claims.mayHold(packet, who.userId))) return outsider();
  const slots = await d.claims.slots(packet);
  if (!isSender && !slots.some((s) => s.userId === who.userId && !s.void)) return outsider();
  // The counters were read eventually consistent: never show fewer taken than recorded.
  const recorded = slots.filter((s) => !s.void).length;
  const seen: PacketRecord = { ...packet, claimed: Math.max(packet.claimed, recorded) };
  const page = await d.forwards.forwardsPage(id, FORWARDS_PAGE, forwardsCursor);
  // Current names and avatars, read at view time (never on the claim path): app/names.ts.
  const names = await resolveNames(d, accountsShown(seen, who.userId, slots, page.forwards));
  return {
    status: 200,
    // The cursor of the forwarding tree's next page, for those who see the tree.
    body: { ...packetView(seen, slots, nowMs, true, page.forwards, names), forwardsCursor: page.next ?? null },
  };
}

/**
 * POST /v1/packets/{id}/codes — a fresh live code (sender) or share code (sender or claimer).
 *
 * Forwarding: a share code minted by a claimer, or by anyone passing `via` (the code they got
 * the packet through), is a forward: recorded (who, through whose forward, when) and carried in
 * the code's signed `ref`, so claims made with it are attributed to it (the slot keeps `via`).
 */
export async function newPacketCode(
  d: Deps,
  who: Principal,
  id: string,
  kind: 'live' | 'share',
  via?: string,
): Promise<Outcome<NewCodeResponse>> {
  const p = await d.packets.get(id);
  if (!p) fail('NOT_FOUND', '红包不存在');
  const packet = p;
  const isSender = packet.senderId === who.userId;
  if (kind === 'live' && !isSender) fail('FORBIDDEN', '只有发红包的人可以刷新二维码');
  if (kind === 'share' && !isSender && !(await slotOfAccount(d, packet, who.userId)))
    fail('FORBIDDEN', '领取后才能转发这个红包');
  if (packet.state === 'funding' && packet.funding === 'wechatpay') fail('PAYMENT_REQUIRED', '红包还未支付');
  const state = claimability(packet, d.now());
  if (!state.claimable)
    fail(
      state.reason === 'PACKET_FINISHED' ? 'PACKET_FINISHED' : 'PACKET_EXPIRED',
      state.reason === 'PACKET_FINISHED' ? '红包已领完' : '红包已过期',
    );
  const parent = via !== undefined ? forwardOfCode(d, via, id) : undefined;
  // Counted only once the request is valid: refused input writes nothing.
  await rateLimit(d, who, 'code_refresh');
  if (kind === 'share' && (!isSender || via !== undefined)) {
    // One forward per forwarder and source: asking again (a page reopened) returns the same one.
    const forwardId = derivedId('f', id, who.userId, parent ?? 'root');
    // Bounded per account and packet, so no one grows the tree without end (each forward of
    // one's own forward is a new one). Timeline: the id joins the account's set, then the
    // forward is written; a crash between leaves the id counted without its forward, and the
    // same request again finds it counted (a set) and writes the forward.
    const max = riskRulesFor(who.tier).forwardsPerPacket;
    if (!(await d.forwards.reserveForward(id, who.userId, forwardId, max))) {
      fail('FORBIDDEN', `每个红包最多转发 ${max} 次`, { maxForwards: max });
    }
    const forward = await d.forwards.putForward({
      id: forwardId,
      packetId: id,
      by: who.userId,
      byName: who.name,
      at: iso(d.now()),
      ...(parent ? { parent } : {}),
    });
    return { status: 201, body: { ...packetCode(d, packet, kind, forward.id), forwardId: forward.id } };
  }
  return { status: 201, body: packetCode(d, packet, kind) };
}

/** The forward a code of packet `packetId` was minted by (its `ref`), or undefined for the sender's own code. */
function forwardOfCode(d: Deps, code: string, packetId: string): string | undefined {
  const check = verifyCode(code, d.cfg.codeKeys, seconds(d.now()));
  if (!check.ok || check.claims.kind === 'receive' || check.claims.target !== packetId)
    fail('CODE_INVALID', '转发来源的红包码无效');
  return check.claims.ref;
}

/**
 * Verifies a packet code and returns its packet: signature and key (CODE_INVALID), kind,
 * lifetime (CODE_EXPIRED: live codes by the sender's tier validity, share codes by the packet).
 * `recent`: the claim path accepts this process's last view of the packet (see PacketStore.recent).
 */
export async function packetOfCode(
  d: Deps,
  code: string,
  recent = false,
): Promise<{ claims: CodeClaims; packet: PacketRecord }> {
  const nowMs = d.now();
  const check = verifyCode(code, d.cfg.codeKeys, seconds(nowMs));
  if (!check.ok || check.claims.kind === 'receive') fail('CODE_INVALID', '无效的红包码');
  const { claims } = check;
  // Opening a code is a preview (the claim decides atomically): a big packet's counters are read
  // eventually consistent there — half the read units on each counter's partition per open.
  const packet = recent ? await d.packets.recent(claims.target) : await d.packets.get(claims.target, true, false);
  if (!packet) fail('CODE_INVALID', '无效的红包码');
  const p = packet;
  const lifetime =
    claims.kind === 'live' ? { validitySeconds: p.codeValidity } : { untilSeconds: seconds(p.expiresAtMs) };
  if (claims.kind === 'live' && isCodeExpired(claims, lifetime, seconds(nowMs)))
    fail('CODE_EXPIRED', '二维码已过期，请让对方刷新');
  return { claims, packet: p };
}

/** GET /v1/me/packets — packets the caller sent or received, newest first. */
export async function myPackets(
  d: Deps,
  who: Principal,
  role: 'sent' | 'received',
  limit: number,
  cursor?: string,
): Promise<Outcome<MyPacketsResponse>> {
  const nowMs = d.now();
  if (role === 'sent') {
    const page = await d.packets.listSent(who.userId, limit, cursor);
    const packets = await Promise.all(page.ids.map((id) => d.packets.get(id, false)));
    const shownPackets = packets.filter((p): p is PacketRecord => !!p && p.state !== 'canceled');
    const names = await resolveNames(d, [who.userId]);
    return {
      status: 200,
      body: { items: shownPackets.map((p) => packetSummary(p, nowMs, names)), cursor: page.next ?? null },
    };
  }
  // The received list pages through the caller's own ledger (claim credits carry no index entry).
  const page = await d.wallets.received(who.userId, limit, cursor);
  const received = await Promise.all(
    page.entries.map(async (entry) => ({
      entry,
      p: entry.packetId ? await d.packets.get(entry.packetId, false) : undefined,
    })),
  );
  // The senders' current names (a page holds at most 100: one batch read, cached briefly).
  const names = await resolveNames(
    d,
    received.flatMap(({ p }) => (p ? [p.senderId] : [])),
  );
  const items = received.map(({ entry, p }) =>
    p ? { ...packetSummary(p, nowMs, names), myAmount: entry.amount, claimedAt: entry.at } : undefined,
  );
  return { status: 200, body: { items: items.filter((i) => i !== undefined), cursor: page.next ?? null } };
}
