import type { Fen } from '../domain/money';
import { Keys } from './keys';
import type { Db, Item } from './db';

/** `pending`: recorded, money may be in flight. `done`: debited and credited. `canceled`: nothing moved. */
export const TransferStates = { pending: 'pending', done: 'done', canceled: 'canceled' } as const;
export type TransferState = (typeof TransferStates)[keyof typeof TransferStates];

export interface TransferRecord {
  id: string;
  fromId: string;
  toId: string;
  toName: string;
  amount: Fen;
  note: string;
  state: TransferState;
  at: string;
  fromHint: number;
  toHint: number;
}

export interface TopupRecord {
  id: string;
  userId: string;
  amount: Fen;
  state: TransferState;
  at: string;
  hint: number;
  providerRef?: string;
}

type Due = { shard: number; at: string };

function pick<T>(it: Item | undefined, fields: readonly string[]): T | undefined {
  if (!it) return undefined;
  const o: Record<string, unknown> = {};
  for (const f of fields) if (it[f] !== undefined) o[f] = it[f];
  return o as T;
}
const TRANSFER_FIELDS = [
  'id',
  'fromId',
  'toId',
  'toName',
  'amount',
  'note',
  'state',
  'at',
  'fromHint',
  'toHint',
] as const;
const TOPUP_FIELDS = ['id', 'userId', 'amount', 'state', 'at', 'hint', 'providerRef'] as const;

/** The store port of money movements that are not packets: transfers and top-ups. */
export interface MovementStore {
  createTransfer(t: TransferRecord, due: Due): Promise<TransferRecord>;
  transfer(id: string): Promise<TransferRecord | undefined>;
  setTransferState(id: string, state: TransferState): Promise<void>;
  createTopup(t: TopupRecord, due: Due): Promise<TopupRecord>;
  topup(id: string): Promise<TopupRecord | undefined>;
  setTopupState(id: string, state: TransferState, providerRef?: string): Promise<void>;
}

export class DynamoMovementStore implements MovementStore {
  constructor(private readonly db: Db) {}

  async createTransfer(t: TransferRecord, due: Due) {
    const ok = await this.db.put(
      { ...Keys.transfer(t.id), ...t, ...Keys.due(due.shard, due.at, t.id) },
      { condition: 'attribute_not_exists(pk)' },
    );
    return ok ? t : (await this.transfer(t.id))!;
  }

  async transfer(id: string) {
    return pick<TransferRecord>(await this.db.get(Keys.transfer(id)), TRANSFER_FIELDS);
  }

  /**
   * Final states leave the due index. `canceled` only replaces `pending` (a sweeper that found
   * no debit must not overwrite a `done` written meanwhile); `done` always wins.
   */
  async setTransferState(id: string, state: TransferState) {
    await this.db.update(Keys.transfer(id), `SET #s = :s${state === 'pending' ? '' : ' REMOVE gsi1pk, gsi1sk'}`, {
      names: { '#s': 'state' },
      values: { ':s': state, ...(state === 'canceled' ? { ':pending': 'pending' } : {}) },
      ...(state === 'canceled' ? { condition: '#s = :pending' } : {}),
    });
  }

  async createTopup(t: TopupRecord, due: Due) {
    const ok = await this.db.put(
      { ...Keys.topup(t.id), ...t, ...Keys.due(due.shard, due.at, t.id) },
      { condition: 'attribute_not_exists(pk)' },
    );
    return ok ? t : (await this.topup(t.id))!;
  }

  async topup(id: string) {
    return pick<TopupRecord>(await this.db.get(Keys.topup(id)), TOPUP_FIELDS);
  }

  async setTopupState(id: string, state: TransferState, providerRef?: string) {
    await this.db.update(
      Keys.topup(id),
      `SET #s = :s${providerRef ? ', providerRef = :ref' : ''}${state === 'pending' ? '' : ' REMOVE gsi1pk, gsi1sk'}`,
      {
        names: { '#s': 'state' },
        values: {
          ':s': state,
          ...(providerRef ? { ':ref': providerRef } : {}),
          ...(state === 'canceled' ? { ':pending': 'pending' } : {}),
        },
        ...(state === 'canceled' ? { condition: '#s = :pending' } : {}),
      },
    );
  }
}
