/**
 * The operator view (运营看板): live figures of the last 30 minutes from GET /v1/admin/ops,
 * refreshed every 10 s while the page is visible. Admin only (the server answers 403 to anyone
 * else); H5 only (app.config.ts lists this page for the H5 build alone: uPlot needs the DOM).
 */
import { Text, View } from '@tarojs/components';
import Taro, { useDidHide, useDidShow } from '@tarojs/taro';
import { useEffect, useMemo, useState } from 'react';
import { api, type OpsResponse } from '../api';
import { LineChart, type LineSeries } from '../components/LineChart';
import { PageShell } from '../components/PageShell';
import { Btn, ErrorNote, Loading } from '../components/ui';
import { formatYuan } from '../lib/money';
import { useLoad } from '../lib/useLoad';
import {
  beijingHm,
  beijingHms,
  bpsPercent,
  chartSeries,
  durationText,
  fullMinutes,
  msText,
  rateOf,
  secondsText,
  SWEEP_LAG_ALERT_S,
} from './ops';
import './index.scss';

/** Refresh period while the page is visible. */
export const REFRESH_MS = 10_000;
const WINDOW_MINUTES = 30;

const COUNT_SERIES: LineSeries[] = [
  { label: '红包数', stroke: '#d8332b' },
  { label: '领取数', stroke: '#e0a84a' },
];
const LATENCY_SERIES: LineSeries[] = [
  { label: 'p50', stroke: '#3b7bd9', unit: 'ms' },
  { label: 'p99', stroke: '#d8332b', unit: 'ms', dash: [6, 4] },
];

type Tone = 'normal' | 'ok' | 'alert';

interface StatProps {
  title: string;
  value: string;
  sub?: string;
  tone?: Tone;
  /** The card's accessible name: the title and the figures in words. */
  label: string;
}

function Stat({ title, value, sub, tone = 'normal', label }: StatProps) {
  return (
    <View className={`ops-stat${tone === 'normal' ? '' : ` ops-stat--${tone}`}`} role="group" aria-label={label}>
      <Text className="ops-stat__title">{title}</Text>
      <Text className="ops-stat__value">{value}</Text>
      {sub ? <Text className="ops-stat__sub">{sub}</Text> : null}
    </View>
  );
}

function documentHidden(): boolean {
  return typeof document !== 'undefined' && document.visibilityState === 'hidden';
}

export default function OpsPage() {
  // Single-flight: the 10 s timer, the refresh button and coming back may all ask at once.
  const ops = useLoad(() => api.ops(WINDOW_MINUTES), { forbidden: true, keepError: true, singleFlight: true });
  const { data, error, forbidden, loading, reload: load } = ops;
  const [pageShown, setPageShown] = useState(true);
  const [docVisible, setDocVisible] = useState(() => !documentHidden());
  /** Bumped by a manual refresh: restarts the 10 s countdown. */
  const [round, setRound] = useState(0);
  const active = pageShown && docVisible && !forbidden;
  // biome-ignore lint/correctness/useExhaustiveDependencies: `round` is the trigger: a manual refresh restarts the countdown.
  useEffect(() => {
    if (!active) return undefined;
    const id = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(id);
  }, [active, round, load]);

  // Paused while another page is on top or the browser tab is hidden; fresh figures on return.
  useDidShow(() => {
    setPageShown((was) => {
      if (!was) void load();
      return true;
    });
  });
  useDidHide(() => setPageShown(false));
  useEffect(() => {
    if (typeof document === 'undefined') return undefined;
    const onChange = () => {
      const visible = !documentHidden();
      setDocVisible(visible);
      if (visible) void load();
    };
    document.addEventListener('visibilitychange', onChange);
    return () => document.removeEventListener('visibilitychange', onChange);
  }, [load]);

  const refresh = () => {
    setRound((n) => n + 1);
    void load();
  };

  const series = useMemo(() => (data ? chartSeries(data.minutes) : undefined), [data]);
  const countData = useMemo(() => (series ? [series.x, series.packets, series.claims] : undefined), [series]);
  const latencyData = useMemo(() => (series ? [series.x, series.p50, series.p99] : undefined), [series]);

  if (forbidden) {
    return (
      <PageShell className="ops-page">
        <View className="ops-denied" role="alert" aria-label="无权限">
          <Text className="ops-denied__title">无权限</Text>
          <Text className="ops-denied__text">运营看板仅对管理员开放。如需访问，请联系管理员为你的账号开通权限。</Text>
          <Btn label="返回首页" className="btn--block" onClick={() => void Taro.reLaunch({ url: '/pages/home/index' })}>
            返回首页
          </Btn>
        </View>
      </PageShell>
    );
  }

  return (
    <PageShell className="ops-page">
      <View className="ops-head">
        <View className="ops-head__left">
          <Text className="ops-head__title">运营看板</Text>
          <Text className="ops-head__meta">
            近 {WINDOW_MINUTES} 分钟 · 北京时间{data ? ` · 更新于 ${beijingHms(data.now)}` : ''}
            {active ? ' · 每 10 秒自动刷新' : ' · 已暂停自动刷新'}
          </Text>
        </View>
        <Btn
          label="刷新数据"
          kind="ghost"
          className="ops-head__refresh"
          loading={loading}
          disabled={loading}
          onClick={refresh}
        >
          刷新
        </Btn>
      </View>

      {error ? <ErrorNote message={data ? `${error}（显示的是上次的数据）` : error} onRetry={refresh} /> : null}
      {!data && !error ? <Loading /> : null}
      {data ? <Figures data={data} countData={countData!} latencyData={latencyData!} /> : null}
    </PageShell>
  );
}

function Figures({
  data,
  countData,
  latencyData,
}: {
  data: OpsResponse;
  countData: (number | null)[][];
  latencyData: (number | null)[][];
}) {
  const packets = rateOf(data, 'packets');
  const claims = rateOf(data, 'claims');
  const { totals, sweep, reconciliation: recon } = data;
  const lagAlert = sweep.oldestDueAgeSeconds > SWEEP_LAG_ALERT_S;
  const full = fullMinutes(data);
  const lastFull = full[full.length - 1];
  const lastAt = lastFull ? beijingHm(Date.parse(lastFull.minute) / 1000) : undefined;
  const count = (n: number | undefined) => (n === undefined ? '—' : String(n));

  let reconTone: Tone = 'normal';
  let reconValue = '暂无对账记录';
  let reconSub: string | undefined;
  if (recon) {
    const when = `${beijingHms(recon.finishedAt)} 完成 · 用时 ${durationText(recon.durationMs)}`;
    if (recon.ok && recon.mismatches === 0) {
      reconTone = 'ok';
      reconValue = '对账通过';
    } else {
      reconTone = 'alert';
      reconValue = recon.mismatches > 0 ? `对账异常 ${recon.mismatches} 项` : '对账异常';
    }
    reconSub = when;
  }

  const latencyNow = lastFull ? `p50 ${msText(lastFull.claimP50Ms)}，p99 ${msText(lastFull.claimP99Ms)}` : '暂无数据';
  const countsNow = lastFull ? `红包 ${lastFull.packets} 个，领取 ${lastFull.claims} 次` : '暂无数据';

  return (
    <View className="ops-body">
      <View className="ops-grid">
        <Stat
          title="每分钟红包数"
          value={count(packets.last)}
          sub={`上一分钟 · 平均 ${packets.mean}`}
          label={`每分钟红包数：上一分钟 ${count(packets.last)}，近 ${WINDOW_MINUTES} 分钟平均 ${packets.mean}`}
        />
        <Stat
          title="每分钟领取数"
          value={count(claims.last)}
          sub={`上一分钟 · 平均 ${claims.mean}`}
          label={`每分钟领取数：上一分钟 ${count(claims.last)}，近 ${WINDOW_MINUTES} 分钟平均 ${claims.mean}`}
        />
        <Stat
          title="领取耗时 p50 / p99"
          value={`${msText(totals.claimP50Ms)} / ${msText(totals.claimP99Ms)}`}
          sub={`近 ${WINDOW_MINUTES} 分钟`}
          label={`领取耗时：p50 ${msText(totals.claimP50Ms)}，p99 ${msText(totals.claimP99Ms)}`}
        />
        <Stat
          title="冲突率"
          value={bpsPercent(totals.contentionBps)}
          sub="条件写入被拒比例"
          label={`冲突率：${bpsPercent(totals.contentionBps)}`}
        />
        <Stat
          title="红包托管余额"
          value={recon ? formatYuan(recon.escrow) : '—'}
          sub={recon ? '截至最近对账' : '暂无对账记录'}
          label={`红包托管余额：${recon ? formatYuan(recon.escrow) : '暂无数据'}`}
        />
        <Stat
          title="在途资金"
          value={recon ? formatYuan(recon.inTransit) : '—'}
          sub={recon ? '截至最近对账' : '暂无对账记录'}
          label={`在途资金：${recon ? formatYuan(recon.inTransit) : '暂无数据'}`}
        />
        <Stat
          title="退款延迟"
          value={secondsText(sweep.oldestDueAgeSeconds)}
          sub={lagAlert ? '超过 5 分钟，请检查退款任务' : '最早到期红包的等待时间'}
          tone={lagAlert ? 'alert' : 'normal'}
          label={`退款延迟：${secondsText(sweep.oldestDueAgeSeconds)}${lagAlert ? '，超过 5 分钟' : ''}`}
        />
        <Stat
          title="最近对账"
          value={reconValue}
          sub={reconSub}
          tone={reconTone}
          label={`最近对账：${reconValue}${reconSub ? `，${reconSub}` : ''}`}
        />
      </View>

      <View className="card ops-chart">
        <Text className="card__title">每分钟红包数与领取数</Text>
        <LineChart
          ariaLabel={`每分钟红包数与领取数折线图，近 ${WINDOW_MINUTES} 分钟；${lastAt ? `${lastAt} 这一分钟` : '最近一分钟'}：${countsNow}`}
          data={countData}
          series={COUNT_SERIES}
          xLabel={beijingHm}
          yLabel="个/分钟"
        />
      </View>
      <View className="card ops-chart">
        <Text className="card__title">领取耗时（毫秒）</Text>
        <LineChart
          ariaLabel={`领取耗时折线图，近 ${WINDOW_MINUTES} 分钟；${lastAt ? `${lastAt} 这一分钟` : '最近一分钟'}：${latencyNow}`}
          data={latencyData}
          series={LATENCY_SERIES}
          xLabel={beijingHm}
          yLabel="ms"
        />
      </View>
      {recon ? (
        <Text className="hint">
          最近对账核对了 {recon.checked.accounts} 个账户、{recon.checked.ledgerEntries} 条流水、{recon.checked.packets}{' '}
          个红包、{recon.checked.slots} 个份额；零钱合计 {formatYuan(recon.balances)}，充值合计{' '}
          {formatYuan(recon.topups)}。
        </Text>
      ) : null}
    </View>
  );
}
