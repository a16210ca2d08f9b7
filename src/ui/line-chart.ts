// <line-chart>: the page's line charts, drawn by uPlot (a small, fast canvas chart library: 100k
// points redraw in a few milliseconds). Drag across the plot to zoom in on x, double-click to zoom
// out; the legend shows the values under the cursor. The owner passes a new `chart` object to
// redraw; the plot is rebuilt only when its series or axes change, otherwise its data are swapped.

import { css, html, LitElement, unsafeCSS, type PropertyValues } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import uPlot from 'uplot';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';

export interface ChartSeries {
  label: string;
  y: ArrayLike<number>;
  color: string;
  width?: number;
}

export interface LineChartData {
  title: string;
  x: ArrayLike<number>;
  series: ChartSeries[];
  xLabel: string;
  yLabel?: string;
  /** Log-scale y (base 10); values ≤ 0 are left out. */
  yLog?: boolean;
  yRange?: [number, number];
  xRange?: [number, number];
  /** Vertical guide lines at these x (e.g. the timesteps shown elsewhere on the page). */
  guides?: number[];
  /** Shown over an empty plot. */
  empty?: string;
  /** Digits of the legend's values. */
  digits?: number;
}

const INK = '#3b4252';
const GRID = '#e5e9f0';
const GUIDE = 'rgba(208, 96, 58, 0.45)';

/** What requires a new plot (anything but the data and the guides). */
function layoutKey(c: LineChartData): string {
  return JSON.stringify([c.title, c.xLabel, c.yLabel, c.yLog, c.yRange, c.xRange, c.series.map((s) => [s.label, s.color, s.width])]);
}

/** x is always a count (steps, timesteps): ticks at whole-number spacings. */
const WHOLE_NUMBER_STEPS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1e3, 2e3, 2.5e3, 5e3, 1e4, 2e4, 2.5e4, 5e4, 1e5, 2e5, 5e5, 1e6];

/** A log axis's tick: plain between 0.01 and 10⁴, else 1e-4 style. */
function formatTick(v: number | null): string {
  if (v === null) return '';
  return v >= 0.01 && v < 1e4 ? String(Number(v.toPrecision(3))) : v.toExponential(0);
}

function formatValue(v: number | null | undefined, digits: number): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(digits - 1) : Number(v.toPrecision(digits)).toString();
}

@customElement('line-chart')
export class LineChart extends LitElement {
  static override styles = [
    unsafeCSS(uplotCss),
    css`
      :host {
        display: block;
        position: relative;
        min-width: 0;
        /* The canvas keeps its drawn width until the resize observer redraws it: never wider than the host. */
        overflow: hidden;
      }
      .plot {
        width: 100%;
      }
      .empty {
        position: absolute;
        inset: 40px 0 40px 0;
        display: flex;
        align-items: center;
        justify-content: center;
        color: #8a93a6;
        font-size: 13px;
        pointer-events: none;
      }
      .u-title {
        font-size: 13px;
        font-weight: 600;
        color: ${unsafeCSS(INK)};
      }
      .u-legend {
        font-size: 12px;
      }
    `,
  ];

  @property({ attribute: false }) chart: LineChartData | null = null;
  /** Plot height in CSS pixels (the legend comes below). */
  @property({ type: Number }) height = 190;

  @query('.plot') private host!: HTMLDivElement;
  private plot: uPlot | null = null;
  private key = '';
  /** The current guides, read by the draw hook (they change without a new plot). */
  private guides: number[] = [];
  private resizeObserver = new ResizeObserver(() => this.fit());

  override connectedCallback(): void {
    super.connectedCallback();
    this.resizeObserver.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizeObserver.disconnect();
    this.plot?.destroy();
    this.plot = null;
    this.key = '';
  }

  override render() {
    const c = this.chart;
    const empty = !c || c.x.length === 0;
    return html`<div class="plot" role="img" aria-label=${c?.title ?? 'chart'}></div>
      ${empty && c?.empty ? html`<div class="empty">${c.empty}</div>` : ''}`;
  }

  protected override updated(_changed: PropertyValues): void {
    const c = this.chart;
    if (!c || !this.host) return;
    const data = this.dataOf(c);
    const key = layoutKey(c);
    if (this.plot && key === this.key) {
      this.guides = c.guides ?? [];
      this.plot.setData(data, !c.xRange);
      return;
    }
    this.plot?.destroy();
    this.key = key;
    this.guides = c.guides ?? [];
    this.plot = new uPlot(this.options(c), data, this.host);
  }

  private dataOf(c: LineChartData): uPlot.AlignedData {
    const clean = (y: ArrayLike<number>) => Array.from(y, (v) => (Number.isFinite(v) && (!c.yLog || v > 0) ? v : null));
    return [Array.from(c.x), ...c.series.map((s) => clean(s.y))];
  }

  private width(): number {
    return Math.max(160, Math.floor(this.getBoundingClientRect().width));
  }

  private fit(): void {
    if (this.plot) this.plot.setSize({ width: this.width(), height: this.height });
  }

  private options(c: LineChartData): uPlot.Options {
    const digits = c.digits ?? 4;
    const axis = (label: string | undefined): uPlot.Axis => ({
      label,
      stroke: INK,
      grid: { stroke: GRID, width: 1 },
      ticks: { stroke: GRID, width: 1 },
      labelSize: label ? 18 : 0,
      font: '11px system-ui, sans-serif',
      labelFont: '11px system-ui, sans-serif',
    });
    const xAxis: uPlot.Axis = { ...axis(c.xLabel), incrs: WHOLE_NUMBER_STEPS };
    const yAxis: uPlot.Axis = c.yLog ? { ...axis(c.yLabel), values: (_u, ticks) => ticks.map((v) => formatTick(v)) } : axis(c.yLabel);
    return {
      title: c.title,
      width: this.width(),
      height: this.height,
      scales: {
        x: { time: false, ...(c.xRange ? { range: c.xRange } : {}) },
        y: { ...(c.yLog ? { distr: 3, log: 10 } : {}), ...(c.yRange ? { range: c.yRange } : {}) },
      },
      axes: [xAxis, yAxis],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      series: [
        { label: c.xLabel, value: (_u, v) => formatValue(v, 6) },
        ...c.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.width ?? 1.5,
          points: { show: false },
          spanGaps: true,
          value: (_u: uPlot, v: number | null) => formatValue(v, digits),
        })),
      ],
      hooks: {
        draw: [
          (u) => {
            if (this.guides.length === 0) return;
            const ctx = u.ctx;
            const { top, height } = u.bbox;
            ctx.save();
            ctx.strokeStyle = GUIDE;
            ctx.lineWidth = 1 * devicePixelRatio;
            ctx.setLineDash([4 * devicePixelRatio, 4 * devicePixelRatio]);
            for (const g of this.guides) {
              const x = Math.round(u.valToPos(g, 'x', true));
              ctx.beginPath();
              ctx.moveTo(x, top);
              ctx.lineTo(x, top + height);
              ctx.stroke();
            }
            ctx.restore();
          },
        ],
      },
    };
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'line-chart': LineChart;
  }
}
