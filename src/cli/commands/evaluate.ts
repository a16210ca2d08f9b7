// `ddpm eval`: the variational bound (bits/dim) of a checkpoint on test images, term by term.

import { RULES, ruleWithMax, SAMPLERS } from '../../app/index.ts';
import { UsageError, type Command, type FlagValues } from '../command.ts';
import { DEFAULT_CLASSIFIER_PATH, formatQuality, qualityData } from '../quality.ts';
import { datasetSpec } from '../datasets.ts';
import { readBytes } from '../files.ts';
import { modelSource } from '../model-source.ts';
import { progress, withHarness } from '../harness.ts';
import { writeJson } from '../output.ts';
import { callSession, sendBytes } from '../session-client.ts';
import { formatTable, type Column } from '../table.ts';
import { samplerFlag, intFlag, ruleFlag } from '../flags.ts';

export const evaluate: Command = {
  usage:
    'eval --ckpt FILE|--model DIR [--dataset fashion-mnist] [--split test] [--n N] [--terms K] [--batch B] [--eager] [--json FILE]\n' +
    '       eval --quality --ckpt FILE|--model DIR [--n 256] [--sampler ddim|dpm-solver|ddpm] [--steps 50] [--raw] [--classifier FILE] [--reference 10000] [--eager]',
  summary:
    'test-set variational bound in bits/dim: prior, decoder and per-t terms (K geometrically spaced t, weighted, when K < T−1); ' +
    'with --quality: the normalised Fréchet distance of N samples in the quality classifier\'s feature space',
  flags: {
    quality: { type: 'boolean' },
    eager: { type: 'boolean' },
    sampler: { type: 'string' },
    steps: { type: 'string' },
    raw: { type: 'boolean' },
    classifier: { type: 'string' },
    reference: { type: 'string' },
    ckpt: { type: 'string' },
    model: { type: 'string' },
    dataset: { type: 'string' },
    split: { type: 'string' },
    n: { type: 'string' },
    terms: { type: 'string' },
    batch: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'string' },
  },
  async run(flags) {
    const split = (flags.split as string | undefined) ?? 'test';
    if (split !== 'test' && split !== 'train') throw new UsageError(`--split must be test or train, got '${split}'`);
    const { bytes, parsed } = modelSource(flags);
    if (flags.quality === true) return evaluateQuality(flags, bytes);
    const T = parsed.config.diffusion.schedule.T;
    const n = ruleFlag(flags, 'n', RULES.boundImages, 64);
    const terms = ruleFlag(flags, 'terms', ruleWithMax(RULES.boundTerms, T - 1), Math.min(T - 1, 50));
    const dataset = datasetSpec((flags.dataset as string | undefined) ?? 'fashion-mnist', split, n);
    const report = await withHarness(async (s) => {
      await sendBytes(s, bytes);
      progress(`evaluating the bound on ${n} ${split} images, ${terms >= T - 1 ? 'every t' : `${terms} of the ${T} timesteps`}…`);
      return callSession(s, 'evaluate', {
        dataset,
        n,
        batch: intFlag(flags, 'batch', 16),
        terms,
        seed: ruleFlag(flags, 'seed', RULES.seed, 0),
        ...(flags.eager ? { execution: 'eager' as const } : {}),
      });
    });
    if (typeof flags.json === 'string') writeJson(flags.json, report);
    const columns: Column<{ t: number; bpd: number; weight: number }>[] = [
      { header: 't', align: 'right', value: (r) => String(r.t) },
      { header: 'L_t (bits/dim)', align: 'right', value: (r) => r.bpd.toExponential(4) },
      { header: 'stands for', align: 'right', value: (r) => `${r.weight} t` },
    ];
    const shown = report.terms.filter((_, i, all) => i === 0 || i % Math.max(1, Math.floor(all.length / 20)) === 0 || i === all.length - 1);
    console.log(formatTable(columns, shown));
    console.log(`\nprior L_T        ${report.prior.toExponential(4)} bits/dim`);
    console.log(`decoder L_0      ${report.decoder.toFixed(4)} bits/dim`);
    console.log(`total bound      ${report.bpd.toFixed(4)} bits/dim${report.estimate ? ` (estimate from ${report.terms.length - 1} of ${T - 1} KL terms)` : ''} on ${report.images} images`);
    return 0;
  },
};

async function evaluateQuality(flags: FlagValues, checkpoint: Uint8Array): Promise<number> {
  const sampler = samplerFlag(flags);
  const n = intFlag(flags, 'n', 256, 2);
  const steps = ruleFlag(flags, 'steps', RULES.sampleSteps, 50);
  const classifierPath = typeof flags.classifier === 'string' ? flags.classifier : DEFAULT_CLASSIFIER_PATH;
  const classifierBytes = readBytes(classifierPath, 'quality classifier');
  const data = qualityData(intFlag(flags, 'reference', 10000, 2));
  const report = await withHarness(async (s) => {
    await sendBytes(s, classifierBytes);
    const info = await callSession(s, 'useClassifier');
    progress(`classifier: ${(100 * info.testAccuracy).toFixed(2)}% test accuracy (${classifierPath})`);
    await sendBytes(s, checkpoint);
    progress(`sampling ${n} images (${sampler === 'ddpm' ? 'DDPM' : `${SAMPLERS[sampler]}, ${steps} steps`}, ${flags.raw === true ? 'raw' : 'EMA'} weights) and measuring…`);
    return callSession(s, 'quality', {
      request: { sampler, n, steps, eta: 0, seed: ruleFlag(flags, 'seed', RULES.seed, 0), ...(flags.eager ? { execution: 'eager' as const } : {}) },
      ...data,
      fromCheckpoint: true,
      useEma: flags.raw !== true,
    });
  });
  if (typeof flags.json === 'string') writeJson(flags.json, report);
  console.log(formatQuality(report));
  return 0;
}
