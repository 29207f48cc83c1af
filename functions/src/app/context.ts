import type { Tier } from '../domain/money';
import { shardOf } from '../domain/shard';
import { FeeAccounts } from '../store/keys';

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
  /** Sessions: the device the session logged in from (signed into its token). */
  deviceId?: string;
}

/** A use case's answer: the HTTP status it maps to and the JSON body. */
export interface Outcome<T = unknown> {
  status: number;
  body: T;
  /** A non-JSON answer (e.g. a CSV export): `body` is then the text itself. */
  contentType?: string;
}

/**
 * The platform fee account, spread over FEE_SHARDS ledgers: every fee-bearing send appends to
 * the fee ledger, and one ledger is one conditionally-written item at a time, so a single fee
 * account would serialise all of them. A packet's (or campaign's) shard is fixed at creation
 * from its id and stored on its record (`feeAccount`), so every retry and the sweeper credit the
 * same ledger, where the `fee:<id>` opId keeps the credit exactly-once. Reconciliation sums
 * every shard (FEE_ACCOUNTS).
 */
export const FEE_SHARDS = 16;

/** The fee ledger of a new packet or campaign: a stable shard of its id. */
export function feeAccountFor(ref: string): string {
  return FeeAccounts.shard(shardOf(ref, FEE_SHARDS));
}

/**
 * The fee ledger a record's fee goes to: the one fixed at its creation; records from before the
 * shards (no `feeAccount`) keep the single old account, so their hints and opIds stay valid.
 */
export function feeAccountOf(r: { feeAccount?: string | undefined }): string {
  return r.feeAccount ?? FeeAccounts.legacy;
}

/** Every fee ledger, the old single account included: what reconciliation reads and sums. */
export const FEE_ACCOUNTS: readonly string[] = [
  FeeAccounts.legacy,
  ...Array.from({ length: FEE_SHARDS }, (_, k) => FeeAccounts.shard(k)),
];

export const iso = (ms: number) => new Date(ms).toISOString();
export const seconds = (ms: number) => Math.floor(ms / 1000);
