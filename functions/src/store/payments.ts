import type { Fen } from '../domain/money';
import { Keys } from './keys';
import type { Db, Item } from './db';

/** `pending`: an order may be open at WeChat Pay. `paid`: WeChat said SUCCESS (money is in). `closed`: the order is closed unpaid. */
export const PaymentStates = { pending: 'pending', paid: 'paid', closed: 'closed' } as const;
export type PaymentRecordState = (typeof PaymentStates)[keyof typeof PaymentStates];

/** What a payment pays for: a top-up of the balance, or one packet paid directly. */
export type PaymentPurpose = 'topup' | 'packet';

/** A WeChat Pay payment (JSAPI order) as stored (`PAY#<id>`); its id is the order's out_trade_no. */
export interface PaymentRecord {
  id: string;
  userId: string;
  purpose: PaymentPurpose;
  /** The packet it pays (purpose `packet`). */
  packetId?: string;
  /** What the payer pays, fen (a packet: its total plus the fee). */
  amount: Fen;
  state: PaymentRecordState;
  createdAt: string;
  /** The payer's ledger seq before the record was written (the credit's hint). */
  hint: number;
  /** WeChat's prepay id, once the order is created. */
  prepayId?: string;
  transactionId?: string;
  paidAt?: string;
  closedAt?: string;
  /** Everything the payment's state implies is done (credit, activation or cancel): out of the due index. */
  settled?: boolean;
}

type Due = { shard: number; at: string };

const FIELDS = [
  'id',
  'userId',
  'purpose',
  'packetId',
  'amount',
  'state',
  'createdAt',
  'hint',
  'prepayId',
  'transactionId',
  'paidAt',
  'closedAt',
  'settled',
] as const;

function recordOf(it: Item | undefined): PaymentRecord | undefined {
  if (!it) return undefined;
  const o: Record<string, unknown> = {};
  for (const f of FIELDS) if (it[f] !== undefined) o[f] = it[f];
  return o as unknown as PaymentRecord;
}

/**
 * The store port of payments. State changes are conditional, so of two racing deciders (the
 * notification, the sweeper's query, a read's query) exactly one writes `paid` or `closed`;
 * the other gets `undefined` and reads what won. A record stays in the due index until it is
 * settled, so a crash between the decision and its consequences is finished by the sweeper.
 */
export interface PaymentStore {
  /** Puts a new record (pending, due); an existing one with the same id is returned instead. */
  create(p: PaymentRecord, due: Due): Promise<PaymentRecord>;
  get(id: string): Promise<PaymentRecord | undefined>;
  /** Keeps the order's prepay id; only while pending. */
  savePrepay(id: string, prepayId: string): Promise<PaymentRecord | undefined>;
  /**
   * WeChat says SUCCESS: `paid`, once. Also from `closed` — a payment that beat our close is
   * still money in, and it wins. Puts it back in the due index (`due`) until settled.
   */
  markPaid(id: string, o: { atIso: string; transactionId?: string }, due: Due): Promise<PaymentRecord | undefined>;
  /** The order is closed unpaid; only while pending. Stays due until {@link settle}. */
  markClosed(id: string, atIso: string): Promise<PaymentRecord | undefined>;
  /** Moves a pending payment to `due` (the next query). */
  reschedule(id: string, due: Due): Promise<void>;
  /** Everything is done: out of the due index. */
  settle(id: string): Promise<void>;
}

export class DynamoPaymentStore implements PaymentStore {
  constructor(private readonly db: Db) {}

  async create(p: PaymentRecord, due: Due) {
    const ok = await this.db.put(
      { ...Keys.payment(p.id), ...p, ...Keys.due(due.shard, due.at, p.id) },
      { condition: 'attribute_not_exists(pk)' },
    );
    return ok ? p : (await this.get(p.id))!;
  }

  async get(id: string) {
    return recordOf(await this.db.get(Keys.payment(id)));
  }

  async savePrepay(id: string, prepayId: string) {
    return recordOf(
      await this.db.update(Keys.payment(id), 'SET prepayId = :pp', {
        condition: '#s = :pending',
        names: { '#s': 'state' },
        values: { ':pp': prepayId, ':pending': 'pending' },
      }),
    );
  }

  async markPaid(id: string, o: { atIso: string; transactionId?: string }, due: Due) {
    const k = Keys.due(due.shard, due.at, id);
    return recordOf(
      await this.db.update(
        Keys.payment(id),
        `SET #s = :paid, paidAt = :at, gsi1pk = :dpk, gsi1sk = :dsk${o.transactionId ? ', transactionId = :tx' : ''} REMOVE settled`,
        {
          condition: '#s IN (:pending, :closed)',
          names: { '#s': 'state' },
          values: {
            ':paid': 'paid',
            ':at': o.atIso,
            ':pending': 'pending',
            ':closed': 'closed',
            ':dpk': k.gsi1pk,
            ':dsk': k.gsi1sk,
            ...(o.transactionId ? { ':tx': o.transactionId } : {}),
          },
        },
      ),
    );
  }

  async markClosed(id: string, atIso: string) {
    return recordOf(
      await this.db.update(Keys.payment(id), 'SET #s = :closed, closedAt = :at', {
        condition: '#s = :pending',
        names: { '#s': 'state' },
        values: { ':closed': 'closed', ':at': atIso, ':pending': 'pending' },
      }),
    );
  }

  async reschedule(id: string, due: Due) {
    const k = Keys.due(due.shard, due.at, id);
    await this.db.update(Keys.payment(id), 'SET gsi1pk = :dpk, gsi1sk = :dsk', {
      condition: '#s = :pending',
      names: { '#s': 'state' },
      values: { ':dpk': k.gsi1pk, ':dsk': k.gsi1sk, ':pending': 'pending' },
    });
  }

  async settle(id: string) {
    await this.db.update(Keys.payment(id), 'SET settled = :t REMOVE gsi1pk, gsi1sk', {
      condition: '#s IN (:paid, :closed)',
      names: { '#s': 'state' },
      values: { ':t': true, ':paid': 'paid', ':closed': 'closed' },
    });
  }
}
