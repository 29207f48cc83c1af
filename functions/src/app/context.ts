import type { Tier } from '../domain/money';

/** The authenticated caller of a use case. */
export interface Principal {
  userId: string;
  name: string;
  tier: Tier;
  roles: string[];
  /** How the caller authenticated (default: a session). */
  via?: 'session' | 'api-key';
  /** API keys: what the key may do. */
  scope?: 'basic' | 'full';
}

/** A use case's answer: the HTTP status it maps to and the JSON body. */
export interface Outcome<T = unknown> {
  status: number;
  body: T;
  /** A non-JSON answer (e.g. a CSV export): `body` is then the text itself. */
  contentType?: string;
}

/** The platform fee account: fees are credited to its ledger like any wallet. */
export const FEE_ACCOUNT = 'platform-fees';

export const iso = (ms: number) => new Date(ms).toISOString();
export const seconds = (ms: number) => Math.floor(ms / 1000);
