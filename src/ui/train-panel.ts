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
  RULES,
  type Divergence,
  type LrChange,
  type DatasetState, type PresetInfo, type ScheduleChoice, type TrainingState, type TrainSettings } from '../app/index.ts';
import { blockedReason, FieldChecks, fixFields, numberField, panelError } from './number-field.ts';
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
        /* minmax(0, …): a drawn chart's canvas must not hold the column at its old width when the window narrows. */
        grid-template-columns: minmax(0, 1fr);
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
  /** The training panel's error (a failed start, resume, download…), or null. */
  @property({ attribute: false }) error: string | null = null;
  /** Why the run diverged (phase 'diverged'). */
  @property({ attribute: false }) divergence: Divergence | null = null;
  /** The run's learning-rate changes. */
  @property({ attribute: false }) lrChanges: readonly LrChange[] = [];
  /** What is wrong with section 1's schedule field (a new run would use it), or ''. */
  @property() scheduleProblem = '';
  private footprintCache: { key: string; footprint: TrainingFootprint } | null = null;
  private readonly fields = new FieldChecks(this);
  /** Reset asks before it discards a run. */
  @state() private confirmingReset = false;

  /** The chosen preset's cost at the chosen batch (recounted only when either changes). */
  private footprint(): TrainingFootprint | null {
    const key = `${this.preset}/${this.settings.batchSize}`;
    if (this.footprintCache?.key !== key) {
      if (!(this.settings.batchSize >= 1) || !this.presets.some((p) => p.name === this.preset)) return null;
      this.footprintCache = { key, footprint: presetFootprint(this.preset, this.settings.batchSize) };
    }
    return this.footprintCache.footprint;
  }

  /** What a new run is made with (the trainer's own settings once one exists). */
  @state() private settings: Omit<TrainSettings, 'targetSteps' | 'preset'> = { ...DEFAULT_SETTINGS };

  private fire<T>(type: string, detail?: T): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  /** A setting of the trainer: the panel's choice before one exists, the trainer's after. */
  private settingField(label: string, key: 'batchSize' | 'warmupSteps' | 'emaDecay' | 'seed') {
    const s = this.training.summary;
    const locked = this.training.phase !== 'none';
    return numberField(this.fields, {
      label,
      name: key,
      rule: RULES[key],
      value: locked && s ? s[key] : this.settings[key],
      disabled: locked,
      onValue: (v) => (this.settings = { ...this.settings, [key]: v }),
    });
  }

  /** The learning rate: of the next run, or of the current one from its next step. */
  private lrField() {
    const s = this.training.summary;
    const locked = this.training.phase !== 'none';
    return numberField(this.fields, {
      label: 'Learning rate',
      name: 'lr',
      rule: RULES.lr,
      value: locked && s ? s.lr : this.settings.lr,
      disabled: this.training.phase === 'diverged',
      title: locked ? "changes the run's peak rate from its next step" : undefined,
      onValue: (lr) => (locked ? this.fire('lr-change', { lr }) : (this.settings = { ...this.settings, lr })),
    });
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

  /** A "every k steps" field that may change mid-run (0: never): fires `event` with {every}. */
  private cadenceField(label: string, name: 'qualityEvery' | 'autosaveEvery', every: number, event: string) {
    return numberField(this.fields, {
      label,
      name,
      rule: RULES[name],
      value: every,
      title: `${RULES[name].zeroMeans} with 0`,
      onValue: (v) => this.fire(event, { every: v }),
    });
  }

  private start(): void {
    this.fire<TrainSettings>('train-start', { ...this.settings, preset: this.preset, targetSteps: this.training.targetSteps });
  }

  /** Why Start is off, as sentences ([] when it is on). */
  private startBlockers(refused: boolean): string[] {
    const t = this.training;
    if (t.phase === 'running') return [];
    if (!this.engineReady) return ['the GPU is not ready.'];
    if (t.phase === 'diverged') return ['the run diverged (see above).'];
    const reasons: string[] = [];
    const locked = t.phase !== 'none';
    if (!locked) {
      const d = this.data;
      if (d.status === 'none') reasons.push('load a dataset first (Data above).');
      if (d.status === 'loading') reasons.push('the dataset is still loading.');
      if (d.status === 'error') reasons.push(`the data cannot be used with this model: ${d.message}`);
      if (refused) reasons.push('this config cannot train here (see above).');
      if (this.scheduleProblem) reasons.push(`fix section 1's schedule: ${this.scheduleProblem}.`);
    }
    if (t.targetSteps <= t.step) reasons.push(`the run is at step ${t.step}: raise "Train until step" to go on.`);
    const fields = locked ? ['lr', 'targetSteps', 'qualityEvery', 'autosaveEvery'] : undefined;
    return [...reasons, ...fixFields(this.fields.refused(fields))];
  }

  /** The divergence in place: where, what, the likely cause, and the way back. */
  private divergedBox() {
    const d = this.divergence;
    if (!d || this.training.phase !== 'diverged') return '';
    const offer = this.autosave?.offer;
    return html`<div class="panel-error diverged" role="alert">
      <div>
        <b>Training diverged at step ${d.step}</b>: ${d.what}. Likely cause: ${d.cause} Resume, sampling and Download are off: the
        weights are no longer finite.
        <div class="actions">
          ${offer
            ? html`<button name="diverged-resume-autosave" @click=${() => this.fire('autosave-resume')}>
                Go back to the autosave at step ${offer.step}
              </button>`
            : html`<span>There is no autosave to go back to: resume from a checkpoint file below, or Reset.</span>`}
        </div>
      </div>
    </div>`;
  }

  /** Reset, or its confirmation: a reset discards the run. */
  private resetControls(locked: boolean) {
    if (!this.confirmingReset || !locked) {
      return html`<button name="reset" class="secondary" ?disabled=${!locked} @click=${() => (this.confirmingReset = true)}>Reset</button>`;
    }
    return html`<span class="confirm" role="group" aria-label="confirm reset">
      Discard the run at step ${this.training.step} (weights, optimiser state and curves)?
      <button name="reset-confirm" @click=${() => {
        this.confirmingReset = false;
        this.fire('train-reset');
      }}>Discard the run</button>
      <button name="reset-cancel" class="secondary" @click=${() => (this.confirmingReset = false)}>Keep it</button>
    </span>`;
  }

  override render() {
    const t = this.training;
    const running = t.phase === 'running';
    const diverged = t.phase === 'diverged';
    const locked = t.phase !== 'none';
    const f = locked ? null : this.footprint();
    const refused = Boolean(f && this.device && footprintRefusal(f, this.device));
    const blockers = this.startBlockers(refused);
    const canStart = !running && blockers.length === 0;
    const startLabel = t.phase === 'none' ? 'Start training' : 'Resume';
    const last = this.records.slice(-20);
    const recentLoss = last.length ? last.reduce((s, r) => s + r.loss, 0) / last.length : NaN;
    const remaining = t.stepsPerSecond > 0 ? (Math.max(0, t.targetSteps - t.step) / t.stepsPerSecond) : NaN;
    const s = t.summary;
    const phase = t.phase === 'none' ? 'not started' : running && t.buildingPipelines ? 'building pipelines' : t.phase;
    const lrHistory = this.lrChanges.map((c) => `${c.lr} from step ${c.step}`).join(', ');
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
          ${this.settingField('Batch size', 'batchSize')} ${this.lrField()} ${this.settingField('Warm-up steps', 'warmupSteps')}
          ${this.settingField('EMA decay', 'emaDecay')} ${this.settingField('Seed', 'seed')}
          ${numberField(this.fields, {
            label: 'Train until step',
            name: 'targetSteps',
            rule: RULES.targetSteps,
            value: t.targetSteps,
            disabled: diverged,
            onValue: (v) => this.fire('target-steps', { targetSteps: v }),
          })}
          ${this.quality ? this.cadenceField('Quality every k steps (0: never)', 'qualityEvery', this.quality.every, 'quality-every') : ''}
          ${this.autosave ? this.cadenceField('Autosave every k steps (0: never)', 'autosaveEvery', this.autosave.every, 'autosave-every') : ''}
        </div>
        ${this.autosave?.note ? html`<p class="hint">${this.autosave.note}</p>` : ''}
        ${!locked ? this.costLine() : ''}
        <p class="hint">
          ${s
            ? html`Training ${s.preset} (${s.imageSize}×${s.imageSize}×${s.channels}) with the ${s.schedule.type} schedule, T = ${s.schedule.T},
                batch ${s.batchSize}, learning rate ${s.lr}${lrHistory ? ` (changed: ${lrHistory})` : ''}. The learning rate, the
                quality and autosave cadences and the target step can change during a run; the model, batch, warm-up, EMA and seed
                are fixed by the trainer (Reset to change them).`
            : html`A new run uses the ${this.schedule.type} schedule with T = ${this.schedule.T} from section 1.`}
        </p>
        ${this.divergedBox()} ${panelError(this.error, () => this.fire('error-dismiss', { area: 'training' }))}
        <div class="actions">
          <button name="start" ?disabled=${!canStart} @click=${this.start}>${startLabel}</button>
          <button name="pause" class="secondary" ?disabled=${!running} @click=${() => this.fire('train-pause')}>Pause</button>
          ${this.resetControls(locked)} ${blockedReason(startLabel, blockers)}
        </div>
        ${running && t.buildingPipelines
          ? html`<p class="hint" role="status">
              Building the GPU pipelines of the first step: seconds on a GPU, up to a minute on a software adapter.
            </p>`
          : ''}
        ${locked ? html`<progress max=${Math.max(1, t.targetSteps)} .value=${t.step}></progress>` : ''}
        <div class="stats" aria-live="polite">
          <span>phase <b class="phase">${phase}</b></span>
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
          <button class="secondary" name="download" ?disabled=${!locked || diverged || this.checkpointBusy} @click=${() => this.fire('checkpoint-download')}>
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
          ${diverged
            ? html`<span class="blocked">Download is off: the diverged weights are not finite.</span>`
            : this.checkpoint
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
