// One forward pass of a model on given inputs (`ddpm unet-forward`): the network's output for
// images x [N, C, H, W] at timesteps t [N], as diffusers' UNet2DModel(x, t).sample.

import { noGrad, scope, tensor } from '../engine/index.ts';
import type { InferenceModel } from './checkpoint-io.ts';

export interface ForwardInput {
  /** [N, C, H, W]. */
  shape: number[];
  sample: Float32Array;
  /** One per image. */
  timesteps: number[];
}

/** The model's output for `input` and its shape [N, C_out, H, W]. */
export async function unetForward(source: InferenceModel, input: ForwardInput): Promise<{ shape: number[]; data: Float32Array }> {
  const out = noGrad(() =>
    scope(() => source.model.forward(tensor(input.sample, input.shape), tensor(input.timesteps, [input.timesteps.length]))),
  );
  try {
    return { shape: [...out.shape], data: await out.read() };
  } finally {
    out.dispose();
  }
}
