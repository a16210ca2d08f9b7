// <loss-chart>: the training loss per step (faint) and its moving average (bold), log scale,
// zoomable, with the values under the cursor.
// `records` is appended to in place, so the owner also bumps `count` to trigger a redraw.

import { css, html, LitElement, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import './line-chart.ts';
import type { LineChartData } from './line-chart.ts';
import { COLORS } from './theme.ts';

export interface LossPoint {
  step: number;
  loss: number;
}

/** Trailing mean over `window` points (shorter at the start). */
export function movingAverage(values: readonly number[], window: number): Float64Array {
  const out = new Float64Array(values.length);
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i]!;
    if (i >= window) sum -= values[i - window]!;
    out[i] = sum / Math.min(i + 1, window);
  }
  return out;
}

@customElement('loss-chart')
export class LossChart extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
  `;

  @property({ attribute: false }) records: readonly LossPoint[] = [];
  @property({ type: Number }) count = 0;

  private frame = 0;
  @state() private chart: LineChartData | null = null;

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    cancelAnimationFrame(this.frame);
    this.frame = 0;
  }

  override render() {
    return html`<line-chart .chart=${this.chart} .height=${220}></line-chart>`;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('records') || changed.has('count')) this.scheduleChart();
  }

  /** At most one new chart per animation frame, however fast records arrive. */
  private scheduleChart(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.chart = lossChartData(this.records);
    });
  }
}

/** The loss per step and its moving average, on a log scale. */
export function lossChartData(records: readonly LossPoint[]): LineChartData {
  const losses = records.map((r) => r.loss);
  const window = Math.max(5, Math.min(200, Math.ceil(losses.length / 20)));
  return {
    title: 'loss (log scale)',
    x: records.map((r) => r.step),
    xLabel: 'step',
    yLog: true,
    series: [
      { label: 'per step', y: losses, color: COLORS.loss, width: 1 },
      { label: 'moving mean', y: movingAverage(losses, window), color: COLORS.lossAverage, width: 2.2 },
    ],
    empty: 'the loss appears here once training starts',
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'loss-chart': LossChart;
  }
}
