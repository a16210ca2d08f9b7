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
    expect(plan.totalFlops).toBeGreaterThan(0);
    expect(plan.activationElements).toBeGreaterThan(4 * 16 * 16 * 16);
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
