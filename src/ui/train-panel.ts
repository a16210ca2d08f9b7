// <train-panel>: dataset, model preset and optimiser settings, Start/Pause/Reset, live loss chart
// and throughput, checkpoint download and resume. Presentational: it fires `dataset-load`,
// `preset-change`, `train-start` (TrainSettings), `train-pause`, `train-reset`,
// `checkpoint-download` and `checkpoint-upload` ({file}), and shows what it is given.

import { css, html, LitElement } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import {
  DEFAULT_TRAIN_SETTINGS,
  footprintMicroBatches,
  footprintRefusal,
  noDataset,
  noRun,
  presetFootprint,
  type DeviceReport,
  type TrainingFootprint,
  type DatasetState, type PresetInfo, type ScheduleChoice, type TrainingState, type TrainSettings } from '../app/index.ts';
import './dataset-picker.ts';
import type { IdxSourceChoice } from './dataset-picker.ts';
import './loss-chart.ts';
import './line-chart.ts';
import type { LineChartData } from './line-chart.ts';
import type { AutosaveState, QualityViewState } from './controller.ts';
import type { LossPoint } from './loss-chart.ts';
import { COLORS, panelStyles } from './theme.ts';

export interface CheckpointLink {
  url: string;
  name: string;
  bytes: number;
}

const DEFAULT_SETTINGS: TrainSettings = DEFAULT_TRAIN_SETTINGS;

function formatCount(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return '–';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

@customElement('train-panel')
export class TrainPanel extends LitElement {
  static override styles = [
    panelStyles,
    css`
      .refusal {
        color: #9b1c13;
        font-weight: 600;
      }
      .charts {
        display: grid;
        grid-template-columns: 1fr;
        gap: 8px;
      }
      section + section {
        margin-top: 16px;
        padding-top: 14px;
        border-top: 1px solid #edf0f5;
      }
      h3 {
        margin: 0 0 8px;
        font-size: 13px;
        font-weight: 650;
        text-transform: uppercase;
        letter-spacing: 0.04em;
        color: #5b6477;
      }
      .actions {
        display: flex;
        gap: 8px;
        align-items: center;
        flex-wrap: wrap;
        margin: 4px 0 10px;
      }
      progress {
        width: 100%;
        height: 6px;
        margin: 8px 0 4px;
        accent-color: #3b6fd8;
      }
      .file-button {
        position: relative;
        overflow: hidden;
        display: inline-flex;
        align-items: center;
        padding: 6px 14px;
        border: 1px solid #3b6fd8;
        border-radius: 6px;
        color: #3b6fd8;
        font-size: 13px;
        font-weight: 600;
        cursor: pointer;
      }
      .file-button input {
        position: absolute;
        inset: 0;
        opacity: 0;
        cursor: pointer;
      }
      .file-button[aria-disabled='true'] {
        border-color: #c9d0dd;
        color: #8a93a6;
        pointer-events: none;
      }
      a {
        color: #3b6fd8;
      }
      select {
        max-width: 320px;
      }
    `,
  ];

  @property({ attribute: false }) data: DatasetState = noDataset();
  @property({ attribute: false }) source: IdxSourceChoice = { url: '', split: 'train', limit: 10000 };
  @property({ attribute: false }) training: TrainingState = noRun().training;
  @property({ attribute: false }) records: readonly LossPoint[] = [];
  @property({ type: Number }) recordCount = 0;
  @property({ attribute: false }) presets: PresetInfo[] = [];
  @property() preset = DEFAULT_SETTINGS.preset;
  @property({ attribute: false }) schedule: ScheduleChoice = { type: 'linear', T: 1000 };
  @property({ type: Boolean }) engineReady = false;
  @property({ attribute: false }) checkpoint: CheckpointLink | null = null;
  @property({ type: Boolean }) checkpointBusy = false;
  @property({ attribute: false }) quality: QualityViewState | null = null;
  @property({ attribute: false }) autosave: AutosaveState | null = null;
  /** The adapter's report (its limits decide which configs can train). */
  @property({ attribute: false }) device: DeviceReport | null = null;
  private footprintCache: { key: string; footprint: TrainingFootprint } | null = null;

  /** The chosen preset's cost at the chosen batch (recounted only when either changes). */
  private footprint(): TrainingFootprint | null {
    const key = `${this.preset}/${this.settings.batchSize}`;
    if (this.footprintCache?.key !== key) {
      if (!(this.settings.batchSize >= 1) || !this.presets.some((p) => p.name === this.preset)) return null;
      this.footprintCache = { key, footprint: presetFootprint(this.preset, this.settings.batchSize) };
    }
    return this.footprintCache.footprint;
  }

  @state() private settings: TrainSettings = { ...DEFAULT_SETTINGS };

  private fire<T>(type: string, detail?: T): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  private setNumber(key: keyof TrainSettings, e: Event): void {
    const v = Number((e.target as HTMLInputElement).value);
    if (Number.isFinite(v)) this.settings = { ...this.settings, [key]: v };
  }

  private numberField(label: string, key: keyof TrainSettings, attrs: { min: number; step: number | 'any' }, disabled: boolean) {
    return html`<label
      >${label}
      <input
        type="number"
        name=${key}
        min=${attrs.min}
        step=${attrs.step}
        .value=${String(this.settings[key])}
        ?disabled=${disabled}
        @change=${(e: Event) => this.setNumber(key, e)}
      />
    </label>`;
  }

  /** Parameters, FLOPs per step and memory of the config about to train; a refusal if the adapter cannot. */
  private costLine() {
    const f = this.footprint();
    if (!f) return '';
    const refusal = this.device ? footprintRefusal(f, this.device) : null;
    const parts = this.device && !refusal ? footprintMicroBatches(f, this.device) : 1;
    const mib = (b: number) => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : `${(b / 2 ** 20).toFixed(1)} MiB`);
    return html`<p class="cost" role="status">
        <b>${formatCount(f.parameters)}</b> parameters · <b>${(f.flopsPerStep / 1e9).toFixed(2)}</b> GFLOP per step · memory ≥
        <b>${mib(f.stateBytes + f.activationBytes)}</b> (${mib(f.stateBytes)} weights, gradients, Adam and EMA; ${mib(f.activationBytes)}
        activations kept for the backward pass)${parts > 1
          ? html` · the batch runs as <b>${parts}</b> micro-batches (its largest tensor, ${mib(f.largestTensorBytes)}, exceeds this
              adapter's storage-binding limit)`
          : ''}
      </p>
      ${refusal ? html`<p class="refusal" role="alert">This config cannot train here: ${refusal}.</p>` : ''}`;
  }

  /** A "every k steps" field that may change mid-run: fires `event` with {every} (0: off). */
  private cadenceField(label: string, name: string, every: number, event: string) {
    return html`<label
      >${label}
      <input
        type="number"
        name=${name}
        min="0"
        step="50"
        .value=${String(every)}
        @change=${(e: Event) => {
          const v = Number((e.target as HTMLInputElement).value);
          if (Number.isFinite(v) && v >= 0) this.fire(event, { every: v });
        }}
      />
    </label>`;
  }

  private start(): void {
    this.fire<TrainSettings>('train-start', { ...this.settings, preset: this.preset });
  }

  override render() {
    const t = this.training;
    const running = t.phase === 'running';
    const locked = t.phase !== 'none';
    const dataReady = this.data.status === 'ready';
    const f = locked ? null : this.footprint();
    const refused = Boolean(f && this.device && footprintRefusal(f, this.device));
    const canStart = this.engineReady && !running && (locked || dataReady) && this.settings.targetSteps > t.step && !refused;
    const startLabel = t.phase === 'none' ? 'Start training' : 'Resume';
    const last = this.records.slice(-20);
    const recentLoss = last.length ? last.reduce((s, r) => s + r.loss, 0) / last.length : NaN;
    const remaining = t.stepsPerSecond > 0 ? (Math.max(0, t.targetSteps - t.step) / t.stepsPerSecond) : NaN;
    const s = t.summary;
    return html`
      <h2>3 · Training</h2>
      <p class="lede">
        Each step takes a batch of images <span class="math">x<sub>0</sub></span>, a random <span class="math">t</span> and noise
        <span class="math">ε</span>, and nudges the U-Net so that <span class="math">ε̂(x<sub>t</sub>, t)</span> gets closer to
        <span class="math">ε</span>. Sampling uses an exponential moving average (EMA) of the weights.
      </p>

      <section>
        <h3>Data</h3>
        <dataset-picker .data=${this.data} .source=${this.source} ?disabled=${running}></dataset-picker>
      </section>

      <section>
        <h3>Model and optimiser</h3>
        <div class="controls">
          <label
            >Model preset
            <select
              name="preset"
              ?disabled=${locked}
              @change=${(e: Event) => this.fire('preset-change', { name: (e.target as HTMLSelectElement).value })}
            >
              ${this.presets.map(
                (p) =>
                  html`<option value=${p.name} ?selected=${p.name === this.preset}>
                    ${p.name} · ${p.imageSize}×${p.imageSize}×${p.channels} · ${formatCount(p.parameters)} params
                  </option>`,
              )}
            </select>
          </label>
          ${this.numberField('Batch size', 'batchSize', { min: 1, step: 1 }, locked)}
          ${locked && s
            ? html`<label
                >Learning rate
                <input
                  type="number"
                  name="lr"
                  min="0"
                  step="any"
                  .value=${String(s.lr)}
                  title="changes the run's peak rate from its next step"
                  @change=${(e: Event) => {
                    const v = Number((e.target as HTMLInputElement).value);
                    if (Number.isFinite(v) && v > 0) this.fire('lr-change', { lr: v });
                  }}
                />
              </label>`
            : this.numberField('Learning rate', 'lr', { min: 0, step: 'any' }, locked)}
          ${this.numberField('Warm-up steps', 'warmupSteps', { min: 0, step: 1 }, locked)}
          ${this.numberField('EMA decay', 'emaDecay', { min: 0, step: 'any' }, locked)}
          ${this.numberField('Seed', 'seed', { min: 0, step: 1 }, locked)}
          ${this.numberField('Train until step', 'targetSteps', { min: 1, step: 1 }, running)}
          ${this.quality ? this.cadenceField('Quality every k steps', 'qualityEvery', this.quality.every, 'quality-every') : ''}
          ${this.autosave ? this.cadenceField('Autosave every k steps', 'autosaveEvery', this.autosave.every, 'autosave-every') : ''}
        </div>
        ${this.autosave?.note ? html`<p class="hint">${this.autosave.note}</p>` : ''}
        ${!locked ? this.costLine() : ''}
        <p class="hint">
          ${s
            ? html`Training ${s.preset} (${s.imageSize}×${s.imageSize}×${s.channels}) with the ${s.schedule.type} schedule, T = ${s.schedule.T},
                batch ${s.batchSize}, learning rate ${s.lr}. The learning rate, the quality and autosave cadences and the target
                step can change during a run; the model, batch, warm-up, EMA and seed are fixed by the trainer (Reset to change them).`
            : html`A new run uses the ${this.schedule.type} schedule with T = ${this.schedule.T} from section 1.`}
        </p>
        <div class="actions">
          <button name="start" ?disabled=${!canStart} @click=${this.start}>${startLabel}</button>
          <button name="pause" class="secondary" ?disabled=${!running} @click=${() => this.fire('train-pause')}>Pause</button>
          <button name="reset" class="secondary" ?disabled=${!locked} @click=${() => this.fire('train-reset')}>Reset</button>
          ${!dataReady && !locked ? html`<span class="hint">Load a dataset first.</span>` : ''}
        </div>
        ${locked ? html`<progress max=${Math.max(1, t.targetSteps)} .value=${t.step}></progress>` : ''}
        <div class="stats" aria-live="polite">
          <span>phase <b class="phase">${t.phase === 'none' ? 'not started' : t.phase}</b></span>
          <span>step <b class="step">${t.step}</b>${t.targetSteps ? html` / ${t.targetSteps}` : ''}</span>
          <span>loss <b>${Number.isFinite(recentLoss) ? recentLoss.toFixed(4) : '–'}</b></span>
          <span>speed <b>${t.stepsPerSecond > 0 ? t.stepsPerSecond.toFixed(2) : '–'}</b> steps/s</span>
          ${s && t.stepsPerSecond > 0 ? html`<span><b>${Math.round(t.stepsPerSecond * s.batchSize)}</b> images/s</span>` : ''}
          ${running ? html`<span>left <b>${formatDuration(remaining)}</b></span>` : ''}
          ${t.parameters ? html`<span><b>${formatCount(t.parameters)}</b> parameters</span>` : ''}
          ${this.autosave?.savedStep !== null && this.autosave?.savedStep !== undefined ? html`<span>autosaved at step <b class="autosaved">${this.autosave.savedStep}</b></span>` : ''}
        </div>
        <div class="charts">
          <loss-chart .records=${this.records} .count=${this.recordCount}></loss-chart>
          ${this.quality ? html`<line-chart class="quality" .chart=${qualityChart(this.quality)} .height=${220}></line-chart>` : ''}
        </div>
        ${this.quality?.measuring ? html`<p class="hint" role="status">measuring sample quality (${this.quality.n} samples)…</p>` : ''}
        ${this.quality?.note ? html`<p class="hint">${this.quality.note}</p>` : ''}
      </section>

      <section>
        <h3>Checkpoint</h3>
        <div class="actions">
          <button class="secondary" name="download" ?disabled=${!locked || this.checkpointBusy} @click=${() => this.fire('checkpoint-download')}>
            ${this.checkpointBusy ? 'Saving…' : 'Download checkpoint'}
          </button>
          <label class="file-button" aria-disabled=${!this.engineReady || running}>
            Resume from a checkpoint…
            <input
              type="file"
              accept=".safetensors"
              ?disabled=${!this.engineReady || running}
              @change=${(e: Event) => {
                const input = e.target as HTMLInputElement;
                const file = input.files?.[0];
                if (file) this.fire('checkpoint-upload', { file });
                input.value = '';
              }}
            />
          </label>
          ${this.checkpoint
            ? html`<a href=${this.checkpoint.url} download=${this.checkpoint.name}>${this.checkpoint.name}</a>
                <span class="hint">${(this.checkpoint.bytes / 1e6).toFixed(1)} MB</span>`
            : html`<span class="hint">A safetensors file: weights, EMA weights, Adam state and the full config.</span>`}
        </div>
      </section>
    `;
  }
}

/** Normalised FD of EMA samples over the training steps (0: as real data, 1: as noise). */
function qualityChart(q: QualityViewState): LineChartData {
  return {
    title: 'sample quality: normalised FD (0 = real data, 1 = noise)',
    x: q.points.map((p) => p.step),
    xLabel: 'step',
    series: [{ label: `normalised FD of ${q.n} samples`, y: q.points.map((p) => p.normalised), color: COLORS.logSnr, width: 2 }],
    empty: q.every > 0 ? `measured every ${q.every} steps (${q.n} EMA samples, Fashion-MNIST classifier features)` : 'quality measurement is off',
    digits: 3,
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'train-panel': TrainPanel;
  }
}
