// Noise schedules for display: the curves of every schedule type at one T, in float64 on the CPU.

import { makeSchedule, SCHEDULE_TYPES, type ScheduleType } from '../model/diffusion/schedule.ts';

export { SCHEDULE_TYPES, type ScheduleType };

export interface ScheduleChoice {
  type: ScheduleType;
  T: number;
}

export interface ScheduleCurves {
  betas: Float64Array;
  alphasCumprod: Float64Array;
  logSnr: Float64Array;
}

/** β_t, ᾱ_t and log-SNR of every schedule type at T, or the reason the choice is invalid. */
export function scheduleCurves(T: number): { curves: Map<ScheduleType, ScheduleCurves>; error: string | null } {
  const curves = new Map<ScheduleType, ScheduleCurves>();
  let error: string | null = null;
  for (const type of SCHEDULE_TYPES) {
    try {
      const s = makeSchedule({ type, T });
      curves.set(type, { betas: s.betas, alphasCumprod: s.alphasCumprod, logSnr: s.logSnr });
    } catch (e) {
      error ??= (e as Error).message;
    }
  }
  return { curves, error };
}

/** Above this √ᾱ_{T−1}, x_T still shows the image: the forward process never reaches noise. */
export const MAX_TERMINAL_SIGNAL = 0.05;

/** A warning when the schedule's last step keeps more signal than MAX_TERMINAL_SIGNAL, or null. */
export function terminalSignalWarning(curves: ScheduleCurves): string | null {
  const T = curves.alphasCumprod.length;
  const signal = Math.sqrt(curves.alphasCumprod[T - 1]!);
  if (signal <= MAX_TERMINAL_SIGNAL) return null;
  return (
    `this schedule never reaches noise: x_T keeps √ᾱ = ${signal.toFixed(3)} of the image, yet sampling starts from pure ` +
    `noise N(0, I), which the model never sees in training. Raise T or choose the cosine schedule.`
  );
}
