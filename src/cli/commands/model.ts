// `ddpm model`: a U-Net's layer table, parameter count and training-step memory, no GPU needed.

import { readFileSync } from 'node:fs';
import { PRESETS, preset, type UNetConfig } from '../../model/config.ts';
import { UNet } from '../../model/unet.ts';
import { UsageError, type Command } from '../command.ts';
import { formatTable, type Column } from '../table.ts';
import type { PlanRow } from '../../model/nn/plan.ts';
import { ruleFlag } from '../flags.ts';
import { RULES } from '../../app/index.ts';

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export const model: Command = {
  usage: 'model (--preset NAME | --config FILE) [--batch B] [--all]',
  summary: `print the U-Net's layers, parameter count and training-step memory (presets: ${Object.keys(PRESETS).join(', ')})`,
  flags: { preset: { type: 'string' }, config: { type: 'string' }, batch: { type: 'string' }, all: { type: 'boolean' } },
  async run(flags) {
    let config: Partial<UNetConfig>;
    if (typeof flags.config === 'string') {
      const raw = JSON.parse(readFileSync(flags.config, 'utf8'));
      config = { ...(raw.preset ? preset(raw.preset) : {}), ...(raw.model ?? raw) };
    } else if (typeof flags.preset === 'string') {
      config = preset(flags.preset);
    } else {
      throw new UsageError('give --preset NAME or --config FILE');
    }
    const batch = ruleFlag(flags, 'batch', RULES.batchSize, 128);
    const net = new UNet(config);
    const plan = net.plan(batch);
    const rows = flags.all ? plan.rows : plan.rows.filter((r) => r.depth === 0);
    const columns: Column<PlanRow>[] = [
      { header: 'layer', value: (r) => `${'  '.repeat(r.depth)}${r.name}` },
      { header: 'type', value: (r) => r.type },
      { header: 'output', value: (r) => `[${r.outShape.join(',')}]` },
      { header: 'params', align: 'right', value: (r) => r.params.toLocaleString('en-US') },
      { header: 'GFLOP', align: 'right', value: (r) => (r.flops / 1e9).toFixed(3) },
    ];
    console.log(formatTable(columns, rows));
    const params = net.parameterCount();
    const paramBytes = params * 4;
    const activations = plan.activationElements * 4;
    console.log(`\nparameters          ${params.toLocaleString('en-US')} (${net.parameters().length} tensors)`);
    console.log(`forward FLOPs       ${(plan.totalFlops / 1e9).toFixed(2)} GFLOP at batch ${batch} (training step ≈ 3x)`);
    console.log(`training-step memory at batch ${batch}:`);
    console.log(`  weights, gradients, Adam m and v, EMA   ${mib(5 * paramBytes)}  (5 x ${mib(paramBytes)})`);
    console.log(`  activations kept for backward           ${mib(activations)}`);
    console.log(`  total (lower bound)                     ${mib(5 * paramBytes + activations)}`);
    return 0;
  },
};
