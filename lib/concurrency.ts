/**
 * Bounded concurrency, once for the client and the server: `work` over `items` with at most `limit`
 * calls in flight, results in input order; rejects with the first failure. No Node.js import: the
 * browser client uses it.
 */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
