/**
 * 活动 (enterprise and provider accounts): the caller's campaigns, newest first, and the ways
 * in — create one, see one, manage the API keys. The server answers 403 to other accounts.
 */
import { Text, View } from '@tarojs/components';
import Taro from '@tarojs/taro';
import { api } from '../../api';
import { PageShell } from '../../components/PageShell';
import { BusinessOnly } from '../components/BusinessOnly';
import { Btn, Empty, ErrorNote, Loading } from '../../components/ui';
import { campaignStateText } from '../lib/campaign';
import { shortTime } from '../../lib/format';
import { formatYuan } from '../../lib/money';
import { useLoad } from '../../lib/useLoad';
import '../biz.scss';

export default function CampaignsPage() {
  const list = useLoad(async () => (await api.campaigns()).items, { forbidden: true });
  const { data: items, error, loading, reload: load } = list;

  if (list.forbidden) return <BusinessOnly what="活动" />;

  return (
    <PageShell className="campaigns-page" onShowAgain={() => void load()}>
      <View className="biz-head">
        <View>
          <Text className="biz-head__title">活动</Text>
          <Text className="biz-head__meta">一次创建最多 1000 个同样的红包，一次扣款，兑换码可下载</Text>
        </View>
      </View>
      <View className="biz-actions">
        <Btn label="创建活动" kind="gold" onClick={() => void Taro.navigateTo({ url: '/biz/campaign-create/index' })} />
        <Btn label="开发者密钥" kind="ghost" onClick={() => void Taro.navigateTo({ url: '/biz/apikeys/index' })} />
      </View>

      {error ? <ErrorNote message={error} onRetry={() => void load()} /> : null}
      {!items && loading ? <Loading /> : null}
      {items && items.length === 0 ? <Empty text="还没有活动，点击「创建活动」开始" /> : null}
      {items?.length ? (
        <View className="biz-list" role="list" aria-label="活动列表">
          {items.map((c) => {
            const state = campaignStateText(c);
            return (
              <Btn
                key={c.campaignId}
                label={`查看活动 ${c.name}`}
                kind="plain"
                className="biz-item"
                onClick={() =>
                  void Taro.navigateTo({ url: `/biz/campaign/index?id=${encodeURIComponent(c.campaignId)}` })
                }
              >
                <View className="biz-item__top">
                  <Text className="biz-item__name">{c.name}</Text>
                  <Text className={`biz-tag biz-tag--${c.state}`}>{state}</Text>
                </View>
                <Text className="biz-item__sub">
                  {c.quantity} 个红包 · 每个 {formatYuan(c.total)} / {c.count} 份 · 共{' '}
                  {formatYuan(c.total * c.quantity)}
                </Text>
                <Text className="biz-item__sub">创建于 {shortTime(c.createdAt)}</Text>
              </Btn>
            );
          })}
        </View>
      ) : null}
    </PageShell>
  );
}
