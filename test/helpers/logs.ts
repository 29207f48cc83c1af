/**
 * Everything written while it is installed: process.stdout/stderr (where Powertools' Logger
 * writes, through its own Console over those streams) and the global console methods (where it
 * writes with POWERTOOLS_DEV set). Logging is switched on for the duration (the suite runs quiet).
 */
export function captureLogs(): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const env = { requests: process.env.LOG_REQUESTS, errors: process.env.LOG_ERRORS };
  process.env.LOG_REQUESTS = '1';
  process.env.LOG_ERRORS = '1';
  const take = (chunk: unknown) => {
    lines.push(
      ...String(chunk)
        .split('\n')
        .filter((l) => l.trim() !== ''),
    );
    return true;
  };
  const out = process.stdout.write;
  const err = process.stderr.write;
  process.stdout.write = take as typeof process.stdout.write;
  process.stderr.write = take as typeof process.stderr.write;
  const spies = (['log', 'info', 'warn', 'error', 'debug', 'trace'] as const).map((m) =>
    jest.spyOn(console, m).mockImplementation((...a: unknown[]) => void take(a.map(String).join(' '))),
  );
  return {
    lines,
    restore: () => {
      process.stdout.write = out;
      process.stderr.write = err;
      for (const s of spies) s.mockRestore();
      const put = (k: string, v: string | undefined) =>
        v === undefined ? delete process.env[k] : (process.env[k] = v);
      put('LOG_REQUESTS', env.requests);
      put('LOG_ERRORS', env.errors);
    },
  };
}
