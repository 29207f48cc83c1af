import Taro from '@tarojs/taro';
import type { PaymentRequest, WithdrawalConfirm, WithdrawalState } from '../../../functions/src/http/contract';
import type { CreatePacketResult, PendingPacketResponse, PendingTopupResponse, TopupResult } from '../api';
import { devFeaturesEnabled } from '../api/config';
import { ApiError } from '../api/errors';

/**
 * WeChat Pay on the app side: the payment sheet (`wx.requestPayment`), the transfer
 * confirmation (`wx.requestMerchantTransfer`) and the bounded polls that follow them. Neither
 * sheet's success callback proves anything: money counts only when the API says so (the
 * server learns it from WeChat Pay's notification or its own order query).
 */

/** A `202` to a packet paid by WeChat Pay (no codes until the payment is confirmed). */
export const isPendingPacket = (r: CreatePacketResult): r is PendingPacketResponse => 'payment' in r && !!r.payment;
/** A `202` to a WeChat Pay top-up (credited once the payment is confirmed). */
export const isPendingTopup = (r: TopupResult): r is PendingTopupResponse => 'payment' in r && !!r.payment;

/**
 * Who stands in for WeChat's sheets here: `weapp` — WeChat itself; `sim` — the H5 app with dev
 * features on, whose 模拟微信支付 / 模拟确认收款 screens call the local simulator's hooks;
 * `none` — a browser without dev features: no WeChat Pay at all.
 */
export type PayChannel = 'weapp' | 'sim' | 'none';

export function payChannel(): PayChannel {
  if (process.env.TARO_ENV === 'weapp') return 'weapp';
  if (process.env.TARO_ENV === 'h5' && devFeaturesEnabled()) return 'sim';
  return 'none';
}

/** How a sheet ended, as far as the app can tell (which proves nothing about the money). */
export type SheetOutcome = { kind: 'done' } | { kind: 'canceled' } | { kind: 'failed'; message: string };

function errMsgOf(err: unknown): string {
  return String(
    (err as { errMsg?: string; message?: string } | undefined)?.errMsg ?? (err as Error | undefined)?.message ?? '',
  );
}

/**
 * The payment sheet with exactly the server's `request` (timeStamp, nonceStr, package,
 * signType, paySign — the signature covers them, nothing is changed).
 */
export async function openPaymentSheet(request: PaymentRequest): Promise<SheetOutcome> {
  try {
    await Taro.requestPayment({
      timeStamp: request.timeStamp,
      nonceStr: request.nonceStr,
      package: request.package,
      signType: request.signType,
      paySign: request.paySign,
    });
    return { kind: 'done' };
  } catch (err) {
    const msg = errMsgOf(err);
    return /cancel/i.test(msg) ? { kind: 'canceled' } : { kind: 'failed', message: msg };
  }
}

/** `wx.requestMerchantTransfer`'s options (base library 3.3.0+; Taro 4.2 has no typing for it). */
interface MerchantTransferOption {
  mchId: string;
  appId: string;
  package: string;
  success?: (res: unknown) => void;
  fail?: (err: { errMsg?: string }) => void;
}
interface WxMerchantTransfer {
  requestMerchantTransfer?: (o: MerchantTransferOption) => void;
  canIUse?: (api: string) => boolean;
}
// The mini-program's global (absent on H5 and in tests unless a test provides it).
declare const wx: WxMerchantTransfer | undefined;

function wxGlobal(): WxMerchantTransfer | undefined {
  return typeof wx === 'undefined' ? undefined : wx;
}

/** Whether this WeChat can confirm a merchant transfer (base library 3.3.0 and later). */
export function canConfirmTransfer(): boolean {
  return typeof wxGlobal()?.requestMerchantTransfer === 'function';
}

/**
 * WeChat's transfer confirmation with exactly the server's `confirm` {mchId, appId, package}.
 * The user confirms (or not) in WeChat; the app then polls the withdrawal.
 */
export function openTransferConfirm(confirm: WithdrawalConfirm): Promise<SheetOutcome> {
  const w = wxGlobal();
  if (!w || typeof w.requestMerchantTransfer !== 'function') {
    return Promise.resolve({ kind: 'failed', message: 'requestMerchantTransfer unavailable' });
  }
  const call = w.requestMerchantTransfer.bind(w);
  return new Promise((resolve) => {
    call({
      mchId: confirm.mchId,
      appId: confirm.appId,
      package: confirm.package,
      success: () => resolve({ kind: 'done' }),
      fail: (err) => {
        const msg = errMsgOf(err);
        resolve(/cancel/i.test(msg) ? { kind: 'canceled' } : { kind: 'failed', message: msg });
      },
    });
  });
}

/**
 * The waits between polls after a sheet, in ms: the first look at once (the notification often
 * arrives before the sheet closes), then backing off to 3 s; about 20 s in all. After that the
 * page says it is still waiting and offers to look again — it never polls forever.
 */
export const POLL_DELAYS_MS: readonly number[] = [0, 500, 1000, 1500, 2000, 3000, 3000, 3000, 3000, 3000];

export interface PollOptions {
  delays?: readonly number[];
  /** Stops the poll (the page went away); the last answer is returned. */
  cancelled?: () => boolean;
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Polls `get` until `settled` says so or the delays run out; returns the last answer (or
 * undefined when none came). A lost answer (no network, 5xx, 429) is tried again at the next
 * step; a refusal (4xx) is thrown — polling again would get the same.
 */
export async function pollUntil<T>(
  get: () => Promise<T>,
  settled: (t: T) => boolean,
  opts: PollOptions = {},
): Promise<T | undefined> {
  const delays = opts.delays ?? POLL_DELAYS_MS;
  const sleep = opts.sleep ?? realSleep;
  let last: T | undefined;
  let lastError: unknown;
  for (const ms of delays) {
    if (ms > 0) await sleep(ms);
    if (opts.cancelled?.()) break;
    try {
      last = await get();
      lastError = undefined;
      if (settled(last)) return last;
    } catch (err) {
      if (err instanceof ApiError && !err.retryable) throw err;
      lastError = err;
    }
  }
  if (last === undefined && lastError !== undefined) throw lastError;
  return last;
}

/** `prepay_id=wx2611…` → `wx2611…` (the simulator's hooks are keyed by the prepay id). */
export function prepayIdOf(request: Pick<PaymentRequest, 'package'>): string {
  const m = /^prepay_id=(.+)$/.exec(request.package);
  return m?.[1] ?? '';
}

/** A withdrawal's state in words; a failed or canceled one says whether the money is back. */
export function withdrawalStateText(state: WithdrawalState, returned: boolean): string {
  switch (state) {
    case 'wait_user_confirm':
      return '待确认收款';
    case 'processing':
      return '处理中';
    case 'success':
      return '已到账';
    case 'failed':
      return returned ? '失败，已退回零钱' : '失败，正在退回零钱';
    case 'canceled':
      return returned ? '已取消，已退回零钱' : '已取消，正在退回零钱';
  }
}

/** A withdrawal that will not change any more (its money has arrived or is back in the balance). */
export function withdrawalSettled(w: { state: WithdrawalState; returned: boolean }): boolean {
  return w.state === 'success' || ((w.state === 'failed' || w.state === 'canceled') && w.returned);
}
