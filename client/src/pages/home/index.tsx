import { Text, View } from '@tarojs/components';
import Taro from '@tarojs/taro';
import { api } from '../../api';
import { clearSession, currentSession, hasRole, isBusiness } from '../../api/session';
import { PageShell } from '../../components/PageShell';
import { Btn, ErrorNote } from '../../components/ui';
import { Avatar } from '../../components/Avatar';
import { formatYuan } from '../../lib/money';
import { scanAndRoute } from '../../lib/scan';
import { useLoad } from '../../lib/useLoad';
import './index.scss';

const go = (url: string) => () => void Taro.navigateTo({ url });

export default function Home() {
  const session = currentSession();
  // Logged out: no load (the shell goes to the login page).
  const {
    data: wallet,
    error,
    loading,
    reload: load,
  } = useLoad(() => api.wallet(), { enabled: () => !!currentSession() });

  const logout = () => {
    clearSession();
    void Taro.reLaunch({ url: '/pages/login/index' });
  };

  return (
    <PageShell className="home" onShowAgain={() => void load()}>
      <View className="home__top">
        <View className="home__hello">
          <Btn label="头像和昵称" kind="plain" className="home__profile" onClick={go('/pages/profile/index')}>
            <Avatar className="home__avatar" name={session?.name ?? ''} avatar={session?.avatar} />
          </Btn>
          <Text className="home__name">你好，{session?.name ?? ''}</Text>
          <Btn label="退出登录" kind="plain" className="home__logout" onClick={logout}>
            退出
          </Btn>
        </View>
        {/* The labelled balance appears once known (or failed), never as a placeholder. */}
        {wallet || (error && !loading) ? (
          <View className="balance" aria-label="余额" role="status">
            <Text className="balance__caption">零钱余额（元）</Text>
            <Text className="balance__amount">{wallet ? formatYuan(wallet.balance) : '¥--'}</Text>
          </View>
        ) : (
          <View className="balance" aria-hidden="true">
            <Text className="balance__caption">零钱余额（元）</Text>
            <Text className="balance__amount balance__amount--loading">¥…</Text>
          </View>
        )}
        {error ? <ErrorNote message={error} onRetry={() => void load()} /> : null}
      </View>

      <View className="home__send">
        <Btn label="发红包" kind="gold" className="home__send-btn" onClick={go('/pages/send/index')}>
          <View className="home__send-inner">
            <View className="mini-packet" aria-hidden="true" />
            <Text className="home__send-text">发红包</Text>
          </View>
        </Btn>
      </View>

      <View className="grid">
        <Btn label="扫一扫" kind="plain" className="tile" onClick={() => void scanAndRoute()}>
          <View className="tile__icon tile__icon--scan" aria-hidden="true">
            <Text>扫</Text>
          </View>
          <Text className="tile__text">扫一扫</Text>
        </Btn>
        <Btn label="我的收款码" kind="plain" className="tile" onClick={go('/pages/receive/index')}>
          <View className="tile__icon tile__icon--receive" aria-hidden="true">
            <Text>收</Text>
          </View>
          <Text className="tile__text">我的收款码</Text>
        </Btn>
        <Btn label="红包记录" kind="plain" className="tile" onClick={go('/pages/records/index')}>
          <View className="tile__icon tile__icon--records" aria-hidden="true">
            <Text>记</Text>
          </View>
          <Text className="tile__text">红包记录</Text>
        </Btn>
        <Btn label="零钱" kind="plain" className="tile" onClick={go('/pages/wallet/index')}>
          <View className="tile__icon tile__icon--wallet" aria-hidden="true">
            <Text>¥</Text>
          </View>
          <Text className="tile__text">零钱</Text>
        </Btn>
        {/* Campaigns (and API keys): enterprise and provider accounts only. */}
        {isBusiness(session) ? (
          <Btn label="活动" kind="plain" className="tile" onClick={go('/biz/campaigns/index')}>
            <View className="tile__icon tile__icon--campaign" aria-hidden="true">
              <Text>活</Text>
            </View>
            <Text className="tile__text">活动</Text>
          </Btn>
        ) : null}
        {/* The operator view: admins only, H5 only (not in the WeChat build; the condition is inline so the weapp build drops the tile). */}
        {process.env.TARO_ENV === 'h5' && hasRole(session, 'admin') ? (
          <Btn label="运营看板" kind="plain" className="tile" onClick={go('/ops/index')}>
            <View className="tile__icon tile__icon--ops" aria-hidden="true">
              <Text>看</Text>
            </View>
            <Text className="tile__text">运营看板</Text>
          </Btn>
        ) : null}
      </View>
      {wallet ? (
        <Text className="hint hint--center">
          今日已发 {formatYuan(wallet.sentToday)} / 限额 {formatYuan(wallet.dailyLimit)} · 单个红包最多{' '}
          {formatYuan(wallet.perPacketLimit)}
        </Text>
      ) : null}
    </PageShell>
  );
}
