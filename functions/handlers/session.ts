import { bindRoutes, httpHandler } from '../src/http/wrapper';
import { createSession } from '../src/app/session';
import { createApiKey, listApiKeys, revokeApiKey } from '../src/app/api-keys';
import { fail } from '../src/domain/errors';

/** POST /v1/session · POST|GET /v1/api-keys · DELETE /v1/api-keys/{keyId} */
export const routes = bindRoutes('session', {
  'POST /v1/session': ({ d, body, deviceId }) => createSession(d, body, deviceId),
  // Credentials never come from a key: only a signed-in business account manages its keys.
  'POST /v1/api-keys': ({ d, who, body }) => createApiKey(d, who, body.name),
  'GET /v1/api-keys': ({ d, who }) => listApiKeys(d, who),
  'DELETE /v1/api-keys/{keyId}': ({ d, who, params }) => {
    const keyId = params.keyId ?? '';
    if (!/^k[A-Za-z0-9_-]{16}$/.test(keyId)) fail('NOT_FOUND', 'API Key 不存在或已撤销');
    return revokeApiKey(d, who, keyId);
  },
});

export const handler = httpHandler(routes);
