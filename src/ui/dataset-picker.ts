// <dataset-picker>: Fashion-MNIST from a URL (the dev server's copy by default) or the user's own
// image files; shows what is loaded and a few of its images. Fires `dataset-load` with a
// DatasetRequest.

import { css, html, LitElement } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { noDataset, RULES, type DatasetRequest, type DatasetState } from '../app/index.ts';
import { blockedReason, FieldChecks, fixFields, numberField } from './number-field.ts';
import './image-grid.ts';
import { panelStyles } from './theme.ts';

export interface IdxSourceChoice {
  url: string;
  split: 'train' | 'test';
  limit: number;
}

@customElement('dataset-picker')
export class DatasetPicker extends LitElement {
  static override styles = [
    panelStyles,
    css`
      :host {
        padding: 0;
        border: none;
        box-shadow: none;
      }
      .tabs {
        display: inline-flex;
        border: 1px solid #c9d0dd;
        border-radius: 7px;
        overflow: hidden;
        margin-bottom: 10px;
      }
      .tabs button {
        border: none;
        border-radius: 0;
        background: #fff;
        color: #5b6477;
        font-weight: 500;
      }
      .tabs button[aria-pressed='true'] {
        background: #3b6fd8;
        color: #fff;
      }
      input.url {
        width: 300px;
        max-width: 100%;
        box-sizing: border-box;
      }
      label:has(input.url) {
        max-width: 100%;
        min-width: 0;
      }
      .loaded {
        display: flex;
        gap: 14px;
        align-items: center;
        flex-wrap: wrap;
      }
    `,
  ];

  @property({ attribute: false }) data: DatasetState = noDataset();
  @property({ attribute: false }) source: IdxSourceChoice = { url: '', split: 'train', limit: 10000 };
  @property({ type: Boolean }) disabled = false;
  @state() private tab: 'idx' | 'files' = 'idx';
  /** The image limit typed here (the page's ?limit= until changed). */
  @state() private limit: number | null = null;
  private readonly fields = new FieldChecks(this);

  private load(request: DatasetRequest): void {
    this.dispatchEvent(new CustomEvent<DatasetRequest>('dataset-load', { detail: request, bubbles: true, composed: true }));
  }

  private loadIdx(): void {
    const root = this.renderRoot;
    const value = (name: string) => (root.querySelector(`[name=${name}]`) as HTMLInputElement).value;
    this.load({ source: 'url', url: value('url').trim(), split: value('split') as 'train' | 'test', limit: this.limit ?? this.source.limit });
  }

  private pickFiles(e: Event): void {
    const files = [...((e.target as HTMLInputElement).files ?? [])];
    if (files.length > 0) this.load({ source: 'files', files });
  }

  override render() {
    const d = this.data;
    const busy = this.disabled || d.status === 'loading';
    const refused = this.fields.refused();
    return html`
      <div class="tabs" role="group" aria-label="dataset source">
        <button aria-pressed=${this.tab === 'idx'} @click=${() => (this.tab = 'idx')}>Fashion-MNIST</button>
        <button aria-pressed=${this.tab === 'files'} @click=${() => (this.tab = 'files')}>My images</button>
      </div>
      ${this.tab === 'idx'
        ? html`<div class="controls">
            <label title="a folder holding train-images-idx3-ubyte.gz and the three other Fashion-MNIST files"
              >Folder URL
              <input class="url" name="url" .value=${this.source.url} ?disabled=${busy} />
            </label>
            <label
              >Split
              <select name="split" ?disabled=${busy}>
                <option value="train" ?selected=${this.source.split === 'train'}>train (60,000)</option>
                <option value="test" ?selected=${this.source.split === 'test'}>test (10,000)</option>
              </select>
            </label>
            ${numberField(this.fields, {
              label: 'Use the first (0: all)',
              name: 'limit',
              rule: RULES.datasetLimit,
              value: this.limit ?? this.source.limit,
              disabled: busy,
              onValue: (v) => (this.limit = v),
            })}
            <button name="load" ?disabled=${busy || refused.length > 0} @click=${this.loadIdx}>Load</button>
            ${busy ? '' : blockedReason('Load', fixFields(refused))}
          </div>`
        : html`<div class="controls">
            <label
              >Pick images (any size; center-cropped and resized to the model's size)
              <input type="file" multiple accept="image/*" ?disabled=${busy} @change=${this.pickFiles} />
            </label>
          </div>`}
      ${d.status === 'loading' ? html`<p class="hint">${d.message}</p>` : ''}
      ${d.status === 'error'
        ? html`<p class="error">Could not load the dataset: ${d.message}</p>
            ${this.source.url.startsWith('/@fs/')
              ? html`<p class="hint">
                  The default folder is served by the development server (<code>npm run dev</code>). Elsewhere, enter the URL of a
                  folder holding the four Fashion-MNIST <code>.gz</code> files, or train on your own images.
                </p>`
              : ''}`
        : ''}
      ${d.status === 'ready'
        ? html`<div class="loaded">
            <image-grid .batch=${d.preview} .zoom=${d.preview && d.preview.size <= 16 ? 3 : 2}></image-grid>
            <span class="hint">${d.description}</span>
          </div>`
        : ''}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dataset-picker': DatasetPicker;
  }
}
