import { Text, View } from '@tarojs/components';
import type { ForwardView } from '../../../functions/src/http/contract';
import { shortTime } from '../lib/format';
import { forwardedClaims, forwardRows } from '../lib/forwards';

interface Props {
  forwards: readonly ForwardView[] | undefined;
  /** All claims of the packet: the ones not made through a forward came from the sender's own code. */
  claimedCount: number;
  /** False while later pages of the tree are not loaded: the direct claims cannot be told yet. */
  complete?: boolean;
}

/** Indentation steps shown (deeper forwards stay at the last step, their depth in words). */
const MAX_INDENT = 5;

/**
 * 转发记录: who passed the packet on, through whose forward, and how many claims came through
 * each code — an indented list built from the API's flat list with parent links.
 */
export function ForwardTree({ forwards, claimedCount, complete = true }: Props) {
  const rows = forwardRows(forwards);
  if (!rows.length) return null;
  const direct = Math.max(0, claimedCount - forwardedClaims(forwards));
  return (
    <View className="forwards card" role="list" aria-label="转发记录">
      <Text className="card__title">转发记录</Text>
      <View
        className="forwards__row forwards__row--root"
        role="listitem"
        aria-label={complete ? `你发出的二维码和链接，直接领取 ${direct} 个` : '你发出的二维码和链接'}
      >
        <Text className="forwards__name">你发出的二维码和链接</Text>
        {complete ? <Text className="forwards__count">直接领取 {direct} 个</Text> : null}
      </View>
      {rows.map((r) => (
        <View
          key={r.id}
          className={`forwards__row forwards__row--d${Math.min(r.depth + 1, MAX_INDENT)}`}
          role="listitem"
          data-depth={r.depth}
          aria-label={`${r.name} 转发${r.depth > 0 ? `（第 ${r.depth + 1} 层）` : ''}，经此领取 ${r.claims} 个${r.children ? `，含下级转发共 ${r.subtotal} 个` : ''}`}
        >
          <Text className="forwards__name">
            {r.depth > 0 ? '└ ' : ''}
            {r.name} 转发
          </Text>
          <Text className="forwards__count">
            领取 {r.claims} 个{r.children ? ` · 含下级 ${r.subtotal} 个` : ''}
          </Text>
          <Text className="forwards__time">{shortTime(r.at)}</Text>
        </View>
      ))}
    </View>
  );
}
