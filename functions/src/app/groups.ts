import { decryptGroupData, groupBinding, groupIdentity, openSessionKey, type GroupDataRefusal } from '../domain/group';
import { fail } from '../domain/errors';
import type { PacketRecord } from '../store/packets';
import type { Principal } from './context';
import type { Deps } from './deps';

/**
 * Group-only packets (仅限本群): the group context a request carries and where the caller stands
 * with a packet's group. See docs/groups.md for the design; domain/group.ts for the crypto.
 */

/** What the app sends: WeChat's encrypted group data, or — where dev features are on — a dev group name. */
export type GroupContext = { encryptedData: string; iv: string } | { devGroup: string };

/** `member`: from the packet's group; `other`: from another group; `none`: from no group. */
export type GroupStanding = 'member' | 'other' | 'none';

const REFUSED_DATA: Record<GroupDataRefusal, string> = {
  malformed: '群信息格式不正确',
  undecryptable: '群信息无法解密，请重新从群聊打开',
  not_json: '群信息无法解密，请重新从群聊打开',
  foreign_app: '群信息不属于本小程序',
  stale: '群信息已过期，请重新从群聊打开',
  no_group: '群信息中没有群标识',
};

/**
 * The caller's group, verified: undefined when the request carries none. Bad group data is
 * refused (VALIDATION_FAILED with `details.reason`), never treated as "no group": a forged or
 * stale blob is an error the app should see, not a quiet downgrade. Encrypted data is opened
 * with the caller's latest session key (one account read) and checked against our appid.
 */
export async function callerGroup(d: Deps, who: Principal, ctx: GroupContext | undefined): Promise<string | undefined> {
  if (!ctx) return undefined;
  if ('devGroup' in ctx) {
    refuseDevGroup(d, ctx);
    return groupIdentity('dev', ctx.devGroup.trim());
  }
  const appId = d.cfg.wx?.appId;
  if (!appId) fail('VALIDATION_FAILED', '此环境无法校验微信群信息', { reason: 'not_configured' });
  const sealed = who.via === 'api-key' ? undefined : await d.accounts.sealedSessionKey(who.userId);
  const sessionKey = sealed ? openSessionKey(d.cfg.sessionKeySeal, who.userId, sealed) : undefined;
  if (!sessionKey) fail('VALIDATION_FAILED', '无法校验群信息，请重新登录后从群聊打开', { reason: 'no_session_key' });
  const r = decryptGroupData({ encryptedData: ctx.encryptedData, iv: ctx.iv, sessionKey, appId, nowMs: d.now() });
  if (!r.ok) fail('VALIDATION_FAILED', REFUSED_DATA[r.reason], { reason: r.reason });
  return groupIdentity('wx', r.openGId);
}

/**
 * `devGroup` outside dev features: refused before anything is read or counted (a config check).
 * Encrypted data is checked only when a packet is group-only (it costs an account read).
 */
export function refuseDevGroup(d: Deps, ctx: GroupContext | undefined): void {
  if (ctx && 'devGroup' in ctx && !d.cfg.devFeatures)
    fail('VALIDATION_FAILED', '此环境不支持模拟群聊（devGroup），请从微信群聊打开', { reason: 'dev_group_disabled' });
}

/**
 * Where the caller stands with a group-only packet. With `bind`, an unbound packet is bound to
 * the caller's verified group first (one put-if-absent: of two groups racing, exactly one binds
 * and the other is `other`). A binding never changes, so a warm function's cached one is exact;
 * one not seen yet is settled by the conditional write itself.
 */
export async function groupStanding(
  d: Deps,
  who: Principal,
  p: PacketRecord,
  ctx: GroupContext | undefined,
  bind: boolean,
): Promise<GroupStanding> {
  const group = await callerGroup(d, who, ctx);
  if (!group) return 'none';
  const mine = groupBinding(p.id, group);
  const bound = (await d.packets.boundGroup(p.id)) ?? (bind ? await d.packets.bindGroup(p.id, mine) : undefined);
  return bound === mine ? 'member' : 'other';
}

/** 403 GROUP_ONLY, saying whether the caller came from another group or from none. */
export function refuseGroup(standing: Exclude<GroupStanding, 'member'>): never {
  return standing === 'none'
    ? fail('GROUP_ONLY', '这是仅限本群的红包，请从发红包的群聊里打开再领取', { group: 'none' })
    : fail('GROUP_ONLY', '这是仅限本群的红包，只有发红包所在群的成员可以领取', { group: 'other' });
}
