// `ddpm check`: the op correctness checks (forward against the CPU reference, gradients against
// the reference and finite differences), one row per op case.

import { CHECKED_OPS, COVER_MODES, type CheckRequest, type CheckRow, type CoverMode } from '../../app/index.ts';
import { UsageError, type Command } from '../command.ts';
import { callHarness, progress, withHarness } from '../harness.ts';
import { writeJson } from '../output.ts';
import { formatSci, formatTable, type Column } from '../table.ts';

/** Largest gradient error; NaN if any is NaN, null if the op has no gradients. */
function maxGradError(grads: Record<string, number>): number | null {
  const errors = Object.values(grads ?? {});
  if (errors.length === 0) return null;
  return errors.some((e) => Number.isNaN(e)) ? NaN : Math.max(...errors);
}

const COLUMNS: Column<CheckRow>[] = [
  { header: 'op', value: (r) => r.op },
  { header: 'case', value: (r) => r.case },
  { header: 'forward rel err', align: 'right', value: (r) => formatSci(r.forward) },
  { header: 'max grad rel err', align: 'right', value: (r) => formatSci(maxGradError(r.grads)) },
  { header: 'ref-vs-FD rel err', align: 'right', value: (r) => formatSci(r.refVsFiniteDiff) },
  { header: 'result', value: (r) => (r.pass ? 'PASS' : 'FAIL') },
];

export const check: Command = {
  usage: `check [--ops OP,OP…] [--cover ${COVER_MODES.join('|')}] [--json FILE]`,
  summary:
    'check every op (or those of --ops) and its gradients against the CPU reference on WebGPU; --cover runs only enough ' +
    'cases to run every kernel variant (all), or every one a software adapter does not (beyond-software), and every op',
  flags: { json: { type: 'string' }, ops: { type: 'string' }, cover: { type: 'string' } },
  async run(flags) {
    const ops = typeof flags.ops === 'string' ? flags.ops.split(',').map((o) => o.trim()) : undefined;
    const unknown = ops?.filter((o) => !CHECKED_OPS.includes(o)) ?? [];
    if (unknown.length > 0) throw new UsageError(`--ops: no checks for ${unknown.join(', ')} (ops: ${CHECKED_OPS.join(', ')})`);
    const cover = flags.cover;
    if (cover !== undefined && !COVER_MODES.includes(cover as CoverMode)) {
      throw new UsageError(`--cover must be one of ${COVER_MODES.join(', ')}, got '${String(cover)}'`);
    }
    const request: CheckRequest = { ...(ops ? { ops } : {}), ...(cover ? { cover: cover as CoverMode } : {}) };
    const rows = await withHarness(async (session) => {
      progress(cover ? `running the checks that cover every kernel variant (${cover})…` : 'running checks…');
      return callHarness(session, 'runChecks', request);
    });
    if (!Array.isArray(rows)) throw new Error(`runChecks() returned ${typeof rows}, not an array of rows`);
    if (typeof flags.json === 'string') writeJson(flags.json, rows);

    const failed = rows.filter((r) => r.pass !== true).length;
    console.log(formatTable(COLUMNS, rows));
    for (const r of rows.filter((x) => x.pass !== true)) {
      for (const f of r.failures ?? []) console.log(`  ${r.op} failed: ${f}`);
    }
    console.log(`\n${rows.length} ops checked, ${rows.length - failed} passed, ${failed} failed`);
    if (rows.length === 0) progress('runChecks() returned no rows; nothing was checked');
    return failed > 0 || rows.length === 0 ? 1 : 0;
  },
};
