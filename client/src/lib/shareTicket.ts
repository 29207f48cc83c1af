import Taro from '@tarojs/taro';
import { useEffect } from 'react';

/**
 * 仅限本群: a group-only packet's share card goes out with a share ticket, so whoever opens it
 * from the group gets the group context (`Taro.getGroupEnterInfo`). Mini-program only; other
 * packets keep WeChat's default share menu.
 */
export function shareMenuOptions(
  groupOnly: boolean,
): Pick<Taro.showShareMenu.Option, 'withShareTicket' | 'showShareItems'> {
  // A ticket belongs to a group chat: the moments (朋友圈) share has none, so it is left out.
  // Taro's name for WeChat's `menus`: its weapp runtime sets `menus` from `showShareItems` and
  // drops a `menus` passed directly.
  return groupOnly ? { withShareTicket: true, showShareItems: ['shareAppMessage'] } : { withShareTicket: false };
}

/** Turns the share ticket on while a page shows a group-only packet (weapp). */
export function useShareTicket(groupOnly: boolean | undefined): void {
  useEffect(() => {
    if (process.env.TARO_ENV !== 'weapp' || !groupOnly) return;
    void Promise.resolve(Taro.showShareMenu(shareMenuOptions(true))).catch(() => undefined);
  }, [groupOnly]);
}
