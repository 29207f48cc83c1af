/**
 * Live operator figures in the table: per clock minute and Lambda instance, counters added with
 * one UpdateItem (ADD) per flush. One partition per UTC hour keeps a window readable with one
 * Query per hour; each instance writes its own item, so there is no shared hot counter.
 */
import { BUCKETS, emptyHistogram } from '../domain/histogram';
import { HOUR_MS } from '../domain/time';
import type { Db } from './db';
import { OpsKeys, parseTimeKey } from './keys';

/** What one instance counted in one minute. */
export interface MinuteCounts {
  packets: number;
  claims: number;
  conditionalWrites: number;
  conditionalFailures: number;
  refunds: number;
  /** Claim latency histogram (domain/histogram.ts buckets). */
  latency: number[];
}

export const emptyCounts = (): MinuteCounts => ({
  packets: 0,
  claims: 0,
  conditionalWrites: 0,
  conditionalFailures: 0,
  refunds: 0,
  latency: emptyHistogram(),
});

const FIELDS = ['packets', 'claims', 'conditionalWrites', 'conditionalFailures', 'refunds'] as const;
const hourOf = (minuteIso: string) => `${minuteIso.slice(0, 13)}:00:00.000Z`;
/** Figures are for the live view: kept two days. */
const TTL_S = 2 * 86_400;

/** The live operator figures: what instances add, and what the operator view reads. */
export interface OpsFiguresStore {
  /** Adds `c` to this instance's item of `minuteIso` (only non-zero fields are written). */
  add(minuteIso: string, instance: string, c: MinuteCounts): Promise<void>;
  /** Counts per minute in [fromMinuteIso, toMinuteIso], summed over instances. */
  read(fromMinuteIso: string, toMinuteIso: string): Promise<Map<string, MinuteCounts>>;
}

/** The {@link OpsFiguresStore} on the table. DynamoDB actions: UpdateItem, Query. */
export class DynamoOpsFiguresStore implements OpsFiguresStore {
  constructor(private readonly db: Db) {}

  /** Adds `c` to this instance's item of `minuteIso` (only non-zero fields are written). */
  async add(minuteIso: string, instance: string, c: MinuteCounts): Promise<void> {
    const adds: string[] = [];
    const values: Record<string, unknown> = { ':exp': Math.ceil(Date.parse(minuteIso) / 1000) + TTL_S };
    for (const f of FIELDS) {
      if (c[f] !== 0) {
        adds.push(`${f} :${f}`);
        values[`:${f}`] = c[f];
      }
    }
    c.latency.forEach((n, i) => {
      if (n !== 0) {
        adds.push(`h${i} :h${i}`);
        values[`:h${i}`] = n;
      }
    });
    if (adds.length === 0) return;
    await this.db.update(
      { pk: OpsKeys.minutePk(hourOf(minuteIso)), sk: OpsKeys.minuteSk(minuteIso, instance) },
      `ADD ${adds.join(', ')} SET expiresAt = if_not_exists(expiresAt, :exp)`,
      { values },
    );
  }

  /** Counts per minute in [fromMinuteIso, toMinuteIso], summed over instances. */
  async read(fromMinuteIso: string, toMinuteIso: string): Promise<Map<string, MinuteCounts>> {
    const out = new Map<string, MinuteCounts>();
    const hours: string[] = [];
    for (let h = Date.parse(hourOf(fromMinuteIso)); h <= Date.parse(toMinuteIso); h += HOUR_MS)
      hours.push(new Date(h).toISOString());
    const pages = await Promise.all(
      hours.map(async (hour) => {
        const items: Record<string, unknown>[] = [];
        let startKey: Record<string, unknown> | undefined;
        do {
          const page = await this.db.query({
            keyCondition: 'pk = :pk AND sk BETWEEN :lo AND :hi',
            values: { ':pk': OpsKeys.minutePk(hour), ':lo': fromMinuteIso, ':hi': `${toMinuteIso}#\uffff` },
            ...(startKey ? { startKey } : {}),
          });
          items.push(...page.items);
          startKey = page.lastKey;
        } while (startKey);
        return items;
      }),
    );
    for (const it of pages.flat()) {
      const minute = parseTimeKey(String(it.sk)).at;
      const acc = out.get(minute) ?? emptyCounts();
      for (const f of FIELDS) acc[f] += Number(it[f] ?? 0);
      for (let i = 0; i < BUCKETS; i++) acc.latency[i]! += Number(it[`h${i}`] ?? 0);
      out.set(minute, acc);
    }
    return out;
  }
}
