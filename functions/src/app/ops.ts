/**
 * The old name of app/observability.ts, kept only while two importers still use it (the risk
 * gate and the operations handler); new code imports app/observability.ts. Delete this file once
 * they do.
 */
export { observeRiskFirings, opsView } from './observability';
