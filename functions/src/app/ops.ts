/**
 * The old name of app/observability.ts, kept only for importers outside this module's owners'
 * reach (the claim path's risk gate, the HTTP wrapper, the operations handler) until they import
 * app/observability.ts directly; new code imports that.
 */
export { observeRequest, observeRiskFirings, opsView } from './observability';
