/**
 * Time: the duration units, and China's clock. Every rule that counts by the day or the hour
 * (daily limits, the night rule, risk and ops partitions) counts in UTC+8 — China Standard
 * Time, whatever the server's zone — and every time shown to a user or sent to WeChat Pay is
 * written in it.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** UTC+8 has no daylight saving time, so the offset is constant (and a whole number of hours). */
export const UTC8_OFFSET_MS = 8 * HOUR_MS;

/**
 * The UTC+8 wall clock at `atMs`, as a Date whose UTC fields read the UTC+8 date and time
 * (shifting the instant by +8 h and reading it as UTC gives the UTC+8 wall clock).
 */
export function utc8WallClock(atMs: number): Date {
  return new Date(atMs + UTC8_OFFSET_MS);
}

/**
 * The UTC+8 (China Standard Time) calendar day containing the instant `atMs` (milliseconds since
 * the epoch), as 'YYYY-MM-DD'. Daily limits and the night-velocity rule count by this day, not
 * by the server's time zone. Throws RangeError for a non-finite or out-of-range instant.
 */
export function dayKeyUtc8(atMs: number): string {
  if (typeof atMs !== 'number' || !Number.isFinite(atMs)) {
    throw new RangeError('atMs must be a finite number of milliseconds');
  }
  return utc8WallClock(atMs).toISOString().slice(0, 10);
}

/** The UTC+8 wall-clock hour (0–23) of an instant. */
export function hourUtc8(nowMs: number): number {
  return utc8WallClock(nowMs).getUTCHours();
}

/** The UTC+8 clock hour of an instant as 'YYYY-MM-DDTHH' (the night counter's window). */
export function hourBucketUtc8(nowMs: number): string {
  return utc8WallClock(nowMs).toISOString().slice(0, 13);
}

/** The first instant after the UTC+8 clock hour containing `nowMs`. */
export function hourBucketEndMs(nowMs: number): number {
  return Math.floor(nowMs / HOUR_MS) * HOUR_MS + HOUR_MS; // UTC+8 is a whole number of hours
}

/** An instant as RFC 3339 in UTC+8 (Beijing time), as WeChat Pay writes it: `2026-12-05T20:21:14+08:00`. */
export function rfc3339Utc8(ms: number): string {
  return `${utc8WallClock(ms).toISOString().slice(0, 19)}+08:00`;
}
