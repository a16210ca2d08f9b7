// The elementwise terms of the DDPM variational bound, with numpy broadcasting among inputs:
// normalKl (the KL between two diagonal Gaussians) and discretizedGaussianLogLikelihood (the
// decoder term L0 on 8-bit data), following Ho et al.'s diffusion_utils_2.py.
// Kernels: src/shaders/vlb.ts. Reference: src/engine/reference/vlb.ts. Checks: src/engine/checks/vlb.ts.

import {
  VLB_MAX_INPUTS,
  discretizedGaussianLogLikelihoodGradKernel,
  discretizedGaussianLogLikelihoodKernel,
  normalKlGradKernel,
  normalKlKernel,
} from '../../shaders/vlb.ts';
import { record } from '../tape.ts';
import { broadcastStrides, fmt, sameShape, type Shape } from '../shape.ts';
import { assertTensor, emptyTensor, type Tensor } from '../tensor.ts';
import { unaryRaw } from './raw/elementwise.ts';
import { launch } from './launch.ts';
import { sumToRaw } from './raw/reduce.ts';

type Named = readonly (readonly [string, Tensor])[];

/** Checks every argument and returns their common broadcast shape; errors name both culprits. */
function broadcastArguments(op: string, args: Named): number[] {
  for (const [name, t] of args) assertTensor(op, name, t);
  const rank = Math.max(...args.map(([, t]) => t.rank));
  const shape = new Array<number>(rank).fill(1);
  const owner = new Array<string | null>(rank).fill(null);
  for (const [name, t] of args) {
    t.shape.forEach((d, j) => {
      const axis = rank - t.rank + j;
      if (d === 1) return;
      if (shape[axis] !== 1 && shape[axis] !== d) {
        const [otherName, other] = args.find(([n]) => n === owner[axis])!;
        throw new Error(
          `${op}: cannot broadcast ${otherName} ${fmt(other.shape)} with ${name} ${fmt(t.shape)} ` +
            `(axis ${axis}: ${shape[axis]} vs ${d})`,
        );
      }
      shape[axis] = d;
      owner[axis] = name;
    });
  }
  return shape;
}

/**
 * The uniforms of a kernel of the family over the broadcast `shape`, whose strided inputs are
 * `inputs` in order (strides0, strides1, …; the kernels read any further input at the output index).
 */
function broadcastUniforms(shape: Shape, inputs: readonly Tensor[]) {
  const strides = (k: number) => (k < inputs.length ? broadcastStrides(inputs[k]!.shape, shape) : shape.map(() => 0));
  if (inputs.length > VLB_MAX_INPUTS) throw new Error(`vlb: ${inputs.length} strided inputs, at most ${VLB_MAX_INPUTS}`);
  const plain = inputs.every((t) => sameShape(t.shape, shape));
  return {
    outShape: shape,
    strides0: strides(0),
    strides1: strides(1),
    strides2: strides(2),
    strides3: strides(3),
    rank: shape.length,
    count: shape.reduce((a, b) => a * b, 1),
    plain: plain ? 1 : 0,
  };
}

/** `g` summed down to `input`'s shape; disposes `g` when a new tensor replaces it. */
function reduceTo(g: Tensor, input: Tensor): Tensor {
  if (sameShape(g.shape, input.shape)) return g;
  const reduced = sumToRaw(g, input.shape);
  g.dispose();
  return reduced;
}

/**
 * KL(N(mean1, e^logvar1) ‖ N(mean2, e^logvar2)) elementwise, in nats:
 * ½(−1 + logvar2 − logvar1 + e^(logvar1 − logvar2) + (mean1 − mean2)²·e^(−logvar2)).
 */
export function normalKl(mean1: Tensor, logvar1: Tensor, mean2: Tensor, logvar2: Tensor): Tensor {
  const inputs = [mean1, logvar1, mean2, logvar2];
  const shape = broadcastArguments('normalKl', [
    ['mean1', mean1],
    ['logvar1', logvar1],
    ['mean2', mean2],
    ['logvar2', logvar2],
  ]);
  const out = emptyTensor(shape, 'normalKl');
  const uniforms = broadcastUniforms(shape, inputs);
  launch(normalKlKernel, {}, { mean1, logvar1, mean2, logvar2, out }, uniforms);
  return record(out, 'normalKl', inputs, (dy) => {
    const dMean = emptyTensor(shape, 'normalKl-grad-mean');
    const dLogvar1 = emptyTensor(shape, 'normalKl-grad-logvar1');
    const dLogvar2 = emptyTensor(shape, 'normalKl-grad-logvar2');
    launch(normalKlGradKernel, {}, { mean1, logvar1, mean2, logvar2, dys: dy, dMean, dLogvar1, dLogvar2 }, uniforms);
    // ∂/∂mean2 = −∂/∂mean1.
    let gMean2: Tensor | null = null;
    if (mean2.requiresGrad) {
      const summed = sameShape(dMean.shape, mean2.shape) ? dMean : sumToRaw(dMean, mean2.shape);
      gMean2 = unaryRaw('neg', summed, 1, 0);
      if (summed !== dMean) summed.dispose();
    }
    const gMean1 = mean1.requiresGrad ? reduceTo(dMean, mean1) : (dMean.dispose(), null);
    return [gMean1, reduceTo(dLogvar1, logvar1), gMean2, reduceTo(dLogvar2, logvar2)];
  });
}

/**
 * Log-likelihood (nats, elementwise) of x — 8-bit values rescaled to [−1, 1], bins 2/255 wide —
 * under N(means, e^(2·logScales)) discretised to those bins, with the outermost bins extending
 * to ±∞, Φ in its tanh approximation and every probability clamped at 1e−12, as Ho et al.'s
 * `discretized_gaussian_log_likelihood`. x is data: it gets no gradient.
 */
export function discretizedGaussianLogLikelihood(x: Tensor, means: Tensor, logScales: Tensor): Tensor {
  const inputs = [x, means, logScales];
  const shape = broadcastArguments('discretizedGaussianLogLikelihood', [
    ['x', x],
    ['means', means],
    ['logScales', logScales],
  ]);
  const op = 'discretizedGaussianLogLikelihood';
  const out = emptyTensor(shape, op);
  const uniforms = broadcastUniforms(shape, inputs);
  launch(discretizedGaussianLogLikelihoodKernel, {}, { xs: x, means, logScales, out }, uniforms);
  return record(out, op, inputs, (dy) => {
    const dMeans = emptyTensor(shape, `${op}-grad-means`);
    const dLogScales = emptyTensor(shape, `${op}-grad-logScales`);
    launch(
      discretizedGaussianLogLikelihoodGradKernel,
      {},
      { xs: x, means, logScales, dys: dy, dMeans, dLogScales },
      uniforms,
    );
    return [null, reduceTo(dMeans, means), reduceTo(dLogScales, logScales)];
  });
}
