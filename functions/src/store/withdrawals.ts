import type { Fen } from '../domain/money';
import { OPEN_WITHDRAWAL_STATES, type FinalWithdrawalState, type WithdrawalState } from '../domain/withdrawals';
import { Indexes, Keys } from './keys';
import type { Db, Item } from './db';
import { pageCursorOf, startKeyOf } from './page-cursor';

/** A withdrawal as stored (`WD#<id>`). */
export interface WithdrawalRecord {
  id: string;
  userId: string;
  /** What the user receives, fen. */
  amount: Fen;
  /** Held on top of `amount`; kept by the platform on success. */
  fee: Fen;
  state: WithdrawalState;
  /** The hold went back to the balance (failed or canceled withdrawals only). */
  returned: boolean;
  createdAt: string;
  /** The account's ledger seq before the record was written (no entry of this withdrawal is at or below it). */
  hint: number;
  /** The fee account's seq, likewise (the fee credit on success). */
  feeHint: number;
  /** When a create of the bill was last sent; absent: never sent. */
  billAt?: string;
  /** `package_info` of the bill while the user has to confirm. */
  packageInfo?: string;
  transferBillNo?: string;
  failReason?: string;
  finishedAt?: string;
}

type Due = { shard: number; at: string };

const FIELDS = [
  'id',
  'userId',
  'amount',
  'fee',
  'state',
  'returned',
  'createdAt',
  'hint',
  'feeHint',
  'billAt',
  'packageInfo',
  'transferBillNo',
  'failReason',
  'finishedAt',
] as const;

function recordOf(it: Item | undefined): WithdrawalRecord | undefined {
  if (!it) return undefined;
  const o: Record<string, unknown> = {};
  for (const f of FIELDS) if (it[f] !== undefined) o[f] = it[f];
  return o as unknown as WithdrawalRecord;
}

const OPEN = Object.fromEntries(OPEN_WITHDRAWAL_STATES.map((s, i) => [`:open${i}`, s]));
const OPEN_CONDITION = `#s IN (${Object.keys(OPEN).join(', ')})`;

/**
 * The store port of withdrawals. Every state change is conditional on the record still being
 * open, so of two racing deciders (the notification, the sweeper, a request's retry) exactly one
 * sets the final state; the loser gets `undefined` and reads what won.
 */
export interface WithdrawalStore {
  /** Puts a new record (pending, due); an existing one with the same id is returned instead. */
  create(w: WithdrawalRecord, due: Due): Promise<WithdrawalRecord>;
  get(id: string): Promise<WithdrawalRecord | undefined>;
  /**
   * A user's withdrawals, newest first: after the cursor `after` (the last page's `next`;
   * another user's is VALIDATION_FAILED). `next` is absent on the last page.
   */
  list(userId: string, limit: number, after?: string): Promise<{ items: WithdrawalRecord[]; next?: string }>;
  /** Notes a create about to be sent; only while `pending` (a given-up withdrawal never gets a bill). */
  markBillAttempt(id: string, atIso: string): Promise<WithdrawalRecord | undefined>;
  /** Records an open bill's state (and package) and when to look again; only while open. */
  saveBill(
    id: string,
    bill: { state: 'wait_user_confirm' | 'processing'; packageInfo?: string; transferBillNo?: string },
    due: Due,
  ): Promise<WithdrawalRecord | undefined>;
  /** Moves an open withdrawal to `due` (the next poll). */
  reschedule(id: string, due: Due): Promise<void>;
  /**
   * Sets the final state once. `settled`: nothing left to do (success, or nothing was held) →
   * leaves the due index; otherwise it stays due until {@link markReturned}. `onlyIfBillAt`:
   * also requires that no create was sent since the caller looked (`null`: none ever).
   */
  finish(
    id: string,
    state: FinalWithdrawalState,
    o: { atIso: string; settled: boolean; failReason?: string; transferBillNo?: string; onlyIfBillAt?: string | null },
  ): Promise<WithdrawalRecord | undefined>;
  /** The hold is back on the balance: `returned`, out of the due index. */
  markReturned(id: string): Promise<void>;
  /** A final withdrawal with nothing left to do leaves the due index. */
  settle(id: string): Promise<void>;
}

export class DynamoWithdrawalStore implements WithdrawalStore {
  constructor(private readonly db: Db) {}

  async create(w: WithdrawalRecord, due: Due) {
    const ok = await this.db.put(
      {
        ...Keys.withdrawal(w.id),
        ...w,
        ...Keys.due(due.shard, due.at, w.id),
        ...Keys.withdrawalsOf(w.userId, w.createdAt, w.id),
      },
      { condition: 'attribute_not_exists(pk)' },
    );
    return ok ? w : (await this.get(w.id))!;
  }

  async get(id: string) {
    return recordOf(await this.db.get(Keys.withdrawal(id)));
  }

  async list(userId: string, limit: number, after?: string) {
    const startKey = startKeyOf(after, { gsi2pk: Keys.withdrawalsPk(userId) });
    const page = await this.db.query({
      index: Indexes.byUser,
      keyCondition: 'gsi2pk = :pk',
      values: { ':pk': Keys.withdrawalsPk(userId) },
      forward: false,
      limit,
      ...(startKey ? { startKey } : {}),
    });
    // The index is KEYS_ONLY: read the records (consistently: states change).
    const items = await this.db.batchGet(page.items.map((k) => ({ pk: k.pk, sk: k.sk })));
    const byPk = new Map(items.map((it) => [it.pk, it]));
    const next = pageCursorOf(page.lastKey);
    return {
      items: page.items.map((k) => recordOf(byPk.get(k.pk))).filter((w): w is WithdrawalRecord => !!w),
      ...(next ? { next } : {}),
    };
  }

  async markBillAttempt(id: string, atIso: string) {
    return recordOf(
      await this.db.update(Keys.withdrawal(id), 'SET billAt = :at', {
        condition: '#s = :pending',
        names: { '#s': 'state' },
        values: { ':at': atIso, ':pending': 'pending' },
      }),
    );
  }

  async saveBill(
    id: string,
    bill: { state: 'wait_user_confirm' | 'processing'; packageInfo?: string; transferBillNo?: string },
    due: Due,
  ) {
    const sets = ['#s = :s', 'gsi1pk = :dpk', 'gsi1sk = :dsk'];
    const values: Record<string, unknown> = {
      ':s': bill.state,
      ...OPEN,
      ...(() => {
        const k = Keys.due(due.shard, due.at, id);
        return { ':dpk': k.gsi1pk, ':dsk': k.gsi1sk };
      })(),
    };
    if (bill.packageInfo) {
      sets.push('packageInfo = :pkg');
      values[':pkg'] = bill.packageInfo;
    }
    if (bill.transferBillNo) {
      sets.push('transferBillNo = :tb');
      values[':tb'] = bill.transferBillNo;
    }
    return recordOf(
      await this.db.update(Keys.withdrawal(id), `SET ${sets.join(', ')}`, {
        condition: OPEN_CONDITION,
        names: { '#s': 'state' },
        values,
      }),
    );
  }

  async reschedule(id: string, due: Due) {
    const k = Keys.due(due.shard, due.at, id);
    await this.db.update(Keys.withdrawal(id), 'SET gsi1pk = :dpk, gsi1sk = :dsk', {
      condition: OPEN_CONDITION,
      names: { '#s': 'state' },
      values: { ':dpk': k.gsi1pk, ':dsk': k.gsi1sk, ...OPEN },
    });
  }

  async finish(
    id: string,
    state: FinalWithdrawalState,
    o: { atIso: string; settled: boolean; failReason?: string; transferBillNo?: string; onlyIfBillAt?: string | null },
  ) {
    const sets = ['#s = :s', 'finishedAt = :at'];
    const values: Record<string, unknown> = { ':s': state, ':at': o.atIso, ...OPEN };
    if (o.failReason) {
      sets.push('failReason = :fr');
      values[':fr'] = o.failReason;
    }
    if (o.transferBillNo) {
      sets.push('transferBillNo = :tb');
      values[':tb'] = o.transferBillNo;
    }
    let condition = OPEN_CONDITION;
    if (o.onlyIfBillAt === null) condition += ' AND attribute_not_exists(billAt)';
    else if (o.onlyIfBillAt !== undefined) {
      condition += ' AND billAt = :seenBillAt';
      values[':seenBillAt'] = o.onlyIfBillAt;
    }
    return recordOf(
      await this.db.update(
        Keys.withdrawal(id),
        `SET ${sets.join(', ')} REMOVE packageInfo${o.settled ? ', gsi1pk, gsi1sk' : ''}`,
        {
          condition,
          names: { '#s': 'state' },
          values,
        },
      ),
    );
  }

  async markReturned(id: string) {
    await this.db.update(Keys.withdrawal(id), 'SET returned = :t REMOVE gsi1pk, gsi1sk', {
      condition: '#s IN (:failed, :canceled)',
      names: { '#s': 'state' },
      values: { ':t': true, ':failed': 'failed', ':canceled': 'canceled' },
    });
  }

  async settle(id: string) {
    await this.db.update(Keys.withdrawal(id), 'REMOVE gsi1pk, gsi1sk');
  }
}
