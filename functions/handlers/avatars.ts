/**
 * GET /v1/avatars/{userId}/{file} — serves uploaded avatars (app/avatars.ts `serveAvatar`).
 *
 * Standalone on purpose, like health: no session, no table. It reads the avatar bucket and
 * nothing else, so its role holds s3:GetObject on the avatars prefix and no DynamoDB right.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { serveAvatar } from '../src/app/avatars';
import type { AvatarStore } from '../src/app/ports';
import { config } from '../src/config';
import { errorBody } from '../src/domain/errors';
import { log } from '../src/log';
import { S3AvatarStore } from '../src/store/avatars';

let store: AvatarStore | undefined;

/** The avatar store of this process (built once; undefined without AVATAR_BUCKET). */
function avatarStore(): AvatarStore | undefined {
  if (store) return store;
  const cfg = config().avatars;
  store = cfg ? new S3AvatarStore(cfg) : undefined;
  return store;
}

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  if ((event.requestContext?.http?.method ?? 'GET') !== 'GET') {
    return {
      statusCode: 405,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(errorBody('METHOD_NOT_ALLOWED', 'method not allowed')),
    };
  }
  // Path parameters as API Gateway gives them, else from the raw path (serverless-offline, tests).
  const parts = (event.rawPath ?? '').split('/');
  const userId = event.pathParameters?.userId ?? parts[3] ?? '';
  const file = event.pathParameters?.file ?? parts[4] ?? '';
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  try {
    return await serveAvatar(avatarStore(), userId, file, headers['if-none-match']);
  } catch (err) {
    log('error', 'avatar read failed', { error: err instanceof Error ? err : 'unknown' });
    return {
      statusCode: 500,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
      body: JSON.stringify(errorBody('INTERNAL', '服务暂时不可用，请稍后重试')),
    };
  }
}
