import Taro from '@tarojs/taro';
import { useCallback, useState } from 'react';
import type { GroupContextRequest } from '../../../functions/src/http/schemas';
import type { OpenCodeResponse } from '../../../functions/src/http/contract';
import { devFeaturesEnabled } from '../api/config';
import { ApiError } from '../api/errors';
import { refusalOf, type Refusal } from './refusal';
import { KEYS_GROUP, load, save } from './storage';

/**
 * 仅限本群 on the client: where the open page's group context comes from.
 *
 * - Mini-program: `Taro.getGroupEnterInfo` — WeChat's encrypted group data for the chat the
 *   page was opened from (a share card in a group). Asked afresh for every request: the data
 *   carries a timestamp the server checks for freshness, and it is encrypted under the session
 *   key of the latest login. Outside a group chat WeChat refuses (40097): no context.
 * - H5 where dev features are on: a dev group the user picks (模拟群聊), sent as `devGroup`, so
 *   the whole flow runs in a browser. Elsewhere on H5: no context.
 */
export type GroupContext = GroupContextRequest;

/** The dev groups offered as one-tap choices (anything else can be typed). */
export const DEV_GROUPS = ['群A', '群B'] as const;

/** Whether this build offers the dev group chooser (H5 with dev features). */
export function devGroupsOffered(): boolean {
  return process.env.TARO_ENV === 'h5' && devFeaturesEnabled();
}

/** WeChat's group data for the chat this page was opened from, or undefined outside a group. */
export async function wechatGroupContext(): Promise<GroupContext | undefined> {
  if (process.env.TARO_ENV !== 'weapp') return undefined;
  try {
    const res = (await Taro.getGroupEnterInfo({})) as unknown as { encryptedData?: string; iv?: string };
    return res.encryptedData && res.iv ? { encryptedData: res.encryptedData, iv: res.iv } : undefined;
  } catch {
    // Not opened from a group chat (40097), or left the group (65206): no group context.
    return undefined;
  }
}

export interface GroupContextState {
  /** Fresh group context for one request (open or claim), or undefined when there is none. */
  fetch: () => Promise<GroupContext | undefined>;
  /** H5 with dev features: the chooser is shown. */
  offered: boolean;
  /** The chosen dev group ('' = not from a group). */
  devGroup: string;
  setDevGroup: (name: string) => void;
}

/**
 * The open page's group context. Changing the dev group changes `fetch` (a new function), so
 * a page that opens with `fetch` in its dependencies opens again as a member of the new group.
 */
export function useGroupContext(): GroupContextState {
  const offered = devGroupsOffered();
  const [devGroup, setDevGroupState] = useState<string>(() =>
    offered ? (load<string>(KEYS_GROUP.devGroup) ?? '') : '',
  );
  const setDevGroup = useCallback((name: string) => {
    const v = name.trim().slice(0, 32);
    setDevGroupState(v);
    save(KEYS_GROUP.devGroup, v);
  }, []);
  const fetch = useCallback(async (): Promise<GroupContext | undefined> => {
    if (offered) return devGroup ? { devGroup } : undefined;
    return wechatGroupContext();
  }, [offered, devGroup]);
  return { fetch, offered, devGroup, setDevGroup };
}

/**
 * The refusal screen for an open view that says GROUP_ONLY (the claim's 403 carries the same
 * copy through `refusalOf`), or undefined when the view is not that refusal.
 */
export function groupRefusalOfView(res: OpenCodeResponse): Refusal | undefined {
  if (res.target !== 'packet' || res.reason !== 'GROUP_ONLY') return undefined;
  return refusalOf(new ApiError('GROUP_ONLY', 403), { op: 'claim', group: res.group === 'other' ? 'other' : 'none' });
}
