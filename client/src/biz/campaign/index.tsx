/**
 * 活动详情: a campaign's figures (GET /v1/campaigns/{id}) — packets created and finished, shares
 * and claimed shares, amounts claimed and refunded, the claim rate — the claims per hour as a
 * chart (a table on weapp), and its codes as a CSV file (H5).
 */
import { Text, View } from '@tarojs/components';
import { useDidHide, useDidShow, useRouter } from '@tarojs/taro';
import { useEffect, useState } from 'react';
import { api } from '../../api';
import { ApiError, errorText } from '../../api/errors';
import { BusinessOnly } from '../components/BusinessOnly';
import { HourlyClaims } from '../components/HourlyClaims';
import { PageShell } from '../../components/PageShell';
import { aria, Btn, ErrorNote, Loading } from '../../components/ui';
import { bpsToPercent, campaignStateText } from '../lib/campaign';
import { saveTextFile } from '../lib/download';
import { shortTime } from '../../lib/format';
import { paramText } from '../../lib/links';
import { formatYuan } from '../../lib/money';
import { useLoad } from '../../lib/useLoad';
import '../biz.scss';

/** Refreshed this often while shown and still running. */
const REFRESH_MS = 30_000;

function Stat({ title, value, sub }: { title: string; value: string; sub?: string }) {
  return (
    <View className="biz-stat" role="group" aria-label={`${title}：${value}${sub ? `，${sub}` : ''}`}>
      <Text className="biz-stat__title">{title}</Text>
      <Text className="biz-stat__value">{value}</Text>
      {sub ? <Text className="biz-stat__sub">{sub}</Text> : null}
    </View>
  );
}

export default function CampaignPage() {
  const { params } = useRouter();
  const id = paramText(params.id);
  const created = paramText(params.created);
  const campaign = useLoad(() => api.campaign(id), {
    forbidden: true,
    keepError: true,
    // The timer and the refresh button may ask while a load is still out.
    singleFlight: true,
    enabled: () => !!id,
    key: id,
    errorText: (err) => (err instanceof ApiError && err.code === 'NOT_FOUND' ? '活动不存在' : errorText(err)),
  });
  const { data: stats, error, loading, reload: load } = campaign;
  const [visible, setVisible] = useState(true);
  const [csvBusy, setCsvBusy] = useState(false);
  const [csvNote, setCsvNote] = useState<{ ok: boolean; text: string } | undefined>();

  useDidShow(() => setVisible(true));
  useDidHide(() => setVisible(false));

  const running = !!stats && stats.state !== 'canceled' && Date.parse(stats.expiresAt) > Date.now();
  useEffect(() => {
    if (!visible || !running) return undefined;
    const t = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(t);
  }, [visible, running, load]);

  const downloadCsv = async () => {
    if (!stats || csvBusy) return;
    setCsvBusy(true);
    setCsvNote(undefined);
    try {
      const csv = await api.campaignCodesCsv(stats.campaignId);
      const saved = saveTextFile(`活动-${stats.name}-兑换码.csv`.replace(/[\\/:*?"<>|]/g, '_'), csv);
      const lines = csv.split('\n').filter((l) => l.trim() !== '').length - 1;
      setCsvNote(
        saved
          ? { ok: true, text: `已下载 ${Math.max(0, lines)} 个兑换码` }
          : { ok: false, text: '这个环境不支持下载文件，请在电脑浏览器中打开' },
      );
    } catch (err) {
      setCsvNote({ ok: false, text: `下载失败：${errorText(err)}` });
    } finally {
      setCsvBusy(false);
    }
  };

  if (campaign.forbidden) return <BusinessOnly what="活动" />;
  if (!id) {
    return (
      <PageShell>
        <ErrorNote message="缺少活动编号" />
      </PageShell>
    );
  }

  return (
    <PageShell className="campaign-page" onShowAgain={() => void load()}>
      {created ? (
        <Text className="biz-banner" {...aria({ role: 'status' })}>
          活动已创建，{created} 个红包已生成并扣款。下载兑换码后即可分发。
        </Text>
      ) : null}
      <View className="biz-head">
        <View>
          <Text className="biz-head__title">{stats?.name ?? '活动'}</Text>
          {stats ? (
            <Text className="biz-head__meta" aria-label="活动状态">
              {campaignStateText(stats)} · 创建于 {shortTime(stats.createdAt)} ·{' '}
              {Date.parse(stats.expiresAt) > Date.now()
                ? `${shortTime(stats.expiresAt)} 到期`
                : `已于 ${shortTime(stats.expiresAt)} 到期`}
            </Text>
          ) : null}
        </View>
        <Btn label="刷新数据" kind="ghost" loading={loading} disabled={loading} onClick={() => void load()}>
          刷新
        </Btn>
      </View>

      {error ? (
        <ErrorNote message={stats ? `${error}（显示的是上次的数据）` : error} onRetry={() => void load()} />
      ) : null}
      {!stats && !error ? <Loading /> : null}
      {stats ? (
        <>
          <View className="biz-stats">
            <Stat
              title="领取率"
              value={bpsToPercent(stats.claimRateBps)}
              sub={`已领 ${stats.claimedShares} / ${stats.shares} 份`}
            />
            <Stat
              title="红包"
              value={`${stats.packets} 个`}
              sub={`已创建 ${stats.packetsCreated} 个，已领完 ${stats.packetsFinished} 个`}
            />
            <Stat
              title="已领金额"
              value={formatYuan(stats.claimedAmount)}
              sub={`红包总额 ${formatYuan(stats.total)}`}
            />
            <Stat title="已退款" value={formatYuan(stats.refundedAmount)} sub={`手续费 ${formatYuan(stats.fee)}`} />
          </View>

          <View className="card">
            <Text className="card__title">每小时领取次数（北京时间）</Text>
            <HourlyClaims claimsPerHour={stats.claimsPerHour} />
          </View>

          <View className="card">
            <Text className="card__title">兑换码</Text>
            {process.env.TARO_ENV === 'h5' ? (
              <>
                <Btn
                  label="下载兑换码 CSV"
                  kind="gold"
                  className="btn--block"
                  loading={csvBusy}
                  disabled={csvBusy}
                  onClick={() => void downloadCsv()}
                />
                {csvNote ? (
                  csvNote.ok ? (
                    <Text className="hint" {...aria({ role: 'status' })}>
                      {csvNote.text}
                    </Text>
                  ) : (
                    <ErrorNote message={csvNote.text} />
                  )
                ) : null}
                <Text className="hint">
                  每行一个红包：序号、红包编号、兑换码、到期时间。兑换码可印成二维码，扫码即可领取。
                </Text>
              </>
            ) : (
              // weapp: no file download in a mini-program; the CSV is fetched with the account's token on H5.
              <Text className="hint">
                兑换码 CSV 请在电脑浏览器中登录红包码网页版，打开「活动」→ 本活动 →「下载兑换码 CSV」。
              </Text>
            )}
          </View>
        </>
      ) : null}
    </PageShell>
  );
}
