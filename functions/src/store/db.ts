import { randomBytes } from 'node:crypto';
import {
  DescribeTableCommand,
  DynamoDBClient,
  type ConsumedCapacity,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';

/** A stored item: plain attributes, always with pk and sk. */
export type Item = Record<string, unknown> & { pk: string; sk: string };
export type Key = { pk: string; sk: string };

export interface Expr {
  condition?: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
}

export interface QueryInput {
  index?: string;
  /** Key condition, e.g. `pk = :pk AND sk >= :from`. */
  keyCondition: string;
  names?: Record<string, string>;
  values: Record<string, unknown>;
  filter?: string;
  forward?: boolean;
  limit?: number;
  consistent?: boolean;
  startKey?: Record<string, unknown>;
}

export interface QueryPage {
  items: Item[];
  lastKey: Record<string, unknown> | undefined;
}

export interface ScanInput {
  filter?: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
  /** Attributes to return (ProjectionExpression). */
  projection?: string;
  limit?: number;
  /** Parallel scan: this worker's segment of `totalSegments`. */
  segment?: number;
  totalSegments?: number;
  startKey?: Record<string, unknown>;
}

export interface ScanPage extends QueryPage {
  /** Items read by the page (before the filter): what the scan cost. */
  scanned: number;
}

/** Which write a hook sees: used by the crash-point tests and the capacity bench. */
export interface WriteInfo {
  op: 'put' | 'update' | 'batchWrite';
  pk: string;
  capacity?: ConsumedCapacity | undefined;
}

/**
 * Which read a hook sees: used by tests and the bench to measure what a request reads. `items`:
 * how many items came back; `capacity`: the read units, when `returnCapacity` is on.
 */
export interface ReadInfo {
  op: 'get' | 'query' | 'batchGet';
  /** The partition read (a query: its `:pk` value; a batch: its first key's). */
  pk: string;
  items: number;
  capacity?: ConsumedCapacity | undefined;
}

/**
 * The store's only door to DynamoDB: single-item conditional writes, GetItem, BatchGetItem, Query,
 * BatchWriteItem and (reconciliation only) Scan — nothing else (no transactions: dynalite lacks them, and the hot path
 * should not pay their double cost). The health check's DescribeTable is the adapter's own
 * ({@link DynamoDb.ping}): no use case needs it. Conditional-check failures come back as `false`/`undefined`,
 * never as exceptions, so adapters map them to domain results.
 *
 * A conditional write answers for itself even when the SDK retried it after a lost answer (see
 * {@link DynamoDb.put}): a refusal always means the condition failed against someone else's write,
 * never against this call's own first attempt. When that cannot be told, `update` throws
 * {@link WriteOutcomeUnknown} — never a refusal.
 */
export interface Db {
  get(key: Key, consistent?: boolean): Promise<Item | undefined>;
  /** true when written (by this call, whatever the SDK's retries), false when the condition failed. */
  put(item: Item, expr?: Expr): Promise<boolean>;
  /**
   * The updated item (ALL_NEW), or undefined when the condition failed. Throws
   * {@link WriteOutcomeUnknown} when a retried conditional update was refused and the item no
   * longer tells whether the first attempt landed.
   */
  update(key: Key, update: string, expr?: Expr): Promise<Item | undefined>;
  query(input: QueryInput): Promise<QueryPage>;
  /**
   * Several items by key (BatchGetItem, 100 keys per request, retrying unprocessed keys), in no
   * particular order; missing items are simply absent.
   */
  batchGet(keys: readonly Key[], consistent?: boolean): Promise<Item[]>;
  /** Unconditional puts, 25 per request, retrying unprocessed items. */
  batchPut(items: Item[]): Promise<void>;
  /**
   * One page of a table scan. Only reconciliation uses it (a whole-table job, never a request
   * path): its IAM role is the only one allowed dynamodb:Scan.
   */
  scan(input: ScanInput): Promise<ScanPage>;
}

/**
 * A conditional update whose outcome cannot be known: the SDK retried it (the first attempt's
 * answer was lost), the retry was refused, and the item carries another write's token — so the
 * first attempt may have landed and been overwritten since, or never landed. Not a refusal:
 * callers either retry their step (if a second effect is harmless or repaired elsewhere) or
 * fail the request as an internal error.
 */
export class WriteOutcomeUnknown extends Error {
  override readonly name = 'WriteOutcomeUnknown';
  /** `item`: the item as read back after the refused retry (a caller may find its own mark on it). */
  constructor(
    readonly op: 'update',
    readonly item?: Item,
  ) {
    super(`db: the outcome of a retried conditional ${op} is unknown`);
  }
}

/**
 * The attribute that carries the token of the conditional write that last wrote an item (see
 * {@link DynamoDb.put}). Reserved: no store writes an attribute of this name itself.
 */
export const WRITE_TOKEN_ATTRIBUTE = 'wtok';

export interface DynamoDbOptions {
  tableName: string;
  region: string;
  endpoint?: string | undefined;
  /** Called before each write (may throw: crash injection). */
  beforeWrite?: (info: WriteInfo) => void;
  /** Called after each write with its consumed capacity. */
  afterWrite?: (info: WriteInfo) => void;
  /** Called after each GetItem, Query page and BatchGetItem request with what it read. */
  afterRead?: (info: ReadInfo) => void;
  /** Ask DynamoDB for the consumed capacity of writes (and of reads when `afterRead` is set). */
  returnCapacity?: boolean;
}

/**
 * Conditional writes of this process and how many the store refused: the contention figure
 * (metrics and the operator view read the deltas). A Lambda instance serves one request at a
 * time, so the delta over a request is that request's.
 */
export const conditionalWriteStats = { writes: 0, failures: 0 };

function isConditionFailure(err: unknown): boolean {
  return (
    typeof err === 'object' && err !== null && (err as { name?: string }).name === 'ConditionalCheckFailedException'
  );
}

/**
 * How many attempts the SDK made for the call that failed: its retry middleware stamps
 * `$metadata.attempts` on the error it finally throws (1 when the first answer was final).
 */
function attemptsOf(err: unknown): number {
  const n = (err as { $metadata?: { attempts?: unknown } }).$metadata?.attempts;
  return typeof n === 'number' && n > 0 ? n : 1;
}

/** A fresh write token: 72 random bits, 12 characters (small: counter items must stay < 1 KB). */
function writeToken(): string {
  return randomBytes(9).toString('base64url');
}

/** Adds `#wtok = :wtok` to an update expression's SET clause (or adds a SET clause). */
function stampUpdate(update: string): string {
  const set = /(^|\s)SET\s/i.exec(update);
  if (!set) return `${update} SET #wtok = :wtok`;
  const at = set.index + set[0].length;
  return `${update.slice(0, at)}#wtok = :wtok, ${update.slice(at)}`;
}

/**
 * Builds the DynamoDB document client once per process (warm Lambdas reuse it). The SDK retries
 * a request up to 5 times on throttling, 5xx and network errors — including a write whose first
 * attempt landed but whose answer was lost; {@link DynamoDb} accounts for that. `requestHandler`:
 * tests only (a handler that loses answers).
 */
export function createDocumentClient(
  region: string,
  endpoint?: string,
  requestHandler?: DynamoDBClientConfig['requestHandler'],
): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region,
    ...(endpoint
      ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 5 }
      : { maxAttempts: 5 }),
    ...(requestHandler ? { requestHandler } : {}),
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** The DynamoDB adapter of {@link Db}. */
export class DynamoDb implements Db {
  private readonly doc: DynamoDBDocumentClient;
  private readonly t: string;
  private readonly opts: DynamoDbOptions;

  constructor(opts: DynamoDbOptions, doc?: DynamoDBDocumentClient) {
    this.opts = opts;
    this.t = opts.tableName;
    this.doc = doc ?? createDocumentClient(opts.region, opts.endpoint);
  }

  /** A view of the same table with other hooks (tests and bench). */
  withHooks(hooks: Pick<DynamoDbOptions, 'beforeWrite' | 'afterWrite' | 'afterRead' | 'returnCapacity'>): DynamoDb {
    return new DynamoDb({ ...this.opts, ...hooks }, this.doc);
  }

  private cap() {
    return this.opts.returnCapacity ? { ReturnConsumedCapacity: 'INDEXES' as const } : {};
  }

  /** Reads ask for their capacity only when someone listens (no cost on the normal path). */
  private readCap() {
    return this.opts.afterRead ? this.cap() : {};
  }

  async get(key: Key, consistent = true): Promise<Item | undefined> {
    const r = await this.doc.send(
      new GetCommand({ TableName: this.t, Key: key, ConsistentRead: consistent, ...this.readCap() }),
    );
    this.opts.afterRead?.({ op: 'get', pk: key.pk, items: r.Item ? 1 : 0, capacity: r.ConsumedCapacity });
    return r.Item as Item | undefined;
  }

  /**
   * Put, conditional or not. A conditional put is stamped with a fresh write token
   * ({@link WRITE_TOKEN_ATTRIBUTE}) so that it can recognise itself.
   *
   * Timeline of a lost answer (the SDK's own retry, maxAttempts 5):
   *   t0 attempt 1 lands (the item is now ours) — its answer is lost (reset, timeout, 5xx)
   *   t1 the SDK retries the same request: the condition (say attribute_not_exists) now fails
   *      against our own item → ConditionalCheckFailed with `$metadata.attempts` = 2
   * Read as a refusal, that says "someone else holds it" about an item that is ours (a slot
   * taken as voided, a claim marker as a repeat claim, a ledger entry as a lost race). So a
   * condition failure after more than one attempt reads the item back (consistent): carrying our
   * token, it is ours → true. After a single attempt the item was there before us: false, with
   * no read (the normal refusal path stays one request).
   */
  async put(item: Item, expr: Expr = {}): Promise<boolean> {
    const info: WriteInfo = { op: 'put', pk: item.pk };
    this.opts.beforeWrite?.(info);
    const token = expr.condition ? writeToken() : undefined;
    if (token) conditionalWriteStats.writes++;
    try {
      const r = await this.doc.send(
        new PutCommand({
          TableName: this.t,
          Item: token ? { ...item, [WRITE_TOKEN_ATTRIBUTE]: token } : item,
          ConditionExpression: expr.condition,
          ExpressionAttributeNames: expr.names,
          ExpressionAttributeValues: expr.values,
          ...this.cap(),
        }),
      );
      info.capacity = r.ConsumedCapacity;
      this.opts.afterWrite?.(info);
      return true;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const ours =
        attemptsOf(err) > 1 && (await this.get({ pk: item.pk, sk: item.sk }, true))?.[WRITE_TOKEN_ATTRIBUTE] === token;
      if (!ours) conditionalWriteStats.failures++;
      this.opts.afterWrite?.(info);
      return ours;
    }
  }

  /**
   * Update, conditional or not. A conditional update is stamped with a fresh write token and
   * guarded by it: the condition becomes `(condition) AND (our token is not on the item)`.
   *
   * An update is not idempotent (a counter's retried `claimed + 1` takes a second share index),
   * so a lost answer is handled in two halves:
   *   t0 attempt 1 lands: the item now carries our token — its answer is lost
   *   t1 the SDK retries: the guard fails (our token is there) → ConditionalCheckFailed,
   *      attempts > 1 → read back (consistent): our token → this call's write, nobody wrote
   *      since (every conditional write re-stamps), so the item read is our ALL_NEW → return it.
   * If another conditional write landed between t0 and t1 it replaced our token:
   *   - the retry passes its condition → a second effect (for a counter: a second index; the
   *     first is then taken by nobody and the sweeper voids and refunds it at expiry, as after
   *     a crash between a claim's writes) — undetectable here, and harmless by that design;
   *   - the retry is refused and the token is not ours → we cannot tell whether attempt 1
   *     landed: {@link WriteOutcomeUnknown}, never a refusal the caller would misread.
   * Unconditional updates are neither stamped nor guarded (no refusal to misread).
   */
  async update(key: Key, update: string, expr: Expr = {}): Promise<Item | undefined> {
    const info: WriteInfo = { op: 'update', pk: key.pk };
    this.opts.beforeWrite?.(info);
    const token = expr.condition ? writeToken() : undefined;
    if (token) conditionalWriteStats.writes++;
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.t,
          Key: key,
          UpdateExpression: token ? stampUpdate(update) : update,
          ConditionExpression: token
            ? `(${expr.condition}) AND (attribute_not_exists(#wtok) OR #wtok <> :wtok)`
            : expr.condition,
          ExpressionAttributeNames: token ? { ...expr.names, '#wtok': WRITE_TOKEN_ATTRIBUTE } : expr.names,
          ExpressionAttributeValues: token ? { ...expr.values, ':wtok': token } : expr.values,
          ReturnValues: 'ALL_NEW',
          ...this.cap(),
        }),
      );
      info.capacity = r.ConsumedCapacity;
      this.opts.afterWrite?.(info);
      return r.Attributes as Item;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      this.opts.afterWrite?.(info);
      if (attemptsOf(err) === 1) {
        conditionalWriteStats.failures++;
        return undefined;
      }
      const now = await this.get(key, true);
      if (now && now[WRITE_TOKEN_ATTRIBUTE] === token) return now;
      // No item: attempt 1 never landed (an update creates the item, and nothing deletes).
      if (!now) {
        conditionalWriteStats.failures++;
        return undefined;
      }
      throw new WriteOutcomeUnknown('update', now);
    }
  }

  async query(q: QueryInput): Promise<QueryPage> {
    const r = await this.doc.send(
      new QueryCommand({
        TableName: this.t,
        IndexName: q.index,
        KeyConditionExpression: q.keyCondition,
        FilterExpression: q.filter,
        ExpressionAttributeNames: q.names,
        ExpressionAttributeValues: q.values,
        ScanIndexForward: q.forward ?? true,
        Limit: q.limit,
        ConsistentRead: q.index ? false : (q.consistent ?? true),
        ExclusiveStartKey: q.startKey,
        ...this.readCap(),
      }),
    );
    this.opts.afterRead?.({
      op: 'query',
      pk: String(q.values[':pk'] ?? ''),
      items: r.Items?.length ?? 0,
      capacity: r.ConsumedCapacity,
    });
    return { items: (r.Items ?? []) as Item[], lastKey: r.LastEvaluatedKey };
  }

  async scan(q: ScanInput): Promise<ScanPage> {
    const r = await this.doc.send(
      new ScanCommand({
        TableName: this.t,
        FilterExpression: q.filter,
        ExpressionAttributeNames: q.names,
        ExpressionAttributeValues: q.values,
        ProjectionExpression: q.projection,
        Limit: q.limit,
        Segment: q.segment,
        TotalSegments: q.totalSegments,
        ExclusiveStartKey: q.startKey,
      }),
    );
    return { items: (r.Items ?? []) as Item[], lastKey: r.LastEvaluatedKey, scanned: r.ScannedCount ?? 0 };
  }

  async batchGet(keys: readonly Key[], consistent = true): Promise<Item[]> {
    const out: Item[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      let pending: Array<Record<string, unknown>> = keys.slice(i, i + 100).map((k) => ({ pk: k.pk, sk: k.sk }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 8) throw new StoreBusy('batchGet: unprocessed keys after retries');
        const r = await this.doc.send(
          new BatchGetCommand({
            RequestItems: { [this.t]: { Keys: pending, ConsistentRead: consistent } },
            ...this.readCap(),
          }),
        );
        const got = (r.Responses?.[this.t] ?? []) as Item[];
        this.opts.afterRead?.({
          op: 'batchGet',
          pk: String(pending[0]?.pk ?? ''),
          items: got.length,
          capacity: r.ConsumedCapacity?.[0],
        });
        out.push(...got);
        pending = r.UnprocessedKeys?.[this.t]?.Keys ?? [];
        if (pending.length) await new Promise((res) => setTimeout(res, 20 * 2 ** attempt));
      }
    }
    return out;
  }

  /**
   * The health check: one DescribeTable of this table. A single attempt (the SDK's retries are
   * taken off this one call: a health check must answer fast, and its caller asks again),
   * aborted after `timeoutMs`. `ready` when the table takes requests (ACTIVE, or UPDATING),
   * `not-ready` in any other state; {@link StoreUnavailable} when the store does not answer in
   * time, cannot be reached or refuses the call (a missing table or right included).
   */
  async ping(timeoutMs: number): Promise<'ready' | 'not-ready'> {
    const command = new DescribeTableCommand({ TableName: this.t });
    // A pass-through under the retry middleware's name replaces the client's one for this command only.
    command.middlewareStack.add((next) => next, {
      name: 'retryMiddleware',
      step: 'finalizeRequest',
      priority: 'high',
      override: true,
    });
    let status: string | undefined;
    try {
      // The document client sends plain DynamoDB commands through the same client and middleware.
      const out = await (this.doc as unknown as DynamoDBClient).send(command, {
        abortSignal: AbortSignal.timeout(timeoutMs),
      });
      status = out.Table?.TableStatus;
    } catch (err) {
      throw new StoreUnavailable(`ping: the store did not answer (${err instanceof Error ? err.name : 'error'})`, {
        cause: err,
      });
    }
    return status === 'ACTIVE' || status === 'UPDATING' ? 'ready' : 'not-ready';
  }

  async batchPut(items: Item[]): Promise<void> {
    for (let i = 0; i < items.length; i += 25) {
      const chunk = items.slice(i, i + 25);
      for (const it of chunk) this.opts.beforeWrite?.({ op: 'batchWrite', pk: it.pk });
      let requests = chunk.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt > 8) throw new StoreBusy('batchPut: unprocessed items after retries');
        const r = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.t]: requests } }));
        requests = (r.UnprocessedItems?.[this.t] ?? []) as typeof requests;
        if (requests.length) await new Promise((res) => setTimeout(res, 20 * 2 ** attempt));
      }
      for (const it of chunk) this.opts.afterWrite?.({ op: 'batchWrite', pk: it.pk });
    }
  }
}

/** The table kept refusing part of a batch for capacity (unprocessed items after the door's own retries). */
export class StoreBusy extends Error {
  override readonly name = 'StoreBusy';
}

/** The store did not answer the health check's ping (see {@link DynamoDb.ping}); `cause` says why. */
export class StoreUnavailable extends Error {
  override readonly name = 'StoreUnavailable';
}

/** SDK errors that say the table is busy (throttling), not that the request was wrong. */
const THROTTLED = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'TransactionInProgressException',
]);
/** Transport failures: the connection broke or timed out. */
const NETWORK = /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|ENOTFOUND|socket hang up|TimeoutError|timed? ?out/i;

/**
 * Whether `err` means the store could not be reached or could not answer in time — after the
 * SDK's own retries (5 attempts) — rather than a bug: throttling, a server-side fault, a broken
 * or timed-out connection, a batch the table kept refusing, or a write whose outcome is unknown.
 * Such a request changed nothing it cannot repair on a retry (every use case is retry-safe), so
 * the HTTP wrapper answers 503 UNAVAILABLE with Retry-After instead of a 500. A client fault
 * (a malformed request: our bug) is not one of these.
 */
export function isStoreUnavailable(err: unknown): boolean {
  if (err instanceof WriteOutcomeUnknown || err instanceof StoreBusy || err instanceof StoreUnavailable) return true;
  if (!(err instanceof Error)) return false;
  const e = err as Error & { $fault?: string; $metadata?: unknown; code?: unknown; $retryable?: unknown };
  if (e.$metadata === undefined && e.code === undefined) return false;
  if (THROTTLED.has(e.name)) return true;
  if (e.$fault === 'server') return true;
  return NETWORK.test(`${e.name} ${String(e.code ?? '')} ${e.message}`);
}

/** Every page of a query, through any {@link Db}. */
export async function queryAll(db: Db, q: QueryInput): Promise<Item[]> {
  const out: Item[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.query({ ...q, startKey });
    out.push(...page.items);
    startKey = page.lastKey;
  } while (startKey);
  return out;
}
