/**
 * A line chart drawn by uPlot (H5 only: uPlot draws on a DOM canvas; the weapp build never
 * imports this file — its users, the operator view (ops/) and HourlyClaims on H5, are H5-only paths).
 *
 * The plot is created in an effect on a container element, fed new data with `setData`,
 * resized with the container's width (ResizeObserver, else the window's resize event) and
 * destroyed on unmount. A canvas says nothing to a screen reader: the caller passes an
 * `ariaLabel` that sums up the latest values.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface LineSeries {
  label: string;
  stroke: string;
  /** A dashed line: [dash, gap] in px. */
  dash?: number[];
  /** Appended to values in the legend ("ms"). */
  unit?: string;
  /** Fill the area under the line (a bar-like look for counts). */
  fill?: string;
  /** Step from one point to the next (counts per period) instead of a slope. */
  stepped?: boolean;
  /** Show the points (sparse series). */
  points?: boolean;
}

interface Props {
  /** What the chart shows, with the latest values (the canvas is not readable). */
  ariaLabel: string;
  /** x first (Unix seconds), then one array per series, all as long as x; null = no value (a gap). */
  data: ReadonlyArray<ReadonlyArray<number | null>>;
  series: LineSeries[];
  height?: number;
  /** x value → axis and legend label (default: the number). */
  xLabel?: (unixSeconds: number) => string;
  /** The y axis caption. */
  yLabel?: string;
  className?: string;
}

const FALLBACK_WIDTH = 320;

function widthOf(el: HTMLElement): number {
  const w = Math.floor(el.clientWidth || el.getBoundingClientRect?.().width || 0);
  return w > 0 ? w : FALLBACK_WIDTH;
}

export function LineChart({ ariaLabel, data, series, height = 200, xLabel, yLabel, className }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shown = useRef<Props['data'] | null>(null);
  const latest = useRef({ data, xLabel });
  latest.current = { data, xLabel };
  // The plot is rebuilt only when its shape changes; new data goes through setData.
  const shape = JSON.stringify({ series, height, yLabel });

  // biome-ignore lint/correctness/useExhaustiveDependencies: `shape` stands for series, height and yLabel (rebuild only when they change).
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const fmtX = (v: number | null | undefined) =>
      v == null ? '—' : latest.current.xLabel ? latest.current.xLabel(v) : String(v);
    const opts: uPlot.Options = {
      width: widthOf(el),
      height,
      scales: { x: { time: true } },
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      series: [
        { label: '时间', value: (_u, v) => fmtX(v) },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.stroke,
          width: 2,
          dash: s.dash,
          spanGaps: false,
          points: { show: !!s.points },
          ...(s.fill ? { fill: s.fill } : {}),
          ...(s.stepped && typeof uPlot.paths?.stepped === 'function'
            ? { paths: uPlot.paths.stepped({ align: 1 }) }
            : {}),
          value: (_u: uPlot, v: number | null) => (v == null ? '—' : `${v}${s.unit ? ` ${s.unit}` : ''}`),
        })),
      ],
      axes: [
        {
          stroke: '#8a8580',
          grid: { stroke: '#eee6dc' },
          ticks: { stroke: '#eee6dc' },
          values: (_u, splits) => splits.map((v) => fmtX(v)),
        },
        { stroke: '#8a8580', grid: { stroke: '#eee6dc' }, ticks: { stroke: '#eee6dc' }, label: yLabel, size: 48 },
      ],
    };
    const initial = latest.current.data;
    const u = new uPlot(opts, initial as uPlot.AlignedData, el);
    plot.current = u;
    shown.current = initial;

    let frame = 0;
    const resize = () => {
      const w = widthOf(el);
      if (w !== u.width) u.setSize({ width: w, height });
    };
    let observer: ResizeObserver | undefined;
    const onWindowResize = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(resize);
    };
    if (typeof ResizeObserver !== 'undefined') {
      observer = new ResizeObserver(() => resize());
      observer.observe(el);
    } else {
      window.addEventListener('resize', onWindowResize);
    }
    return () => {
      observer?.disconnect();
      window.removeEventListener('resize', onWindowResize);
      cancelAnimationFrame(frame);
      u.destroy();
      plot.current = null;
      shown.current = null;
    };
  }, [shape]);

  useEffect(() => {
    const u = plot.current;
    if (!u || shown.current === data) return;
    u.setData(data as uPlot.AlignedData);
    shown.current = data;
  }, [data]);

  return <div ref={box} className={`line-chart ${className ?? ''}`} role="img" aria-label={ariaLabel} />;
}
