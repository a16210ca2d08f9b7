// <loss-chart>: the training loss per step (faint) and its moving average (bold), log scale.
// `records` is appended to in place, so the owner also bumps `count` to trigger a redraw.

import { css, html, LitElement } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import { drawLineChart } from './chart.ts';
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
    canvas {
      width: 100%;
      height: 220px;
      display: block;
    }
  `;

  @property({ attribute: false }) records: readonly LossPoint[] = [];
  @property({ type: Number }) count = 0;

  @query('canvas') private canvas!: HTMLCanvasElement;
  private frame = 0;
  private resizeObserver = new ResizeObserver(() => this.scheduleDraw());

  override connectedCallback(): void {
    super.connectedCallback();
    this.resizeObserver.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizeObserver.disconnect();
    cancelAnimationFrame(this.frame);
  }

  override render() {
    return html`<canvas aria-label="training loss"></canvas>`;
  }

  protected override updated(): void {
    this.scheduleDraw();
  }

  /** At most one redraw per animation frame, however fast records arrive. */
  private scheduleDraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    if (!this.canvas) return;
    const steps = this.records.map((r) => r.step);
    const losses = this.records.map((r) => r.loss);
    const window = Math.max(5, Math.min(200, Math.ceil(losses.length / 20)));
    drawLineChart(this.canvas, {
      title: 'loss ‖ε − ε̂‖² (log scale)',
      xLabel: 'step',
      xInteger: true,
      yLog: true,
      series: [
        { x: steps, y: losses, color: COLORS.loss, width: 1, label: 'per step' },
        { x: steps, y: movingAverage(losses, window), color: COLORS.lossAverage, width: 2.2, label: `mean of ${window}` },
      ],
      empty: 'the loss appears here once training starts',
    });
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'loss-chart': LossChart;
  }
}
