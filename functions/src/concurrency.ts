/**
 * Bounded concurrency for fan-out over the store (counter items, a campaign's packets): at most
 * `limit` calls in flight, results in input order. A rejection rejects the whole call; calls
 * already started run to their end (each store write is idempotent or conditional).
 */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}
