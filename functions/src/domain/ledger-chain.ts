import { createHash } from 'node:crypto';
import { canonicalJson } from './ids';

/**
 * The ledger's hash chain: every ledger entry holds the hash of the entry before it
 * (`prevHash`; the genesis hash for the first) and its own `hash` over all its fields. The
 * ledger already is an append-only, dense, per-account sequence written by conditional puts, so
 * with the chain it is the tamper-evident record of every money movement (SPEC §6) at no extra
 * write: editing or deleting any stored entry makes {@link verifyLedgerChain} name it.
 */
export const LEDGER_GENESIS = '0'.repeat(64);

/** Ledger entry types (API.md): the kinds of money movement. */
export const LedgerTypes = {
  topup: 'topup',
  packet_debit: 'packet_debit',
  fee: 'fee',
  claim_credit: 'claim_credit',
  refund_credit: 'refund_credit',
  transfer_debit: 'transfer_debit',
  transfer_credit: 'transfer_credit',
} as const;
export type LedgerType = (typeof LedgerTypes)[keyof typeof LedgerTypes];

export interface ChainedEntry {
  userId: string;
  seq: number;
  opId: string;
  type: string;
  amount: number;
  fee?: number | undefined;
  balance: number;
  sentDay: string;
  sentToday: number;
  ref: string;
  at: string;
  packetId?: string | undefined;
  /** Late debits only (absent elsewhere, so older entries hash as before). */
  lateDay?: string | undefined;
  lateSent?: number | undefined;
  prevHash: string;
}

export function ledgerEntryHash(e: ChainedEntry): string {
  const { userId, seq, opId, type, amount, fee, balance, sentDay, sentToday, ref, at, packetId, lateDay, lateSent, prevHash } = e;
  return createHash('sha256')
    .update(canonicalJson({ userId, seq, opId, type, amount, fee, balance, sentDay, sentToday, ref, at, packetId, lateDay, lateSent, prevHash }))
    .digest('hex');
}

export type LedgerChainResult = { ok: true; entries: number } | { ok: false; seq: number; reason: 'gap' | 'hash' | 'link' | 'balance' };

/** Checks a whole ledger, oldest first: dense seqs, each hash, each link, each balance step. */
export function verifyLedgerChain(entries: (ChainedEntry & { hash: string })[]): LedgerChainResult {
  let prevHash = LEDGER_GENESIS;
  let balance = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.seq !== i + 1) return { ok: false, seq: i + 1, reason: 'gap' };
    if (e.prevHash !== prevHash) return { ok: false, seq: e.seq, reason: 'link' };
    if (ledgerEntryHash(e) !== e.hash) return { ok: false, seq: e.seq, reason: 'hash' };
    if (e.balance !== balance + e.amount) return { ok: false, seq: e.seq, reason: 'balance' };
    prevHash = e.hash;
    balance = e.balance;
  }
  return { ok: true, entries: entries.length };
}
