/**
 * A store whose writes land but whose answers get lost: the real store (dynalite through the
 * real AWS SDK and the production client settings of `createDocumentClient`, maxAttempts 5),
 * with a request handler that forwards every request to dynalite and then, for the writes it
 * is told to, throws a retryable network error (ECONNRESET) instead of returning the answer.
 * The SDK retries on its own, exactly as after a connection reset on AWS: the retry meets the
 * item its own first attempt wrote.
 */
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { HttpHandlerOptions, HttpResponse } from '@smithy/types';
import { loadConfig } from '../../functions/src/config';
import { buildDeps, type Deps } from '../../functions/src/app/deps';
import { createDocumentClient, DynamoDb } from '../../functions/src/store/db';
import type { ShareLayout } from '../../functions/src/domain/share-counters';
import type { Clock } from './app';

/** A request the handler saw (after dynalite answered it). */
export interface SeenRequest {
  /** DynamoDB operation, e.g. `PutItem`, `UpdateItem`, `GetItem`. */
  op: string;
  /** The item's key (single-item operations only). */
  pk?: string;
  sk?: string;
  /** UpdateItem's expression. */
  update?: string;
  /** dynalite's HTTP status (200, or 400 for a failed condition). */
  status: number;
}

export interface LossRule {
  match: (r: SeenRequest) => boolean;
  /** The request is lost on its way instead (it never reaches the store): a pure retry. */
  beforeLanding?: boolean;
  /** Runs after the write landed and before its answer is lost (e.g. another writer's write). */
  meanwhile?: () => Promise<void>;
}

const WRITES = new Set(['PutItem', 'UpdateItem']);

type HttpRequest = Parameters<NodeHttpHandler['handle']>[0];

function header(req: HttpRequest, name: string): string {
  for (const [k, v] of Object.entries(req.headers)) if (k.toLowerCase() === name) return String(v);
  return '';
}

async function drain(body: unknown): Promise<void> {
  const stream = body as AsyncIterable<unknown> | undefined;
  if (!stream || typeof stream[Symbol.asyncIterator] !== 'function') return;
  for await (const _chunk of stream) {
    // Read to the end so the connection goes back to the pool.
  }
}

/** The request handler: forwards to dynalite, then loses the answers it is told to. */
export class LossyHandler {
  private readonly inner = new NodeHttpHandler();
  private readonly once: LossRule[] = [];
  private random: { rate: number; next: () => number; match: (r: SeenRequest) => boolean } | undefined;
  /** Every request seen, in order (after dynalite answered it). */
  readonly seen: SeenRequest[] = [];
  /** The writes whose answers were lost. */
  readonly lost: SeenRequest[] = [];

  /** The next write matching `rule` lands, and its answer is lost (once). */
  loseNext(rule: LossRule): void {
    this.once.push(rule);
  }

  /** From now on, each write matching `match` loses its answer with probability `rate` (`next()` in [0, 1)). */
  loseAtRandom(rate: number, next: () => number, match: (r: SeenRequest) => boolean): void {
    this.random = { rate, next, match };
  }

  stop(): void {
    this.once.length = 0;
    this.random = undefined;
    this.up();
  }

  /** An outage: from now until {@link up}, every request is lost on its way (none reaches the store). */
  down(): void {
    this.outage = true;
  }

  /**
   * A store that does not answer: from now until {@link up}, every request waits (reaching
   * nothing) until its caller aborts it, or until `up` ends it with a connection reset.
   */
  hang(): void {
    this.hanging = true;
  }

  /** The outage is over (requests still hanging fail now). */
  up(): void {
    this.outage = false;
    this.hanging = false;
    for (const release of this.hung.splice(0)) release();
  }

  private outage = false;
  private hanging = false;
  private readonly hung: Array<() => void> = [];

  /** Waits for the caller's abort (or {@link up}), then fails as the SDK's handler would. */
  private wait(signal: HttpHandlerOptions['abortSignal']): Promise<never> {
    return new Promise((_, reject) => {
      const aborted = () => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
      if (signal?.aborted) return aborted();
      (signal as AbortSignal | undefined)?.addEventListener?.('abort', aborted, { once: true });
      this.hung.push(() =>
        reject(Object.assign(new Error('connect ECONNRESET (hang ended by the test)'), { code: 'ECONNRESET' })),
      );
    });
  }

  async handle(request: HttpRequest, options?: HttpHandlerOptions): Promise<{ response: HttpResponse }> {
    const op = header(request, 'x-amz-target').split('.')[1] ?? '';
    let seen: SeenRequest = { op, status: 0 };
    try {
      const raw: unknown = request.body;
      const text =
        typeof raw === 'string'
          ? raw
          : raw instanceof Uint8Array
            ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8')
            : '';
      const body = JSON.parse(text) as {
        Item?: Record<string, { S?: string }>;
        Key?: Record<string, { S?: string }>;
        UpdateExpression?: string;
      };
      const key = body.Item ?? body.Key;
      seen = {
        ...seen,
        ...(key?.pk?.S ? { pk: key.pk.S } : {}),
        ...(key?.sk?.S ? { sk: key.sk.S } : {}),
        ...(body.UpdateExpression ? { update: body.UpdateExpression } : {}),
      };
    } catch {
      // Not a JSON body: not a write this handler looks at.
    }
    if (this.outage) {
      this.lost.push(seen);
      throw Object.assign(new Error('connect ECONNRESET (store outage made by the test)'), { code: 'ECONNRESET' });
    }
    if (this.hanging) {
      this.lost.push(seen);
      return this.wait(options?.abortSignal);
    }
    const early = WRITES.has(op) ? this.once.findIndex((r) => r.beforeLanding === true && r.match(seen)) : -1;
    if (early >= 0) {
      this.once.splice(early, 1);
      this.lost.push(seen);
      throw Object.assign(new Error('socket hang up (request lost by the test)'), { code: 'ECONNRESET' });
    }
    const out = await this.inner.handle(request, options);
    seen.status = out.response.statusCode;
    this.seen.push(seen);
    if (!WRITES.has(op)) return out;
    const i = this.once.findIndex((r) => r.beforeLanding !== true && r.match(seen));
    const rule = i >= 0 ? this.once.splice(i, 1)[0] : undefined;
    const randomly =
      !rule && this.random !== undefined && this.random.match(seen) && this.random.next() < this.random.rate;
    if (!rule && !randomly) return out;
    await drain(out.response.body);
    await rule?.meanwhile?.();
    this.lost.push(seen);
    throw Object.assign(new Error('socket hang up (answer lost by the test)'), { code: 'ECONNRESET' });
  }

  updateHttpClientConfig(key: never, value: never): void {
    this.inner.updateHttpClientConfig(key, value);
  }

  httpHandlerConfigs() {
    return this.inner.httpHandlerConfigs();
  }

  destroy(): void {
    this.inner.destroy();
  }
}

/**
 * Deps on the lossy store (same table as testDeps), and the handler that loses answers.
 * `layout`: how new packets record their takers (default: the configured one), as in testDeps.
 */
export function lossyDeps(opts: { clock?: Clock; layout?: ShareLayout } = {}): {
  d: Deps;
  db: DynamoDb;
  net: LossyHandler;
} {
  const cfg = { ...loadConfig(), ...(opts.layout ? { shareLayout: opts.layout } : {}) };
  const net = new LossyHandler();
  const doc = createDocumentClient(cfg.region, cfg.dynamoEndpoint, net);
  const db = new DynamoDb({ tableName: cfg.tableName, region: cfg.region, endpoint: cfg.dynamoEndpoint }, doc);
  return { d: buildDeps(cfg, db, opts.clock ? { now: opts.clock.now } : {}), db, net };
}
