/**
 * GET /v1/health — 200 {"ok": true, "stage"} once the store answers, else 503 UNAVAILABLE.
 *
 * Standalone on purpose (no shared wrapper yet): one DescribeTable against TABLE_NAME.
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { errorBody } from '../src/domain/errors';

const TIMEOUT_MS = 2000;

let client: DynamoDBClient | undefined;

function dynamo(): DynamoDBClient {
  if (client) return client;
  const endpoint = process.env.DYNAMODB_ENDPOINT || undefined;
  client = new DynamoDBClient({
    region: process.env.AWS_REGION || 'ap-southeast-1',
    maxAttempts: 1,
    ...(endpoint
      ? {
          endpoint,
          // dynalite ignores credentials, but the SDK still signs requests.
          credentials: {
            accessKeyId: process.env.AWS_ACCESS_KEY_ID || 'local',
            secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || 'local',
          },
        }
      : {}),
  });
  return client;
}

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

export async function handler(_event?: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const stage = process.env.STAGE ?? 'unknown';
  const tableName = process.env.TABLE_NAME;
  if (!tableName) {
    console.error('health: TABLE_NAME is not set');
    return json(503, errorBody('UNAVAILABLE', 'The store is not configured.'));
  }
  try {
    const out = await dynamo().send(new DescribeTableCommand({ TableName: tableName }), {
      abortSignal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const status = out.Table?.TableStatus;
    if (status !== 'ACTIVE' && status !== 'UPDATING') {
      console.error(`health: table ${tableName} is ${status ?? 'missing'}`);
      return json(503, errorBody('UNAVAILABLE', 'The store is not ready.'));
    }
    return json(200, { ok: true, stage });
  } catch (err) {
    console.error('health: store check failed', err);
    return json(503, errorBody('UNAVAILABLE', 'The store does not answer.'));
  }
}
