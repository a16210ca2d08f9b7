// <noising-chain>: the forward process q(x_t | x0) for one dataset image, as a strip of x_t at
// evenly spaced t sharing one ε. Fires `chain-change` with {index, seed} to show another image or
// another draw of the noise.

import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ChainResult } from '../app/index.ts';
import './image-grid.ts';
import { panelStyles } from './theme.ts';

export interface ChainChoice {
  index: number;
  seed: number;
}

@customElement('noising-chain')
export class NoisingChain extends LitElement {
  static override styles = [
    panelStyles,
    css`
      .strip {
        display: flex;
        flex-wrap: wrap;
        gap: 14px;
        align-items: flex-start;
      }
      figure {
        margin: 0;
        display: flex;
        flex-direction: column;
        align-items: center;
        gap: 4px;
      }
      figcaption {
        font-size: 12px;
        color: #5b6477;
        text-align: center;
        font-variant-numeric: tabular-nums;
        line-height: 1.3;
      }
      figcaption b {
        color: #1e2533;
      }
      .arrow {
        align-self: center;
        color: #9aa3b5;
        font-size: 18px;
        margin-top: -28px;
      }
      .placeholder {
        padding: 28px 12px;
        text-align: center;
        background: #f6f8fb;
        border-radius: 8px;
      }
    `,
  ];

  @property({ attribute: false }) chain: ChainResult | null = null;
  @property({ attribute: false }) choice: ChainChoice = { index: 0, seed: 1 };
  /** Why there is no chain to show (no dataset, no GPU…), or '' while there is one. */
  @property() message = '';
  @property({ type: Boolean }) busy = false;

  private change(patch: Partial<ChainChoice>): void {
    this.dispatchEvent(new CustomEvent<ChainChoice>('chain-change', { detail: { ...this.choice, ...patch }, bubbles: true, composed: true }));
  }

  override render() {
    const c = this.chain;
    const size = c?.images.size ?? 16;
    const zoom = Math.max(2, Math.round(84 / size));
    const disabled = this.busy || Boolean(this.message);
    return html`
      <h2>2 · Forward process</h2>
      <p class="lede">
        Any noisy version is one step away from the clean image:
        <span class="math">x<sub>t</sub> = √ᾱ<sub>t</sub> x<sub>0</sub> + √(1 − ᾱ<sub>t</sub>) ε</span>, with
        <span class="math">ε ~ N(0, I)</span>. Here one ε is shared by every <span class="math">t</span>, computed on the GPU
        with the schedule above. Training teaches a network to predict that ε from <span class="math">x<sub>t</sub></span> and <span class="math">t</span>.
      </p>
      <div class="controls">
        <button class="secondary" ?disabled=${disabled} @click=${() => this.change({ index: this.choice.index + 1 })}>Next image</button>
        <button class="secondary" ?disabled=${disabled} @click=${() => this.change({ seed: this.choice.seed + 1 })}>New noise ε</button>
        ${c ? html`<span class="hint">${c.label} · noise seed ${this.choice.seed}</span>` : ''}
      </div>
      ${this.message
        ? html`<div class="placeholder hint">${this.message}</div>`
        : c
          ? html`<div class="strip">
              ${c.timesteps.map(
                (t, k) => html`
                  ${k > 0 ? html`<span class="arrow">→</span>` : ''}
                  <figure>
                    <image-grid .batch=${slice(c, k)} .zoom=${zoom} .gap=${0}></image-grid>
                    <figcaption><b>t = ${t}</b><br />ᾱ = ${c.alphaBars[k]!.toFixed(3)}</figcaption>
                  </figure>
                `,
              )}
            </div>`
          : html`<div class="placeholder hint">computing…</div>`}
    `;
  }
}

function slice(c: ChainResult, k: number) {
  const { channels, size } = c.images;
  const plane = channels * size * size;
  return { data: c.images.data.subarray(k * plane, (k + 1) * plane), n: 1, channels, size };
}

declare global {
  interface HTMLElementTagNameMap {
    'noising-chain': NoisingChain;
  }
}
