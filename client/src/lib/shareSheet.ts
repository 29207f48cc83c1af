import Taro from '@tarojs/taro';

/** What a page says when the clipboard refused a link: the link stays shown below. */
export const COPY_FAILED = '无法写入剪贴板，请手动复制下面的链接';

/** Whether this is the H5 app in a browser with the Web Share API (the system share sheet). */
export function canWebShare(): boolean {
  return process.env.TARO_ENV === 'h5' && typeof navigator !== 'undefined' && typeof navigator.share === 'function';
}

/** Hands a packet's link to the system share sheet; a sheet the user closes is no error. */
export async function openShareSheet(text: string, url: string): Promise<void> {
  try {
    await navigator.share({ title: '红包', text, url });
  } catch {
    /* cancelled */
  }
}

/** Copies a link; false when the clipboard refused it (the caller shows the link instead). */
export async function copyToClipboard(url: string): Promise<boolean> {
  try {
    await Taro.setClipboardData({ data: url });
    return true;
  } catch {
    return false;
  }
}
