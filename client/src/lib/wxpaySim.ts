import Taro from '@tarojs/taro';
import { wxpaySimBase } from '../api/config';

/**
 * The local WeChat Pay simulator's test hooks (H5 with dev features only; the weapp build never
 * loads this module): what WeChat's payment sheet and transfer confirmation would do. The
 * simulator answers /sim routes with CORS headers, so the browser calls it directly.
 */
export type SimPayAction = 'pay' | 'cancel';
export type SimTransferAction = 'confirm' | 'reject';

export class SimError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(`模拟器返回 ${status}${code ? ` ${code}` : ''}`);
    this.name = 'SimError';
  }
}

async function post(path: string): Promise<void> {
  let res: Taro.request.SuccessCallbackResult<Record<string, unknown>>;
  try {
    res = await Taro.request<Record<string, unknown>>({
      url: `${wxpaySimBase()}${path}`,
      method: 'POST',
      header: { 'Content-Type': 'application/json' },
      data: {},
      timeout: 10_000,
    });
  } catch {
    throw new SimError(0, 'NETWORK_ERROR');
  }
  if (res.statusCode < 200 || res.statusCode >= 300) {
    const code = typeof res.data?.code === 'string' ? res.data.code : '';
    throw new SimError(res.statusCode, code);
  }
}

/** `POST {sim}/sim/payments/{prepayId}/pay|cancel` — the user pays, or closes the sheet. */
export function simPayment(prepayId: string, action: SimPayAction): Promise<void> {
  return post(`/sim/payments/${encodeURIComponent(prepayId)}/${action}`);
}

/** `POST {sim}/sim/transfers/{outBillNo}/confirm|reject` — the user takes the money, or declines. */
export function simTransfer(outBillNo: string, action: SimTransferAction): Promise<void> {
  return post(`/sim/transfers/${encodeURIComponent(outBillNo)}/${action}`);
}
