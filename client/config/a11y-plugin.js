/**
 * A local Taro plugin: lets `aria-label` and `aria-role` reach the WeChat templates.
 *
 * WeChat mini-programs read `aria-label` / `aria-role` on their components (screen readers),
 * but Taro's weapp template renders only the attributes it knows, and it knows none of the aria
 * ones: without this patch `<View aria-label="余额">` loses its label in dist/weapp. The H5 build
 * renders them as DOM attributes already.
 *
 * Two halves that must agree (Taro numbers each component's attributes, p0, p1…, in the
 * template at build time and in the runtime when it sends data):
 *   - build time (here): Taro calls `ctx.onBuildInit(platform)` when a build starts, before the
 *     templates are generated; the attributes are merged into that platform's template;
 *   - run time (src/a11y.ts, imported first by src/app.ts): the same attributes merged into the
 *     runtime's component table, before anything renders.
 * Both read config/a11y-components.json.
 */
const COMPONENTS = require('./a11y-components.json');

module.exports = (ctx) => {
  ctx.registerMethod('onBuildInit', (platform) => {
    const template = platform?.template;
    if (!template || typeof template.mergeComponents !== 'function') return; // H5: nothing to patch
    const patch = {};
    for (const name of COMPONENTS) patch[name] = { 'aria-label': '', 'aria-role': '' };
    template.mergeComponents(ctx, patch);
  });
};
