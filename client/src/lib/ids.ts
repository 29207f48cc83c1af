/**
 * Idempotency keys (the API takes 1–64 chars of [A-Za-z0-9_-]): random, one per user action.
 * crypto.getRandomValues where the platform has it (H5, newer weapp base libraries); otherwise
 * Math.random mixed with the time — a key only needs to be unique, not secret.
 */
export function newKey(prefix = 'k'): string {
  const bytes = new Uint8Array(16);
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (c?.getRandomValues) c.getRandomValues(bytes);
  else
    for (let i = 0; i < bytes.length; i++)
      bytes[i] = Math.floor(Math.random() * 256) ^ ((Date.now() >> (i % 8)) & 0xff);
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return `${prefix}${Date.now().toString(36)}${hex}`.slice(0, 64);
}

/**
 * The key of one user action, kept while that action is retried: the same body gets the same
 * key (a retry after a timeout or a lost answer returns the first result, never a second
 * packet or top-up); a changed body, or an action that finished (success or a refusal), gets a
 * new one.
 */
export class ActionKey {
  private key: string | undefined;
  private body: string | undefined;

  constructor(
    private readonly prefix = 'k',
    saved?: { key: string; body: string },
  ) {
    if (saved) {
      this.key = saved.key;
      this.body = saved.body;
    }
  }

  /** The key for this body: the pending one if the body is unchanged, else a new one. */
  for(body: unknown): string {
    const s = JSON.stringify(body);
    if (!this.key || this.body !== s) {
      this.key = newKey(this.prefix);
      this.body = s;
    }
    return this.key;
  }

  /** The action is over (it succeeded, or the API refused it): the next one gets a new key. */
  done(): void {
    this.key = undefined;
    this.body = undefined;
  }

  /** The pending key and body (saved with a draft, so a retry after a crash reuses it). */
  pending(): { key: string; body: string } | undefined {
    return this.key && this.body ? { key: this.key, body: this.body } : undefined;
  }
}
