import { httpHandler, route } from '../src/http/wrapper';
import { CreateApiKeyBody, SessionBody } from '../src/http/schemas';
import { createSession } from '../src/app/session';
import { createApiKey, listApiKeys, revokeApiKey } from '../src/app/api-keys';
import { fail } from '../src/domain/errors';

/** Credentials never come from a key: only a signed-in business account manages its keys. */
const BUSINESS = ['enterprise', 'provider'] as const;

/** POST /v1/session · POST|GET /v1/api-keys · DELETE /v1/api-keys/{keyId} */
export const routes = [
  route({ method: 'POST', path: '/v1/session', access: 'public', body: SessionBody, run: ({ d, body, deviceId }) => createSession(d, body, deviceId) }),
  route({ method: 'POST', path: '/v1/api-keys', access: BUSINESS, body: CreateApiKeyBody, run: ({ d, who, body }) => createApiKey(d, who, body.name) }),
  route({ method: 'GET', path: '/v1/api-keys', access: BUSINESS, run: ({ d, who }) => listApiKeys(d, who) }),
  route({
    method: 'DELETE',
    path: '/v1/api-keys/{keyId}',
    access: BUSINESS,
    run: ({ d, who, params }) => {
      const keyId = params.keyId ?? '';
      if (!/^k[A-Za-z0-9_-]{16}$/.test(keyId)) fail('NOT_FOUND', 'API Key 不存在或已撤销');
      return revokeApiKey(d, who, keyId);
    },
  }),
];

export const handler = httpHandler(routes);
