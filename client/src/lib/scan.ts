import Taro from '@tarojs/taro';
import { api } from '../api';
import { ApiError } from '../api/errors';
import { extractCode, openPath } from './links';

/**
 * 扫一扫: weapp scans with the camera (Taro.scanCode), then routes by what the code is — a
 * packet opens the Open page, a receive code (收款码) the Pay page. Our QR codes hold a code link
 * (`…/o/<code>`); a bare code or a `?c=` link is read the same way (extractCode). H5 has no
 * camera scanner: the Pay page offers a field to paste a code or link instead.
 */
export async function scanAndRoute(): Promise<void> {
  if (process.env.TARO_ENV !== 'weapp') {
    await Taro.navigateTo({ url: '/pages/pay/index' });
    return;
  }
  let text: string;
  try {
    const res = await Taro.scanCode({ onlyFromCamera: false, scanType: ['qrCode'] });
    text = res.result;
  } catch {
    return; // cancelled
  }
  await routeCode(extractCode(text));
}

/** Opens the right page for a scanned or pasted code. */
export async function routeCode(code: string): Promise<void> {
  try {
    const view = await api.openCode(code);
    if (view.target === 'receive') await Taro.navigateTo({ url: `/pages/pay/index?c=${encodeURIComponent(code)}` });
    else await Taro.navigateTo({ url: openPath(code) });
  } catch (err) {
    const msg = err instanceof ApiError ? err.message : '无法识别这个二维码';
    await Taro.showToast({ title: msg, icon: 'none', duration: 2500 });
  }
}
