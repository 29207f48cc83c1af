/**
 * The audit log's records and chain (docs/rules.md, Audit): pure, no I/O, no clock.
 *
 * Each account has its own chain: record n holds `prevHash` = the hash of record n−1 (the
 * genesis hash for n = 1) and `hash` = SHA-256 of the canonical JSON of the record without
 * `hash`. Changing any field of a stored record changes its recomputed hash, so
 * {@link verifyChain} names that record; deleting one leaves a gap in the dense sequence.
 *
 * Limits (stated, not hidden): an attacker who can rewrite the table can recompute the hash of
 * the record they changed — verify then names the next record (its `prevHash` no longer
 * matches) — or rewrite the newest record / drop the newest records, which no chain kept in the
 * same table can notice. Anchoring the head elsewhere (e.g. a periodic signed export) closes
 * that; it is not part of this module.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './ids';
import { LedgerTypes } from './ledger-chain';

import { DAY_MS } from './time';

/** What is audited. Money movements use the ledger's entry types. */
export const AuditTypes = {
  // security events
  login: 'login',
  logout: 'logout',
  refusal: 'refusal',
  freeze: 'freeze',
  key_use: 'key_use',
  blacklist_add: 'blacklist_add',
  blacklist_remove: 'blacklist_remove',
  tier_change: 'tier_change',
  support_view: 'support_view',
  // money movements: the ledger's entry types
  ...LedgerTypes,
} as const;
export type AuditType = (typeof AuditTypes)[keyof typeof AuditTypes];

export function isAuditType(v: unknown): v is AuditType {
  return typeof v === 'string' && Object.hasOwn(AuditTypes, v);
}

/** Flat details: strings, safe integers, booleans, null (nothing that could hash differently). */
export type AuditDetails = Record<string, string | number | boolean | null>;

export interface AuditRecord {
  accountId: string;
  /** 1, 2, 3, … without gaps. */
  seq: number;
  /** ISO 8601 UTC. */
  at: string;
  type: AuditType;
  details: AuditDetails;
  /** Hash of record seq−1, or {@link GENESIS_HASH} for seq 1. */
  prevHash: string;
  /** SHA-256 (hex) of the canonical JSON of every other field above. */
  hash: string;
}

export type UnsealedRecord = Omit<AuditRecord, 'hash'>;

export const GENESIS_HASH = '0'.repeat(64);
/** Records are kept 3 years (1,096 days covers a leap day). */
export const AUDIT_RETENTION_MS = 1_096 * DAY_MS;
/** A user sees their own records of the last 30 days. */
export const AUDIT_OWN_WINDOW_MS = 30 * DAY_MS;

/** The hash of a record: SHA-256 hex over the canonical JSON (sorted keys) of all but `hash`. */
export function hashRecord(r: UnsealedRecord): string {
  const { accountId, seq, at, type, details, prevHash } = r;
  return createHash('sha256').update(canonicalJson({ accountId, seq, at, type, details, prevHash })).digest('hex');
}

export function sealRecord(r: UnsealedRecord): AuditRecord {
  return { ...r, hash: hashRecord(r) };
}

/** The record that follows `prev` (undefined: the chain's first). */
export function nextRecord(
  accountId: string,
  prev: AuditRecord | undefined,
  entry: { type: AuditType; at: string; details: AuditDetails },
): AuditRecord {
  return sealRecord({
    accountId,
    seq: (prev?.seq ?? 0) + 1,
    at: entry.at,
    type: entry.type,
    details: entry.details,
    prevHash: prev?.hash ?? GENESIS_HASH,
  });
}

export type ChainBreak = 'gap' | 'order' | 'account' | 'hash' | 'link';

export type VerifyResult =
  | { ok: true; count: number; head: string }
  | { ok: false; seq: number; reason: ChainBreak; message: string };

/**
 * Checks a chain given oldest first and returns the first broken link:
 * - `gap`: record `seq` is missing (the next present record has a higher seq);
 * - `order`: a seq repeats or goes backwards;
 * - `account`: the record belongs to another account;
 * - `hash`: the record's contents do not hash to its stored hash (it was edited);
 * - `link`: its `prevHash` is not the previous record's hash.
 * `allowExpiredHead`: the chain may start after seq 1 (older records expired after 3 years);
 * the first present record's `prevHash` is then taken on trust.
 */
export function verifyChain(
  records: readonly AuditRecord[],
  opts: { accountId?: string; allowExpiredHead?: boolean } = {},
): VerifyResult {
  const first = records[0];
  if (!first) return { ok: true, count: 0, head: GENESIS_HASH };
  const accountId = opts.accountId ?? first.accountId;
  let expected = opts.allowExpiredHead && Number.isSafeInteger(first.seq) && first.seq > 1 ? first.seq : 1;
  let prevHash: string | undefined = expected === 1 ? GENESIS_HASH : undefined;
  const broken = (seq: number, reason: ChainBreak, message: string): VerifyResult => ({
    ok: false,
    seq,
    reason,
    message,
  });
  for (const r of records) {
    if (r.seq !== expected) {
      return typeof r.seq === 'number' && r.seq > expected
        ? broken(expected, 'gap', `record ${expected} is missing`)
        : broken(expected, 'order', `record ${expected} expected, found ${String(r.seq)}`);
    }
    if (r.accountId !== accountId) return broken(r.seq, 'account', `record ${r.seq} belongs to another account`);
    if (hashRecord(r) !== r.hash) return broken(r.seq, 'hash', `record ${r.seq} does not match its hash (edited)`);
    if (prevHash !== undefined && r.prevHash !== prevHash)
      return broken(r.seq, 'link', `record ${r.seq} does not link to record ${r.seq - 1}`);
    prevHash = r.hash;
    expected++;
  }
  return { ok: true, count: records.length, head: prevHash! };
}

/**
 * An id as support staff see it: the first 3 and last 2 characters around '***'.
 * Ids of 5 characters or fewer would be shown whole that way, so they become '***'.
 */
export function mask(id: string): string {
  const chars = [...id];
  if (chars.length <= 5) return '***';
  return `${chars.slice(0, 3).join('')}***${chars.slice(-2).join('')}`;
}

/** Keys whose values must never reach an audit record (dropped). */
const SECRET_KEY =
  /token|secret|signature|^sig$|password|passwd|authorization|cookie|credential|apikey|api_key|qrcode|sharecode|livecode|receivecode/i;
/** Values that look like a credential whatever their key: a signed code (domain/codes.ts), a bearer token or a JWT. */
const SECRET_VALUE = /^1\.[a-z0-9]{1,4}\.[lsr][A-Za-z0-9_-]|^bearer\s|^eyJ[A-Za-z0-9_-]+\./i;
/** Ids of operations, kept whole so a record can be traced to its money movement. */
const OP_REF_KEYS = new Set([
  'opId',
  'packetId',
  'transferId',
  'topupId',
  'eventId',
  'requestId',
  'correlationId',
  'keyId',
  'ref',
]);
/** Account and device ids (…Id / …_id / id), masked. */
const ID_KEY = /(^id$|Id$|_id$|^account$|^device$|^payee$|^payer$)/;

/**
 * Details fit for an audit record: flat values only (objects and arrays are dropped, numbers
 * must be safe integers, others dropped), secret-looking keys dropped, account and device ids
 * masked with {@link mask}; values shaped like a signed code, bearer token or JWT dropped whatever
 * their key; operation ids (opId, packetId, transferId, …) are kept whole.
 * The names of dropped keys are listed under `dropped`.
 */
export function auditDetails(raw: Record<string, unknown> = {}): AuditDetails {
  const out: AuditDetails = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    if (SECRET_KEY.test(k) || (typeof v === 'string' && SECRET_VALUE.test(v))) {
      dropped.push(k);
      continue;
    }
    if (typeof v === 'string') out[k] = ID_KEY.test(k) && !OP_REF_KEYS.has(k) ? mask(v) : v;
    else if (typeof v === 'number' && Number.isSafeInteger(v)) out[k] = v;
    else if (typeof v === 'boolean' || v === null) out[k] = v;
    else dropped.push(k);
  }
  if (dropped.length > 0) out.dropped = dropped.sort().join(',');
  return out;
}

/**
 * Detail keys that hold a whole account or device id on purpose: staff actions record whom they
 * touched (`subject`) and who acted (`by`), so the chain can answer "who did what to whom".
 */
const STAFF_REF_KEYS = new Set(['subject', 'by']);

/**
 * A record as support staff see it: its account id and the staff reference ids masked (other
 * ids are masked at write). The hash stays that of the stored record, so a masked record
 * cannot be re-verified by its reader — verification runs on the store (`npm run audit:verify`).
 */
export function maskedRecord(r: AuditRecord): AuditRecord {
  return { ...r, accountId: mask(r.accountId), details: maskStaffRefs(r.details) };
}

/** Details with the staff reference ids (`subject`, `by`) masked, as support staff see them. */
export function maskStaffRefs(details: AuditDetails): AuditDetails {
  const out: AuditDetails = {};
  for (const [k, v] of Object.entries(details)) out[k] = STAFF_REF_KEYS.has(k) && typeof v === 'string' ? mask(v) : v;
  return out;
}
