// Imported first by test/integration/metrics.test.ts: Powertools Metrics reads this when its
// module loads, before the test's own statements run.
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
