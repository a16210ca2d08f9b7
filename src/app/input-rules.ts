// The values people type, checked by one rule set: the page's number fields and the CLI's flags
// where they mean the same thing (a learning rate is a learning rate in both). A rule says what
// the value is, whether it is whole, and its range; `checkNumber` turns typed text into the value
// or into a message that says what is allowed.

export interface NumberRule {
  /** What the value is, as a message names it: "the learning rate". */
  what: string;
  integer: boolean;
  min: number;
  max: number;
  /** The minimum itself is not allowed (a learning rate of 0 trains nothing). */
  aboveMin?: boolean;
  /** The maximum itself is not allowed (an EMA decay of 1 never moves). */
  belowMax?: boolean;
  /** What 0 means where it is allowed and special, e.g. "never". */
  zeroMeans?: string;
}

/** The largest step count a run or a cadence takes (days of training on a fast GPU). */
const MAX_STEPS = 10_000_000;

export const RULES = {
  batchSize: { what: 'the batch size', integer: true, min: 1, max: 4096 },
  // Adam's step is about the learning rate per weight: above 1 every step rewrites the model.
  lr: { what: 'the learning rate', integer: false, min: 0, aboveMin: true, max: 1 },
  warmupSteps: { what: 'the warm-up', integer: true, min: 0, max: MAX_STEPS },
  emaDecay: { what: 'the EMA decay', integer: false, min: 0, max: 1, belowMax: true },
  seed: { what: 'the seed', integer: true, min: 0, max: 2 ** 32 - 1 },
  targetSteps: { what: 'the target step', integer: true, min: 1, max: MAX_STEPS },
  qualityEvery: { what: 'the quality cadence', integer: true, min: 0, max: MAX_STEPS, zeroMeans: 'never measure' },
  autosaveEvery: { what: 'the autosave cadence', integer: true, min: 0, max: MAX_STEPS, zeroMeans: 'never autosave' },
  checkpointEvery: { what: 'the checkpoint cadence', integer: true, min: 1, max: MAX_STEPS },
  sampleImages: { what: 'the number of images', integer: true, min: 1, max: 1024 },
  /** At most the model's T (bounded where it is known). */
  sampleSteps: { what: 'the number of sampling steps', integer: true, min: 1, max: 10_000 },
  eta: { what: 'η', integer: false, min: 0, max: 1 },
  frameEvery: { what: 'the frame interval', integer: true, min: 1, max: 10_000 },
  boundImages: { what: 'the number of test images', integer: true, min: 1, max: 10_000 },
  /** At most the model's T − 1 (bounded where it is known). */
  boundTerms: { what: 'the number of timesteps', integer: true, min: 1, max: 9_999 },
  scheduleT: { what: 'T', integer: true, min: 2, max: 10_000 },
  datasetLimit: { what: 'the image limit', integer: true, min: 0, max: 1_000_000, zeroMeans: 'all images' },
} as const satisfies Record<string, NumberRule>;

export type RuleName = keyof typeof RULES;

/** A rule with a tighter maximum where the model fixes one (sampling steps ≤ T). */
export function ruleWithMax(rule: NumberRule, max: number): NumberRule {
  return { ...rule, max: Math.min(rule.max, max) };
}

function format(n: number): string {
  return Math.abs(n) >= 1e6 && Number.isInteger(n) ? n.toLocaleString('en') : String(n);
}

/** What a rule allows, e.g. "a whole number from 1 to 4096" or "a number above 0 and at most 1". */
export function allowed(rule: NumberRule): string {
  const kind = rule.integer ? 'a whole number' : 'a number';
  const low = rule.aboveMin ? `above ${format(rule.min)}` : `from ${format(rule.min)}`;
  const high = rule.belowMax ? `below ${format(rule.max)}` : rule.aboveMin ? `at most ${format(rule.max)}` : `to ${format(rule.max)}`;
  const joined = rule.aboveMin || rule.belowMax ? `${low} and ${high}` : `${low} ${high}`;
  return `${kind} ${joined}${rule.zeroMeans ? ` (0: ${rule.zeroMeans})` : ''}`;
}

export type Checked = { ok: true; value: number } | { ok: false; message: string };

/**
 * The value of typed `text` under `rule`, or a message naming the value and what is allowed.
 * `unreadable` is true where a number field holds text the browser could not read as a number
 * (its value then reads as '').
 */
export function checkNumber(rule: NumberRule, text: string, unreadable = false): Checked {
  const trimmed = text.trim();
  const must = `${rule.what} must be ${allowed(rule)}`;
  if (unreadable) return { ok: false, message: `${must}; that is not a number` };
  if (trimmed === '') return { ok: false, message: `${must}; the field is empty` };
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return { ok: false, message: `${must}, not '${trimmed}'` };
  const inRange =
    (rule.aboveMin ? value > rule.min : value >= rule.min) && (rule.belowMax ? value < rule.max : value <= rule.max) && (!rule.integer || Number.isInteger(value));
  return inRange ? { ok: true, value } : { ok: false, message: `${must}, not ${trimmed}` };
}

/** Capitalises a message's first letter (for a line on its own). */
export function sentence(message: string): string {
  return message.charAt(0).toUpperCase() + message.slice(1);
}
