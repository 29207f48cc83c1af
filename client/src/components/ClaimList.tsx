import { Button, Text, View } from '@tarojs/components';
import { useState } from 'react';
import type { ClaimView } from '../../../functions/src/http/contract';
import { shortTime } from '../lib/format';
import { formatYuan } from '../lib/money';
import { Avatar } from './Avatar';

interface Props {
  claims: ClaimView[];
  /** The caller's user id: their line is marked. */
  me?: string | undefined;
  /** 手气最佳 is shown once the packet is finished (the API marks it only then). */
  finished: boolean;
}

/** Lines rendered at first, and added per 查看更多: a 10,000-share packet has 10,000 claims. */
export const CLAIMS_PAGE = 50;

/**
 * Who claimed what, in claim order, with 手气最佳 on the luckiest share once all are claimed.
 * Long lists (enterprise and provider packets) render a page at a time; the caller's own line
 * and the 手气最佳 line are always shown, pinned on top when they are not on the page yet.
 */
export function ClaimList({ claims, me, finished }: Props) {
  const [shown, setShown] = useState(CLAIMS_PAGE);
  if (!claims.length) return null;
  const page = claims.slice(0, shown);
  const pinned = claims.slice(shown).filter((c) => c.userId === me || (finished && c.best));
  const rest = claims.length - page.length;
  return (
    <View className="claims" role="list">
      {[...pinned, ...page].map((c) => (
        <View
          key={`${c.userId}-${c.claimedAt}`}
          className={`claim${c.userId === me ? ' claim--me' : ''}`}
          role="listitem"
        >
          <Avatar className="claim__avatar" name={c.name} avatar={c.avatar} />
          <View className="claim__who">
            <Text className="claim__name">
              {c.name}
              {c.userId === me ? '（我）' : ''}
            </Text>
            <Text className="claim__time">{shortTime(c.claimedAt)}</Text>
          </View>
          <View className="claim__right">
            <Text className="claim__amount">{formatYuan(c.amount)}</Text>
            {finished && c.best ? <Text className="claim__best">★ 手气最佳</Text> : null}
          </View>
        </View>
      ))}
      {rest > 0 ? (
        <Button
          className="claims__more"
          aria-label="查看更多领取记录"
          onClick={() => setShown((n) => n + CLAIMS_PAGE * 4)}
        >
          {`查看更多（还有 ${rest} 人）`}
        </Button>
      ) : null}
    </View>
  );
}
