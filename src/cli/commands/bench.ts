// `ddpm bench`: the harness's micro-benchmarks, printed and saved to bench/results/latest.json.

import { join } from 'node:path';
import { QUICK_RUN, quickRunConfig, RULES, type BenchRequest, type BenchRow as ProtocolRow, type StepMemory, type StepProfile, type WorkProfile } from '../../app/index.ts';
import { preset } from '../../model/config.ts';
import { makeTrainConfig } from '../../model/train/trainer.ts';
import { REPO_ROOT } from '../repo-root.ts';
import type { Command, FlagValues } from '../command.ts';
import { datasetSpec } from '../datasets.ts';
import { ruleFlag } from '../flags.ts';
import { callSession } from '../session-client.ts';
import { callHarness, hostName, progress, withHarness } from '../harness.ts';
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

/**
 * The recipe a profile trains: the quick run's (or --preset's) at --batch. The step trains on
 * Fashion-MNIST (one channel): a colour preset is profiled with one-channel input and output
 * convolutions, every other layer as the preset has it.
 */
function profiledConfig(flags: FlagValues) {
  const batchSize = ruleFlag(flags, 'batch', RULES.batchSize, 32);
  const presetName = (flags.preset as string | undefined) ?? QUICK_RUN.preset;
  const colour = preset(presetName).inChannels !== 1;
  const config = quickRunConfig({ preset: presetName, batchSize, ...(colour ? { model: { inChannels: 1, outChannels: 1 } } : {}) });
  return { config, about: `${presetName}${colour ? ' (1-channel input and output)' : ''}` };
}

/**
 * A training step's GPU memory op by op and replayed (its static memory plan), encoded and never
 * run: seconds for ddpm-cifar10 at batch 128 on any adapter.
 */
async function stepMemory(flags: FlagValues): Promise<number> {
  const { config, about } = profiledConfig(flags);
  const memory: StepMemory = await withHarness(async (s) => {
    progress('building the model…');
    await callSession(s, 'start', { config, resume: false, dataset: datasetSpec('fashion-mnist', 'train', 1024) });
    progress('encoding a step op by op, and a step captured and replayed (neither runs)…');
    return callSession(s, 'stepMemory');
  });
  if (typeof flags.json === 'string') writeJson(flags.json, { date: new Date().toISOString(), host: hostName(), config, ...memory });
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const { eager, replayed } = memory.peakLiveBytes;
  console.log(
    `training step of ${about}, batch ${memory.batchSize}${memory.microBatches > 1 ? ` (${memory.microBatches} micro-batches)` : ''}: ` +
      `peak live GPU memory ${mib(eager)} op by op, ${mib(replayed)} replayed (${(100 * (1 - replayed / eager)).toFixed(1)}% less); ` +
      `parameters and optimiser state ${mib(memory.arenaBytes)} in both; the captured step's intermediates ${mib(memory.intermediates.captured)} ` +
      `as captured, ${mib(memory.intermediates.planned)} as planned`,
  );
  return 0;
}

/**
 * One training step of the quick-run recipe (or --preset, --batch) and the U-Net forward of a
 * sampler step (batch 36): dispatches, CPU encode time, GPU time by kernel family, wall, memory.
 */
async function profileStep(flags: FlagValues): Promise<number> {
  const { config, about } = profiledConfig(flags);
  const profile: StepProfile = await withHarness(async (s) => {
    progress('building the model and warming up (2 steps)…');
    await callSession(s, 'start', { config, resume: false, dataset: datasetSpec('fashion-mnist', 'train', 1024) });
    await callSession(s, 'train', 2);
    return callSession(s, 'profileStep');
  });
  if (typeof flags.json === 'string') writeJson(flags.json, { date: new Date().toISOString(), host: hostName(), config, ...profile });
  for (const work of [profile.step, profile.stepReplayed, profile.forward, profile.forwardReplayed]) printProfile(`${work.what} of ${about}`, work);
  const ratio = (what: string, eager: WorkProfile, replayed: WorkProfile) => {
    const [a, b] = [eager.encodeMs.median, replayed.encodeMs.median];
    console.log(`encoding ${what}: ${a.toFixed(2)} ms op by op, ${b.toFixed(2)} ms replayed (median; ${(a / b).toFixed(1)}x)`);
  };
  ratio('the training step', profile.step, profile.stepReplayed);
  ratio('the forward', profile.forward, profile.forwardReplayed);
  return 0;
}

/** One profiled piece of work: its summary line, then GPU time by kernel family. */
function printProfile(title: string, work: WorkProfile): void {
  const mib = (work.peakLiveBytes / 2 ** 20).toFixed(1);
  console.log(
    `${title}: ${work.wallMs.toFixed(1)} ms wall (median; the first run ${work.firstWallMs.toFixed(1)} ms), ${work.dispatches} dispatches, encode ${work.encodeMs.best.toFixed(2)} ms best / ` +
      `${work.encodeMs.median.toFixed(2)} ms median (${work.encodeMs.reps} runs), ${work.gpuMs.toFixed(1)} ms of timed GPU passes ` +
      `(one per dispatch), peak live GPU memory ${mib} MiB\n`,
  );
  const total = work.families.reduce((a, f) => a + f.ms, 0);
  type Family = WorkProfile['families'][number];
  const cols: Column<Family>[] = [
    { header: 'kernel family', value: (f) => f.name },
    { header: 'GPU ms', align: 'right', value: (f) => f.ms.toFixed(1) },
    { header: 'share', align: 'right', value: (f) => `${((100 * f.ms) / total).toFixed(1)}%` },
    { header: 'dispatches', align: 'right', value: (f) => String(f.count) },
  ];
  console.log(formatTable(cols, work.families) + '\n');
}

/** The sampling-throughput row: a grid of 36 with DDIM-50 from the main command's model (QUICK_RUN's preset). */
function samplingRequest(): NonNullable<BenchRequest['sampling']> {
  const config = makeTrainConfig(quickRunConfig());
  return {
    preset: QUICK_RUN.preset,
    model: config.model,
    diffusion: config.diffusion,
    n: 36,
    sampler: 'ddim',
    steps: 50,
    warmupReps: 1,
    timedReps: 2,
  };
}

const PEER_FLAG = /^(tfjs|jax)(,(tfjs|jax))*$/;

type PeerCell = { ms: number; ratio: number; first_call_ms: number } | { reason: string };

/** Our ms and first call beside each peer's, and peer ms / our ms. */
function comparisonColumns(peers: string[]): Column<BenchRow>[] {
  const cell = (r: BenchRow, peer: string): PeerCell | undefined => (r.peers as Record<string, PeerCell> | undefined)?.[peer];
  const num = (peer: string, f: (c: { ms: number; ratio: number; first_call_ms: number }) => string) => (r: BenchRow) => {
    const c = cell(r, peer);
    return !c ? '-' : 'reason' in c ? 'n/a' : f(c);
  };
  return [
    { header: 'name', value: (r) => r.name },
    { header: 'ours ms', align: 'right', value: (r) => formatFixed(r.ms, 3) },
    ...peers.flatMap((p): Column<BenchRow>[] => [
      { header: `${p} ms`, align: 'right', value: num(p, (c) => formatFixed(c.ms, 3)) },
      { header: `${p}/ours`, align: 'right', value: num(p, (c) => c.ratio.toFixed(2)) },
    ]),
    { header: 'ours first ms', align: 'right', value: (r) => formatValue(r.first_call_ms) },
    ...peers.map((p): Column<BenchRow> => ({ header: `${p} first ms`, align: 'right', value: num(p, (c) => formatFixed(c.first_call_ms, 3)) })),
  ];
}

export const bench: Command = {
  usage:
    'bench [--peers tfjs,jax] [--only NAME,...] [--json FILE] | bench --profile|--memory [--preset NAME] [--batch B] [--json FILE]',
  summary:
    'run the micro-benchmarks (a full run goes to bench/results/latest.json); --peers: also TensorFlow.js and jax-js on the same workloads in the same page; ' +
    '--profile: one training step and one U-Net forward: dispatches, CPU encode ms, GPU ms by kernel family, wall, peak GPU memory; ' +
    '--memory: a training step\'s peak GPU memory op by op and replayed, encoded and never run (seconds at any batch)',
  flags: {
    json: { type: 'string' },
    profile: { type: 'boolean' },
    memory: { type: 'boolean' },
    preset: { type: 'string' },
    batch: { type: 'string' },
    peers: { type: 'string' },
    only: { type: 'string' },
  },
  async run(flags) {
    if (flags.profile === true) return profileStep(flags);
    if (flags.memory === true) return stepMemory(flags);
    const peers = typeof flags.peers === 'string' ? flags.peers.replace(/\s/g, '') : '';
    if (typeof flags.peers === 'string' && !PEER_FLAG.test(peers)) {
      console.error(`--peers takes a comma-separated list of tfjs, jax (got '${flags.peers}')`);
      return 2;
    }
    const only = typeof flags.only === 'string' ? flags.only.split(',').map((s) => s.trim()).filter((s) => s !== '') : undefined;
    const request: BenchRequest = { sampling: samplingRequest() };
    if (only) request.only = only;
    if (peers) request.peers = [...new Set(peers.split(','))];
    const result = await withHarness(async (session) => {
      progress(request.peers ? `running benchmarks, ours then ${request.peers.join(', ')} on each…` : 'running benchmarks…');
      return callHarness(session, 'runBench', request);
    });
    if (!result || !Array.isArray(result.rows)) throw new Error('runBench() did not return { timing, device, rows }');
    const record = { date: new Date().toISOString(), ...result };
    // A partial run (--only) does not replace the full run's latest.json.
    if (!only) writeJson(LATEST, record);
    if (typeof flags.json === 'string') writeJson(flags.json, record);

    console.log(['device:', ...describeDevice(result.device), `timing: ${result.timing}`, ''].join('\n'));
    const rows = result.rows as BenchRow[];
    console.log(formatTable(columns(rows), rows));
    if (request.peers) {
      console.log(`\npeers (ratio = peer ms / ours ms; above 1: ours is faster):\n`);
      console.log(formatTable(comparisonColumns(request.peers), rows));
      const reasons = rows.flatMap((r) =>
        Object.entries((r.peers as Record<string, PeerCell> | undefined) ?? {}).flatMap(([p, c]) => ('reason' in c ? [`  ${r.name} [${p}]: ${c.reason}`] : [])),
      );
      if (reasons.length > 0) console.log(['', 'not measured:', ...reasons].join('\n'));
    }
    return 0;
  },
};
