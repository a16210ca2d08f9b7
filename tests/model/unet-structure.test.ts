// The U-Net built from configs, without a GPU: parameter counts, names and the layer plan.

import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { preset } from '../../src/model/config.ts';
import { UNet } from '../../src/model/unet.ts';

const fixtureDir = new URL('../fixtures/torch-reference/tiny_unet/', import.meta.url);

describe('U-Net structure', () => {
  test('the DDPM CIFAR-10 configuration has the 35.7M parameters the architecture implies', () => {
    const model = new UNet(preset('ddpm-cifar10'));
    // ch 128, mult (1,2,2,2), 2 ResBlocks per level, attention at 16x16, 1 head: 35,746,307
    // parameters in 328 tensors (the diffusers port, google/ddpm-cifar10-32, counts the same).
    expect(model.parameterCount()).toBe(35_746_307);
    expect(model.parameters().length).toBe(328);
    expect(new UNet({ ...preset('ddpm-cifar10'), learnedVariance: true }).parameterCount()).toBe(35_746_307 + 128 * 9 * 3 + 3);
  });

  test('parameter names and shapes equal diffusers UNet2DModel state-dict keys (tiny fixture model)', () => {
    const io = JSON.parse(readFileSync(new URL('io.json', fixtureDir), 'utf8'));
    const model = new UNet(tinyFixtureConfig());
    const ours = new Map([...model.namedParameters()].map(([n, p]) => [n, [...p.shape]]));
    const keys: string[] = io.state_dict_keys;
    expect(keys.length).toBeGreaterThan(0);
    expect([...ours.keys()].sort()).toEqual([...keys].sort());
    expect(model.parameterCount()).toBe(io.num_parameters);
  });

  test('the plan lists every layer, FLOPs and activation memory', () => {
    const model = new UNet(preset('tiny-fashion'));
    const plan = model.plan(4);
    expect(plan.rows.some((r) => r.name === 'mid_block.attentions.0')).toBe(true);
    expect(plan.rows.find((r) => r.name === 'conv_out')!.outShape).toEqual([4, 1, 16, 16]);
    expect(plan.rows.find((r) => r.name === 'mid_block.attentions.0')!.outShape).toEqual([4, 32, 8, 8]);
    expect(plan.totalFlops).toBeGreaterThan(0);
    expect(plan.activationElements).toBeGreaterThan(4 * 16 * 16 * 16);
  });

  test('the plan is the forward pass run on shapes: every parameter used once, the figures unchanged', () => {
    const model = new UNet(preset('ddpm-cifar10'));
    model.eval(); // the plan is of a training step whatever the mode: dropout counts
    const plan = model.plan(128);
    expect(model.training).toBe(false);
    const top = plan.rows.filter((r) => r.depth === 0);
    expect(top.reduce((n, r) => n + r.params, 0)).toBe(model.parameterCount());
    // The figures the earlier hand-written plan gave (`ddpm model --preset ddpm-cifar10`); the
    // activations less the ResBlocks' two adds and dropout, now in their convs' epilogues and
    // norm2's kernel (2,024,704,000 before).
    expect(plan.totalFlops).toBe(1_592_795_332_608);
    expect(plan.activationElements).toBe(1_604_749_312);
    expect(plan.rows.length).toBe(202);
    const down = plan.rows.find((r) => r.name === 'down_blocks.0.downsamplers.0.conv')!;
    expect([down.type, down.outShape]).toEqual(['Conv2d 3x3 s2', [128, 128, 16, 16]]);
    const block = plan.rows.find((r) => r.name === 'up_blocks.3.resnets.0')!;
    expect([block.type, block.params, block.depth]).toEqual(['ResnetBlock2D(384→128)', 706_048, 0]);
    const tiny = new UNet(preset('tiny-fashion')).plan(128);
    expect([tiny.totalFlops, tiny.activationElements]).toEqual([4_373_086_208, 35_778_560]);
  });

  test('bad configurations are refused with the field named', () => {
    expect(() => new UNet({ ...preset('tiny-fashion'), normGroups: 5 })).toThrow('normGroups 5 does not divide 16 channels');
    expect(() => new UNet({ ...preset('tiny-fashion'), imageSize: 15 })).toThrow('imageSize 15 must be divisible by 2^1');
  });
});

/** The diffusers tiny_unet fixture's config in our terms. */
export function tinyFixtureConfig() {
  return {
    imageSize: 8,
    inChannels: 3,
    outChannels: 3,
    baseChannels: 16,
    channelMultipliers: [1, 2],
    resBlocksPerLevel: 1,
    attentionResolutions: [4],
    heads: 1,
    headChannels: 4,
    dropout: 0,
    normGroups: 4,
    normEps: 1e-5,
    learnedVariance: false,
    flipSinToCos: true,
    freqShift: 0,
  };
}
