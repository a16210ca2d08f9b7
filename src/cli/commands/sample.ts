// `ddpm sample`: a grid of samples from a checkpoint's EMA weights.

import { SAMPLERS, readCheckpoint } from '../../app/index.ts';
import { UsageError, type Command } from '../command.ts';
import { readBytes, writeFileAtomic } from '../files.ts';
import { progress, withHarness } from '../harness.ts';
import { callSession, sendBytes, takeBytes } from '../session-client.ts';
import { samplerFlag, intFlag, numberFlag } from '../flags.ts';

export const sample: Command = {
  usage: 'sample --ckpt FILE [--n 64] [--sampler ddim|dpm-solver|ddpm] [--steps K] [--eta E] [--seed S] [--no-clip] [--raw] --out grid.png',
  summary: 'sample images from a checkpoint (EMA weights unless --raw) and write them as a PNG grid',
  flags: {
    ckpt: { type: 'string' },
    n: { type: 'string' },
    sampler: { type: 'string' },
    steps: { type: 'string' },
    eta: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    'no-clip': { type: 'boolean' },
    raw: { type: 'boolean' },
  },
  async run(flags) {
    if (typeof flags.ckpt !== 'string') throw new UsageError('--ckpt is required');
    const sampler = samplerFlag(flags);
    const n = intFlag(flags, 'n', 64);
    const out = (flags.out as string | undefined) ?? 'samples.png';
    const bytes = readBytes(flags.ckpt, 'checkpoint');
    const parsed = readCheckpoint(bytes);
    const steps = sampler === 'ddpm' ? parsed.config.diffusion.schedule.T : intFlag(flags, 'steps', 50);
    if (sampler !== 'ddpm' && steps > parsed.config.diffusion.schedule.T) {
      throw new UsageError(`--steps ${steps} exceeds the schedule's T = ${parsed.config.diffusion.schedule.T}`);
    }
    return withHarness(async (s) => {
      await sendBytes(s, bytes);
      progress(`sampling ${n} images with ${SAMPLERS[sampler]} (${steps} steps) from step ${parsed.step}…`);
      const offered = await callSession(s, 'sampleGrid', {
        n,
        sampler,
        steps,
        eta: numberFlag(flags, 'eta') ?? 0,
        seed: intFlag(flags, 'seed', 0, 0),
        clipX0: !flags['no-clip'],
        fromCheckpoint: true,
        useEma: !flags.raw,
      });
      writeFileAtomic(out, await takeBytes(s, offered));
      progress(`wrote ${out}: ${n} images in ${offered.seconds.toFixed(1)} s (${(n / offered.seconds).toFixed(2)} images/s)`);
      return 0;
    });
  },
};
