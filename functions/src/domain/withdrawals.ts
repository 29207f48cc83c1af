/**
 * Withdrawals (提现): the pure rules. A user moves balance to their WeChat balance through
 * WeChat Pay's merchant transfer in user-confirmation mode; the amount (plus the tier's fee, 0 by
 * default) is held out of the balance at once and either leaves for good (WeChat says SUCCESS)
 * or comes back exactly once (FAIL, CANCELLED, or 24 hours without the user's confirmation).
 *
 * Pure module: no I/O, no clock.
 */
import { createHash } from 'node:crypto';
import { feeFor, type Fen, type WithdrawalPolicy } from './money';

/**
 * Our states. `pending`: recorded, the hold and the bill may or may not exist yet (only the
 * request's retry or the sweeper knows); the others are what the API shows.
 */
export const WithdrawalStates = {
  pending: 'pending',
  wait_user_confirm: 'wait_user_confirm',
  processing: 'processing',
  success: 'success',
  failed: 'failed',
  canceled: 'canceled',
} as const;
export type WithdrawalState = (typeof WithdrawalStates)[keyof typeof WithdrawalStates];
export type FinalWithdrawalState = 'success' | 'failed' | 'canceled';

export const OPEN_WITHDRAWAL_STATES: readonly WithdrawalState[] = ['pending', 'wait_user_confirm', 'processing'];

export const isFinalWithdrawal = (s: WithdrawalState): s is FinalWithdrawalState =>
  s === 'success' || s === 'failed' || s === 'canceled';

/** How long the user has to confirm in WeChat; then we cancel the bill (WeChat closes it too). */
export const CONFIRM_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * How long after a create attempt a bill that WeChat does not know may be given up. Far above
 * the adapter's per-call timeout (10 s) and a request's Lambda timeout, so no create of ours can
 * still be on its way when the sweeper decides it never arrived.
 */
export const CREATE_GRACE_MS = 2 * 60 * 1000;

/** How often the sweeper asks WeChat about a bill whose notification has not come. */
export const POLL_INTERVAL_MS = 10 * 60 * 1000;

/**
 * The withdrawal id, derived from the caller and the Idempotency-Key (a retry lands on the same
 * withdrawal). 32 letters and digits, so it is also the bill's `out_bill_no` — one number per
 * withdrawal, never a second one.
 */
export function withdrawalId(userId: string, idemKey: string): string {
  return `wd${createHash('sha256').update(`${userId}\u0000withdrawal\u0000${idemKey}`).digest('hex').slice(0, 30)}`;
}

/** The bill number of a withdrawal: its id (≤ 32 alphanumerics). */
export const outBillNoOf = (id: string): string => id;

export const WITHDRAWAL_ID = /^wd[0-9a-f]{30}$/;

/** The fee held on top of `amount` (rounded up to the fen, as every fee). */
export const withdrawalFee = (amount: Fen, policy: WithdrawalPolicy): Fen => feeFor(amount, policy.feeBps);

/**
 * Why `amount` may not be withdrawn today, or undefined. `withdrawnToday`: what the account's
 * ledger counts for this UTC+8 day (the ledger enforces the same limit atomically on the hold;
 * this check only answers early, before anything is written).
 */
export function withdrawalLimitProblem(
  amount: Fen,
  policy: WithdrawalPolicy,
  withdrawnToday: Fen,
): { message: string; details: Record<string, unknown> } | undefined {
  if (!Number.isSafeInteger(amount) || amount < policy.min || amount > policy.max) {
    return {
      message: `单笔提现金额须在 ${policy.min / 100}–${policy.max / 100} 元之间`,
      details: { min: policy.min, max: policy.max },
    };
  }
  if (withdrawnToday + amount > policy.dailyLimit) {
    return { message: '超出今日提现限额', details: { dailyLimit: policy.dailyLimit, withdrawnToday } };
  }
  return undefined;
}

/** WeChat's transfer-bill states. */
export type BillState =
  | 'ACCEPTED'
  | 'PROCESSING'
  | 'WAIT_USER_CONFIRM'
  | 'TRANSFERING'
  | 'SUCCESS'
  | 'FAIL'
  | 'CANCELING'
  | 'CANCELLED';

/**
 * Our state for a bill's state. CANCELING is still open: only CANCELLED or FAIL returns money.
 * Never `pending`: a bill exists, so the create is past.
 */
export function stateOfBill(s: BillState): Exclude<WithdrawalState, 'pending'> {
  if (s === 'SUCCESS') return 'success';
  if (s === 'FAIL') return 'failed';
  if (s === 'CANCELLED') return 'canceled';
  if (s === 'WAIT_USER_CONFIRM') return 'wait_user_confirm';
  return 'processing';
}

/** When the sweeper should look at an open withdrawal next: a poll, but never past the confirm window. */
export function nextCheckAt(nowMs: number, createdAtMs: number): number {
  return Math.min(nowMs + POLL_INTERVAL_MS, createdAtMs + CONFIRM_WINDOW_MS);
}

/** Whether the user's confirmation window is over. */
export const confirmWindowOver = (nowMs: number, createdAtMs: number): boolean =>
  nowMs >= createdAtMs + CONFIRM_WINDOW_MS;
