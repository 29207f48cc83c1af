/**
 * Local-only Serverless plugin: hot reload for `serverless offline --useInProcess`.
 *
 * serverless-esbuild rebuilds .esbuild/.build on every change of functions/**.ts and then
 * spawns `offline:functionsUpdated`; but the in-process runner loads handlers with require(),
 * whose cache keeps the old bundle until a restart. This drops the rebuilt bundles from the
 * require cache, so the next request runs the new code (module scope re-initialises, like a
 * Lambda cold start). It does nothing outside `offline`.
 */
const path = require('node:path');

class OfflineHotReload {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'offline:functionsUpdated:cleanup': () => this.dropBundles(),
    };
  }

  dropBundles() {
    const serviceDir = this.serverless.serviceDir ?? this.serverless.config.servicePath;
    const buildDir = path.join(serviceDir, '.esbuild') + path.sep;
    let dropped = 0;
    for (const key of Object.keys(require.cache)) {
      if (key.startsWith(buildDir)) {
        delete require.cache[key];
        dropped += 1;
      }
    }
    if (dropped > 0) console.log(`[hot-reload] reloading ${dropped} rebuilt handler module(s) on the next request`);
  }
}

module.exports = OfflineHotReload;
