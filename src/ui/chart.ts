// Line charts on a 2D canvas: axes with round-number ticks, linear or log y, several series.
// Sized from the canvas's CSS box and drawn at the device pixel ratio so lines stay crisp.

export interface Series {
  /** x of point i is x[i], or i when absent. */
  x?: ArrayLike<number>;
  y: ArrayLike<number>;
  color: string;
  width?: number;
  label?: string;
}

export interface ChartOptions {
  series: Series[];
  title?: string;
  xLabel?: string;
  yLog?: boolean;
  xRange?: [number, number];
  yRange?: [number, number];
  /** Vertical guide lines (e.g. the timesteps shown elsewhere). */
  guides?: number[];
  /** x takes whole numbers only (steps, timesteps): no fractional ticks. */
  xInteger?: boolean;
  /** A note drawn in the plot area when there is nothing to plot. */
  empty?: string;
}

const PAD = { left: 52, right: 12, top: 26, bottom: 30 };
const INK = '#3b4252';
const GRID = '#e5e9f0';

/** Round-number ticks (1, 2, 5 × 10^k, at least `minStep` apart) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, target = 5, minStep = 0): number[] {
  if (!(hi > lo)) return [lo];
  const raw = Math.max((hi - lo) / target, minStep);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return ticks;
}

function logTicks(lo: number, hi: number, target: number): number[] {
  // Within less than a decade the 1-2-5 ticks may miss the range entirely: use linear ones.
  if (hi / lo < 4) return niceTicks(lo, hi, target).filter((v) => v > 0);
  const ticks: number[] = [];
  const span = Math.log10(hi) - Math.log10(lo);
  const mantissas = span < 1.5 ? [1, 2, 5] : [1];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of mantissas) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(v);
    }
  }
  return ticks;
}

export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0).replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}

function extent(series: Series[], pick: (s: Series, i: number) => number, positiveOnly: boolean): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    for (let i = 0; i < s.y.length; i++) {
      const v = pick(s, i);
      if (!Number.isFinite(v) || (positiveOnly && v <= 0)) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  return [lo, hi];
}

/** Sizes the canvas's backing store to its CSS box; returns the context in CSS pixels. */
export function fitCanvas(canvas: HTMLCanvasElement): { ctx: CanvasRenderingContext2D; width: number; height: number } | null {
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (width === 0 || height === 0) return null;
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
  }
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return { ctx, width, height };
}

export function drawLineChart(canvas: HTMLCanvasElement, o: ChartOptions): void {
  const fitted = fitCanvas(canvas);
  if (!fitted) return;
  const { ctx, width, height } = fitted;
  ctx.clearRect(0, 0, width, height);
  ctx.font = '11px system-ui, sans-serif';
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;

  if (o.title) {
    ctx.textAlign = 'left';
    ctx.textBaseline = 'alphabetic';
    ctx.fillStyle = INK;
    ctx.font = '600 12px system-ui, sans-serif';
    ctx.fillText(o.title, PAD.left, 16);
    ctx.font = '11px system-ui, sans-serif';
  }

  const xOf = (s: Series, i: number) => (s.x ? s.x[i]! : i);
  let [x0, x1] = o.xRange ?? extent(o.series, xOf, false);
  let [y0, y1] = o.yRange ?? extent(o.series, (s, i) => s.y[i]!, o.yLog ?? false);
  const hasData = Number.isFinite(x0) && Number.isFinite(y0);
  if (!hasData) {
    [x0, x1, y0, y1] = [0, 1, o.yLog ? 0.1 : 0, 1];
  }
  if (x1 <= x0) x1 = x0 + 1;
  if (y1 <= y0) {
    const pad = o.yLog ? y0 * 0.5 : Math.abs(y0) * 0.1 || 1;
    [y0, y1] = [y0 - pad, y1 + pad];
  } else if (!o.yRange && hasData) {
    // A little air above and below the data.
    if (o.yLog) [y0, y1] = [y0 / (y1 / y0) ** 0.05, y1 * (y1 / y0) ** 0.05];
    else [y0, y1] = [y0 - (y1 - y0) * 0.05, y1 + (y1 - y0) * 0.05];
  }
  const ly = (v: number) => (o.yLog ? Math.log10(v) : v);
  const [ly0, ly1] = [ly(y0), ly(y1)];
  const px = (x: number) => PAD.left + ((x - x0) / (x1 - x0)) * plotW;
  const py = (y: number) => PAD.top + plotH - ((ly(y) - ly0) / (ly1 - ly0)) * plotH;

  // Grid and ticks.
  ctx.strokeStyle = GRID;
  ctx.fillStyle = INK;
  ctx.lineWidth = 1;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  const yTicks = Math.max(3, Math.floor(plotH / 32));
  for (const v of o.yLog ? logTicks(y0, y1, yTicks) : niceTicks(y0, y1, yTicks)) {
    const y = Math.round(py(v)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(PAD.left, y);
    ctx.lineTo(PAD.left + plotW, y);
    ctx.stroke();
    ctx.fillText(formatTick(v), PAD.left - 6, y);
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const v of niceTicks(x0, x1, Math.max(2, Math.floor(plotW / 70)), o.xInteger ? 1 : 0)) {
    const x = Math.round(px(v)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(x, PAD.top);
    ctx.lineTo(x, PAD.top + plotH);
    ctx.stroke();
    ctx.fillText(formatTick(v), x, PAD.top + plotH + 5);
  }
  if (o.xLabel) {
    ctx.textAlign = 'right';
    ctx.fillText(o.xLabel, PAD.left + plotW, PAD.top + plotH + 17);
  }
  ctx.strokeStyle = '#9aa3b5';
  ctx.strokeRect(PAD.left + 0.5, PAD.top + 0.5, plotW, plotH);

  for (const g of o.guides ?? []) {
    if (g < x0 || g > x1) continue;
    ctx.strokeStyle = 'rgba(208, 135, 112, 0.55)';
    ctx.setLineDash([3, 3]);
    ctx.beginPath();
    ctx.moveTo(Math.round(px(g)) + 0.5, PAD.top);
    ctx.lineTo(Math.round(px(g)) + 0.5, PAD.top + plotH);
    ctx.stroke();
    ctx.setLineDash([]);
  }

  if (!hasData && o.empty) {
    ctx.fillStyle = '#8a93a6';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(o.empty, PAD.left + plotW / 2, PAD.top + plotH / 2);
  }

  // Series, clipped to the plot area.
  ctx.save();
  ctx.beginPath();
  ctx.rect(PAD.left, PAD.top, plotW, plotH);
  ctx.clip();
  ctx.lineJoin = 'round';
  for (const s of o.series) {
    ctx.strokeStyle = s.color;
    ctx.lineWidth = s.width ?? 1.5;
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < s.y.length; i++) {
      const y = s.y[i]!;
      if (!Number.isFinite(y) || (o.yLog && y <= 0)) {
        pen = false;
        continue;
      }
      const X = px(xOf(s, i));
      const Y = py(y);
      if (pen) ctx.lineTo(X, Y);
      else ctx.moveTo(X, Y);
      pen = true;
    }
    ctx.stroke();
  }
  ctx.restore();

  // Legend, top right.
  const labelled = o.series.filter((s) => s.label);
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  let lx = PAD.left + plotW;
  for (const s of [...labelled].reverse()) {
    const w = ctx.measureText(s.label!).width;
    ctx.fillStyle = INK;
    ctx.fillText(s.label!, lx, 14);
    ctx.fillStyle = s.color;
    ctx.fillRect(lx - w - 16, 13, 11, 3);
    lx -= w + 26;
  }
}
