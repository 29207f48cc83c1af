import Taro from '@tarojs/taro';

/** Local storage (localStorage on H5, wx storage on weapp), JSON values, never throwing. */
export function load<T>(key: string): T | undefined {
  try {
    const v = Taro.getStorageSync(key) as unknown;
    if (v === '' || v === undefined || v === null) return undefined;
    return (typeof v === 'string' ? JSON.parse(v) : v) as T;
  } catch {
    return undefined;
  }
}

export function save(key: string, value: unknown): void {
  try {
    Taro.setStorageSync(key, JSON.stringify(value));
  } catch {
    /* storage full or unavailable: the app works without it */
  }
}

export function remove(key: string): void {
  try {
    Taro.removeStorageSync(key);
  } catch {
    /* ignore */
  }
}

export const KEYS = {
  session: 'hb.session',
  draft: 'hb.sendDraft',
  device: 'hb.device',
  speech: 'hb.speech',
  packetCodes: (id: string) => `hb.codes.${id}`,
} as const;

/** 仅限本群: the H5 dev group chooser's last choice (its own key set, see useGroupContext). */
export const KEYS_GROUP = {
  devGroup: 'hb.devGroup',
} as const;
