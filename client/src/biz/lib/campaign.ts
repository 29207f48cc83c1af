/**
 * Campaigns (活动, enterprise and provider accounts): the money of a campaign and the create
 * form's rules — the server's (functions/src/domain/campaign.ts campaignTotals, app/campaigns.ts
 * precheck), so a refusal is rare and explained before the request. Integer fen throughout.
 */
import type { CampaignSummary, CreateCampaignRequest } from '../../api';
import { feeFor, formatYuan, parseYuan, type Fen } from '../../lib/money';
import { hasControlChars } from '../../lib/text';
import { MAX_GREETING, MAX_LUCKY_SHARE, type Limits, type Mode } from '../../lib/sendRules';

/** Most packets one campaign creates (functions/src/domain/campaign.ts MAX_CAMPAIGN_QUANTITY). */
export const MAX_CAMPAIGN_QUANTITY = 1_000;
/** The API's campaign name limit (schemas.ts CreateCampaignBody: text(40, 1)). */
export const MAX_CAMPAIGN_NAME = 40;

export interface CampaignCost {
  /** Each packet's fee, rounded up on its own: ceil(total × feeBps / 10000). */
  feePerPacket: Fen;
  /** quantity × feePerPacket. */
  fees: Fen;
  /** quantity × total: what the packets hold (and what counts toward the daily limit). */
  totals: Fen;
  /** quantity × (total + feePerPacket): the one debit of the wallet. */
  debit: Fen;
}

/** The money of `quantity` packets of `total` fen each at `feeBps` (the server's campaignTotals). */
export function campaignCost(total: Fen, feeBps: number, quantity: number): CampaignCost {
  const feePerPacket = feeFor(total, feeBps);
  const totals = total * quantity;
  const fees = feePerPacket * quantity;
  const debit = quantity * (total + feePerPacket);
  if (!Number.isSafeInteger(debit)) throw new RangeError('campaign amount out of range');
  return { feePerPacket, fees, totals, debit };
}

/** What the create form holds, as typed. */
export interface CampaignFormValues {
  name: string;
  totalYuan: string;
  count: string;
  mode: Mode;
  greeting: string;
  quantity: string;
}

export const EMPTY_CAMPAIGN: CampaignFormValues = {
  name: '',
  totalYuan: '',
  count: '',
  mode: 'lucky',
  greeting: '',
  quantity: '',
};

export interface CampaignCheck {
  errors: { name?: string; total?: string; count?: string; greeting?: string; quantity?: string };
  /** Set when the campaign can be created: the request body and its money. */
  ready?: { body: CreateCampaignRequest; cost: CampaignCost };
  /** The debit exceeds the balance. */
  insufficient?: boolean;
}

function wholeNumber(text: string, what: string, min: number, max: number): { n?: number; error?: string } {
  const t = text.trim();
  if (t === '') return { error: `请输入${what}` };
  if (!/^\d+$/.test(t)) return { error: `${what}须为整数` };
  const n = Number.parseInt(t, 10);
  if (n < min) return { error: `${what}至少 ${min} 个` };
  if (n > max) return { error: `${what}最多 ${max} 个` };
  return { n };
}

/**
 * The create form's rules: a name of 1–40 characters; each packet's total ≥ 0.01 yuan (two
 * decimals at most) and within the per-packet limit; 1..maxShares shares a packet, ≥ 0.01 yuan
 * each, equal mode divisible, lucky ≤ 200 yuan a share; 1–1000 packets; all totals within what
 * is left of today's limit. `strict`: empty fields are errors too (on submit).
 */
export function checkCampaign(v: CampaignFormValues, limits: Limits | null, strict = false): CampaignCheck {
  const errors: CampaignCheck['errors'] = {};
  const name = v.name.trim();
  if (name !== '' || strict) {
    if (name === '') errors.name = '请输入活动名称';
    else if ([...name].length > MAX_CAMPAIGN_NAME) errors.name = `活动名称最多 ${MAX_CAMPAIGN_NAME} 个字`;
    else if (hasControlChars(name)) errors.name = '活动名称含有不支持的字符';
  }
  let total: Fen | undefined;
  if (v.totalYuan.trim() !== '' || strict) {
    const p = parseYuan(v.totalYuan);
    if (!p.ok) errors.total = p.error;
    else if (p.fen < 1) errors.total = '金额至少 0.01 元';
    else if (limits && p.fen > limits.perPacketLimit)
      errors.total = `每个红包最多 ${formatYuan(limits.perPacketLimit)}`;
    else total = p.fen;
  }
  let count: number | undefined;
  if (v.count.trim() !== '' || strict) {
    const c = wholeNumber(v.count, '每个红包的份数', 1, limits?.maxShares ?? 1_000);
    if (c.error) errors.count = c.error;
    else count = c.n;
  }
  let quantity: number | undefined;
  if (v.quantity.trim() !== '' || strict) {
    const q = wholeNumber(v.quantity, '红包数量', 1, MAX_CAMPAIGN_QUANTITY);
    if (q.error) errors.quantity = q.error;
    else quantity = q.n;
  }
  if (total !== undefined && count !== undefined && !errors.total && !errors.count) {
    if (total < count) errors.total = `每份至少 0.01 元（${count} 份至少 ${formatYuan(count)}）`;
    else if (v.mode === 'equal' && total % count !== 0) errors.total = '普通红包的金额须能被份数整除';
    else if (v.mode === 'lucky' && total > count * MAX_LUCKY_SHARE)
      errors.total = `拼手气红包每份最多 ${formatYuan(MAX_LUCKY_SHARE)}，请增加份数`;
  }
  if (total !== undefined && quantity !== undefined && limits && !errors.total && !errors.quantity) {
    const leftToday = Math.max(0, limits.dailyLimit - limits.sentToday);
    if (total * quantity > leftToday) {
      errors.quantity =
        leftToday > 0
          ? `超出今日额度：今日还可发 ${formatYuan(leftToday)}，共需 ${formatYuan(total * quantity)}`
          : '今日发红包额度已用完';
    }
  }
  if ([...v.greeting].length > MAX_GREETING) errors.greeting = `祝福语最多 ${MAX_GREETING} 个字`;
  else if (hasControlChars(v.greeting)) errors.greeting = '祝福语含有不支持的字符';

  const result: CampaignCheck = { errors };
  const clean = !errors.name && !errors.total && !errors.count && !errors.quantity && !errors.greeting;
  if (clean && name && total !== undefined && count !== undefined && quantity !== undefined && limits) {
    const greeting = v.greeting.trim();
    const body: CreateCampaignRequest = {
      name,
      packet: { total, count, mode: v.mode, ...(greeting ? { greeting } : {}) },
      quantity,
    };
    const cost = campaignCost(total, limits.feeBps, quantity);
    result.ready = { body, cost };
    result.insufficient = cost.debit > limits.balance;
  }
  return result;
}

/** Basis points as a percentage with two decimals, integers only: 2222 → "22.22%", 5 → "0.05%". */
export function bpsToPercent(bps: number): string {
  const b = Number.isSafeInteger(bps) && bps > 0 ? bps : 0;
  return `${Math.floor(b / 100)}.${String(b % 100).padStart(2, '0')}%`;
}

const HOUR_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})$/;
const HOUR_S = 3600;
/** Idle hours are filled in (as 0) over at most this span; a longer campaign shows its busy hours only. */
const MAX_FILLED_HOURS = 24 * 14;

/** "2026-11-28T13" (Beijing time) → Unix seconds of that hour's start; undefined when unreadable. */
export function beijingHourToUnix(hour: string): number | undefined {
  const m = HOUR_RE.exec(hour);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4])) - 8 * HOUR_S * 1000;
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}

/** Unix seconds → "11-28 13:00" in Beijing time. */
export function beijingHourLabel(unixSeconds: number): string {
  const d = new Date((unixSeconds + 8 * HOUR_S) * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:00`;
}

/**
 * The chart's series from `claimsPerHour`: x (Unix seconds of each hour) and the claims, oldest
 * first, the idle hours between the first and the last filled in with 0 (up to two weeks).
 */
export function hourlySeries(perHour: ReadonlyArray<{ hour: string; claims: number }>): {
  x: number[];
  claims: number[];
} {
  const known = perHour
    .map((p) => ({ t: beijingHourToUnix(p.hour), claims: p.claims }))
    .filter((p): p is { t: number; claims: number } => p.t !== undefined)
    .sort((a, b) => a.t - b.t);
  if (!known.length) return { x: [], claims: [] };
  const first = known[0]!.t;
  const last = known[known.length - 1]!.t;
  if ((last - first) / HOUR_S + 1 > MAX_FILLED_HOURS)
    return { x: known.map((p) => p.t), claims: known.map((p) => p.claims) };
  const byHour = new Map(known.map((p) => [p.t, p.claims]));
  const x: number[] = [];
  const claims: number[] = [];
  for (let t = first; t <= last; t += HOUR_S) {
    x.push(t);
    claims.push(byHour.get(t) ?? 0);
  }
  return { x, claims };
}

export const CAMPAIGN_STATE_TEXT = { funding: '创建中', active: '进行中', canceled: '已取消' } as const;

/** A campaign's state for people: 进行中 until it expires, then 已结束. */
export function campaignStateText(c: Pick<CampaignSummary, 'state' | 'expiresAt'>, now = Date.now()): string {
  if (c.state === 'active' && Date.parse(c.expiresAt) <= now) return '已结束';
  return CAMPAIGN_STATE_TEXT[c.state] ?? c.state;
}
