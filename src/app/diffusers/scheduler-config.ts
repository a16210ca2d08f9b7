// A diffusers DDPMScheduler / DDIMScheduler scheduler_config.json ↔ our diffusion options (the
// schedule, the objective, the variance) and diffusers' sampling conventions. SCHEDULER_FIELDS is
// the one table of the fields v0.31 writes: its default and the value our diffusion has. Export
// writes the table's values; import reads the fields, then checks every field against the table.

import { DEFAULT_DIFFUSION, type DiffusionOptions } from '../../model/diffusion/gaussian-diffusion.ts';
import { TIMESTEP_SPACINGS, type SchedulerConventions } from '../../model/diffusion/diffusers-steps.ts';
import type { Objective, VarianceType } from '../../model/diffusion/sampler-step.ts';
import { makeSchedule, type ScheduleOptions, type ScheduleType } from '../../model/diffusion/schedule.ts';
import { DiffusersError } from './files.ts';
import { DIFFUSERS_VERSION } from './unet-config.ts';

export const SCHEDULER_CLASSES = { ddpm: 'DDPMScheduler', ddim: 'DDIMScheduler' } as const;
export type SchedulerKind = keyof typeof SCHEDULER_CLASSES;

/** Our names ↔ diffusers' for the values that have one in both. */
const PREDICTION_TYPES: Record<Objective, string> = { eps: 'epsilon', x0: 'sample', v: 'v_prediction' };
const VARIANCE_TYPES: Record<VarianceType, string> = { 'fixed-small': 'fixed_small', 'fixed-large': 'fixed_large', learned: 'learned_range' };
const BETA_SCHEDULES: Record<ScheduleType, string> = { linear: 'linear', quadratic: 'scaled_linear', cosine: 'squaredcos_cap_v2', sigmoid: 'sigmoid' };
/** diffusers' squaredcos_cap_v2 is our cosine with these. */
const DIFFUSERS_COSINE = { cosineS: 0.008, maxBeta: 0.999 };

/** The conventions of our own samplers, written as a diffusers config: with them diffusers samples as we do. */
const OUR_CONVENTIONS: Omit<SchedulerConventions, 'scheduler'> = {
  timestepSpacing: 'leading',
  stepsOffset: 0,
  setAlphaToOne: true,
  clipSample: true,
  clipSampleRange: 1,
};

const keyOf = <V extends string>(table: Record<string, V>, value: unknown): string | undefined =>
  Object.keys(table).find((k) => table[k] === value);

/** The diffusion a scheduler field is read from or written for. */
interface Ours {
  kind: SchedulerKind;
  diffusion: DiffusionOptions;
  conventions: Omit<SchedulerConventions, 'scheduler'>;
  /** diffusers' beta_schedule and trained_betas for our schedule (trained_betas when no formula matches). */
  betas: { schedule: string; trained: number[] | null; note: string | null };
}

interface SchedulerField {
  default: unknown;
  /** Which scheduler classes have it. */
  in: readonly SchedulerKind[];
  ours: (o: Ours) => unknown;
  float?: boolean;
  same?: (value: unknown, ours: unknown) => boolean;
}

const BOTH = ['ddpm', 'ddim'] as const;
const anyValue = () => true;

export const SCHEDULER_FIELDS: Record<string, SchedulerField> = {
  num_train_timesteps: { default: 1000, in: BOTH, ours: (o) => o.diffusion.schedule.T },
  beta_start: { default: 0.0001, in: BOTH, float: true, ours: (o) => scaledBeta(o.diffusion.schedule, 'betaStart') },
  beta_end: { default: 0.02, in: BOTH, float: true, ours: (o) => scaledBeta(o.diffusion.schedule, 'betaEnd') },
  beta_schedule: { default: 'linear', in: BOTH, ours: (o) => o.betas.schedule },
  trained_betas: { default: null, in: BOTH, float: true, ours: (o) => o.betas.trained },
  variance_type: { default: 'fixed_small', in: ['ddpm'], ours: (o) => VARIANCE_TYPES[o.diffusion.variance] },
  clip_sample: { default: true, in: BOTH, ours: (o) => o.conventions.clipSample },
  set_alpha_to_one: { default: true, in: ['ddim'], ours: (o) => o.conventions.setAlphaToOne },
  steps_offset: { default: 0, in: BOTH, ours: (o) => o.conventions.stepsOffset },
  prediction_type: { default: 'epsilon', in: BOTH, ours: (o) => PREDICTION_TYPES[o.diffusion.objective] },
  thresholding: { default: false, in: BOTH, ours: () => false },
  // Read only with thresholding, which is refused.
  dynamic_thresholding_ratio: { default: 0.995, in: BOTH, float: true, ours: () => 0.995, same: anyValue },
  clip_sample_range: { default: 1, in: BOTH, float: true, ours: (o) => o.conventions.clipSampleRange },
  sample_max_value: { default: 1, in: BOTH, float: true, ours: () => 1, same: anyValue },
  timestep_spacing: { default: 'leading', in: BOTH, ours: (o) => o.conventions.timestepSpacing },
  rescale_betas_zero_snr: { default: false, in: BOTH, ours: () => false },
};

export const SCHEDULER_FLOAT_KEYS: ReadonlySet<string> = new Set(Object.entries(SCHEDULER_FIELDS).filter(([, f]) => f.float).map(([k]) => k));

/** β at one end in diffusers' terms: ours times 1000/T when our schedule rescales with T. */
function scaledBeta(s: ScheduleOptions, end: 'betaStart' | 'betaEnd'): number {
  const value = s[end] ?? (end === 'betaStart' ? 1e-4 : 0.02);
  return s.scaleWithT && s.type !== 'cosine' ? (value * 1000) / s.T : value;
}

/** diffusers' beta_schedule / trained_betas for our schedule under `kind`, and a note when no formula matches. */
function betasFor(s: ScheduleOptions, kind: SchedulerKind): Ours['betas'] {
  if (s.betas) return { schedule: BETA_SCHEDULES[s.type], trained: s.betas, note: null };
  const cosineOk = s.type !== 'cosine' || ((s.cosineS ?? DIFFUSERS_COSINE.cosineS) === DIFFUSERS_COSINE.cosineS && (s.maxBeta ?? DIFFUSERS_COSINE.maxBeta) === DIFFUSERS_COSINE.maxBeta);
  const classOk = !(s.type === 'sigmoid' && kind === 'ddim');
  if (cosineOk && classOk) return { schedule: BETA_SCHEDULES[s.type], trained: null, note: null };
  const why = !cosineOk
    ? `our cosine schedule with s = ${s.cosineS ?? DIFFUSERS_COSINE.cosineS} and max β = ${s.maxBeta ?? DIFFUSERS_COSINE.maxBeta} has no diffusers beta_schedule (squaredcos_cap_v2 is s = 0.008, max β = 0.999)`
    : `${SCHEDULER_CLASSES.ddim} has no sigmoid beta_schedule`;
  return {
    schedule: 'linear',
    trained: Array.from(makeSchedule(s).betas),
    note: `${why}: written as trained_betas (its ${s.T} values, exactly)`,
  };
}

/** scheduler_config.json for our diffusion under `kind`, and notes on what has no exact diffusers form. */
export function diffusersSchedulerConfig(diffusion: DiffusionOptions, kind: SchedulerKind): { json: Record<string, unknown>; notes: string[] } {
  const conventions = diffusion.diffusers ?? { scheduler: kind, ...OUR_CONVENTIONS };
  const o: Ours = { kind, diffusion, conventions, betas: betasFor(diffusion.schedule, kind) };
  const json: Record<string, unknown> = { _class_name: SCHEDULER_CLASSES[kind], _diffusers_version: DIFFUSERS_VERSION };
  for (const [key, field] of Object.entries(SCHEDULER_FIELDS)) if (field.in.includes(kind)) json[key] = field.ours(o);
  const notes = o.betas.note ? [o.betas.note] : [];
  if (kind === 'ddim' && diffusion.variance === 'learned') notes.push(`${SCHEDULER_CLASSES.ddim} does not read the learned variance: DDIMPipeline samples with it ignored`);
  return { json, notes };
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/**
 * Our diffusion options (with diffusers' sampling conventions) for a scheduler_config.json;
 * `learnedVariance`: the U-Net outputs a variance too (its out_channels are twice its in_channels).
 */
export function diffusionFromScheduler(json: Record<string, unknown>, file: string): DiffusionOptions {
  const fail = (message: string): never => {
    throw new DiffusersError(`${file}: ${message}`);
  };
  const kind = keyOf(SCHEDULER_CLASSES, json._class_name) as SchedulerKind | undefined;
  if (!kind) fail(`_class_name ${JSON.stringify(json._class_name)} is not supported: use ${Object.values(SCHEDULER_CLASSES).join(' or ')}`);
  const k = kind!;
  for (const [key, value] of Object.entries(json)) {
    if (key.startsWith('_')) continue;
    if (!(key in SCHEDULER_FIELDS) || !SCHEDULER_FIELDS[key]!.in.includes(k)) fail(`field ${key} (value ${JSON.stringify(value)}) is not a ${SCHEDULER_CLASSES[k]} setting this engine knows`);
  }
  const get = (key: string): unknown => (key in json ? json[key] : SCHEDULER_FIELDS[key]!.default);
  const oneOf = <T extends string>(key: string, table: Record<T, string>): T => {
    const ours = keyOf(table, get(key)) as T | undefined;
    return ours ?? fail(`${key} ${JSON.stringify(get(key))} is not supported: use ${Object.values(table).join(', ')}`);
  };
  const number = (key: string, positive = false): number => {
    const v = get(key);
    return typeof v === 'number' && Number.isFinite(v) && (!positive || v > 0) ? v : fail(`${key} must be a ${positive ? 'positive ' : ''}number, got ${JSON.stringify(v)}`);
  };
  const bool = (key: string): boolean => {
    const v = get(key);
    return typeof v === 'boolean' ? v : fail(`${key} must be true or false, got ${JSON.stringify(v)}`);
  };
  for (const key of ['thresholding', 'rescale_betas_zero_snr']) if (bool(key)) fail(`${key} true is not supported`);

  const T = get('num_train_timesteps');
  if (!isInt(T) || T < 1) fail(`num_train_timesteps must be a positive integer, got ${JSON.stringify(T)}`);
  const trained = get('trained_betas');
  if (trained !== null && !(Array.isArray(trained) && trained.length === T && trained.every((b) => typeof b === 'number'))) {
    fail(`trained_betas must be null or a list of num_train_timesteps = ${String(T)} numbers`);
  }
  // With trained_betas, diffusers ignores beta_schedule (DDIMScheduler then takes any name).
  const type = trained ? (keyOf(BETA_SCHEDULES, get('beta_schedule')) as ScheduleType | undefined) ?? 'linear' : oneOf('beta_schedule', BETA_SCHEDULES);
  if (!trained && k === 'ddim' && type === 'sigmoid') fail(`beta_schedule "sigmoid" is not one of ${SCHEDULER_CLASSES.ddim}'s`);
  const schedule: ScheduleOptions = {
    type,
    T: T as number,
    betaStart: number('beta_start'),
    betaEnd: number('beta_end'),
    ...(type === 'cosine' ? DIFFUSERS_COSINE : {}),
    ...(trained ? { betas: trained as number[] } : {}),
  };
  try {
    makeSchedule(schedule);
  } catch (e) {
    fail((e as Error).message);
  }
  const spacing = get('timestep_spacing');
  if (!TIMESTEP_SPACINGS.includes(spacing as never)) fail(`timestep_spacing ${JSON.stringify(spacing)} is not supported: use ${TIMESTEP_SPACINGS.join(', ')}`);
  const offset = get('steps_offset');
  if (!isInt(offset) || offset < 0) fail(`steps_offset must be an integer ≥ 0, got ${JSON.stringify(offset)}`);
  const conventions: SchedulerConventions = {
    scheduler: k,
    timestepSpacing: spacing as SchedulerConventions['timestepSpacing'],
    stepsOffset: offset as number,
    setAlphaToOne: k === 'ddim' ? bool('set_alpha_to_one') : true,
    clipSample: bool('clip_sample'),
    clipSampleRange: number('clip_sample_range', true),
  };
  const diffusion: DiffusionOptions = {
    ...DEFAULT_DIFFUSION,
    schedule,
    objective: oneOf('prediction_type', PREDICTION_TYPES),
    // DDIMScheduler has no variance; DDPM sampling of such a model uses DDPMScheduler's default.
    variance: k === 'ddpm' ? oneOf('variance_type', VARIANCE_TYPES) : 'fixed-small',
    diffusers: conventions,
  };
  // Every field must describe the diffusion we now have.
  const o: Ours = { kind: k, diffusion, conventions, betas: { schedule: String(get('beta_schedule')), trained: trained as number[] | null, note: null } };
  for (const [key, field] of Object.entries(SCHEDULER_FIELDS)) {
    if (!field.in.includes(k)) continue;
    const value = get(key);
    const ours = field.ours(o);
    if (!(field.same ?? ((a, b) => JSON.stringify(a) === JSON.stringify(b)))(value, ours)) fail(`${key} ${JSON.stringify(value)} is not supported: this engine computes ${JSON.stringify(ours)}`);
  }
  return diffusion;
}
