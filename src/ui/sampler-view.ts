// <sampler-view>: draws samples with DDPM or DDIM from the EMA weights and shows the reverse
// process as it runs: x_t and the predicted x̂0 every k steps, a film strip of the first sample,
// then the final grid. Fires `sample-request` (SampleRequest) and `sample-stop`.

import { css, html, LitElement } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { noRun, RULES, ruleWithMax, SAMPLERS, type ImageBatch, type NumberRule, type SampleRequest, type SamplerName, type SamplingState } from '../app/index.ts';
import { blockedReason, FieldChecks, fixFields, numberField, panelError } from './number-field.ts';
import './image-grid.ts';
import { panelStyles } from './theme.ts';
import type { ImportedForSampling, ModelFile } from './controller.ts';

const MAX_STRIP = 12;

/** What the form holds: a request with every field filled in. */
type SampleForm = SampleRequest & Required<Pick<SampleRequest, 'steps' | 'eta' | 'every'>>;

function firstImage(b: ImageBatch): ImageBatch {
  const plane = b.channels * b.size * b.size;
  return { ...b, data: b.data.subarray(0, plane), n: 1 };
}

/** At most `max` items, evenly spread, always keeping the last. */
function spread<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  return Array.from({ length: max }, (_, i) => items[Math.round((i * (items.length - 1)) / (max - 1))]!);
}

@customElement('sampler-view')
export class SamplerView extends LitElement {
  static override styles = [
    panelStyles,
    css`
      .model-source {
        border: 1px dashed var(--line, #bbb);
        border-radius: 6px;
        padding: 0.25rem 0.75rem 0.5rem;
        margin-bottom: 0.75rem;
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem 1rem;
        align-items: center;
      }
      .model-source p {
        flex-basis: 100%;
        margin: 0.25rem 0;
        overflow-wrap: anywhere;
      }
      .model-source label {
        max-width: 100%;
        min-width: 0;
      }
      .model-source input[type='file'] {
        width: 100%;
        max-width: 100%;
        box-sizing: border-box;
      }
      .live {
        display: flex;
        flex-wrap: wrap;
        gap: 20px;
        align-items: flex-start;
        margin-top: 8px;
      }
      figure {
        margin: 0;
        display: flex;
        flex-direction: column;
        gap: 4px;
      }
      figcaption {
        font-size: 12px;
        color: #5b6477;
        font-variant-numeric: tabular-nums;
      }
      .strip {
        display: grid;
        grid-auto-flow: column;
        justify-content: start;
        max-width: 100%;
        overflow-x: auto;
        gap: 4px 8px;
        align-items: center;
      }
      .strip-caption {
        margin: 14px 0 6px;
      }
      .strip .row-label {
        font-size: 12px;
        color: #5b6477;
        text-align: right;
      }
      .strip .t {
        font-size: 11px;
        color: #7c8599;
        text-align: center;
        font-variant-numeric: tabular-nums;
      }
      progress {
        width: 100%;
        height: 6px;
        accent-color: #3b6fd8;
      }
    `,
  ];

  @property({ attribute: false }) sampling: SamplingState = noRun().sampling;
  /** Why sampling cannot run now (no model, a diverged run, no GPU), or '' when it can. */
  @property() blocker = 'there is no model yet.';
  /** Why the last sampling failed, or null. */
  @property({ attribute: false }) error: string | null = null;
  /** Why the last diffusers folder could not be loaded, or null. */
  @property({ attribute: false }) modelError: string | null = null;
  /** The trained model's T (DDPM's step count). */
  @property({ type: Number }) T = 1000;
  /** A loaded diffusers model that sampling uses instead of the trainer's weights. */
  @property({ attribute: false }) imported: ImportedForSampling | null = null;

  @state() private request: SampleForm = { sampler: 'ddim', n: 16, steps: 50, eta: 0, every: 5, seed: 0 };
  private readonly fields = new FieldChecks(this);

  private set(patch: Partial<SampleForm>): void {
    const next = { ...this.request, ...patch };
    // A new sampler gets a frame interval that gives about ten frames.
    if (patch.sampler || patch.steps) next.every = Math.max(1, Math.round((next.sampler === 'ddpm' ? this.T : next.steps) / 10));
    this.request = next;
  }

  /** The request as sent: steps within the model's T. */
  private requestNow(): SampleForm {
    return { ...this.request, steps: Math.min(this.request.steps, this.T) };
  }

  private fire(type: string, detail?: unknown): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  /** Which model sampling uses, and the ways to load a diffusers folder (picker, files, drop). */
  private modelRow(busy: boolean) {
    const m = this.imported;
    const picked = (e: Event) => {
      const input = e.target as HTMLInputElement;
      const files = [...(input.files ?? [])].map((file) => ({ file, path: file.webkitRelativePath ?? '' }));
      input.value = '';
      if (files.length) this.fire('diffusers-files', files);
    };
    return html`<div
      class="model-source"
      @dragover=${(e: DragEvent) => e.preventDefault()}
      @drop=${(e: DragEvent) => {
        e.preventDefault();
        if (e.dataTransfer) void droppedFiles(e.dataTransfer).then((files) => files.length && this.fire('diffusers-files', files));
      }}
    >
      <p>
        Model: ${m
          ? html`<strong>${m.name}</strong> (diffusers) · ${m.summary}
              <button class="secondary" name="forget-model" ?disabled=${busy} @click=${() => this.fire('diffusers-forget')}>Use the trained model</button>
              ${m.notes.length ? html`<br /><span class="hint">${m.notes.join(' ')}</span>` : ''}`
          : html`the trained model's EMA weights`}
      </p>
      <label class="file"
        >Load a diffusers folder
        <input type="file" name="diffusers-folder" webkitdirectory multiple ?disabled=${busy} @change=${picked} />
      </label>
      <label class="file"
        >…or its files
        <input type="file" name="diffusers-files" multiple accept=".json,.safetensors,.bin" ?disabled=${busy} @change=${picked} />
      </label>
      <span class="hint">or drop the folder here (model_index.json + unet/ + scheduler/, or a UNet2DModel's config.json + weights)</span>
      ${panelError(this.modelError, () => this.fire('error-dismiss', { area: 'model' }))}
    </div>`;
  }

  private numberField(label: string, key: 'n' | 'steps' | 'eta' | 'every' | 'seed', rule: NumberRule, disabled: boolean) {
    const value = key === 'steps' ? Math.min(this.request.steps, this.T) : this.request[key];
    return numberField(this.fields, { label, name: key, rule, value, disabled, onValue: (v) => this.set({ [key]: v }) });
  }

  override render() {
    const s = this.sampling;
    const r = this.request;
    const busy = s.running;
    const blockers = [...(this.blocker ? [this.blocker] : []), ...fixFields(this.fields.refused(skipsStepsFields(r.sampler)))];
    const ddim = r.sampler === 'ddim';
    const skipsSteps = r.sampler !== 'ddpm';
    const frames = s.frames;
    const latest = frames[frames.length - 1];
    const size = latest?.xt.size ?? s.result?.size ?? 16;
    const zoom = Math.max(1, Math.round(40 / size));
    const strip = spread(frames, MAX_STRIP);
    const done = latest ? latest.index + 1 : 0;
    return html`
      <h2>4 · Sampling</h2>
      <p class="lede">
        Generation runs the process backwards from pure noise <span class="math">x<sub>T</sub> ~ N(0, I)</span>. At each step the
        network's ε̂ gives an estimate <span class="math">x̂<sub>0</sub></span> of the final image, and the sampler moves
        <span class="math">x<sub>t</sub></span> a little towards it. DDPM takes all ${this.T} steps with fresh noise each time; DDIM
        skips steps and is deterministic at <span class="math">η = 0</span>; DPM-Solver++(2M) solves the same deterministic
        path to second order, reusing the previous step's <span class="math">x̂<sub>0</sub></span>, and needs fewer steps still.
      </p>
      ${this.modelRow(busy)}
      <div class="controls">
        <label
          >Sampler
          <select name="sampler" ?disabled=${busy} @change=${(e: Event) => this.set({ sampler: (e.target as HTMLSelectElement).value as SamplerName })}>
            ${Object.entries(SAMPLERS).map(([name, label]) => html`<option value=${name} ?selected=${r.sampler === name}>${label}</option>`)}
          </select>
        </label>
        ${this.numberField('Images', 'n', RULES.sampleImages, busy)}
        ${skipsSteps ? this.numberField('Steps', 'steps', ruleWithMax(RULES.sampleSteps, this.T), busy) : ''}
        ${ddim ? this.numberField('η (eta)', 'eta', RULES.eta, busy) : ''}
        ${this.numberField('Show every k steps', 'every', RULES.frameEvery, busy)}
        ${this.numberField('Seed', 'seed', RULES.seed, busy)}
        <button name="sample" ?disabled=${blockers.length > 0 || busy} @click=${() => this.fire('sample-request', this.requestNow())}>Sample</button>
        <button name="stop" class="secondary" ?disabled=${!busy} @click=${() => this.fire('sample-stop')}>Stop</button>
        ${busy ? '' : blockedReason('Sample', blockers)}
      </div>
      ${panelError(this.error, () => this.fire('error-dismiss', { area: 'sampling' }))}

      ${busy || frames.length ? html`<progress max=${Math.max(1, s.totalSteps)} .value=${done}></progress>` : ''}
      ${s.result
        ? html`<div class="live">
            <figure>
              <image-grid class="result" .batch=${s.result} .zoom=${zoom + 1}></image-grid>
              <figcaption><b>Samples</b> · ${this.imported ? this.imported.name : `EMA weights of step ${s.fromStep}`} · ${s.totalSteps} steps in ${s.seconds.toFixed(1)} s${s.precision ? ` · network in ${s.precision}` : ''}</figcaption>
            </figure>
          </div>`
        : latest
          ? html`<div class="live">
              <figure>
                <image-grid .batch=${latest.xt} .zoom=${zoom}></image-grid>
                <figcaption>x<sub>t</sub> after step ${done} of ${s.totalSteps} (t = ${latest.t})</figcaption>
              </figure>
              <figure>
                <image-grid .batch=${latest.x0} .zoom=${zoom}></image-grid>
                <figcaption>predicted x̂<sub>0</sub> at that step</figcaption>
              </figure>
            </div>`
          : ''}
      ${strip.length > 1
        ? html`<p class="hint strip-caption">
              The first sample, step by step: x̂<sub>0</sub> is the prediction made at timestep t, x<sub>t</sub> the state that step leaves.
            </p>
            <div class="strip" style="grid-template-rows: auto auto auto">
            <span></span><span class="row-label">x<sub>t</sub></span><span class="row-label">x̂<sub>0</sub></span>
            ${strip.map(
              (f) => html`<span class="t">t=${f.t}</span>
                <image-grid .batch=${firstImage(f.xt)} .zoom=${Math.max(2, zoom)} .gap=${0}></image-grid>
                <image-grid .batch=${firstImage(f.x0)} .zoom=${Math.max(2, zoom)} .gap=${0}></image-grid>`,
            )}
          </div>`
        : ''}
    `;
  }
}

/** The fields a sampler shows (a hidden field's value does not matter). */
function skipsStepsFields(sampler: SamplerName): string[] {
  return ['n', 'every', 'seed', ...(sampler === 'ddpm' ? [] : ['steps']), ...(sampler === 'ddim' ? ['eta'] : [])];
}

/** The files of a drop, folders walked (each with its path under the dropped folder). */
async function droppedFiles(data: DataTransfer): Promise<ModelFile[]> {
  const out: ModelFile[] = [];
  const walk = async (entry: FileSystemEntry, path: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      out.push({ file, path: path + entry.name });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child, `${path}${entry.name}/`);
      }
    }
  };
  const entries = [...data.items].map((item) => item.webkitGetAsEntry()).filter((e): e is FileSystemEntry => e !== null);
  for (const entry of entries) await walk(entry, '');
  // Files dropped on their own keep no path: the folder is inferred from their names.
  return out.map((f) => (f.path.includes('/') ? f : { ...f, path: '' }));
}

declare global {
  interface HTMLElementTagNameMap {
    'sampler-view': SamplerView;
  }
}
