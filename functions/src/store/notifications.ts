import type { NotificationKind } from '../domain/notifications';
import { Keys } from './keys';
import type { Db, Item } from './db';

/**
 * `pending`: waiting for (another) delivery attempt, in the due index. Final, out of the index:
 * `sent` (WeChat accepted it), `dropped` (nothing to retry: the user has no subscription left
 * — errcode 43101 —, no openid, or the message is switched off), `failed` (given up after the
 * last attempt).
 */
export const NotificationStates = ['pending', 'sent', 'dropped', 'failed'] as const;
export type NotificationState = (typeof NotificationStates)[number];

/** A subscribe message as stored (`NOTE#<id>`): what to send, to whom, and how it went. */
export interface NotificationRecord {
  /** Derived from the event (domain/notifications.ts notificationIdOf): one per event. */
  id: string;
  kind: NotificationKind;
  /** The recipient's account (its openid is looked up at delivery, never stored here). */
  userId: string;
  /** The page the message opens. */
  page: string;
  /** The message's values in the message's field order (formatted when the event happened). */
  values: string[];
  state: NotificationState;
  /** Delivery attempts started so far. */
  attempts: number;
  createdAt: string;
  finishedAt?: string;
  /** Why the last attempt did not send it (an errcode or a transport error's name; no ids). */
  lastError?: string;
}

type Due = { shard: number; at: string };

const FIELDS = [
  'id',
  'kind',
  'userId',
  'page',
  'values',
  'state',
  'attempts',
  'createdAt',
  'finishedAt',
  'lastError',
] as const;

function recordOf(it: Item | undefined): NotificationRecord | undefined {
  if (!it) return undefined;
  const o: Record<string, unknown> = {};
  for (const f of FIELDS) if (it[f] !== undefined) o[f] = it[f];
  return o as unknown as NotificationRecord;
}

const dueValues = (id: string, due: Due) => {
  const k = Keys.due(due.shard, due.at, id);
  return { ':dpk': k.gsi1pk, ':dsk': k.gsi1sk };
};

/**
 * The store port of notifications. Writes are conditional so that of two racing deliverers
 * (the event's own attempt, an overlapping sweeper) only one starts a given attempt.
 */
export interface NotificationStore {
  /** Puts a new record if none has its id; true when this call created it. */
  create(n: NotificationRecord, due: Due): Promise<boolean>;
  get(id: string): Promise<NotificationRecord | undefined>;
  /**
   * Starts attempt `seenAttempts + 1`: only while `pending` with `seenAttempts` attempts, and
   * moves the due entry to `retry` (where the sweeper looks again if this attempt does not end
   * it). The record as it now is, or undefined when someone else started it first.
   */
  startAttempt(id: string, seenAttempts: number, retry: Due): Promise<NotificationRecord | undefined>;
  /** Ends a pending record (`sent`, `dropped`, `failed`), out of the due index; false if it had ended. */
  finish(
    id: string,
    state: Exclude<NotificationState, 'pending'>,
    o: { atIso: string; error?: string },
  ): Promise<boolean>;
  /** Notes why a pending attempt failed (it stays due for the retry). */
  noteError(id: string, error: string): Promise<void>;
}

export class DynamoNotificationStore implements NotificationStore {
  constructor(private readonly db: Db) {}

  async create(n: NotificationRecord, due: Due) {
    return this.db.put(
      { ...Keys.notification(n.id), ...n, ...Keys.due(due.shard, due.at, n.id) },
      { condition: 'attribute_not_exists(pk)' },
    );
  }

  async get(id: string) {
    return recordOf(await this.db.get(Keys.notification(id)));
  }

  async startAttempt(id: string, seenAttempts: number, retry: Due) {
    return recordOf(
      await this.db.update(Keys.notification(id), 'SET attempts = :next, gsi1pk = :dpk, gsi1sk = :dsk', {
        condition: '#s = :pending AND attempts = :seen',
        names: { '#s': 'state' },
        values: { ':next': seenAttempts + 1, ':seen': seenAttempts, ':pending': 'pending', ...dueValues(id, retry) },
      }),
    );
  }

  async finish(id: string, state: Exclude<NotificationState, 'pending'>, o: { atIso: string; error?: string }) {
    const done = await this.db.update(
      Keys.notification(id),
      `SET #s = :s, finishedAt = :at${o.error ? ', lastError = :e' : ''} REMOVE gsi1pk, gsi1sk`,
      {
        condition: '#s = :pending',
        names: { '#s': 'state' },
        values: { ':s': state, ':at': o.atIso, ':pending': 'pending', ...(o.error ? { ':e': o.error } : {}) },
      },
    );
    return done !== undefined;
  }

  async noteError(id: string, error: string) {
    await this.db.update(Keys.notification(id), 'SET lastError = :e', {
      condition: '#s = :pending',
      names: { '#s': 'state' },
      values: { ':e': error, ':pending': 'pending' },
    });
  }
}
