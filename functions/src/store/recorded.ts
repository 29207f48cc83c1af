import type { Fen } from '../domain/money';
import type { Item } from './db';
import type { SlotRecord } from './claims';

/**
 * Recorded takes: how a counter item of the recorded layout (domain/share-counters.ts) keeps
 * who took its shares, in the same write that takes them. Two attributes, written together:
 *   `ix`   map: account id → position (0-based) of the share it took in the counter's range;
 *   `recs` list, in position order: what the claim records beside it — `t` the claim time (ms),
 *          `h` the claimer's ledger hint, `n` the name shown in the claim list, `v` the forward.
 * The take sets `ix.<account> = claimed` (the value before the update) and appends to `recs` in
 * one UpdateItem conditioned on the account's absence from `ix`, so position p of `recs` is
 * always the record of the account `ix` maps to p, and an account takes at most once per
 * counter. Nothing ever removes an entry.
 *
 * One record costs about 40–70 bytes (the id twice: as the map key, not in the record), so ten
 * of them with the range's amounts keep the counter under 1 KB: every take is 1 WCU.
 */

/** What a claim records about itself on the counter it takes from. */
export interface Taker {
  userId: string;
  /** Shown in the claim list; cut to {@link RECORD_NAME_BYTES} (see {@link recordedName}). */
  name: string;
  atMs: number;
  /** The claimer's newest ledger entry before the claim: where its credit is looked for. */
  seqHint: number;
  via?: string;
}

/**
 * Most UTF-8 bytes of a name kept in a record (four CJK characters): a fallback only — the claim
 * list shows current names, read from profiles — kept short so that ten records with forwards
 * and seven-digit shares still fit a counter in 1 KB.
 */
export const RECORD_NAME_BYTES = 12;

/** `name` cut at a character boundary to at most {@link RECORD_NAME_BYTES} UTF-8 bytes. */
export function recordedName(name: string): string {
  let bytes = 0;
  let out = '';
  for (const ch of name) {
    bytes += Buffer.byteLength(ch, 'utf8');
    if (bytes > RECORD_NAME_BYTES) break;
    out += ch;
  }
  return out;
}

/** The attributes a new counter of the recorded layout starts with. */
export const EMPTY_RECORDS = { ix: {}, recs: [] } as const;

/**
 * The take: the next position of the counter, recorded to `t`, if the counter is open, has
 * room, has not expired and `t`'s account holds none of its shares yet.
 */
export function takeExpression(t: Taker, nowMs: number) {
  const rec: Record<string, unknown> = { t: t.atMs, h: t.seqHint, n: recordedName(t.name) };
  if (t.via) rec.v = t.via;
  return {
    update: 'SET claimed = claimed + :one, ix.#u = claimed, recs = list_append(recs, :rec)',
    expr: {
      condition:
        'attribute_exists(pk) AND attribute_not_exists(closed) AND claimed < #size AND expiresAtMs > :now AND attribute_not_exists(ix.#u)',
      names: { '#u': t.userId, '#size': 'size' },
      values: { ':one': 1, ':now': nowMs, ':rec': [rec] },
    },
  };
}

/** The share counter item `it` records for `userId`, if any, as a slot. */
export function recordOf(it: Item, userId: string): SlotRecord | undefined {
  const pos = (it.ix as Record<string, number> | undefined)?.[userId];
  return pos === undefined ? undefined : slotAt(it, userId, pos);
}

/** Every share counter item `it` records, as slots in index order. */
export function recordsOf(it: Item): SlotRecord[] {
  const ix = (it.ix as Record<string, number> | undefined) ?? {};
  return Object.entries(ix)
    .map(([userId, pos]) => slotAt(it, userId, pos))
    .sort((a, b) => a.index - b.index);
}

/** One entry of a counter's `ix` as stored; `amount` and `atMs` absent when it names no record. */
export interface RecordEntry {
  userId: string;
  /** The position `ix` maps the account to (an integer in [0, size) on a sound counter). */
  pos: number;
  index: number;
  amount?: Fen;
  atMs?: number;
}

/**
 * Every entry of a counter's `ix`, sound or not, in index order — for reconciliation, which must
 * report a position that names no record (out of the range, or past `recs`) rather than stop on
 * it as {@link recordsOf} does. The take never writes such an entry.
 */
export function recordEntriesOf(it: Item): RecordEntry[] {
  const ix = (it.ix as Record<string, number> | undefined) ?? {};
  const recs = (it.recs as Array<Record<string, unknown>> | undefined) ?? [];
  const amounts = (it.amounts as Fen[] | undefined) ?? [];
  const start = it.start as number;
  return Object.entries(ix)
    .map(([userId, pos]) => {
      const e: RecordEntry = { userId, pos, index: start + pos };
      const sound = Number.isSafeInteger(pos) && pos >= 0 && pos < (it.size as number);
      const rec = sound ? recs[pos] : undefined;
      if (rec && amounts[pos] !== undefined) {
        e.amount = amounts[pos];
        e.atMs = rec.t as number;
      }
      return e;
    })
    .sort((a, b) => a.index - b.index);
}

function slotAt(it: Item, userId: string, pos: number): SlotRecord {
  const rec = (it.recs as Array<Record<string, unknown>>)[pos];
  const amount = (it.amounts as Fen[])[pos];
  if (!rec || amount === undefined) throw new Error(`recorded: counter ${String(it.pk)} has no record at ${pos}`);
  const s: SlotRecord = {
    index: (it.start as number) + pos,
    userId,
    name: rec.n as string,
    amount,
    at: new Date(rec.t as number).toISOString(),
    seqHint: rec.h as number,
  };
  if (typeof rec.v === 'string') s.via = rec.v;
  return s;
}
