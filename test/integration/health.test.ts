/**
 * The health check pings the table through the store door: one DescribeTable, a single attempt,
 * aborted at its timeout. A store that hangs or refuses connections answers 503 UNAVAILABLE at
 * once (no SDK retries, no waiting past the timeout); the check reads no secret.
 */
import { loadConfig } from '../../functions/src/config';
import { createDocumentClient, DynamoDb, isStoreUnavailable } from '../../functions/src/store/db';
import { handler, healthAnswer } from '../../functions/handlers/health';
import { LossyHandler } from '../helpers/lossy-store';

const cfg = loadConfig();

/** A door on the test table whose requests pass through `net`, with the production client settings. */
function doorThrough(net: LossyHandler, tableName = cfg.tableName): DynamoDb {
  return new DynamoDb(
    { tableName, region: cfg.region, endpoint: cfg.dynamoEndpoint },
    createDocumentClient(cfg.region, cfg.dynamoEndpoint, net),
  );
}

/** Runs `f` with process.env replaced by `env`. */
async function withEnv<T>(env: NodeJS.ProcessEnv, f: () => Promise<T>): Promise<T> {
  const saved = process.env;
  process.env = env;
  try {
    return await f();
  } finally {
    process.env = saved;
  }
}

/** `p`, or a failure once the test's own budget is spent (so a ping that never ends fails here, not at Jest's timeout). */
function within<T>(budgetMs: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${budgetMs} ms`)), budgetMs);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
afterAll(() => errors.mockRestore());

describe('GET /v1/health through the store door', () => {
  test('a store that answers: 200 with the stage, after one DescribeTable', async () => {
    const net = new LossyHandler();
    const r = await healthAnswer(doorThrough(net), 'test');
    expect(r.statusCode).toBe(200);
    expect(JSON.parse(r.body!)).toEqual({ ok: true, stage: 'test' });
    expect(net.seen.map((s) => s.op)).toEqual(['DescribeTable']);
  });

  test('a store that hangs: 503 UNAVAILABLE when the ping times out, one attempt, nothing retried', async () => {
    const net = new LossyHandler();
    net.hang();
    try {
      const timeoutMs = 300;
      // The budget is the test's: far more than the timeout, far less than any retry schedule.
      const r = await within(timeoutMs + 5_000, healthAnswer(doorThrough(net), 'test', timeoutMs));
      expect(r.statusCode).toBe(503);
      expect(JSON.parse(r.body!)).toEqual({ error: { code: 'UNAVAILABLE', message: 'The store does not answer.' } });
      expect(net.lost.map((s) => s.op)).toEqual(['DescribeTable']);
    } finally {
      net.up();
    }
  });

  test('a store that refuses connections: 503 after a single attempt (the SDK would try 5 times)', async () => {
    const net = new LossyHandler();
    net.down();
    const door = doorThrough(net);
    const r = await healthAnswer(door, 'test');
    expect(r.statusCode).toBe(503);
    expect(JSON.parse(r.body!).error.code).toBe('UNAVAILABLE');
    expect(net.lost.map((s) => s.op)).toEqual(['DescribeTable']);
    // The door's other calls keep the client's retries: a read in the same outage is tried again.
    await expect(door.get({ pk: 'X', sk: 'Y' })).rejects.toThrow();
    expect(net.lost.length).toBeGreaterThan(2);
    // What ping throws is a store outage to the rest of the code too.
    const thrown = await door.ping(100).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isStoreUnavailable(thrown)).toBe(true);
  });

  test('a missing table: 503 UNAVAILABLE', async () => {
    const r = await healthAnswer(doorThrough(new LossyHandler(), `${cfg.tableName}-missing`), 'test');
    expect(r.statusCode).toBe(503);
    expect(JSON.parse(r.body!).error.code).toBe('UNAVAILABLE');
  });

  test('the handler reads the table and the stage only: no secret needed; no table configured: 503', async () => {
    const env = {
      STAGE: 'prod',
      TABLE_NAME: cfg.tableName,
      AWS_REGION: cfg.region,
      DYNAMODB_ENDPOINT: cfg.dynamoEndpoint,
    };
    const ok = await withEnv(env, () => handler());
    expect({ status: ok.statusCode, body: JSON.parse(ok.body!) }).toEqual({
      status: 200,
      body: { ok: true, stage: 'prod' },
    });
    const none = await withEnv({ STAGE: 'prod' }, () => handler());
    expect({ status: none.statusCode, body: JSON.parse(none.body!) }).toEqual({
      status: 503,
      body: { error: { code: 'UNAVAILABLE', message: 'The store is not configured.' } },
    });
  });
});
