/**
 * Pure helpers of the operator view (ops/index): Beijing-time labels, the contention rate, the
 * per-minute figures. Integer arithmetic for the figures; no dependency on the chart library.
 */
import type { OpsMinute, OpsResponse } from '../api';

const BEIJING_OFFSET_S = 8 * 3600;
const DAY_S = 86_400;
const pad = (n: number) => String(n).padStart(2, '0');

/** Seconds of the day in Beijing time (UTC+8, no daylight saving) for a Unix time in seconds. */
function beijingSecondOfDay(unixSeconds: number): number {
  const s = Math.floor(unixSeconds) + BEIJING_OFFSET_S;
  return ((s % DAY_S) + DAY_S) % DAY_S;
}

/** Unix seconds → "HH:mm" in Beijing time. */
export function beijingHm(unixSeconds: number): string {
  const s = beijingSecondOfDay(unixSeconds);
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}`;
}

/** An ISO time → "HH:mm:ss" in Beijing time ("" when unreadable). */
export function beijingHms(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return '';
  const s = beijingSecondOfDay(Math.floor(ms / 1000));
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

/** Basis points as a percentage with two decimals, integers only: 37 → "0.37%", 1250 → "12.50%". */
export function bpsPercent(bps: number): string {
  const b = Number.isFinite(bps) ? Math.max(0, Math.round(bps)) : 0;
  return `${Math.floor(b / 100)}.${pad(b % 100)}%`;
}

/** A duration in ms for people: 850 → "850 ms", 12_345 → "12.3 s". */
export function durationText(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const tenths = Math.round(ms / 100);
  return `${Math.floor(tenths / 10)}.${tenths % 10} s`;
}

/** Seconds for people: 42 → "42 秒", 390 → "6 分 30 秒". */
export function secondsText(s: number): string {
  const n = Math.max(0, Math.floor(s));
  if (n < 60) return `${n} 秒`;
  const m = Math.floor(n / 60);
  return n % 60 === 0 ? `${m} 分` : `${m} 分 ${n % 60} 秒`;
}

/** A latency value: 12 → "12 ms", null → "—". */
export function msText(v: number | null | undefined): string {
  return typeof v === 'number' && Number.isFinite(v) ? `${Math.round(v)} ms` : '—';
}

/** A mean to one decimal, integers only: (37, 10) → "3.7"; no minutes → "0". */
export function meanText(sum: number, count: number): string {
  if (count <= 0) return '0';
  const tenths = Math.round((sum * 10) / count);
  return tenths % 10 === 0 ? String(tenths / 10) : `${Math.floor(tenths / 10)}.${tenths % 10}`;
}

/** The minutes already over at `now` (the last row is usually the current, partial minute). */
export function fullMinutes(r: Pick<OpsResponse, 'now' | 'minutes'>): OpsMinute[] {
  const now = Date.parse(r.now);
  if (!Number.isFinite(now)) return r.minutes.slice(0, -1);
  return r.minutes.filter((m) => Date.parse(m.minute) + 60_000 <= now);
}

export interface RateFigures {
  /** The last full minute (undefined before any minute is over). */
  last: number | undefined;
  /** Mean per full minute over the window, one decimal. */
  mean: string;
}

/** Packets or claims: the last full minute and the mean per full minute. */
export function rateOf(r: Pick<OpsResponse, 'now' | 'minutes'>, key: 'packets' | 'claims'): RateFigures {
  const full = fullMinutes(r);
  const sum = full.reduce((a, m) => a + m[key], 0);
  return { last: full.length ? full[full.length - 1]![key] : undefined, mean: meanText(sum, full.length) };
}

/** Series aligned to the minutes for the charts: x in Unix seconds, then one array per series. */
export function chartSeries(minutes: OpsMinute[]): {
  x: number[];
  packets: number[];
  claims: number[];
  p50: (number | null)[];
  p99: (number | null)[];
} {
  return {
    x: minutes.map((m) => Math.floor(Date.parse(m.minute) / 1000)),
    packets: minutes.map((m) => m.packets),
    claims: minutes.map((m) => m.claims),
    p50: minutes.map((m) => m.claimP50Ms),
    p99: minutes.map((m) => m.claimP99Ms),
  };
}

/** The sweep lag above which refunds count as late (seconds). */
export const SWEEP_LAG_ALERT_S = 300;
