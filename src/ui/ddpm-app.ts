// <ddpm-app>: the demo's shell. It observes the DemoController (events 'change', 'step',
// 'frame'), hands its state to the panels as properties, and turns the panels' DOM events into
// controller calls. It holds no engine logic of its own.

import { css, html, LitElement } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import {
  presetInfos,
  scheduleCurves,
  type ChainResult,
  type DatasetRequest,
  type PresetInfo,
  type SampleRequest,
  type ScheduleChoice,
  type ScheduleCurves,
  type TrainSettings,
} from '../app/index.ts';
import type { DemoController, ErrorArea, ModelFile } from './controller.ts';
import './dataset-picker.ts';
import type { IdxSourceChoice } from './dataset-picker.ts';
import './device-info.ts';
import './noising-chain.ts';
import type { ChainChoice } from './noising-chain.ts';
import './sampler-view.ts';
import './op-checks.ts';
import './likelihood-view.ts';
import type { BoundRequest } from './likelihood-view.ts';
import './schedule-view.ts';
import './train-panel.ts';
import type { CheckpointLink } from './train-panel.ts';

const CHAIN_LENGTH = 8;

@customElement('ddpm-app')
export class DdpmApp extends LitElement {
  static override styles = css`
    :host {
      display: block;
      min-height: 100vh;
      background: #f4f6fa;
      color: #1e2533;
      font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif;
    }
    header {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      justify-content: space-between;
      gap: 12px 24px;
      padding: 22px 28px 18px;
      max-width: 1400px;
      margin: 0 auto;
    }
    h1 {
      margin: 0;
      font-size: 24px;
      font-weight: 700;
      letter-spacing: -0.01em;
    }
    h1 span {
      color: #3b6fd8;
    }
    .tagline {
      margin: 2px 0 0;
      color: #5b6477;
    }
    main {
      display: grid;
      grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
      gap: 18px;
      padding: 0 28px 28px;
      max-width: 1400px;
      margin: 0 auto;
      align-items: start;
    }
    .wide {
      grid-column: 1 / -1;
    }
    @media (max-width: 1100px) {
      main {
        grid-template-columns: minmax(0, 1fr);
      }
    }
    .offer {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 10px;
      padding: 10px 14px;
      border-radius: 10px;
      background: #e8effc;
      border: 1px solid #b9cdf3;
    }
    .alert {
      display: flex;
      justify-content: space-between;
      gap: 12px;
      padding: 10px 14px;
      border-radius: 10px;
      background: #fdecea;
      border: 1px solid #f3b8b2;
      color: #7a1c14;
    }
    .alert button {
      border: none;
      background: none;
      color: inherit;
      font-size: 18px;
      line-height: 1;
      cursor: pointer;
    }
    footer {
      padding: 0 28px 28px;
      max-width: 1400px;
      margin: 0 auto;
      color: #5b6477;
      font-size: 12px;
    }
  `;

  @property({ attribute: false }) controller!: DemoController;
  /** Where Fashion-MNIST is fetched from, and how much of it. */
  @property({ attribute: false }) source: IdxSourceChoice = { url: '', split: 'train', limit: 10000 };

  @state() private recordCount = 0;
  @state() private chain: ChainResult | null = null;
  @state() private chainChoice: ChainChoice = { index: 0, seed: 1 };
  @state() private chainBusy = false;
  @state() private chainError = '';
  @state() private checkpoint: CheckpointLink | null = null;
  @state() private checkpointBusy = false;
  /** What is wrong with the schedule's fields (a new run would be made with them), or ''. */
  @state() private scheduleProblem = '';

  private readonly presets: PresetInfo[] = presetInfos();
  private curvesFor: { T: number; curves: Map<string, ScheduleCurves>; error: string | null } | null = null;
  private chainInputs: unknown[] = [];
  private chainPending = false;
  private readonly onChange = () => {
    this.requestUpdate();
    this.refreshChain();
  };
  private readonly onStep = () => (this.recordCount = this.controller.records.length);
  private readonly onFrame = () => this.requestUpdate();

  override connectedCallback(): void {
    super.connectedCallback();
    this.controller.addEventListener('change', this.onChange);
    this.controller.addEventListener('step', this.onStep);
    this.controller.addEventListener('frame', this.onFrame);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.controller.removeEventListener('change', this.onChange);
    this.controller.removeEventListener('step', this.onStep);
    this.controller.removeEventListener('frame', this.onFrame);
  }

  private curves(T: number) {
    if (this.curvesFor?.T !== T) this.curvesFor = { T, ...scheduleCurves(T) };
    return this.curvesFor;
  }

  /** Recomputes the noising chain when its image, noise, schedule, data or device changed. */
  private refreshChain(): void {
    const c = this.controller;
    const inputs = [c.engine, c.dataset.preview, c.preset, c.schedule.type, c.schedule.T, this.chainChoice.index, this.chainChoice.seed];
    if (inputs.every((v, i) => v === this.chainInputs[i])) return;
    this.chainInputs = inputs;
    if (c.engine.kind !== 'ready' || c.dataset.status !== 'ready') {
      this.chain = null;
      return;
    }
    if (this.chainBusy) {
      this.chainPending = true;
      return;
    }
    void this.runChain();
  }

  private async runChain(): Promise<void> {
    const c = this.controller;
    this.chainBusy = true;
    do {
      this.chainPending = false;
      try {
        this.chain = await c.forwardChain(this.chainChoice.index, c.schedule, CHAIN_LENGTH, this.chainChoice.seed);
        this.chainError = '';
      } catch (e) {
        this.chain = null;
        this.chainError = `Could not compute the chain: ${(e as Error).message}`;
      }
    } while (this.chainPending);
    this.chainBusy = false;
  }

  private chainMessage(): string {
    const c = this.controller;
    if (c.engine.kind === 'starting') return 'starting WebGPU…';
    if (c.engine.kind !== 'ready') return 'The forward process is computed on the GPU, which is not available.';
    if (c.dataset.status === 'loading') return 'loading the dataset…';
    if (c.dataset.status !== 'ready') return 'Load a dataset in section 3 to watch one of its images dissolve into noise.';
    return this.chainError;
  }

  private async downloadCheckpoint(): Promise<void> {
    this.checkpointBusy = true;
    const link = await this.controller.downloadableCheckpoint();
    this.checkpointBusy = false;
    if (!link) return;
    if (this.checkpoint) URL.revokeObjectURL(this.checkpoint.url);
    this.checkpoint = link;
    const a = document.createElement('a');
    a.href = link.url;
    a.download = link.name;
    a.click();
  }

  override render() {
    const c = this.controller;
    const schedule = this.curves(c.schedule.T);
    const t = c.training;
    const modelT = c.imported?.T ?? t.summary?.schedule.T ?? c.schedule.T;
    return html`
      <header>
        <div>
          <h1>Diffusion models, <span>live in your browser</span></h1>
          <p class="tagline">Train a DDPM and watch it turn noise into images, on your own GPU through WebGPU. Nothing runs on a server.</p>
        </div>
        <device-info .engine=${c.engine} @engine-restart=${() => void c.restartEngine()}></device-info>
      </header>
      <main
        @schedule-change=${(e: CustomEvent<ScheduleChoice>) => c.setSchedule(e.detail)}
        @chain-change=${(e: CustomEvent<ChainChoice>) => {
          this.chainChoice = e.detail;
          this.refreshChain();
        }}
        @dataset-load=${(e: CustomEvent<DatasetRequest>) => void c.loadDataset(e.detail)}
        @preset-change=${(e: CustomEvent<{ name: string }>) => void c.setPreset(e.detail.name)}
        @train-start=${(e: CustomEvent<TrainSettings>) => void c.startTraining(e.detail)}
        @train-pause=${() => c.pauseTraining()}
        @train-reset=${() => void c.resetTraining()}
        @target-steps=${(e: CustomEvent<{ targetSteps: number }>) => c.setTargetSteps(e.detail.targetSteps)}
        @autosave-resume=${() => void c.resumeAutosave()}
        @error-dismiss=${(e: CustomEvent<{ area: ErrorArea }>) => c.clearError(e.detail.area)}
        @schedule-problem=${(e: CustomEvent<{ problem: string }>) => (this.scheduleProblem = e.detail.problem)}
        @checkpoint-download=${() => void this.downloadCheckpoint()}
        @checkpoint-upload=${(e: CustomEvent<{ file: File }>) => void c.resumeFrom(e.detail.file)}
        @sample-request=${(e: CustomEvent<SampleRequest>) => void c.sample(e.detail)}
        @sample-stop=${() => c.stopSample()}
        @diffusers-files=${(e: CustomEvent<ModelFile[]>) => void c.importDiffusersFiles(e.detail)}
        @diffusers-forget=${() => c.forgetImported()}
        @checks-run=${() => void c.runChecks()}
        @quality-every=${(e: CustomEvent<{ every: number }>) => c.setQualityEvery(e.detail.every)}
        @lr-change=${(e: CustomEvent<{ lr: number }>) => void c.setLearningRate(e.detail.lr)}
        @autosave-every=${(e: CustomEvent<{ every: number }>) => c.setAutosaveEvery(e.detail.every)}
        @bound-request=${(e: CustomEvent<BoundRequest>) => void c.computeBound(e.detail)}
      >
        ${c.autosave.offer && t.phase === 'none'
          ? html`<div class="offer wide" role="region" aria-label="autosaved run">
              <span>A run was autosaved at step <b>${c.autosave.offer.step}</b> (${c.autosave.offer.savedAt}). Resume it?</span>
              <button name="resume-autosave" ?disabled=${c.dataset.status !== 'ready'} @click=${() => void c.resumeAutosave()}>
                Resume run from step ${c.autosave.offer.step}
              </button>
              <button name="discard-autosave" class="secondary" @click=${() => void c.discardAutosave()}>Discard it</button>
              ${c.dataset.status !== 'ready' ? html`<span class="hint">(load its dataset first)</span>` : ''}
            </div>`
          : ''}
        ${c.errors.page
          ? html`<div class="alert wide" role="alert">
              <span>${c.errors.page}</span><button aria-label="dismiss" @click=${() => c.clearError('page')}>×</button>
            </div>`
          : ''}
        <schedule-view
          class="wide"
          .choice=${c.schedule}
          .curves=${schedule.curves}
          .error=${schedule.error}
          .guides=${this.chain?.timesteps ?? []}
          ?locked=${t.phase !== 'none'}
        ></schedule-view>
        <noising-chain class="wide" .chain=${this.chain} .choice=${this.chainChoice} .message=${this.chainMessage()} ?busy=${this.chainBusy}></noising-chain>
        <train-panel
          .data=${c.dataset}
          .source=${this.source}
          .training=${t}
          .records=${c.records}
          .recordCount=${this.recordCount}
          .presets=${this.presets}
          .preset=${c.preset}
          .schedule=${c.schedule}
          ?engineReady=${c.engine.kind === 'ready'}
          .checkpoint=${this.checkpoint}
          ?checkpointBusy=${this.checkpointBusy}
          .quality=${c.quality}
          .autosave=${c.autosave}
          .device=${c.engine.kind === 'ready' ? c.engine.report : null}
          .error=${c.errors.training}
          .divergence=${c.divergence}
          .lrChanges=${c.lrChanges}
          .scheduleProblem=${this.scheduleProblem}
        ></train-panel>
        <sampler-view
          .sampling=${c.sampling}
          .blocker=${c.sampleBlocker}
          .T=${modelT}
          .imported=${c.imported}
          .error=${c.errors.sampling}
          .modelError=${c.errors.model}
        ></sampler-view>
        <likelihood-view
          class="wide"
          .state=${c.bound}
          .blocker=${c.sampleBlocker || (c.dataset.status === 'ready' ? '' : 'load a dataset first: the bound is measured on its test images.')}
          .T=${modelT}
          .error=${c.errors.likelihood}
        ></likelihood-view>
        <op-checks class="wide" .state=${c.checks} ?canRun=${c.engine.kind === 'ready'} .error=${c.errors.checks}></op-checks>
      </main>
      <footer>
        ddpm-webgpu · a from-scratch TypeScript deep-learning engine: every kernel, gradient and optimiser step above runs in WebGPU
        compute shaders.
      </footer>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ddpm-app': DdpmApp;
  }
}
