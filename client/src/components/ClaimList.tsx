import { Text, View } from '@tarojs/components';
import type { ClaimView } from '../../../functions/src/http/contract';
import { shortTime } from '../lib/format';
import { formatYuan } from '../lib/money';

interface Props {
  claims: ClaimView[];
  /** The caller's user id: their line is marked. */
  me?: string | undefined;
  /** 手气最佳 is shown once the packet is finished (the API marks it only then). */
  finished: boolean;
}

/** Who claimed what, in claim order, with 手气最佳 on the luckiest share once all are claimed. */
export function ClaimList({ claims, me, finished }: Props) {
  if (!claims.length) return null;
  return (
    <View className="claims" role="list">
      {claims.map((c) => (
        <View key={`${c.userId}-${c.claimedAt}`} className={`claim${c.userId === me ? ' claim--me' : ''}`} role="listitem">
          <View className="claim__avatar" aria-hidden="true">
            <Text>{[...c.name][0] ?? '?'}</Text>
          </View>
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
    </View>
  );
}
