/**
 * An item's size as DynamoDB bills it: attribute names and strings in UTF-8 bytes, a number 1
 * byte per two significant digits plus 1, a boolean 1, a list or map 3 bytes plus 1 per element.
 * (Items of ≤ 1 KB are one write unit.)
 */
export function dynamoItemBytes(item: Record<string, unknown>): number {
  const value = (v: unknown): number => {
    if (typeof v === 'string') return Buffer.byteLength(v);
    if (typeof v === 'number')
      return (
        Math.ceil(
          String(Math.abs(v))
            .replace(/\./, '')
            .replace(/^0+|0+$/g, '').length / 2,
        ) + 1
      );
    if (typeof v === 'boolean' || v === null) return 1;
    if (Array.isArray(v)) return 3 + v.reduce((a: number, x) => a + 1 + value(x), 0);
    if (v instanceof Set) return [...v].reduce((a: number, x) => a + value(x), 0);
    if (typeof v === 'object')
      return 3 + Object.entries(v as object).reduce((a, [k, x]) => a + 1 + Buffer.byteLength(k) + value(x), 0);
    throw new Error(`size of ${typeof v}`);
  };
  return Object.entries(item).reduce((a, [k, v]) => a + Buffer.byteLength(k) + value(v), 0);
}
