// `ddpm bench`: the harness's micro-benchmarks, printed and saved to bench/results/latest.json.

import { join } from 'node:path';
import { QUICK_RUN, quickRunConfig, type BenchRow as ProtocolRow, type StepProfile } from '../../app/index.ts';
import { REPO_ROOT } from '../browser.ts';
import type { Command, FlagValues } from '../command.ts';
import { datasetSpec } from '../datasets.ts';
import { intFlag } from '../flags.ts';
import { callSession } from '../session-client.ts';
import { callHarness, progress, withHarness } from '../harness.ts';
import { writeJson } from '../output.ts';
import { formatFixed, formatTable, type Column } from '../table.ts';

/** A row with the extra fields it carries. */
type BenchRow = ProtocolRow & Record<string, unknown>;

const LATEST = join(REPO_ROOT, 'bench', 'results', 'latest.json');

function formatValue(v: unknown): string {
  if (v == null) return '-';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function columns(rows: BenchRow[]): Column<BenchRow>[] {
  const fixed: Column<BenchRow>[] = [
    { header: 'name', value: (r) => r.name },
    { header: 'wall ms', align: 'right', value: (r) => formatFixed(r.ms, 3) },
    { header: 'GFLOP/s', align: 'right', value: (r) => formatFixed(r.gflops, 2) },
    { header: 'GB/s', align: 'right', value: (r) => formatFixed(r.gbps, 2) },
  ];
  const known = new Set(['name', 'ms', 'gflops', 'gbps']);
  // Nested details (per-rep times, GPU summaries) stay in the JSON file.
  const extra = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter(
    (k) => !known.has(k) && rows.every((r) => r[k] == null || typeof r[k] !== 'object'),
  );
  return [
    ...fixed,
    ...extra.map((key): Column<BenchRow> => ({ header: key, align: 'right', value: (r) => formatValue(r[key]) })),
  ];
}

/** One line per simple device field; long lists (features, limits) are left to the JSON file. */
function describeDevice(device: Record<string, unknown>): string[] {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(device ?? {})) {
    if (value === null || typeof value !== 'object') lines.push(`  ${key}: ${String(value)}`);
    else if (!Array.isArray(value) && Object.keys(value).length <= 8) {
      const fields = Object.entries(value).filter(([, v]) => v !== '' && (v === null || typeof v !== 'object'));
      lines.push(`  ${key}: ${fields.map(([k, v]) => `${k}=${String(v)}`).join(', ')}`);
    }
  }
  return lines;
}

/** One training step of the quick-run recipe (or --preset, --batch) on the GPU, by kernel family. */
async function profileStep(flags: FlagValues): Promise<number> {
  const batchSize = intFlag(flags, 'batch', 32);
  const presetName = (flags.preset as string | undefined) ?? QUICK_RUN.preset;
  const config = quickRunConfig({ preset: presetName, batchSize });
  const profile: StepProfile = await withHarness(async (s) => {
    progress('building the model and warming up (2 steps)…');
    await callSession(s, 'start', { config, resume: false, dataset: datasetSpec('fashion-mnist', 'train', 1024) });
    await callSession(s, 'train', 2);
    return callSession(s, 'profileStep');
  });
  if (typeof flags.json === 'string') writeJson(flags.json, { date: new Date().toISOString(), config, ...profile });
  const total = profile.families.reduce((a, f) => a + f.ms, 0);
  console.log(
    `one training step of ${presetName} (batch ${batchSize}): ${profile.wallMs.toFixed(0)} ms wall, ` +
      `${profile.dispatches} dispatches, ${profile.gpuMs.toFixed(0)} ms of timed GPU passes (one per dispatch)\n`,
  );
  type Family = StepProfile['families'][number];
  const cols: Column<Family>[] = [
    { header: 'kernel family', value: (f) => f.name },
    { header: 'GPU ms', align: 'right', value: (f) => f.ms.toFixed(1) },
    { header: 'share', align: 'right', value: (f) => `${((100 * f.ms) / total).toFixed(1)}%` },
    { header: 'dispatches', align: 'right', value: (f) => String(f.count) },
  ];
  console.log(formatTable(cols, profile.families));
  return 0;
}

export const bench: Command = {
  usage: 'bench [--json FILE] | bench --profile [--preset NAME] [--batch B] [--json FILE]',
  summary:
    'run the micro-benchmarks (results go to bench/results/latest.json); --profile: GPU time of one training step by kernel family',
  flags: { json: { type: 'string' }, profile: { type: 'boolean' }, preset: { type: 'string' }, batch: { type: 'string' } },
  async run(flags) {
    if (flags.profile === true) return profileStep(flags);
    const result = await withHarness(async (session) => {
      progress('running benchmarks…');
      return callHarness(session, 'runBench');
    });
    if (!result || !Array.isArray(result.rows)) throw new Error('runBench() did not return { timing, device, rows }');
    const record = { date: new Date().toISOString(), ...result };
    writeJson(LATEST, record);
    if (typeof flags.json === 'string') writeJson(flags.json, record);

    console.log(['device:', ...describeDevice(result.device), `timing: ${result.timing}`, ''].join('\n'));
    const rows = result.rows as BenchRow[];
    console.log(formatTable(columns(rows), rows));
    return 0;
  },
};
