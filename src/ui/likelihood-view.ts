// <likelihood-view>: the variational bound of the current model on held-out images, term by
// term: the prior L_T, the KL terms L_{t−1} over t and the decoder L_0, in bits per dimension (the
// numbers `ddpm eval` prints), recomputed on demand. Presentational: fires `bound-request`.

import { html, LitElement } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { RULES, ruleWithMax, type BoundReport } from '../app/index.ts';
import { blockedReason, FieldChecks, fixFields, numberField, panelError } from './number-field.ts';
import './line-chart.ts';
import type { LineChartData } from './line-chart.ts';
import { COLORS, panelStyles } from './theme.ts';

/** What the view shows: the last report, on which images, and whether one is being computed. */
export interface BoundViewState {
  running: boolean;
  report: BoundReport | null;
  /** e.g. "64 Fashion-MNIST test images". */
  images: string;
}

export interface BoundRequest {
  images: number;
  terms: number;
}

@customElement('likelihood-view')
export class LikelihoodView extends LitElement {
  static override styles = [panelStyles];

  @property({ attribute: false }) state: BoundViewState = { running: false, report: null, images: '' };
  /** Why the bound cannot be computed now (no model, no data…), or ''. */
  @property() blocker = '';
  /** The model's T (at most T − 1 timesteps are evaluated). */
  @property({ type: Number }) T = 1000;
  /** Why the last computation failed, or null. */
  @property({ attribute: false }) error: string | null = null;
  @state() private request: BoundRequest = { images: 64, terms: 50 };
  private readonly fields = new FieldChecks(this);

  private field(label: string, key: keyof BoundRequest) {
    const rule = key === 'images' ? RULES.boundImages : ruleWithMax(RULES.boundTerms, this.T - 1);
    return numberField(this.fields, {
      label,
      name: key,
      rule,
      value: key === 'terms' ? Math.min(this.request.terms, this.T - 1) : this.request[key],
      onValue: (v) => (this.request = { ...this.request, [key]: v }),
    });
  }

  override render() {
    const { report, running, images } = this.state;
    const blockers = [...(this.blocker ? [this.blocker] : []), ...fixFields(this.fields.refused())];
    return html`
      <h2>5 · Likelihood</h2>
      <p class="lede">
        The variational bound −log p(x₀) ≤ L<sub>T</sub> + Σ L<sub>t−1</sub> + L<sub>0</sub> of the current model (EMA weights) on
        held-out images, in bits per dimension: the prior term, the KL between the true and the learned reverse step at each t,
        and the decoder's discretised likelihood of the clean image. With fewer timesteps than T − 1 each evaluated t stands for
        its neighbours (an estimate); the terms are what <code>ddpm eval</code> prints.
      </p>
      <div class="controls">
        ${this.field('Test images', 'images')} ${this.field('Timesteps evaluated', 'terms')}
        <button
          name="compute-bound"
          ?disabled=${blockers.length > 0 || running}
          @click=${() =>
            this.dispatchEvent(
              new CustomEvent<BoundRequest>('bound-request', {
                detail: { ...this.request, terms: Math.min(this.request.terms, this.T - 1) },
                bubbles: true,
                composed: true,
              }),
            )}
        >
          ${running ? 'Computing…' : 'Compute the bound'}
        </button>
        ${running ? '' : blockedReason('Compute', blockers)}
      </div>
      ${panelError(this.error, () => this.dispatchEvent(new CustomEvent('error-dismiss', { detail: { area: 'likelihood' }, bubbles: true, composed: true })))}
      ${report
        ? html`<div class="stats summary" role="status">
              <span>total <b class="bpd">${report.bpd.toFixed(3)}</b> bits/dim${report.estimate ? ' (estimate)' : ''}</span>
              <span>prior L<sub>T</sub> <b>${report.prior.toExponential(2)}</b></span>
              <span>decoder L<sub>0</sub> <b>${report.decoder.toFixed(3)}</b></span>
              <span>on ${report.images} ${images}</span>
            </div>
            <line-chart .chart=${boundChart(report)} .height=${200}></line-chart>`
        : ''}
    `;
  }
}

/** L_{t−1} per evaluated t, bits/dim, log scale. */
function boundChart(report: BoundReport): LineChartData {
  const kl = report.terms.filter((r) => r.t > 0);
  return {
    title: 'KL term L(t−1) per timestep, bits/dim (log scale)',
    x: kl.map((r) => r.t),
    xLabel: 't',
    yLog: true,
    series: [{ label: 'L(t−1)', y: kl.map((r) => r.bpd), color: COLORS.alphaBar, width: 2 }],
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'likelihood-view': LikelihoodView;
  }
}
