import { Text, View } from '@tarojs/components';
import { useMemo } from 'react';
import { beijingHourLabel, hourlySeries } from '../lib/campaign';
import type { LineSeries } from '../../components/LineChart';
import { aria } from '../../components/ui';

/**
 * The chart of a campaign's claims per hour (Beijing time).
 *
 * H5: the uPlot chart (LineChart), as a stepped, filled series — bar-like for hourly counts.
 * weapp: uPlot draws on a DOM canvas, which a mini-program does not have, so the same figures
 * are shown as a simple table. The `require` below sits in a branch that the weapp build drops
 * (process.env.TARO_ENV is replaced at build time, so webpack never resolves it): uPlot and its
 * CSS never enter the mini-program package.
 */
const LineChart: typeof import('../../components/LineChart').LineChart | undefined =
  process.env.TARO_ENV === 'h5'
    ? (require('../../components/LineChart') as typeof import('../../components/LineChart')).LineChart
    : undefined;

const SERIES: LineSeries[] = [
  { label: '领取数', stroke: '#d8332b', fill: 'rgba(216, 51, 43, 0.18)', stepped: true, points: true, unit: '次' },
];

interface Props {
  claimsPerHour: ReadonlyArray<{ hour: string; claims: number }>;
}

export function HourlyClaims({ claimsPerHour }: Props) {
  const series = useMemo(() => hourlySeries(claimsPerHour), [claimsPerHour]);
  const data = useMemo(() => [series.x, series.claims], [series]);
  if (!series.x.length) return <Text className="hint">还没有人领取，领取后这里按小时显示领取次数。</Text>;
  const total = series.claims.reduce((a, n) => a + n, 0);
  let peak = 0;
  series.claims.forEach((n, i) => {
    if (n > series.claims[peak]!) peak = i;
  });
  const summary = `每小时领取次数（北京时间），${beijingHourLabel(series.x[0]!)} 至 ${beijingHourLabel(series.x[series.x.length - 1]!)}，共 ${total} 次；最多的是 ${beijingHourLabel(series.x[peak]!)}，${series.claims[peak]} 次`;
  if (LineChart)
    return (
      <LineChart
        ariaLabel={summary}
        data={data}
        series={SERIES}
        xLabel={beijingHourLabel}
        yLabel="次/小时"
        height={220}
      />
    );
  return <HourlyTable x={series.x} claims={series.claims} summary={summary} />;
}

/** The figures as a table (weapp): one row an hour, newest first. */
export function HourlyTable({ x, claims, summary }: { x: number[]; claims: number[]; summary: string }) {
  const rows = x.map((t, i) => ({ t, n: claims[i] ?? 0 })).reverse();
  return (
    <View className="hourly-table" role="table" aria-label={summary}>
      <View className="hourly-table__row hourly-table__row--head" role="row">
        <Text {...aria({ role: 'columnheader' })}>时间（北京时间）</Text>
        <Text {...aria({ role: 'columnheader' })}>领取次数</Text>
      </View>
      {rows.map((r) => (
        <View key={r.t} className="hourly-table__row" role="row">
          <Text {...aria({ role: 'cell' })}>{beijingHourLabel(r.t)}</Text>
          <Text {...aria({ role: 'cell' })} className="hourly-table__num">
            {r.n}
          </Text>
        </View>
      ))}
    </View>
  );
}
