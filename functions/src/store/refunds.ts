import { dayKeyUtc8, type Fen } from '../domain/money';
import { Keys, OpsKeys } from './keys';
import type { Db, Item } from './db';

/**
 * `requested`: the money left the packet for WeChat Pay (in transit), no final answer yet.
 * `processing`: WeChat accepted the refund and is paying it. `success`: WeChat paid it back
 * (the money left the platform). `failed`: WeChat could not (ABNORMAL, CLOSED, or the create
 * was refused and no refund exists): the amount goes to the sender's balance instead.
 */
export const RefundStates = {
  requested: 'requested',
  processing: 'processing',
  success: 'success',
  failed: 'failed',
} as const;
export type RefundState = (typeof RefundStates)[keyof typeof RefundStates];
export const OPEN_REFUND_STATES: readonly RefundState[] = ['requested', 'processing'];

/** A packet's remainder refunded to the original payment (`RFD#<out_refund_no>`). */
export interface RefundRecord {
  /** The out_refund_no, derived from the packet. */
  id: string;
  packetId: string;
  /** The sender (the payer), whose balance takes a refund WeChat cannot make. */
  userId: string;
  /** The payment refunded (its out_trade_no). */
  paymentId: string;
  /** What goes back, fen: the packet's unclaimed remainder. */
  amount: Fen;
  /** The order's total, fen (the packet's total plus its fee). */
  orderTotal: Fen;
  state: RefundState;
  /** The settlement's time: the money left the packet's escrow then. */
  createdAt: string;
  /** The sender's ledger seq before settlement (the fallback credit's hint). */
  hint: number;
  refundId?: string;
  finishedAt?: string;
  failReason?: string;
  /** A failed refund's amount is back on the sender's balance. */
  returned?: boolean;
}

type Due = { shard: number; at: string };

const FIELDS = [
  'id',
  'packetId',
  'userId',
  'paymentId',
  'amount',
  'orderTotal',
  'state',
  'createdAt',
  'hint',
  'refundId',
  'finishedAt',
  'failReason',
  'returned',
] as const;

function recordOf(it: Item | undefined): RefundRecord | undefined {
  if (!it) return undefined;
  const o: Record<string, unknown> = {};
  for (const f of FIELDS) if (it[f] !== undefined) o[f] = it[f];
  return o as unknown as RefundRecord;
}

const OPEN = { ':requested': 'requested', ':processing': 'processing' };
const OPEN_CONDITION = '#s IN (:requested, :processing)';

/**
 * The store port of refunds. Final states are set by conditional writes, so of two racing
 * deciders (the notification, the sweeper's query, settlement's own create) exactly one sets
 * it; the loser gets `undefined` and reads what won. A record stays due until nothing is left
 * to do (success, or a failure whose amount is back on the balance).
 */
export interface RefundStore {
  /** Puts a new record (requested, due); an existing one with the same id is returned instead. */
  create(r: RefundRecord, due: Due): Promise<RefundRecord>;
  get(id: string): Promise<RefundRecord | undefined>;
  /** WeChat is paying it (PROCESSING): keeps its refund id and the next check; only while open. */
  markProcessing(id: string, refundId: string | undefined, due: Due): Promise<RefundRecord | undefined>;
  /** Moves an open refund to `due`. */
  reschedule(id: string, due: Due): Promise<void>;
  /** The final state, once. `success` leaves the due index; `failed` stays due until {@link markReturned}. */
  finish(
    id: string,
    state: 'success' | 'failed',
    o: { atIso: string; refundId?: string; failReason?: string },
  ): Promise<RefundRecord | undefined>;
  /** A failed refund's amount is on the balance: `returned`, out of the due index. */
  markReturned(id: string): Promise<void>;
  /** A success with nothing left to do leaves the due index. */
  settle(id: string): Promise<void>;
  /** An ops event about a refund (one per refund and type: the key is derived from them). */
  putOpsEvent(e: {
    type: 'refund_fallback';
    id: string;
    packetId: string;
    detail: string;
    atIso: string;
  }): Promise<void>;
}

/** How long ops events are kept (as reconciliation's). */
const RETENTION_S = 1_096 * 86_400;

export class DynamoRefundStore implements RefundStore {
  constructor(private readonly db: Db) {}

  async create(r: RefundRecord, due: Due) {
    const ok = await this.db.put(
      { ...Keys.refund(r.id), ...r, ...Keys.due(due.shard, due.at, r.id) },
      { condition: 'attribute_not_exists(pk)' },
    );
    return ok ? r : (await this.get(r.id))!;
  }

  async get(id: string) {
    return recordOf(await this.db.get(Keys.refund(id)));
  }

  async markProcessing(id: string, refundId: string | undefined, due: Due) {
    const k = Keys.due(due.shard, due.at, id);
    return recordOf(
      await this.db.update(
        Keys.refund(id),
        `SET #s = :p, gsi1pk = :dpk, gsi1sk = :dsk${refundId ? ', refundId = :rid' : ''}`,
        {
          condition: OPEN_CONDITION,
          names: { '#s': 'state' },
          values: {
            ':p': 'processing',
            ':dpk': k.gsi1pk,
            ':dsk': k.gsi1sk,
            ...OPEN,
            ...(refundId ? { ':rid': refundId } : {}),
          },
        },
      ),
    );
  }

  async reschedule(id: string, due: Due) {
    const k = Keys.due(due.shard, due.at, id);
    await this.db.update(Keys.refund(id), 'SET gsi1pk = :dpk, gsi1sk = :dsk', {
      condition: OPEN_CONDITION,
      names: { '#s': 'state' },
      values: { ':dpk': k.gsi1pk, ':dsk': k.gsi1sk, ...OPEN },
    });
  }

  async finish(id: string, state: 'success' | 'failed', o: { atIso: string; refundId?: string; failReason?: string }) {
    const sets = ['#s = :s', 'finishedAt = :at'];
    const values: Record<string, unknown> = { ':s': state, ':at': o.atIso, ...OPEN };
    if (o.refundId) {
      sets.push('refundId = :rid');
      values[':rid'] = o.refundId;
    }
    if (o.failReason) {
      sets.push('failReason = :fr');
      values[':fr'] = o.failReason;
    }
    return recordOf(
      await this.db.update(
        Keys.refund(id),
        `SET ${sets.join(', ')}${state === 'success' ? ' REMOVE gsi1pk, gsi1sk' : ''}`,
        {
          condition: OPEN_CONDITION,
          names: { '#s': 'state' },
          values,
        },
      ),
    );
  }

  async markReturned(id: string) {
    await this.db.update(Keys.refund(id), 'SET returned = :t REMOVE gsi1pk, gsi1sk', {
      condition: '#s = :failed',
      names: { '#s': 'state' },
      values: { ':t': true, ':failed': 'failed' },
    });
  }

  async settle(id: string) {
    await this.db.update(Keys.refund(id), 'REMOVE gsi1pk, gsi1sk', {
      condition: '#s = :success',
      names: { '#s': 'state' },
      values: { ':success': 'success' },
    });
  }

  async putOpsEvent(e: { type: 'refund_fallback'; id: string; packetId: string; detail: string; atIso: string }) {
    const day = dayKeyUtc8(Date.parse(e.atIso));
    await this.db.put(
      {
        pk: OpsKeys.eventPk(day),
        sk: OpsKeys.eventSk(e.atIso, `${e.type}-${e.id}`),
        type: e.type,
        kind: e.type,
        id: e.id,
        packetId: e.packetId,
        detail: e.detail,
        expiresAt: Math.ceil(Date.parse(e.atIso) / 1000) + RETENTION_S,
      },
      { condition: 'attribute_not_exists(pk)' },
    );
  }
}
