// Summary statistics of repeated timings.

export interface TimingSummary {
  median_ms: number;
  min_ms: number;
  max_ms: number;
  mean_ms: number;
  times_ms: number[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

export function summarize(times: readonly number[]): TimingSummary {
  return {
    median_ms: round(median(times)),
    min_ms: round(Math.min(...times)),
    max_ms: round(Math.max(...times)),
    mean_ms: round(times.reduce((a, b) => a + b, 0) / times.length),
    times_ms: times.map(round),
  };
}
