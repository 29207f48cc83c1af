/**
 * Campaigns (docs/rules.md, Campaigns): one call creates up to 1,000 packets with their codes,
 * funded by ONE debit of the owner's wallet (all totals plus each packet's fee).
 *
 * Timeline (each step idempotent; the Idempotency-Key's pending record makes a retry re-run it):
 *   W1 put CAMP#<id> (state funding; shape, times and the split seed) if absent
 *   W2 append the debit `camp:<id>` to the owner's ledger (−(totals + fees), daily limit checked)
 *   W3 append the fee credit `fee:camp:<id>` to the campaign's fee ledger (a shard, see context.ts)
 *   W4 BatchWriteItem the packets that do not exist yet (packet item active + shares; 25 items a
 *      request, bounded concurrency) — deterministic, so a re-run writes identical items
 *   W5 state → active
 * What a crash leaves: after W1 a funding record and no money moved (the retry goes on, or the
 * record stays inert: nothing references it); after W2/W3 the money is in the campaign's
 * escrow with some packets missing — the retry with the same key finishes W4–W5 (reconciliation
 * counts missing packets' money as a mismatch until then, never silently). The sweeper finishes
 * (or, without the debit, cancels) a campaign left `funding`: see completeCampaign and
 * docs/crash-timelines.md.
 */
import type {
  CampaignCodesCsv,
  CampaignStats,
  CampaignsResponse,
  CreateCampaignResponse,
  ErrorBody,
} from '../http/contract';
import { mapLimited } from '../concurrency';
import { packetLayout } from '../domain/share-counters';
import { randomBytes } from 'node:crypto';
import { fail } from '../domain/errors';
import { derivedId } from '../domain/ids';
import { dayKeyUtc8, policyFor, type Fen } from '../domain/money';
import { greetingRule } from '../domain/greeting';
import { checkSplit, split, type SplitMode } from '../domain/split';
import {
  campaignPacketId,
  campaignTotals,
  claimsPerHour,
  MAX_CAMPAIGN_QUANTITY,
  seededCryptoRandom,
} from '../domain/campaign';
import type { CampaignRecord } from '../store/campaigns';
import type { PacketRecord } from '../store/packets';
import { feeAccountFor, feeAccountOf, iso, type Outcome, type Principal } from './context';
import type { Deps } from './deps';
import { idempotent } from './idempotent';
import { DEFAULT_GREETING, DEFAULT_TTL_SECONDS } from './packets';
import { rateLimit, riskAfter, riskCheck } from './risk-gate';
import { dueShard } from './settlement';
import { packetCode } from './views';

export interface CreateCampaignInput {
  name: string;
  packet: { total: Fen; count: number; mode: SplitMode; greeting?: string | undefined };
  quantity: number;
  ttlSeconds?: number | undefined;
}

/**
 * Packets per createMany call: two BatchWriteItem requests for 25 packets (share lists and any
 * counters first, packet items after — see PacketStore.createMany).
 */
const PACKETS_PER_BATCH = 25;
const BATCH_CONCURRENCY = 4;

function packetsOf(
  c: CampaignRecord,
  d: Deps,
): Array<{ packet: PacketRecord; shares: number[]; due: { shard: number; at: string } }> {
  const seed = Buffer.from(c.seed, 'base64');
  const sigmaCap = null; // campaigns are business packets: no personal σ cap
  return Array.from({ length: c.quantity }, (_, i) => {
    const id = campaignPacketId(c.id, i);
    const r = split(c.total, c.count, c.mode, { sigmaCap, random: seededCryptoRandom(seed, `packet:${i}`) });
    if (!r.ok) throw new Error(`campaign ${c.id}: split refused (${r.reason}) after precheck`);
    const packet: PacketRecord = {
      id,
      senderId: c.ownerId,
      senderName: c.ownerName,
      total: c.total,
      count: c.count,
      mode: c.mode,
      greeting: c.greeting,
      scene: 'none',
      fee: c.feePerPacket,
      state: 'active',
      claimed: 0,
      createdAt: c.createdAt,
      expiresAt: c.expiresAt,
      expiresAtMs: c.expiresAtMs,
      codeValidity: c.codeValidity,
      senderHint: c.senderHint,
      feeHint: c.feeHint,
      campaignId: c.id,
      ...packetLayout(c.count, d.cfg.shareLayout),
    };
    return { packet, shares: r.shares, due: { shard: dueShard(d, id), at: c.expiresAt } };
  });
}

/** W4: writes the packets still missing, in batches. */
async function writePackets(d: Deps, c: CampaignRecord): Promise<number> {
  const all = packetsOf(c, d);
  const chunks: (typeof all)[] = [];
  for (let i = 0; i < all.length; i += PACKETS_PER_BATCH) chunks.push(all.slice(i, i + PACKETS_PER_BATCH));
  let next = 0;
  let written = 0;
  await Promise.all(
    Array.from({ length: BATCH_CONCURRENCY }, async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++]!;
        // A re-run writes only what is missing: an existing packet may already have claims.
        const exists =
          c.state === 'funding' ? await d.packets.existing(chunk.map((x) => x.packet.id)) : new Set<string>();
        const missing = chunk.filter((x) => !exists.has(x.packet.id));
        if (missing.length) await d.packets.createMany(missing);
        written += missing.length;
      }
    }),
  );
  return written;
}

/** Finishes a campaign from its record: W2–W5 (shared by the request and its retries). */
async function fund(d: Deps, c: CampaignRecord, dailyLimit: Fen): Promise<void> {
  const r = await d.wallets.append(c.ownerId, c.senderHint, {
    opId: `camp:${c.id}`,
    type: 'packet_debit',
    amount: -c.debit,
    fee: c.feePerPacket * c.quantity,
    ref: c.id,
    at: c.createdAt,
    daily: { amount: c.total * c.quantity, limit: dailyLimit, day: dayKeyUtc8(Date.parse(c.createdAt)) },
  });
  if (r.kind === 'insufficient' || r.kind === 'daily_limit') {
    await d.campaigns.setState(c.id, 'funding', 'canceled');
    if (r.kind === 'insufficient') fail('INSUFFICIENT_FUNDS', '余额不足');
    fail('LIMIT_DAILY', '超出今日发送限额', { dailyLimit });
  }
  await finish(d, c);
}

/** W3–W5, once the debit is in: fee credit, the missing packets, active. */
async function finish(d: Deps, c: CampaignRecord): Promise<void> {
  const fees = c.feePerPacket * c.quantity;
  if (fees > 0)
    await d.wallets.append(feeAccountOf(c), c.feeHint, {
      opId: `fee:camp:${c.id}`,
      type: 'fee',
      amount: fees,
      ref: c.id,
      at: c.createdAt,
    });
  await writePackets(d, c);
  await d.campaigns.setState(c.id, 'funding', 'active');
}

/** How long a campaign may stay `funding` before the sweeper finishes or cancels it. */
const FUNDING_GRACE_MS = 2 * 60_000;
/** The campaigns function's Lambda timeout (29 s in serverless.yml) plus margin: only then may a retry take a begun campaign over. */
const CAMPAIGN_TAKEOVER_MS = 35_000;

/**
 * The sweeper's step for a campaign its request left `funding`: with the debit in the ledger it
 * finishes W3–W5 (fee, missing packets, active); without, it cancels (no money moved, and a
 * user who gave up is never charged behind their back, as with single packets).
 */
export async function completeCampaign(d: Deps, id: string): Promise<'active' | 'canceled' | 'none'> {
  const c = await d.campaigns.get(id);
  if (c?.state !== 'funding') return 'none';
  const debit = await d.wallets.find(c.ownerId, c.senderHint, `camp:${c.id}`);
  if (!debit) return (await d.campaigns.setState(c.id, 'funding', 'canceled')) ? 'canceled' : 'none';
  await finish(d, c);
  return 'active';
}

/** POST /v1/campaigns — `quantity` packets and their share codes, one debit, idempotent as a whole. */
export async function createCampaign(
  d: Deps,
  who: Principal,
  input: CreateCampaignInput,
  idemKey: string | undefined,
  deviceId?: string,
): Promise<Outcome<CreateCampaignResponse | ErrorBody>> {
  const profile = await d.accounts.get(who.userId);
  const policy = policyFor(profile?.tier ?? who.tier, profile?.settings);
  const totals = campaignTotals(input.packet.total, input.quantity, policy.feeBps);
  const opId = derivedId('c', who.userId, 'campaign', idemKey ?? '');
  const movement = () => ({ kind: 'packet' as const, amount: totals.totals, opId, deviceId });
  const precheck = async () => {
    if (policy.tier === 'personal') fail('FORBIDDEN', '只有企业和服务商账户可以创建活动');
    await riskCheck(d, who, policy.tier, movement(), [greetingRule(input.packet.greeting)]);
    if (input.quantity > MAX_CAMPAIGN_QUANTITY) fail('VALIDATION_FAILED', `每次最多 ${MAX_CAMPAIGN_QUANTITY} 个红包`);
    if (input.packet.count > policy.maxShares)
      fail('VALIDATION_FAILED', `红包个数最多 ${policy.maxShares} 个`, { maxShares: policy.maxShares });
    if (input.packet.total > policy.perPacketLimit)
      fail('LIMIT_PER_PACKET', '超出单个红包限额', { perPacketLimit: policy.perPacketLimit });
    if (checkSplit(input.packet.total, input.packet.count, input.packet.mode) !== null)
      fail(input.packet.mode === 'equal' ? 'EQUAL_SPLIT_UNEVEN' : 'VALIDATION_FAILED', '红包金额与个数不匹配');
    const w = await d.wallets.state(who.userId);
    const sentToday = w.sentDay === dayKeyUtc8(d.now()) ? w.sentToday : 0;
    if (sentToday + totals.totals > policy.dailyLimit)
      fail('LIMIT_DAILY', '超出今日发送限额', { dailyLimit: policy.dailyLimit, sentToday });
    if (w.balance < totals.debit) fail('INSUFFICIENT_FUNDS', '余额不足', { balance: w.balance, needed: totals.debit });
  };
  return idempotent(
    d,
    { principal: who.userId, scope: 'POST /v1/campaigns', key: idemKey, body: input, takeoverMs: CAMPAIGN_TAKEOVER_MS },
    precheck,
    async () => {
      const nowMs = d.now();
      const expiresAtMs = nowMs + (input.ttlSeconds ?? DEFAULT_TTL_SECONDS) * 1000;
      const feeAccount = feeAccountFor(opId);
      const [senderState, feeState] = await Promise.all([d.wallets.state(who.userId), d.wallets.state(feeAccount)]);
      const c = await d.campaigns.create(
        {
          id: opId,
          ownerId: who.userId,
          ownerName: profile?.name ?? who.name,
          name: input.name,
          total: input.packet.total,
          count: input.packet.count,
          mode: input.packet.mode,
          greeting: input.packet.greeting?.trim() || DEFAULT_GREETING,
          quantity: input.quantity,
          feePerPacket: totals.feePerPacket,
          debit: totals.debit,
          seed: randomBytes(32).toString('base64'),
          createdAt: iso(nowMs),
          expiresAt: iso(expiresAtMs),
          expiresAtMs,
          codeValidity: policy.codeValiditySeconds,
          state: 'funding',
          senderHint: senderState.seq,
          feeHint: feeState.seq,
          feeAccount,
        },
        { shard: dueShard(d, opId), at: iso(nowMs + FUNDING_GRACE_MS) },
      );
      if (c.state === 'canceled') fail('INSUFFICIENT_FUNDS', '余额不足');
      if (c.state === 'funding') await fund(d, c, policy.dailyLimit);
      await riskAfter(d, who, policy.tier, movement());
      const packets = packetsOf(c, d).map(({ packet }) => {
        const { code, link } = packetCode(d, packet, 'share');
        return { id: packet.id, code, link };
      });
      const body: CreateCampaignResponse = {
        campaignId: c.id,
        name: c.name,
        quantity: c.quantity,
        debit: c.debit,
        fee: c.feePerPacket * c.quantity,
        expiresAt: c.expiresAt,
        packets,
      };
      return { status: 201, body };
    },
  );
}

async function ownCampaign(d: Deps, who: Principal, id: string): Promise<CampaignRecord> {
  const c = await d.campaigns.get(id);
  // Another owner's campaign is "not found": its existence is not for others to learn. No staff
  // exception: these routes are closed to staff roles, and an admin who also runs a business
  // account reaches its own campaigns only.
  if (!c || c.ownerId !== who.userId) fail('NOT_FOUND', '活动不存在');
  return c!;
}

/** GET /v1/campaigns/{id} — statistics: packets, claimed shares and amounts, refunds, claim rate, claims per hour. */
export async function campaignStats(d: Deps, who: Principal, id: string): Promise<Outcome<CampaignStats>> {
  // Counted before any read: the statistics read every slot of up to 1,000 packets.
  await rateLimit(d, who, 'campaign_stats');
  const c = await ownCampaign(d, who, id);
  const ids = Array.from({ length: c.quantity }, (_, i) => campaignPacketId(c.id, i));
  const rows = await mapLimited(ids, 16, async (pid) => {
    const p = await d.packets.get(pid, false);
    const slots = p ? await d.claims.slots(p) : [];
    return { p, granted: slots.filter((s) => !s.void) };
  });
  const claimTimes: string[] = [];
  let claimedShares = 0;
  let claimedAmount = 0;
  let refundedAmount = 0;
  let packetsFinished = 0;
  let packetsPresent = 0;
  for (const { p, granted } of rows) {
    if (!p) continue;
    packetsPresent++;
    claimedShares += granted.length;
    claimedAmount += granted.reduce((a, s) => a + s.amount, 0);
    refundedAmount += p.refundedAmount ?? 0;
    if (granted.length === p.count) packetsFinished++;
    for (const s of granted) claimTimes.push(s.at);
  }
  const shares = c.quantity * c.count;
  return {
    status: 200,
    body: {
      campaignId: c.id,
      name: c.name,
      state: c.state,
      createdAt: c.createdAt,
      expiresAt: c.expiresAt,
      packets: c.quantity,
      packetsCreated: packetsPresent,
      packetsFinished,
      shares,
      claimedShares,
      claimedAmount,
      refundedAmount,
      total: c.total * c.quantity,
      fee: c.feePerPacket * c.quantity,
      // Basis points (integer): claimed shares × 10,000 ÷ shares.
      claimRateBps: shares === 0 ? 0 : Math.floor((claimedShares * 10_000) / shares),
      claimsPerHour: claimsPerHour(claimTimes),
    },
  };
}

/** GET /v1/campaigns — the caller's campaigns, newest first (summaries). */
export async function myCampaigns(d: Deps, who: Principal): Promise<Outcome<CampaignsResponse>> {
  const list = await d.campaigns.listByOwner(who.userId, 50);
  return {
    status: 200,
    body: {
      items: list.map((c) => ({
        campaignId: c.id,
        name: c.name,
        state: c.state,
        quantity: c.quantity,
        total: c.total,
        count: c.count,
        createdAt: c.createdAt,
        expiresAt: c.expiresAt,
      })),
    },
  };
}

/** GET /v1/campaigns/{id}/codes.csv — one line per packet with its share code, for printing. */
export async function campaignCodesCsv(
  d: Deps,
  who: Principal,
  id: string,
): Promise<Outcome<CampaignCodesCsv> & { contentType: 'text/csv; charset=utf-8' }> {
  // Counted before any work: the export rebuilds and signs a code for each of up to 1,000 packets.
  await rateLimit(d, who, 'campaign_export');
  const c = await ownCampaign(d, who, id);
  // `link` last: what a printed QR code should carry (a camera opens it), after the columns older exports had.
  const lines = ['index,packet_id,code,expires_at,link'];
  packetsOf(c, d).forEach(({ packet }, i) => {
    const { code, link } = packetCode(d, packet, 'share');
    lines.push(`${i + 1},${packet.id},${code},${c.expiresAt},${link}`);
  });
  return { status: 200, body: `${lines.join('\n')}\n`, contentType: 'text/csv; charset=utf-8' };
}
