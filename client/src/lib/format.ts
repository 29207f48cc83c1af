import type { LedgerType, PacketStatus } from '../../../functions/src/http/contract';

export const STATUS_TEXT: Record<PacketStatus, string> = {
  awaiting_payment: '待支付',
  active: '领取中',
  finished: '已领完',
  expired: '已过期',
  refunded: '已过期，已退款',
  canceled: '已取消',
};

export const LEDGER_TEXT: Record<LedgerType, string> = {
  topup: '零钱充值',
  packet_debit: '发出红包',
  fee: '手续费',
  claim_credit: '领取红包',
  refund_credit: '红包退款',
  transfer_debit: '付款',
  transfer_credit: '收款',
  withdrawal_debit: '提现',
  withdrawal_return: '提现退回',
};

const pad = (n: number) => String(n).padStart(2, '0');

/** "11-28 13:05" in local time (the year when not this year). */
export function shortTime(iso: string, now = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const md = `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return d.getFullYear() === now.getFullYear() ? md : `${d.getFullYear()}-${md}`;
}

/** "23 小时后过期" / "5 分钟后过期" / "已过期". */
export function expiresIn(iso: string, now = Date.now()): string {
  const ms = Date.parse(iso) - now;
  if (!Number.isFinite(ms)) return '';
  if (ms <= 0) return '已过期';
  const min = Math.ceil(ms / 60_000);
  if (min < 60) return `${min} 分钟后过期`;
  return `${Math.floor(min / 60)} 小时后过期`;
}
