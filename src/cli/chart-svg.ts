// Small SVG line charts written next to a run's files so it can be looked at without tools: the
// training loss against steps (log scale, with a moving average) and the sample quality against
// wall time. One drawing routine serves both.

export interface ChartSeries {
  label: string;
  color: string;
  points: [number, number][];
  /** Thin line without markers (raw per-step values under their average). */
  faint?: boolean;
  /** Draw a dot at every point (sparse measurements). */
  markers?: boolean;
}

export interface LineChart {
  title: string;
  xLabel: (x: number) => string;
  /** Log-scale y axis; points ≤ 0 are dropped. */
  logY: boolean;
  /** Fixed y range (linear axis only); otherwise fitted to the points. */
  yRange?: [number, number];
  /** Where the x axis starts; otherwise at the first point. */
  xFrom?: number;
  series: ChartSeries[];
}

const WIDTH = 640;
const HEIGHT = 320;
const PAD = { left: 56, right: 16, top: 28, bottom: 36 };

const empty = `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}"/>`;

/** Gridline values for the y axis: 1-2-5 per decade on a log axis, ~5 round steps on a linear one. */
function yTicks(lo: number, hi: number, logY: boolean): number[] {
  const ticks: number[] = [];
  if (logY) {
    for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
      for (const m of [1, 2, 5]) {
        const l = e + Math.log10(m);
        if (l >= lo && l <= hi) ticks.push(l);
      }
    }
    return ticks;
  }
  const raw = (hi - lo) / 5;
  const unit = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * unit).find((s) => s >= raw) ?? raw;
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) ticks.push(v);
  return ticks;
}

export function lineChartSvg(chart: LineChart): string {
  const ty = (v: number) => (chart.logY ? Math.log10(v) : v);
  const series = chart.series
    .map((s) => ({ ...s, points: s.points.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b) && (!chart.logY || b > 0)) }))
    .filter((s) => s.points.length > 0);
  if (series.length === 0) return empty;
  const xs = series.flatMap((s) => s.points.map(([a]) => a));
  const ys = series.flatMap((s) => s.points.map(([, b]) => ty(b)));
  const x0 = Math.min(chart.xFrom ?? Infinity, ...xs);
  const x1 = Math.max(...xs, x0 + 1);
  let [y0, y1] = chart.yRange ?? [Math.min(...ys), Math.max(...ys)];
  if (chart.logY) [y0, y1] = [Math.floor(y0 * 4) / 4, Math.ceil(y1 * 4) / 4 + 1e-9];
  if (y1 <= y0) y1 = y0 + 1;
  const px = (a: number) => PAD.left + ((a - x0) / (x1 - x0)) * (WIDTH - PAD.left - PAD.right);
  const py = (b: number) => PAD.top + ((y1 - b) / (y1 - y0)) * (HEIGHT - PAD.top - PAD.bottom);
  const path = (pts: [number, number][]) =>
    pts.map(([a, b], i) => `${i ? 'L' : 'M'}${px(a).toFixed(1)},${py(ty(b)).toFixed(1)}`).join('');
  const grid = yTicks(y0, y1, chart.logY).map((t) => {
    const label = chart.logY ? Number((10 ** t).toPrecision(2)) : Number(t.toPrecision(3));
    return (
      `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}" stroke="#e5e7eb"/>` +
      `<text x="${PAD.left - 6}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end">${label}</text>`
    );
  });
  const lines = series.map((s) => {
    const width = s.faint ? 1 : 2;
    const dots = s.markers
      ? s.points.map(([a, b]) => `<circle cx="${px(a).toFixed(1)}" cy="${py(ty(b)).toFixed(1)}" r="2.5" fill="${s.color}"/>`).join('')
      : '';
    return `<path d="${path(s.points)}" fill="none" stroke="${s.color}" stroke-width="${width}"/>${dots}`;
  });
  // One legend line per labelled series, under the title.
  const legend = series
    .filter((s) => s.label)
    .map((s, i) => `<text x="${PAD.left + 8}" y="${PAD.top + 14 + i * 13}" fill="${s.color}">${s.label}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="11" fill="#374151">
<rect width="100%" height="100%" fill="white"/>
<text x="${PAD.left}" y="18" font-size="13" font-weight="bold">${chart.title}</text>
${grid.join('\n')}
${lines.join('\n')}
<text x="${PAD.left}" y="${HEIGHT - 10}">${chart.xLabel(x0)}</text>
<text x="${WIDTH - PAD.right}" y="${HEIGHT - 10}" text-anchor="end">${chart.xLabel(x1)}</text>
${legend.join('\n')}
</svg>
`;
}

/** The training loss per step (faint) and its moving average, on a log axis. */
export function lossChartSvg(rows: { step: number; loss: number }[], title: string): string {
  const finite = rows.filter((r) => Number.isFinite(r.loss) && r.loss > 0);
  const window = Math.max(1, Math.round(finite.length / 40));
  const smooth = finite.map((r, i): [number, number] => {
    const part = finite.slice(Math.max(0, i - window + 1), i + 1);
    return [r.step, part.reduce((a, p) => a + p.loss, 0) / part.length];
  });
  return lineChartSvg({
    title,
    xLabel: (s) => `step ${s}`,
    logY: true,
    series: [
      { label: '', color: '#bfdbfe', faint: true, points: finite.map((r) => [r.step, r.loss]) },
      { label: `loss (log scale) · moving average of ${window}`, color: '#1d4ed8', points: smooth },
    ],
  });
}

/** Normalised Fréchet distance (0 = real data, 1 = noise) against wall time, one dot per measurement. */
export function qualityChartSvg(rows: { seconds: number; normalised: number }[], title: string): string {
  const minutes = (s: number) => `${(s / 60).toFixed(s < 600 ? 1 : 0)} min`;
  const top = Math.max(1, ...rows.map((r) => r.normalised));
  return lineChartSvg({
    title,
    xLabel: minutes,
    logY: false,
    yRange: [0, top],
    xFrom: 0,
    series: [
      {
        label: 'normalised FD of EMA samples against wall time (0 = as real test images, 1 = as noise)',
        color: '#b91c1c',
        markers: true,
        points: rows.map((r) => [r.seconds, r.normalised]),
      },
    ],
  });
}
