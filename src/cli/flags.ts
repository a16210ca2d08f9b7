// Flag values of the commands, parsed and checked (a bad value is a UsageError: exit code 2).

import { UsageError, type FlagValues } from './command.ts';
import { checkNumber, samplerName, type NumberRule, type SamplerName } from '../app/index.ts';

/** An integer ≥ `min`; `fallback` when absent (required when there is none). */
export function intFlag(flags: FlagValues, name: string, fallback?: number, min = 1): number {
  const v = flags[name];
  if (v === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required`);
    return fallback;
  }
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got '${v}'`);
  return n;
}

/** A finite number, or undefined when absent. */
export function numberFlag(flags: FlagValues, name: string): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${v}'`);
  return n;
}

/**
 * A value under one of the input rules the page's fields use too (src/app/input-rules.ts);
 * `fallback` when absent (required when there is none).
 */
export function ruleFlag(flags: FlagValues, name: string, rule: NumberRule, fallback?: number): number {
  const v = flags[name];
  if (v === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required`);
    return fallback;
  }
  const checked = checkNumber(rule, String(v));
  if (!checked.ok) throw new UsageError(`--${name}: ${checked.message}`);
  return checked.value;
}

/** The value of an optional rule flag, or undefined when absent. */
export function optionalRuleFlag(flags: FlagValues, name: string, rule: NumberRule): number | undefined {
  return flags[name] === undefined ? undefined : ruleFlag(flags, name, rule);
}

/** --sampler (default `fallback`), checked against the samplers there are. */
export function samplerFlag(flags: FlagValues, fallback: SamplerName = 'ddim'): SamplerName {
  const name = (flags.sampler as string | undefined) ?? fallback;
  try {
    return samplerName(name);
  } catch (err) {
    throw new UsageError(`--sampler: ${(err as Error).message}`);
  }
}
