// Imported first by scripts/bench.ts: Powertools reads these when its modules load, and the
// bench's own table is what it prints (no EMF lines, no live-figure writes in the timed phases).
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.OPS_FIGURES ??= 'off';
