// <schedule-view>: the noise schedule explorer. Plots β_t, ᾱ_t and log-SNR of the chosen
// schedule (the others faint, for comparison); fires `schedule-change` with {type, T}.

import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import './line-chart.ts';
import type { ChartSeries, LineChartData } from './line-chart.ts';
import { RULES, terminalSignalWarning, type ScheduleChoice, type ScheduleCurves } from '../app/index.ts';
import { FieldChecks, numberField } from './number-field.ts';
import { COLORS, panelStyles } from './theme.ts';

const TYPES = ['linear', 'cosine', 'quadratic', 'sigmoid'] as const;

@customElement('schedule-view')
export class ScheduleView extends LitElement {
  static override styles = [
    panelStyles,
    css`
      .plots {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(240px, 1fr));
        gap: 12px;
      }
      .summary {
        margin-top: 8px;
      }
    `,
  ];

  @property({ attribute: false }) choice: ScheduleChoice = { type: 'linear', T: 1000 };
  @property({ attribute: false }) curves: Map<string, ScheduleCurves> = new Map();
  @property({ attribute: false }) error: string | null = null;
  /** Timesteps to mark on the plots (those the noising chain shows). */
  @property({ attribute: false }) guides: number[] = [];
  @property({ type: Boolean }) locked = false;
  private readonly fields = new FieldChecks(this);
  /** The problem last reported to the page (a new run cannot start while T is refused). */
  private reportedProblem = '';

  private change(patch: Partial<ScheduleChoice>): void {
    this.dispatchEvent(new CustomEvent<ScheduleChoice>('schedule-change', { detail: { ...this.choice, ...patch }, bubbles: true, composed: true }));
  }

  protected override updated(): void {
    const refused = this.fields.refused();
    const problem = refused.length ? `${refused.join(', ')} is refused` : '';
    if (problem === this.reportedProblem) return;
    this.reportedProblem = problem;
    this.dispatchEvent(new CustomEvent('schedule-problem', { detail: { problem }, bubbles: true, composed: true }));
  }

  override render() {
    const c = this.curves.get(this.choice.type);
    const last = this.choice.T - 1;
    return html`
      <h2>1 · Noise schedule</h2>
      <p class="lede">
        The forward process adds Gaussian noise in <span class="math">T</span> small steps of variance
        <span class="math">β<sub>t</sub></span>. What the model sees at step <span class="math">t</span> depends on
        <span class="math">ᾱ<sub>t</sub> = ∏(1 − β<sub>s</sub>)</span>, the fraction of signal variance left, and on the
        signal-to-noise ratio <span class="math">SNR = ᾱ<sub>t</sub> / (1 − ᾱ<sub>t</sub>)</span>. New training runs use this schedule.
      </p>
      <div class="controls">
        <label
          >Schedule
          <select @change=${(e: Event) => this.change({ type: (e.target as HTMLSelectElement).value as ScheduleChoice['type'] })}>
            ${TYPES.map((t) => html`<option value=${t} ?selected=${t === this.choice.type}>${t}</option>`)}
          </select>
        </label>
        ${numberField(this.fields, { label: 'Steps T', name: 'T', rule: RULES.scheduleT, value: this.choice.T, onValue: (T) => this.change({ T }) })}
        ${this.locked ? html`<span class="hint">The model being trained keeps the schedule it was made with.</span>` : ''}
      </div>
      ${this.error ? html`<p class="error">${this.error}</p>` : ''}
      ${c && terminalSignalWarning(c) ? html`<p class="warning" role="status">Warning: ${terminalSignalWarning(c)}</p>` : ''}
      <div class="plots">
        ${this.charts().map((chart) => html`<line-chart .chart=${chart}></line-chart>`)}
      </div>
      ${c
        ? html`<div class="stats summary">
            <span>β<sub>0</sub> <b>${c.betas[0]!.toExponential(2)}</b></span>
            <span>β<sub>T−1</sub> <b>${c.betas[last]!.toExponential(2)}</b></span>
            <span>ᾱ<sub>T−1</sub> <b>${c.alphasCumprod[last]!.toExponential(2)}</b></span>
            <span>signal left at the end √ᾱ <b>${Math.sqrt(c.alphasCumprod[last]!).toFixed(4)}</b></span>
            <span>log-SNR from <b>${c.logSnr[0]!.toFixed(1)}</b> to <b>${c.logSnr[last]!.toFixed(1)}</b></span>
          </div>`
        : ''}
    `;
  }

  /** β_t, ᾱ_t and log-SNR of the chosen schedule, the other types faint behind it. */
  private charts(): LineChartData[] {
    const chosen = this.choice.type;
    const T = this.curves.get(chosen)?.betas.length ?? this.choice.T;
    const x = Array.from({ length: T }, (_, t) => t);
    const seriesOf = (pick: (c: ScheduleCurves) => Float64Array, color: string): ChartSeries[] => {
      const others = TYPES.filter((t) => t !== chosen && this.curves.get(t)?.betas.length === T).map(
        (t): ChartSeries => ({ label: t, y: pick(this.curves.get(t)!), color: COLORS.faint, width: 1 }),
      );
      const mine = this.curves.get(chosen);
      return mine ? [...others, { label: chosen, y: pick(mine), color, width: 2.2 }] : others;
    };
    const common = { x, xLabel: 't', xRange: [0, T - 1] as [number, number], guides: this.guides };
    return [
      { ...common, title: 'β_t (log scale)', series: seriesOf((c) => c.betas, COLORS.beta), yLog: true },
      { ...common, title: 'ᾱ_t', series: seriesOf((c) => c.alphasCumprod, COLORS.alphaBar), yRange: [0, 1] },
      { ...common, title: 'log-SNR', series: seriesOf((c) => c.logSnr, COLORS.logSnr) },
    ];
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'schedule-view': ScheduleView;
  }
}
