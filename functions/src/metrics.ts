/**
 * CloudWatch metrics in embedded metric format (EMF) through Powertools for AWS Lambda
 * (Metrics): a metric is a structured log line, so emitting one costs no API call and no IAM
 * right. Namespace `HongbaoCodes`; the alarms in serverless.yml read these names.
 *
 * `POWERTOOLS_METRICS_DISABLED=true` (local stage, tests) keeps them off the console.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export { MetricUnit };

/** The metric names (the alarms and the README refer to them). */
export const MetricNames = {
  claims: 'Claims',
  claimLatency: 'ClaimLatency',
  conditionalWrites: 'ConditionalWrites',
  conditionalCheckFailed: 'ConditionalCheckFailed',
  refunds: 'Refunds',
  refundedFen: 'RefundedFen',
  riskFirings: 'RiskFirings',
  http5xx: 'Http5xx',
  sweepLagSeconds: 'SweepLagSeconds',
  reconciliationMismatches: 'ReconciliationMismatches',
  /** Subscribe messages by Outcome: sent, dropped (no subscription), retry, given_up. */
  notifications: 'Notifications',
} as const;
export type MetricName = (typeof MetricNames)[keyof typeof MetricNames];

/** The process-wide metrics buffer (one per Lambda instance). */
export const metrics = new Metrics({ namespace: 'HongbaoCodes', serviceName: 'hongbao-codes' });

/** Adds one data point to this invocation's buffer. */
export function metric(name: MetricName, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): void {
  metrics.addMetric(name, unit, value);
}

/**
 * One data point under an extra dimension, written at once as its own EMF line (a dimension on
 * the shared buffer would apply to every metric of the invocation). Only for dimensions with a
 * small, fixed set of values — each value is a separate CloudWatch metric (e.g. the 7 risk rules).
 * Never throws.
 */
export function metricBy(
  name: MetricName,
  unit: (typeof MetricUnit)[keyof typeof MetricUnit],
  value: number,
  dimension: string,
  dimensionValue: string,
): void {
  try {
    const single = metrics.singleMetric();
    single.addDimension(dimension, dimensionValue);
    single.addMetric(name, unit, value);
  } catch {
    // A metric must never fail a request or a scheduled run.
  }
}

/** Writes the buffered metrics as one EMF line (end of every invocation). Never throws. */
export function flushMetrics(): void {
  try {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  } catch {
    // A metric must never fail a request or a scheduled run.
  }
}
