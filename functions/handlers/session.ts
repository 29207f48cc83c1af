import { bindRoutes, httpHandler } from '../src/http/wrapper';
import { createSession } from '../src/app/session';
import { createApiKey, listApiKeys, revokeApiKey } from '../src/app/api-keys';

/** POST /v1/session · POST|GET /v1/api-keys · DELETE /v1/api-keys/{keyId} */
export const routes = bindRoutes('session', {
  'POST /v1/session': ({ d, body, deviceId }) => createSession(d, body, deviceId),
  // Credentials never come from a key: only a signed-in business account manages its keys.
  'POST /v1/api-keys': ({ d, who, body }) => createApiKey(d, who, body.name),
  'GET /v1/api-keys': ({ d, who }) => listApiKeys(d, who),
  'DELETE /v1/api-keys/{keyId}': ({ d, who, params }) => revokeApiKey(d, who, params.keyId),
});

export const handler = httpHandler(routes);
