// A uPlot time series (e.g. latency of each call), themed from CSS variables.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { onThemeChange } from '../lib/theme';

export interface Series {
  label: string;
  /** CSS variable holding the stroke colour, e.g. `--accent`. */
  colorVar: string;
  values: (number | null)[];
  points?: boolean;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

export function TimeChart({ title, times, series, height = 180, unit = 'ms', yMax }: {
  title: string; times: number[]; series: Series[]; height?: number; unit?: string;
  /** A fixed top of the y axis (e.g. 100 for percentages); default: the data's maximum + 15 %. */
  yMax?: number;
}) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [themeKey, setThemeKey] = useState(0);
  useEffect(() => onThemeChange(() => setThemeKey((n) => n + 1)), []);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const axis = { stroke: cssVar('--muted'), grid: { stroke: cssVar('--border'), width: 1 }, ticks: { stroke: cssVar('--border') } };
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 300),
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: {
        // A single point (or none) gets a two-minute span instead of uPlot's years.
        x: {
          time: true,
          range: (u, min, max) => {
            const xs = u.data?.[0] as number[] | undefined;
            if (!xs || xs.length <= 1 || min === null || max === null) {
              const c = xs?.[0] ?? min ?? Date.now() / 1000;
              return [c - 60, c + 60];
            }
            return [min, max];
          },
        },
        y: { range: (_u, _min, max) => [0, yMax ?? Math.max(max ?? 1, 1) * 1.15] },
      },
      axes: [axis, { ...axis, values: (_u, vals) => vals.map((v) => `${v} ${unit}`), size: 70 }],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: cssVar(s.colorVar),
          width: 2,
          points: { show: s.points ?? true, size: 5, fill: cssVar(s.colorVar) },
          spanGaps: false,
        })),
      ],
    };
    const u = new uPlot(opts, [times, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    plot.current = u;
    const ro = typeof ResizeObserver !== 'undefined'
      ? new ResizeObserver(() => u.setSize({ width: Math.max(el.clientWidth, 300), height }))
      : null;
    ro?.observe(el);
    return () => {
      ro?.disconnect();
      u.destroy();
      plot.current = null;
    };
    // Rebuilt when the series set or theme changes; data updates go through setData.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [series.map((s) => s.label).join('|'), height, themeKey, yMax]);

  useEffect(() => {
    plot.current?.setData([times, ...series.map((s) => s.values)] as uPlot.AlignedData);
  }, [times, series]);

  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={host} role="img" aria-label={`${title}: ${times.length} points`} />
      {times.length === 0 ? <p class="muted chart-empty">No data yet.</p> : null}
    </figure>
  );
}
