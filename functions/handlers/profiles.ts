import { bindRoutes, httpHandler } from '../src/http/wrapper';
import { updateMe, uploadAvatar } from '../src/app/profiles';
import { deps, type Deps } from '../src/app/deps';
import { config } from '../src/config';
import { S3AvatarStore } from '../src/store/avatars';

/**
 * PATCH /v1/me · POST /v1/me/avatar — names and faces. Sessions only (no API key: a profile is
 * a person's). One of the two functions that carry the S3 client (the other serves avatars).
 */
export const routes = bindRoutes('profiles', {
  'PATCH /v1/me': ({ d, who, body, headers }) => updateMe(d, who, body, headers?.authorization),
  'POST /v1/me/avatar': ({ d, who, body }) => uploadAvatar(d, who, body),
});

let withAvatars: Deps | undefined;
/** The process-wide dependencies plus the avatar store (built once). */
function profileDeps(): Deps {
  if (withAvatars) return withAvatars;
  const base = deps();
  const cfg = config().avatars;
  withAvatars = { ...base, avatars: cfg ? new S3AvatarStore(cfg) : undefined };
  return withAvatars;
}

export const handler = httpHandler(routes, profileDeps);
