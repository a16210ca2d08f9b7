// `ddpm sample`: a grid of samples from a checkpoint's EMA weights, or from a diffusers folder.

import { RULES, ruleWithMax, SAMPLERS } from '../../app/index.ts';
import { DTYPES, type DType } from '../../engine/index.ts';
import { UsageError, type Command } from '../command.ts';
import { writeFileAtomic } from '../files.ts';
import { modelSource } from '../model-source.ts';
import { progress, withHarness } from '../harness.ts';
import { callSession, sendBytes, takeBytes } from '../session-client.ts';
import { samplerFlag, ruleFlag } from '../flags.ts';

export const sample: Command = {
  usage:
    'sample --ckpt FILE|--model DIR [--n 64] [--sampler ddim|dpm-solver|ddpm] [--steps K] [--eta E] [--seed S] [--no-clip] [--raw] [--precision f32|f16] [--eager] --out grid.png',
  summary:
    'sample images from a checkpoint (EMA weights unless --raw) or a diffusers folder (its scheduler\'s conventions; DDPM --steps as num_inference_steps) and write them as a PNG grid; the network runs in f16 on a GPU with shader-f16 unless --precision f32; the network forward of the first step is captured and replayed after (--eager: op by op, the same images)',
  flags: {
    ckpt: { type: 'string' },
    model: { type: 'string' },
    n: { type: 'string' },
    sampler: { type: 'string' },
    steps: { type: 'string' },
    eta: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    'no-clip': { type: 'boolean' },
    eager: { type: 'boolean' },
    raw: { type: 'boolean' },
    precision: { type: 'string' },
  },
  async run(flags) {
    const sampler = samplerFlag(flags);
    const precision = flags.precision as DType | undefined;
    if (precision !== undefined && !DTYPES.includes(precision)) throw new UsageError(`--precision must be ${DTYPES.join(' or ')}, got '${precision}'`);
    const n = ruleFlag(flags, 'n', RULES.sampleImages, 64);
    const out = (flags.out as string | undefined) ?? 'samples.png';
    const { bytes, parsed } = modelSource(flags);
    const T = parsed.config.diffusion.schedule.T;
    // Our DDPM takes every step; a diffusers model's takes num_inference_steps, as DDPMPipeline.
    const fixedSteps = sampler === 'ddpm' && !parsed.config.diffusion.diffusers;
    const steps = fixedSteps ? T : ruleFlag(flags, 'steps', ruleWithMax(RULES.sampleSteps, T), Math.min(T, sampler === 'ddpm' ? T : 50));
    return withHarness(async (s) => {
      await sendBytes(s, bytes);
      progress(`sampling ${n} images with ${SAMPLERS[sampler]} (${steps} steps) from step ${parsed.step}…`);
      const offered = await callSession(s, 'sampleGrid', {
        n,
        sampler,
        steps,
        eta: ruleFlag(flags, 'eta', RULES.eta, 0),
        seed: ruleFlag(flags, 'seed', RULES.seed, 0),
        ...(flags['no-clip'] ? { clipX0: false } : {}),
        ...(flags.eager ? { execution: 'eager' as const } : {}),
        fromCheckpoint: true,
        useEma: !flags.raw,
        ...(precision ? { precision } : {}),
      });
      writeFileAtomic(out, await takeBytes(s, offered));
      progress(`wrote ${out}: ${n} images in ${offered.seconds.toFixed(1)} s (${(n / offered.seconds).toFixed(2)} images/s, network in ${offered.precision})`);
      return 0;
    });
  },
};
