import { formatYuan, parseYuan, type Fen } from './money';

/** A withdrawal is 1.00–200.00 yuan a transfer (the product's merchant-transfer limits). */
export const WITHDRAW_MIN: Fen = 100;
export const WITHDRAW_MAX: Fen = 20_000;
/** At most 2,000 yuan a UTC+8 day per account (the server checks; the page says so). */
export const WITHDRAW_DAILY: Fen = 200_000;

export const WITHDRAW_LIMIT_TEXT = `单笔提现 ${formatYuan(WITHDRAW_MIN)}–${formatYuan(WITHDRAW_MAX)}，每天最多 ${formatYuan(WITHDRAW_DAILY)}`;

export type WithdrawCheck = { ok: true; fen: Fen } | { ok: false; error: string };

/**
 * The typed amount in integer fen (string arithmetic, no float), checked against the limits and
 * the balance before anything is sent; the server checks again (and the day's total).
 */
export function checkWithdraw(text: string, balance?: Fen): WithdrawCheck {
  const p = parseYuan(text);
  if (!p.ok) return p;
  if (p.fen < WITHDRAW_MIN || p.fen > WITHDRAW_MAX)
    return { ok: false, error: `单笔提现金额须在 ${formatYuan(WITHDRAW_MIN)}–${formatYuan(WITHDRAW_MAX)} 之间` };
  if (balance !== undefined && p.fen > balance)
    return { ok: false, error: `零钱余额不足，最多可提现 ${formatYuan(balance)}` };
  return { ok: true, fen: p.fen };
}
