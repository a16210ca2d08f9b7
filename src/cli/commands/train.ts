// `ddpm train`: trains a DDPM in headless Chromium on Fashion-MNIST (or MNIST, or a folder of
// images), writing loss.csv, sample grids and checkpoints; Ctrl-C saves a checkpoint and exits.

import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  QUICK_SAMPLING,
  SAMPLERS,
  quickRunConfig,
  RULES,
  readCheckpoint,
  type QuickRunOverrides,
  type QualityResult,
  type SamplerName,
  type StepRecord,
  type TrainConfigInput,
} from '../../app/index.ts';
import { DEFAULT_CLASSIFIER_PATH, formatQuality, qualityData } from '../quality.ts';
import type { Host } from '../host.ts';
import { UsageError, type Command, type FlagValues } from '../command.ts';
import { datasetSpec } from '../datasets.ts';
import { readBytes, writeFileAtomic } from '../files.ts';
import { progress, withHarness } from '../harness.ts';
import { lossChartSvg, qualityChartSvg } from '../chart-svg.ts';
import { ProgressBar } from '../progress-bar.ts';
import { callSession, sendBytes, takeBytes } from '../session-client.ts';
import { intFlag, optionalRuleFlag, ruleFlag, samplerFlag } from '../flags.ts';

/**
 * The quick-run recipe (src/app/presets.ts) with a config file's settings and the flags on top.
 * Unless the file sets optimizer.decaySteps, the learning rate decays over the run's `totalSteps`.
 */
function configFromFlags(flags: FlagValues, totalSteps: number): TrainConfigInput {
  let base: QuickRunOverrides = {};
  if (typeof flags.config === 'string') {
    try {
      base = JSON.parse(readFileSync(flags.config, 'utf8'));
    } catch (e) {
      throw new Error(`cannot read config '${flags.config}': ${(e as Error).message}`);
    }
  }
  const lr = optionalRuleFlag(flags, 'lr', RULES.lr);
  const config = quickRunConfig({
    ...base,
    preset: (flags.preset as string | undefined) ?? base.preset,
    optimizer: { decaySteps: totalSteps, ...base.optimizer, ...(lr === undefined ? {} : { lr }) },
  });
  if (flags.batch !== undefined) config.batchSize = ruleFlag(flags, 'batch', RULES.batchSize);
  if (flags.seed !== undefined) config.seed = ruleFlag(flags, 'seed', RULES.seed);
  return config;
}

const CSV_HEADER = 'step,loss,mse,seconds\n';

/** The numeric rows of one of the run's CSV files, header skipped. */
function readCsvRows(path: string): number[][] {
  return readFileSync(path, 'utf8').trim().split('\n').slice(1).map((line) => line.split(',').map(Number));
}

async function saveCheckpoint(s: Host, out: string): Promise<void> {
  const offered = await callSession(s, 'checkpoint');
  writeFileAtomic(join(out, 'checkpoint.safetensors'), await takeBytes(s, offered));
  const rows = readCsvRows(join(out, 'loss.csv')).map(([step, loss]) => ({ step: step!, loss: loss! }));
  writeFileAtomic(join(out, 'loss.svg'), lossChartSvg(rows, `training loss, ${out}`));
}

async function saveSamples(s: Host, out: string, step: number, n: number, sampling: Sampling, seed: number): Promise<string> {
  const offered = await callSession(s, 'sampleGrid', {
    n,
    sampler: sampling.sampler,
    steps: sampling.steps,
    eta: 0,
    seed,
  });
  const path = join(out, `samples-${step}.png`);
  writeFileAtomic(path, await takeBytes(s, offered));
  progress(`${n} samples in ${offered.seconds.toFixed(1)} s (${(n / offered.seconds).toFixed(2)} images/s)`);
  return path;
}

/** Which sampler draws a run's grids and quality samples, with how many steps. */
interface Sampling {
  sampler: SamplerName;
  steps: number;
}

const describeSampling = (x: Sampling): string => `${SAMPLERS[x.sampler]}, ${x.steps} steps`;

interface QualitySettings {
  every: number;
  n: number;
  sampling: Sampling;
  reference: number;
  classifier: Uint8Array;
}

/** Quality measurement settings, or null when off (--quality-n 0, or no classifier at the default path). */
function qualitySettings(flags: FlagValues, sampler: SamplerName): QualitySettings | null {
  const n = intFlag(flags, 'quality-n', 256, 0);
  if (n === 0) return null;
  if (n < 2) throw new UsageError('--quality-n must be 0 (off) or at least 2');
  const path = typeof flags.classifier === 'string' ? flags.classifier : DEFAULT_CLASSIFIER_PATH;
  if (typeof flags.classifier !== 'string' && !existsSync(path)) {
    progress(`no quality classifier at ${path}: sample quality will not be measured (ddpm classifier train makes one)`);
    return null;
  }
  return {
    every: ruleFlag(flags, 'quality-every', RULES.qualityEvery, 0),
    n,
    sampling: { sampler, steps: ruleFlag(flags, 'quality-steps', RULES.sampleSteps, QUICK_SAMPLING.steps) },
    reference: intFlag(flags, 'quality-reference', 2000, 2),
    classifier: readBytes(path, 'quality classifier'),
  };
}

const QUALITY_HEADER = 'step,seconds,normalised_fd,fd_samples,fd_real,fd_noise,confident_share\n';

/** Loads the classifier into the page; returns a function that measures the trainer and appends to quality.csv. */
async function startQuality(
  s: Host,
  q: QualitySettings,
  out: string,
  fresh: boolean,
): Promise<(step: number, seconds: number) => Promise<QualityResult>> {
  await sendBytes(s, q.classifier);
  await callSession(s, 'useClassifier');
  const csv = join(out, 'quality.csv');
  if (fresh || !existsSync(csv)) writeFileAtomic(csv, QUALITY_HEADER);
  const data = qualityData(q.reference);
  return async (step, seconds) => {
    const r = await callSession(s, 'quality', {
      request: { ...q.sampling, n: q.n, eta: 0, seed: 7 },
      ...data,
      fromCheckpoint: false,
    });
    appendFileSync(csv, `${step},${seconds.toFixed(1)},${r.normalised},${r.fdSamples},${r.fdReal},${r.fdNoise},${r.confidentShare}\n`);
    const rows = readCsvRows(csv).map(([, secs, normalised]) => ({ seconds: secs!, normalised: normalised! }));
    writeFileAtomic(join(out, 'quality.svg'), qualityChartSvg(rows, `sample quality, ${out}`));
    return r;
  };
}

export const train: Command = {
  usage:
    'train --steps N [--dataset fashion-mnist|mnist|DIR] [--batch B] [--out DIR] [--config FILE] [--preset NAME] [--resume CKPT]\n' +
    '        [--sampler dpm-solver|ddim|ddpm] [--sample-steps 10] [--quality-every K] [--quality-n 256] [--quality-steps 10] [--classifier FILE] [--eager]',
  summary:
    'train a DDPM; writes loss.csv, loss.svg, samples-STEP.png and checkpoint.safetensors to --out; with the quality ' +
    'classifier, the normalised FD of EMA samples every K steps and at the end (quality.csv; --quality-n 0: never); ' +
    'the step is captured at its first call and replayed after (--eager: op by op, the same run bit for bit)',
  flags: {
    steps: { type: 'string' },
    dataset: { type: 'string' },
    batch: { type: 'string' },
    out: { type: 'string' },
    config: { type: 'string' },
    preset: { type: 'string' },
    resume: { type: 'string' },
    lr: { type: 'string' },
    seed: { type: 'string' },
    limit: { type: 'string' },
    'checkpoint-every': { type: 'string' },
    'sample-every': { type: 'string' },
    samples: { type: 'string' },
    'sample-steps': { type: 'string' },
    sampler: { type: 'string' },
    'quality-every': { type: 'string' },
    'quality-n': { type: 'string' },
    'quality-steps': { type: 'string' },
    'quality-reference': { type: 'string' },
    classifier: { type: 'string' },
    eager: { type: 'boolean' },
  },
  async run(flags) {
    const totalSteps = ruleFlag(flags, 'steps', RULES.targetSteps);
    const out = (flags.out as string | undefined) ?? 'runs/train';
    const checkpointEvery = ruleFlag(flags, 'checkpoint-every', RULES.checkpointEvery, 200);
    const sampleEvery = intFlag(flags, 'sample-every', 0, 0);
    const gridSize = ruleFlag(flags, 'samples', RULES.sampleImages, 36);
    const sampler = samplerFlag(flags, QUICK_SAMPLING.sampler);
    const gridSampling: Sampling = { sampler, steps: ruleFlag(flags, 'sample-steps', RULES.sampleSteps, QUICK_SAMPLING.steps) };
    const limit = flags.limit === undefined ? undefined : intFlag(flags, 'limit');
    const quality = qualitySettings(flags, sampler);
    const dataset = datasetSpec((flags.dataset as string | undefined) ?? 'fashion-mnist', 'train', limit);

    // Validate a checkpoint in Node before starting anything: a bad file changes nothing.
    let resumeBytes: Uint8Array | null = null;
    if (typeof flags.resume === 'string') {
      resumeBytes = readBytes(flags.resume, 'checkpoint');
      const parsed = readCheckpoint(resumeBytes);
      if (flags.config || flags.preset || flags.batch || flags.lr) {
        throw new UsageError('--resume continues with the checkpoint\'s own config; drop --config/--preset/--batch/--lr');
      }
      if (parsed.step >= totalSteps) {
        progress(`the checkpoint is already at step ${parsed.step} ≥ --steps ${totalSteps}; nothing to do`);
        return 0;
      }
    }
    const config = resumeBytes ? undefined : configFromFlags(flags, totalSteps);

    let interrupted = false;
    const onSigint = () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      progress('\ninterrupted: saving a checkpoint after the current steps (Ctrl-C again to quit now)…');
    };
    process.on('SIGINT', onSigint);
    try {
      return await withHarness(async (s) => {
        if (resumeBytes) await sendBytes(s, resumeBytes);
        progress('loading data and building the model…');
        const started = await callSession(s, 'start', {
          config,
          resume: resumeBytes !== null,
          dataset,
          ...(flags.eager ? { execution: 'eager' as const } : {}),
        });
        const cfg = started.config;
        progress(
          `${started.parameters.toLocaleString()} parameters, ${started.images} images at ${cfg.model.imageSize}x${cfg.model.imageSize}, ` +
            `batch ${cfg.batchSize}${started.microBatches > 1 ? ` (as ${started.microBatches} micro-batches: the whole batch's largest tensor exceeds one storage binding)` : ''}, ` +
            `from step ${started.step} to ${totalSteps}`,
        );
        writeFileAtomic(join(out, 'config.json'), `${JSON.stringify(cfg, null, 2)}\n`);
        const csv = join(out, 'loss.csv');
        if (!existsSync(csv) || !resumeBytes) writeFileAtomic(csv, CSV_HEADER);
        const bar = new ProgressBar(totalSteps, started.step);
        const t0 = Date.now();
        let step = started.step;
        let recent: StepRecord[] = [];
        const fields: Record<string, string> = {};
        const measure = quality ? await startQuality(s, quality, out, !resumeBytes) : null;
        while (step < totalSteps && !interrupted) {
          const chunk = Math.min(10, totalSteps - step, checkpointEvery - (step % checkpointEvery));
          const records = await callSession(s, 'train', chunk);
          step += chunk;
          const seconds = ((Date.now() - t0) / 1000).toFixed(1);
          appendFileSync(csv, records.map((r) => `${r.step},${r.loss},${r.mse},${seconds}`).join('\n') + '\n');
          recent = [...recent, ...records].slice(-50);
          const avg = recent.reduce((a, r) => a + r.loss, 0) / recent.length;
          fields.loss = avg.toFixed(4);
          if (measure && quality!.every > 0 && step % quality!.every === 0 && step < totalSteps) {
            fields.nFD = (await measure(step, (Date.now() - t0) / 1000)).normalised.toFixed(3);
          }
          bar.update(step, fields);
          if (step % checkpointEvery === 0 || step === totalSteps) await saveCheckpoint(s, out);
          if (sampleEvery > 0 && step % sampleEvery === 0 && step < totalSteps) {
            await saveSamples(s, out, step, gridSize, gridSampling, 1);
          }
        }
        bar.done();
        await saveCheckpoint(s, out);
        if (interrupted) {
          progress(`saved ${join(out, 'checkpoint.safetensors')} at step ${step}; resume with --resume`);
          return 130;
        }
        progress(`sampling a grid of ${gridSize} (${describeSampling(gridSampling)}, EMA weights)…`);
        const grid = await saveSamples(s, out, step, gridSize, gridSampling, 1);
        if (measure) {
          progress(`measuring sample quality (${quality!.n} samples, ${describeSampling(quality!.sampling)}, EMA weights)…`);
          console.log(formatQuality(await measure(step, (Date.now() - t0) / 1000)));
        }
        progress(`done: ${join(out, 'checkpoint.safetensors')}, ${csv}, ${grid}`);
        return 0;
      });
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
