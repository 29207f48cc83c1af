/**
 * GET /v1/health — 200 {"ok": true, "stage"} once the store answers, else 503 UNAVAILABLE.
 *
 * Standalone on purpose (no shared wrapper, no session): one ping of the table through the store
 * door, and only the health settings read — no secret, so a missing one never fails the check.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { loadHealthSettings, type StoreSettings } from '../src/table-config';
import { errorBody } from '../src/domain/errors';
import { DynamoDb } from '../src/store/db';

/** How long the ping may take: well inside API Gateway's and the function's own limits. */
export const HEALTH_TIMEOUT_MS = 2000;

/** The door of this process (warm invocations reuse its connections), and what it was built for. */
let door: { db: Pick<DynamoDb, 'ping'>; for: string } | undefined;

function doorFor(store: StoreSettings): Pick<DynamoDb, 'ping'> {
  const key = `${store.tableName}|${store.region}|${store.dynamoEndpoint ?? ''}`;
  if (door?.for !== key)
    door = {
      db: new DynamoDb({ tableName: store.tableName, region: store.region, endpoint: store.dynamoEndpoint }),
      for: key,
    };
  return door.db;
}

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

/** The answer for a store behind `db`: the handler's, with the door and the timeout given (tests). */
export async function healthAnswer(
  db: Pick<DynamoDb, 'ping'>,
  stage: string,
  timeoutMs = HEALTH_TIMEOUT_MS,
): Promise<APIGatewayProxyStructuredResultV2> {
  try {
    if ((await db.ping(timeoutMs)) !== 'ready') {
      console.error('health: the table is not ready');
      return json(503, errorBody('UNAVAILABLE', 'The store is not ready.'));
    }
    return json(200, { ok: true, stage });
  } catch (err) {
    console.error('health: store check failed', err);
    return json(503, errorBody('UNAVAILABLE', 'The store does not answer.'));
  }
}

export async function handler(_event?: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  let settings: ReturnType<typeof loadHealthSettings>;
  try {
    settings = loadHealthSettings();
  } catch (err) {
    console.error(`health: ${err instanceof Error ? err.message : 'the store is not configured'}`);
    return json(503, errorBody('UNAVAILABLE', 'The store is not configured.'));
  }
  return healthAnswer(doorFor(settings.store), settings.stage);
}
