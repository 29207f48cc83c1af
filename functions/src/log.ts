/**
 * Structured JSON log lines (one object per line, CloudWatch-friendly). Callers pass only
 * non-sensitive fields: never tokens, secrets, codes, signatures or full account ids.
 */
export function log(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, msg, time: new Date().toISOString(), ...fields });
  if (level === 'error') {
    if (process.env.LOG_ERRORS !== '0') console.error(line);
  } else if (process.env.LOG_REQUESTS !== '0') console.log(line);
}
