import { createHash } from 'node:crypto';
import { canonicalJson } from './ids';

/**
 * The ledger's hash chain: every ledger entry holds the hash of the entry before it
 * (`prevHash`; the genesis hash for the first) and its own `hash` over all its fields. The
 * ledger already is an append-only, dense, per-account sequence written by conditional puts, so
 * with the chain it is the tamper-evident record of every money movement (docs/rules.md, Audit) at no extra
 * write: editing or deleting any stored entry makes {@link verifyLedgerChain} name it.
 */
export const LEDGER_GENESIS = '0'.repeat(64);

/** Ledger entry types (as the API shows them): the kinds of money movement. */
export const LedgerTypes = {
  topup: 'topup',
  packet_debit: 'packet_debit',
  fee: 'fee',
  claim_credit: 'claim_credit',
  refund_credit: 'refund_credit',
  transfer_debit: 'transfer_debit',
  transfer_credit: 'transfer_credit',
  /** The hold of a withdrawal (amount + fee) while WeChat Pay transfers it. */
  withdrawal_debit: 'withdrawal_debit',
  /** A failed, declined or expired withdrawal's hold, back to the balance. */
  withdrawal_return: 'withdrawal_return',
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
  /** UTC+8 day of `wdToday` (withdrawals); absent on entries written before withdrawals existed. */
  wdDay?: string | undefined;
  /** Withdrawn in `wdDay`, fen (the withdrawal day limit counts on the ledger, like `sentToday`). */
  wdToday?: number | undefined;
  prevHash: string;
}

export function ledgerEntryHash(e: ChainedEntry): string {
  const {
    userId,
    seq,
    opId,
    type,
    amount,
    fee,
    balance,
    sentDay,
    sentToday,
    ref,
    at,
    packetId,
    lateDay,
    lateSent,
    wdDay,
    wdToday,
    prevHash,
  } = e;
  // canonicalJson drops undefined fields: entries without late-day or withdrawal counters hash as before.
  return createHash('sha256')
    .update(
      canonicalJson({
        userId,
        seq,
        opId,
        type,
        amount,
        fee,
        balance,
        sentDay,
        sentToday,
        ref,
        at,
        packetId,
        lateDay,
        lateSent,
        wdDay,
        wdToday,
        prevHash,
      }),
    )
    .digest('hex');
}

export type LedgerChainResult =
  | { ok: true; entries: number }
  | { ok: false; seq: number; reason: 'gap' | 'hash' | 'link' | 'balance' };

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
