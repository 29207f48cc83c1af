import { Text, View } from '@tarojs/components';
import Taro, { usePullDownRefresh, useReachBottom } from '@tarojs/taro';
import { useEffect, useState } from 'react';
import { api, type MyPacketItem } from '../../api';
import { PageShell } from '../../components/PageShell';
import { Btn, Empty, ErrorNote, Loading } from '../../components/ui';
import { shortTime, STATUS_TEXT } from '../../lib/format';
import { formatYuan } from '../../lib/money';
import { usePaged } from '../../lib/usePaged';
import './index.scss';

type Role = 'sent' | 'received';

export default function RecordsPage() {
  const [role, setRole] = useState<Role>('sent');
  const list = usePaged<MyPacketItem>(async (cursor) => {
    const r = await api.myPackets(role, cursor);
    return { items: r.items, cursor: r.cursor };
  });
  const { refresh, more } = list;

  // biome-ignore lint/correctness/useExhaustiveDependencies: `role` is the trigger: switching the list's role reloads it.
  useEffect(() => {
    void refresh();
  }, [role, refresh]);
  usePullDownRefresh(() => {
    void refresh().finally(() => Taro.stopPullDownRefresh());
  });
  useReachBottom(() => {
    void more();
  });

  const totalShown = list.items.reduce((a, p) => a + (role === 'sent' ? p.total : (p.myAmount ?? 0)), 0);

  return (
    <PageShell className="records-page" onShowAgain={() => void refresh()}>
      <View className="segmented segmented--light" role="group">
        <Btn label="我发出的" kind="chip" pressed={role === 'sent'} onClick={() => setRole('sent')} />
        <Btn label="我收到的" kind="chip" pressed={role === 'received'} onClick={() => setRole('received')} />
      </View>
      <View className="records-sum">
        <Text className="records-sum__caption">{role === 'sent' ? '共发出' : '共收到'}</Text>
        <Text className="records-sum__amount">{formatYuan(totalShown)}</Text>
        <Text className="records-sum__count">
          {list.items.length} 个红包{list.hasMore ? '（已加载部分）' : ''}
        </Text>
      </View>
      <View className="records" role="list">
        {list.items.map((p) => (
          <View
            key={p.id}
            className="record"
            role={role === 'sent' ? 'button' : 'listitem'}
            aria-label={
              role === 'sent'
                ? `查看红包：${p.greeting}，${formatYuan(p.total)}，${STATUS_TEXT[p.status]}，已领 ${p.claimedCount}/${p.count}`
                : `${p.sender.name}的红包，领到 ${formatYuan(p.myAmount ?? 0)}`
            }
            onClick={() => {
              if (role === 'sent') void Taro.navigateTo({ url: `/pages/packet/index?id=${encodeURIComponent(p.id)}` });
            }}
          >
            <View className="record__left">
              <Text className="record__title">{role === 'sent' ? p.greeting : `${p.sender.name}的红包`}</Text>
              <Text className="record__sub">
                {shortTime(role === 'received' && p.claimedAt ? p.claimedAt : p.createdAt)} ·{' '}
                {p.mode === 'lucky' ? '拼手气' : '普通'}
                {role === 'received' ? ` · ${p.greeting}` : ''}
              </Text>
            </View>
            <View className="record__right">
              <Text className="record__amount">{formatYuan(role === 'sent' ? p.total : (p.myAmount ?? 0))}</Text>
              <Text className={`record__status record__status--${p.status}`}>
                {role === 'sent' ? `${STATUS_TEXT[p.status]} ${p.claimedCount}/${p.count}` : STATUS_TEXT[p.status]}
              </Text>
              {role === 'sent' && p.refundedAmount > 0 ? (
                <Text className="record__refund">已退回 {formatYuan(p.refundedAmount)}</Text>
              ) : null}
            </View>
          </View>
        ))}
      </View>
      {list.loading ? <Loading /> : null}
      {list.loaded && !list.loading && list.items.length === 0 ? (
        <Empty text={role === 'sent' ? '还没有发过红包' : '还没有收到红包'} />
      ) : null}
      {list.error ? (
        <ErrorNote message={list.error} onRetry={() => void (list.items.length ? more() : refresh())} />
      ) : null}
      {list.hasMore && !list.loading ? (
        <Btn label="加载更多" kind="plain" className="btn--block" onClick={() => void more()} />
      ) : null}
    </PageShell>
  );
}
