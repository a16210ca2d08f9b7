// `ddpm schedule`: a noise schedule and its derived constants, in float64, as a table or JSON.

import { makeSchedule, scheduleJson, SCHEDULE_TYPES, type ScheduleType } from '../../model/diffusion/schedule.ts';
import { RULES } from '../../app/index.ts';
import { UsageError, type Command } from '../command.ts';
import { ruleFlag } from '../flags.ts';
import { formatTable, type Column } from '../table.ts';

function positiveInt(name: string, value: string | boolean | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got '${value}'`);
  return n;
}

const g = (x: number): string => (Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toFixed(6) : x.toExponential(4));

export const schedule: Command = {
  usage: 'schedule --type linear|cosine|quadratic|sigmoid --T N [--json] [--every K]',
  summary: 'print a beta schedule: betas, alpha-bar, log-SNR, posterior variance and mean coefficients',
  flags: {
    type: { type: 'string' },
    T: { type: 'string' },
    json: { type: 'boolean' },
    every: { type: 'string' },
    'beta-start': { type: 'string' },
    'beta-end': { type: 'string' },
  },
  async run(flags) {
    const type = (flags.type ?? 'linear') as ScheduleType;
    if (!SCHEDULE_TYPES.includes(type)) throw new UsageError(`--type must be one of ${SCHEDULE_TYPES.join(', ')}, got '${type}'`);
    const T = ruleFlag(flags, 'T', RULES.scheduleT, 1000);
    const num = (name: string): number | undefined => {
      const v = flags[name];
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${v}'`);
      return n;
    };
    const s = makeSchedule({
      type,
      T,
      ...(num('beta-start') !== undefined ? { betaStart: num('beta-start')! } : {}),
      ...(num('beta-end') !== undefined ? { betaEnd: num('beta-end')! } : {}),
    });
    if (flags.json) {
      console.log(JSON.stringify(scheduleJson(s)));
      return 0;
    }
    const every = positiveInt('every', flags.every, Math.max(1, Math.round(T / 20)));
    const ts = [...Array(T).keys()].filter((t) => t % every === 0 || t === T - 1);
    const columns: Column<number>[] = [
      { header: 't', align: 'right', value: (t) => String(t) },
      { header: 'beta', align: 'right', value: (t) => g(s.betas[t]!) },
      { header: 'alpha_bar', align: 'right', value: (t) => g(s.alphasCumprod[t]!) },
      { header: 'log_snr', align: 'right', value: (t) => s.logSnr[t]!.toFixed(4) },
      { header: 'posterior_var', align: 'right', value: (t) => g(s.posteriorVariance[t]!) },
      { header: 'mean_coef1 (x0)', align: 'right', value: (t) => g(s.posteriorMeanCoef1[t]!) },
      { header: 'mean_coef2 (x_t)', align: 'right', value: (t) => g(s.posteriorMeanCoef2[t]!) },
    ];
    console.log(`${type} schedule, T = ${T} (float64; every ${every} steps, --json for all)\n`);
    console.log(formatTable(columns, ts));
    return 0;
  },
};
