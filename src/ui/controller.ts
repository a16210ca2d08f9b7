// The demo page's view of a TrainingSession (src/app): the state the panels show, the training
// loop in short chunks (so the page stays responsive), and events when anything changes. The Lit
// components never see the session: <ddpm-app> hands this state to them as properties and turns
// their DOM events into calls here.

import {
  footprintRefusal,
  presetFootprint,
  readAutosave,
  removeAutosave,
  writeAutosave,
  CLASSIFIER_FILE,
  QUICK_SAMPLING,
  QualityService,
  CHECKED_OPS,
  runOpChecks,
  checkpointFromDiffusers,
  fetchDiffusersFolder,
  folderFromPickedFiles,
  sampleSteps,
  configFromSettings,
  errorMessage,
  noDataset,
  noRun,
  presetShape,
  readCheckpoint,
  TrainingSession,
  DEFAULT_TRAIN_SETTINGS,
  RULES,
  checkNumber,
  ruleWithMax,
  describeDivergence,
  isDivergence,
  type ChainResult,
  type Divergence,
  type LrChange,
  type QualityPoint,
  type RunHistory,
  type DatasetRequest,
  type DatasetState,
  type DispatchCounters,
  type FileSource,
  type PickedFile,
  type EngineStatus,
  type LostEngine,
  type SampleRequest,
  type SamplingState,
  type ScheduleChoice,
  type StepRecord,
  type TrainerInfo,
  type TrainingState,
  type TrainSettings,
} from '../app/index.ts';
import type { CheckRunState } from './op-checks.ts';
import type { BoundRequest, BoundViewState } from './likelihood-view.ts';


/** The autosave's cadence, the step last saved, and a saved run offered for resuming. */
export interface AutosaveState {
  /** Save every this many steps (0: never). */
  every: number;
  savedStep: number | null;
  /** A run found in storage (after a reload, a crash or a lost device). */
  offer: { step: number; savedAt: string } | null;
  /** Why nothing is saved, or ''. */
  note: string;
}

export type { QualityPoint };

/** Where an error is shown: the panel whose action failed, or the page (the top banner). */
export type ErrorArea = 'training' | 'sampling' | 'likelihood' | 'checks' | 'model' | 'page';

/** Each panel's error (null: none), shown in place until dismissed or resolved. */
export type PanelErrors = Readonly<Record<ErrorArea, string | null>>;

const NO_ERRORS: PanelErrors = { training: null, sampling: null, likelihood: null, checks: null, model: null, page: null };

/** The quality chart's state: cadence, sample count, the points so far, and why there are none. */
export interface QualityViewState {
  /** Measure every this many steps (0: never). */
  every: number;
  n: number;
  points: QualityPoint[];
  measuring: boolean;
  /** Why quality is not measured (e.g. no classifier), or ''. */
  note: string;
}

/** A picked or dropped file, with its path under the picked folder ('' when the browser gives none). */

export interface ModelFile {
  file: File;
  path: string;
}

/** A diffusers folder loaded into the page: what it is, and its weights as checkpoint bytes. */
export interface ImportedForSampling {
  /** Where it came from: the picked folder's name, or the URL. */
  name: string;
  /** e.g. "UNet2DModel 3x32x32, 35.7M parameters, DDPMScheduler linear T=1000, epsilon". */
  summary: string;
  notes: string[];
  bytes: Uint8Array;
  T: number;
}

export class DemoController extends EventTarget {
  engine: EngineStatus = { kind: 'starting' };
  dataset: DatasetState = noDataset();
  schedule: ScheduleChoice = { type: 'linear', T: 1000 };
  /** The preset the data are prepared for (the trainer's once one exists). */
  preset = DEFAULT_TRAIN_SETTINGS.preset;
  training: TrainingState = noRun().training;
  sampling: SamplingState = noRun().sampling;
  /** Every loss read back since the trainer was made (the chart's data). */
  records: StepRecord[] = [];
  /** Each panel's last failure, shown where it happened. */
  errors: PanelErrors = NO_ERRORS;
  /** Why the run diverged (phase 'diverged'), or null. */
  divergence: Divergence | null = null;
  /** The run's learning-rate changes (step, new peak rate), oldest first. */
  lrChanges: LrChange[] = [];
  /** Autosave of the run to the browser's private storage, and an autosave offered back. */
  autosave: AutosaveState = { every: 100, savedStep: null, offer: null, note: '' };
  /** Sample quality over training (the quality chart beside the loss). */
  quality: QualityViewState = { every: 250, n: 64, points: [], measuring: false, note: '' };
  /** The variational bound of the current model on held-out images (the likelihood view). */
  bound: BoundViewState = { running: false, report: null, images: '' };
  /** The op checks on this GPU: rows so far (the check panel's table). */
  checks: CheckRunState = { running: false, rows: [], total: CHECKED_OPS.length };
  /** A diffusers model loaded for sampling (instead of the trainer's weights), as checkpoint bytes. */
  imported: ImportedForSampling | null = null;

  private readonly session = new TrainingSession({
    onDeviceLost: (status) => this.onDeviceLost(status),
    onGpuError: (message) => this.fail('page', `GPU error: ${message}`),
  });
  private samplingAbort: AbortController | null = null;
  private readonly qualityService = new QualityService(this.session);
  private classifierReady: Promise<void> | null = null;
  /** The dataset as last requested: the likelihood view evaluates on its held-out split. */
  private datasetRequest: DatasetRequest | null = null;
  private recordTimes: number[] = [];
  /** A new or resumed trainer builds its pipelines in its first steps (shown as a phase). */
  private firstStepsPending = false;
  private loopId = 0;
  private loopsRunning = 0;

  // --- events -------------------------------------------------------------------------------

  /** 'change' after any state change; 'step' per loss record; 'frame' per sampling frame. */
  private emit(type: 'change' | 'step' | 'frame'): void {
    this.dispatchEvent(new Event(type));
  }

  /** Shows `e` in `area` (until dismissed or resolved). */
  private fail(area: ErrorArea, e: unknown): void {
    this.errors = { ...this.errors, [area]: errorMessage(e) };
    console.error(e);
    this.emit('change');
  }

  /** The panel's action succeeded or starts again: its old error is resolved. */
  private resolve(area: ErrorArea): void {
    if (this.errors[area] !== null) this.errors = { ...this.errors, [area]: null };
  }

  clearError(area: ErrorArea): void {
    this.resolve(area);
    this.emit('change');
  }

  /** No trainer and nothing sampled: the one reset of the run's view (the training target stays unless given). */
  private resetRun(targetSteps = this.training.targetSteps): void {
    ({ training: this.training, sampling: this.sampling } = noRun(targetSteps));
    this.quality = { ...this.quality, points: [], note: '' };
    this.records = [];
    this.recordTimes = [];
    this.divergence = null;
    this.lrChanges = [];
    this.firstStepsPending = false;
  }

  // --- engine -------------------------------------------------------------------------------

  async init(): Promise<void> {
    this.engine = { kind: 'starting' };
    this.emit('change');
    this.engine = await this.session.startEngine();
    this.emit('change');
    // A run saved before a reload, a crash or a lost device is offered back.
    if (this.engine.kind === 'ready') await this.findAutosave();
  }

  private onDeviceLost(status: LostEngine): void {
    // The session dropped the trainer; the last autosave (offered after a restart) or a
    // downloaded checkpoint resumes the run.
    this.training = { ...this.training, phase: 'none', summary: null };
    this.sampling = { ...this.sampling, running: false };
    this.engine = status;
    this.emit('change');
  }

  /** A fresh device after a loss (the dataset stays; the trainer does not). */
  async restartEngine(): Promise<void> {
    this.resetRun();
    await this.init();
  }

  setSchedule(choice: ScheduleChoice): void {
    this.schedule = { ...choice };
    this.emit('change');
  }

  // --- dataset ------------------------------------------------------------------------------

  async loadDataset(request: DatasetRequest): Promise<void> {
    const message = request.source === 'url' ? `fetching ${request.url}…` : 'decoding images…';
    this.dataset = { ...noDataset(), status: 'loading', message };
    this.emit('change');
    try {
      await this.session.loadDataset(request);
      this.datasetRequest = request;
    } catch (e) {
      this.dataset = noDataset('error', errorMessage(e));
      this.emit('change');
      return;
    }
    await this.refreshDataset();
  }

  /** Chooses the model preset before training (the data are resized to its image size). */
  async setPreset(name: string): Promise<void> {
    if (this.session.hasTrainer || name === this.preset) return;
    this.preset = name;
    this.emit('change');
    if (this.session.hasDataset) await this.refreshDataset();
  }

  private async refreshDataset(): Promise<void> {
    try {
      const { size, channels } = presetShape(this.preset);
      const { description, preview } = await this.session.describeDataset(size, channels);
      this.dataset = { status: 'ready', description, message: '', preview };
    } catch (e) {
      this.dataset = noDataset('error', errorMessage(e));
    }
    this.emit('change');
  }

  /** q(x_t | x0) of dataset image `index` at `count` evenly spaced t, with one shared ε. */
  forwardChain(index: number, schedule: ScheduleChoice, count: number, seed: number): Promise<ChainResult> {
    return this.session.noisingChain({ index, schedule, count, seed, ...presetShape(this.preset) });
  }

  // --- training -----------------------------------------------------------------------------

  /** The view of a new or resumed trainer, paused at its step. */
  private adopt(info: TrainerInfo, targetSteps: number): void {
    this.resetRun(Math.max(targetSteps, info.step));
    this.training = { ...this.training, phase: 'paused', step: info.step, parameters: info.parameters, summary: info.summary };
    this.firstStepsPending = true;
  }

  /**
   * Starts (making a trainer from the settings and the schedule choice) or resumes training, until
   * `settings.targetSteps`. A diverged run does not resume: its weights are poisoned.
   */
  async startTraining(settings: TrainSettings): Promise<void> {
    if (this.training.phase === 'running' || this.training.phase === 'diverged' || !this.session.ready) return;
    this.resolve('training');
    try {
      if (!this.session.hasTrainer) {
        const refusal = this.engine.kind === 'ready' ? footprintRefusal(presetFootprint(settings.preset, settings.batchSize), this.engine.report) : null;
        if (refusal) throw new Error(`this config cannot train here: ${refusal}`);
        await this.setPreset(settings.preset);
        const info = await this.session.startTraining(configFromSettings(settings, this.schedule), settings.preset);
        this.adopt(info, settings.targetSteps);
      }
    } catch (e) {
      this.fail('training', e);
      return;
    }
    this.training = { ...this.training, phase: 'running', targetSteps: settings.targetSteps };
    this.emit('change');
    await this.trainLoop();
  }

  /** Changes the step training runs to (mid-run too). */
  setTargetSteps(targetSteps: number): void {
    const checked = checkNumber(RULES.targetSteps, String(targetSteps));
    if (!checked.ok) {
      this.fail('training', checked.message);
      return;
    }
    this.training = { ...this.training, targetSteps: checked.value };
    this.emit('change');
  }

  /** Trains in short chunks with a yield between them, so the page stays responsive. */
  private async trainLoop(): Promise<void> {
    // A Resume while the previous loop still finishes its chunk must not leave two loops running.
    const loop = ++this.loopId;
    this.loopsRunning++;
    try {
      await this.runChunks(loop);
    } finally {
      this.loopsRunning--;
    }
  }

  /** Whether a training chunk may still be on the GPU (Pause takes effect after the one in flight). */
  get trainingBusy(): boolean {
    return this.loopsRunning > 0;
  }

  private async runChunks(loop: number): Promise<void> {
    let chunk = 1;
    try {
      while (this.training.phase === 'running' && this.session.hasTrainer && loop === this.loopId) {
        const remaining = this.training.targetSteps - this.session.step;
        if (remaining <= 0) {
          this.training = { ...this.training, phase: 'finished' };
          break;
        }
        const t0 = performance.now();
        const every = this.quality.every;
        const toQuality = every > 0 ? every - (this.session.step % every) : Infinity;
        const saveEvery = this.autosave.every;
        const toSave = saveEvery > 0 ? saveEvery - (this.session.step % saveEvery) : Infinity;
        const k = Math.min(chunk, remaining, toQuality, toSave);
        if (this.firstStepsPending) {
          this.training = { ...this.training, buildingPipelines: true };
          this.emit('change');
        }
        await this.session.train(k, (r) => this.onRecord(r));
        this.firstStepsPending = false;
        // The autosave comes first: it also checks that the state is finite before quality samples it.
        if (saveEvery > 0 && this.session.step % saveEvery === 0) await this.saveAutosave();
        if (every > 0 && this.session.step % every === 0) await this.measureQuality();
        // Aim for chunks of about a quarter second: long enough to keep the GPU busy, short
        // enough that Pause and Sample answer quickly.
        const perStep = (performance.now() - t0) / k;
        chunk = Math.max(1, Math.min(50, Math.round(250 / Math.max(perStep, 1))));
        this.training = { ...this.training, step: this.session.step };
        this.emit('change');
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    } catch (e) {
      if (isDivergence(e)) {
        await this.diverged(e);
        return;
      }
      this.training = { ...this.training, phase: this.session.hasTrainer ? 'paused' : 'none', buildingPipelines: false };
      // A lost device has its own banner; anything else is shown as an error.
      if (this.engine.kind === 'lost') this.emit('change');
      else this.fail('training', e);
      return;
    }
    this.emit('change');
  }

  /**
   * Contains a run whose loss or state went non-finite: training stops at that step, nothing
   * resumes or saves the poisoned state, and the last autosave (finite: saves are checked) is offered.
   */
  private async diverged(e: Parameters<typeof describeDivergence>[0]): Promise<void> {
    const lr = this.training.summary?.lr ?? DEFAULT_TRAIN_SETTINGS.lr;
    const lastChange = this.lrChanges[this.lrChanges.length - 1];
    this.divergence = describeDivergence(e, lr, lastChange?.lr === lr ? lastChange.step : undefined);
    // The offer is read first: the page shows the divergence and the way back together.
    this.autosave = await this.withSavedOffer(this.autosave);
    this.training = { ...this.training, phase: 'diverged', step: Math.min(e.step, this.training.step), buildingPipelines: false };
    this.emit('change');
  }

  private onRecord(r: StepRecord): void {
    this.records.push(r);
    const now = performance.now();
    this.recordTimes.push(now);
    if (this.recordTimes.length > 30) this.recordTimes.shift();
    const times = this.recordTimes;
    const rate = times.length > 1 ? ((times.length - 1) * 1000) / (times[times.length - 1]! - times[0]!) : 0;
    this.training = { ...this.training, step: r.step + 1, stepsPerSecond: rate, buildingPipelines: false };
    this.emit('step');
  }

  pauseTraining(): void {
    if (this.training.phase !== 'running') return;
    this.training = { ...this.training, phase: 'paused' };
    this.emit('change');
  }

  /** Changes the learning rate of the current run (mid-run too) from its next step. */
  async setLearningRate(lr: number): Promise<void> {
    try {
      const checked = checkNumber(RULES.lr, String(lr));
      if (!checked.ok) throw new Error(checked.message);
      if (this.training.phase === 'diverged') throw new Error('the run diverged: go back to a saved state first');
      const info = await this.session.setLearningRate(checked.value);
      this.lrChanges = [...this.lrChanges, { step: info.step, lr: checked.value }];
      this.training = { ...this.training, summary: info.summary };
    } catch (e) {
      this.fail('training', e);
    }
    this.emit('change');
  }

  /** GPU work counters (dispatches, submits, …): what Pause must stop. */
  gpuCounters(): DispatchCounters {
    return this.session.gpuCounters();
  }

  /** Discards the trainer (settings can change again). */
  async resetTraining(): Promise<void> {
    this.pauseTraining();
    await this.session.reset();
    this.resetRun();
    this.emit('change');
  }

  // --- checkpoints --------------------------------------------------------------------------

  /** The trainer's full state as a safetensors file to download; never a diverged (non-finite) state. */
  async downloadableCheckpoint(): Promise<{ url: string; name: string; bytes: number } | null> {
    try {
      if (this.divergence) throw new Error(`the run diverged at step ${this.divergence.step}: its weights are not finite, so they are not offered`);
      const { bytes, name } = await this.session.checkpoint();
      const blob = new Blob([bytes as BlobPart], { type: 'application/octet-stream' });
      this.resolve('training');
      return { url: URL.createObjectURL(blob), name, bytes: blob.size };
    } catch (e) {
      if (isDivergence(e)) {
        this.pauseTraining();
        await this.diverged(e);
      } else this.fail('training', e);
      return null;
    }
  }

  /** Resumes from a checkpoint file on the loaded dataset (prepared for the checkpoint's model). */
  async resumeFrom(file: File): Promise<void> {
    try {
      await this.resumeFromBytes(new Uint8Array(await file.arrayBuffer()), null);
    } catch (e) {
      this.fail('training', e);
    }
  }

  /** Resumes from checkpoint bytes (a file or an autosave) and the run's history if saved with it; throws what goes wrong. */
  private async resumeFromBytes(bytes: Uint8Array, history: RunHistory | null): Promise<void> {
    if (!this.session.ready) throw new Error('the GPU is not ready');
    // Validated before the running loop (if any) is paused: a bad file changes nothing.
    const checkpoint = readCheckpoint(bytes);
    this.pauseTraining();
    const info = await this.session.resume(checkpoint);
    this.resolve('training');
    if (info.summary.preset !== 'custom') this.preset = info.summary.preset;
    this.schedule = { ...info.summary.schedule };
    this.adopt(info, history?.targetSteps ?? this.training.targetSteps);
    if (history) {
      this.records = history.records;
      this.lrChanges = history.lrChanges;
      this.quality = { ...this.quality, every: history.qualityEvery, points: history.quality };
      this.autosave = { ...this.autosave, every: history.autosaveEvery };
    }
    this.emit('change');
  }

  /** What the page shows of the run at `step`, saved beside its autosave. */
  private history(step: number): RunHistory {
    return {
      step,
      targetSteps: this.training.targetSteps,
      qualityEvery: this.quality.every,
      autosaveEvery: this.autosave.every,
      records: this.records.filter((r) => r.step < step),
      quality: this.quality.points.filter((p) => p.step <= step),
      lrChanges: this.lrChanges.filter((c) => c.step <= step),
    };
  }

  // --- autosave -------------------------------------------------------------------------------

  /** Changes the autosave cadence (0: off); mid-run too. */
  setAutosaveEvery(every: number): void {
    const checked = checkNumber(RULES.autosaveEvery, String(every));
    if (!checked.ok) return this.fail('training', checked.message);
    this.autosave = { ...this.autosave, every: checked.value };
    this.emit('change');
  }

  /**
   * Writes the trainer's full state and the run's history to the browser's private storage
   * (replacing the last save). A non-finite state is not saved: its DivergedError is thrown.
   */
  private async saveAutosave(): Promise<void> {
    try {
      const { bytes, step } = await this.session.checkpoint();
      await writeAutosave(bytes, this.history(step));
      this.autosave = { ...this.autosave, savedStep: step, note: '' };
    } catch (e) {
      if (isDivergence(e)) throw e;
      this.autosave = { ...this.autosave, note: `not autosaved: ${errorMessage(e)}` };
    }
    this.emit('change');
  }

  /** Looks for a saved run to offer (after the engine starts). */
  async findAutosave(): Promise<void> {
    this.autosave = await this.withSavedOffer(this.autosave);
    this.emit('change');
  }

  /** `state` offering the run in storage (or, if it cannot be read, saying so). */
  private async withSavedOffer(state: AutosaveState): Promise<AutosaveState> {
    try {
      const saved = await readAutosave();
      return { ...state, offer: saved ? { step: saved.step, savedAt: saved.savedAt.toLocaleString() } : null };
    } catch (e) {
      return { ...state, offer: null, note: `the autosaved run cannot be read (${errorMessage(e)}); discard it` };
    }
  }

  /** Resumes the offered run on the loaded dataset. */
  async resumeAutosave(): Promise<void> {
    try {
      const saved = await readAutosave();
      if (!saved) throw new Error('the autosaved run is gone');
      await this.resumeFromBytes(saved.bytes, saved.history);
      this.autosave = { ...this.autosave, offer: null, savedStep: saved.step };
    } catch (e) {
      this.fail('training', e);
    }
    this.emit('change');
  }

  /** Deletes the saved run. */
  async discardAutosave(): Promise<void> {
    await removeAutosave();
    this.autosave = { ...this.autosave, offer: null, savedStep: null, note: '' };
    this.emit('change');
  }

  // --- quality during training ------------------------------------------------------------

  /** Changes the quality cadence (0: off); takes effect at the next chunk, mid-run too. */
  setQualityEvery(every: number): void {
    const checked = checkNumber(RULES.qualityEvery, String(every));
    if (!checked.ok) return this.fail('training', checked.message);
    this.quality = { ...this.quality, every: checked.value };
    this.emit('change');
  }

  /**
   * Samples `quality.n` images from the EMA weights (the quick sampler) and adds their normalised
   * FD against the loaded dataset's images to the chart. Needs the shipped classifier and a
   * dataset fetched by URL (the reference statistics come from its training split).
   */
  async measureQuality(): Promise<void> {
    const data = this.datasetRequest;
    if (!data || data.source !== 'url') {
      this.quality = { ...this.quality, note: 'quality is measured against a dataset loaded by URL (Fashion-MNIST)' };
      return;
    }
    this.quality = { ...this.quality, measuring: true };
    this.emit('change');
    try {
      this.classifierReady ??= this.loadClassifier();
      await this.classifierReady;
      const r = await this.qualityService.measure(
        { sampler: QUICK_SAMPLING.sampler, steps: QUICK_SAMPLING.steps, n: this.quality.n, eta: 0, seed: 7 },
        { train: { ...data, split: 'train', limit: 1000 }, test: { ...data, split: 'test', limit: this.quality.n } },
      );
      const point = { step: this.session.step, normalised: r.normalised, confidentShare: r.confidentShare };
      this.quality = { ...this.quality, points: [...this.quality.points, point], note: '' };
    } catch (e) {
      this.classifierReady = null;
      this.quality = { ...this.quality, note: `quality not measured: ${errorMessage(e)}` };
    }
    this.quality = { ...this.quality, measuring: false };
    this.emit('change');
  }

  private async loadClassifier(): Promise<void> {
    const url = new URL(CLASSIFIER_FILE, document.baseURI).href;
    const response = await fetch(url);
    if (!response.ok) throw new Error(`cannot fetch the quality classifier ${url}: HTTP ${response.status}`);
    await this.qualityService.useClassifier(new Uint8Array(await response.arrayBuffer()));
  }

  // --- likelihood -----------------------------------------------------------------------------

  /**
   * The bound of the model sampling uses (trainer or loaded diffusers model) on `images` test
   * images of the loaded dataset's source (its own images when it has no test split).
   */
  async computeBound(request: BoundRequest): Promise<void> {
    const data = this.datasetRequest;
    if (!this.canSample || this.bound.running) return;
    this.resolve('likelihood');
    const T = this.imported?.T ?? this.training.summary?.schedule.T ?? this.schedule.T;
    const refused = [checkNumber(RULES.boundImages, String(request.images)), checkNumber(ruleWithMax(RULES.boundTerms, T - 1), String(request.terms))].find((c) => !c.ok);
    if (refused && !refused.ok) {
      this.fail('likelihood', refused.message);
      return;
    }
    if (!data) {
      this.fail('likelihood', 'load a dataset first: the bound is measured on its test images');
      return;
    }
    const heldOut = data.source === 'url';
    const on: DatasetRequest = heldOut ? { ...data, split: 'test', limit: request.images } : data;
    this.bound = { running: true, report: this.bound.report, images: heldOut ? 'test images' : 'loaded images (not held out)' };
    this.emit('change');
    try {
      const report = await this.session.evaluate(on, { batch: 16, terms: request.terms, seed: 0 }, this.imported?.bytes);
      this.bound = { ...this.bound, report };
    } catch (e) {
      this.fail('likelihood', e);
    }
    this.bound = { ...this.bound, running: false };
    this.emit('change');
  }

  // --- op checks ----------------------------------------------------------------------------

  /** Runs every op check on this GPU (queued behind any running training chunk), row by row. */
  async runChecks(): Promise<void> {
    if (!this.session.ready || this.checks.running) return;
    this.resolve('checks');
    this.checks = { running: true, rows: [], total: CHECKED_OPS.length };
    this.emit('change');
    try {
      await this.session.runGpuJob(() =>
        runOpChecks({
          onRow: (row) => {
            this.checks = { ...this.checks, rows: [...this.checks.rows, row] };
            this.emit('change');
          },
        }),
      );
    } catch (e) {
      this.fail('checks', e);
    }
    this.checks = { ...this.checks, running: false };
    this.emit('change');
  }

  // --- diffusers models ---------------------------------------------------------------------

  /** Loads a diffusers folder from picked or dropped files; sampling then uses it. */
  async importDiffusersFiles(files: readonly ModelFile[]): Promise<void> {
    const picked: PickedFile[] = await Promise.all(
      files.map(async ({ file, path }) => ({ name: file.name, relativePath: path, bytes: new Uint8Array(await file.arrayBuffer()) })),
    );
    const first = picked.find((f) => f.relativePath.includes('/'));
    this.importFrom(first ? first.relativePath.split('/')[0]! : picked.map((f) => f.name).join(', '), () => folderFromPickedFiles(picked));
  }

  /** Loads the diffusers folder served at `url` (the page's ?model=URL). */
  async importDiffusersUrl(url: string): Promise<void> {
    this.resolve('model');
    try {
      const source = await fetchDiffusersFolder(url);
      this.importFrom(url, () => source);
    } catch (e) {
      this.fail('model', e);
    }
  }

  private importFrom(name: string, folder: () => FileSource): void {
    this.resolve('model');
    try {
      const { imported, bytes } = checkpointFromDiffusers(folder(), false);
      const m = imported.config.model;
      const d = imported.config.diffusion;
      const parameters = [...imported.weights.values()].reduce((n, t) => n + t.data.length, 0);
      this.imported = {
        name,
        summary:
          `${imported.layout === 'pipeline' ? 'pipeline' : 'UNet2DModel'} ${m.inChannels}×${m.imageSize}×${m.imageSize}, ` +
          `${(parameters / 1e6).toFixed(2)}M parameters, ${d.schedule.type} schedule T = ${d.schedule.T}, predicts ${d.objective}`,
        notes: imported.notes,
        bytes,
        T: d.schedule.T,
      };
    } catch (e) {
      this.fail('model', e);
    }
    this.emit('change');
  }

  /** Samples from the trainer again instead of the loaded diffusers model. */
  forgetImported(): void {
    this.imported = null;
    this.emit('change');
  }

  // --- sampling -----------------------------------------------------------------------------

  /** Samples from the EMA weights, reporting x_t and x̂0 every `every` steps. */
  async sample(request: SampleRequest): Promise<void> {
    if (!this.canSample || this.sampling.running) return;
    this.resolve('sampling');
    const imported = this.imported;
    const { fromStep, totalSteps } = imported ? { fromStep: 0, totalSteps: sampleSteps(request, imported.T) } : this.session.samplePlan(request);
    const abort = (this.samplingAbort = new AbortController());
    this.sampling = { running: true, fromStep, totalSteps, frames: [], result: null, seconds: 0, precision: null };
    this.emit('change');
    try {
      const result = await this.session.sample(
        { ...request, every: Math.max(1, request.every ?? 1) },
        {
          signal: abort.signal,
          onFrame: (frame) => {
            this.sampling = { ...this.sampling, frames: [...this.sampling.frames, frame] };
            this.emit('frame');
          },
        },
        imported?.bytes,
      );
      this.sampling = { ...this.sampling, running: false, result: result.images, seconds: result.seconds, precision: result.precision };
    } catch (e) {
      this.sampling = { ...this.sampling, running: false };
      if (!abort.signal.aborted && this.engine.kind !== 'lost') this.fail('sampling', e);
    }
    this.emit('change');
  }

  /** Stops sampling before its next step. */
  stopSample(): void {
    this.samplingAbort?.abort();
  }

  /** Whether a model exists to sample from: the trainer's (unless it diverged), or a loaded diffusers model. */
  get canSample(): boolean {
    return ((this.session.hasTrainer && this.training.phase !== 'diverged') || this.imported !== null) && this.session.ready;
  }

  /** Why sampling (and the bound) cannot run now, or '' when they can. */
  get sampleBlocker(): string {
    if (!this.session.ready) return 'the GPU is not ready.';
    if (this.imported) return '';
    if (this.training.phase === 'diverged') return 'the run diverged and its weights are not finite; go back to a saved state or Reset.';
    return this.session.hasTrainer ? '' : 'there is no model yet: start training (a few hundred steps already give recognisable shapes), resume a checkpoint or load a diffusers model.';
  }
}
