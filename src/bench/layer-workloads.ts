// The layer micro-benchmarks of bench/WORKLOADS.md: a 3x3 convolution, GroupNorm and
// single-head attention, each forward alone and forward + backward. The gradient workloads
// compute L = sum(f(...) ⊙ G) and back-propagate it, as tfjs's tf.grads does inside its timed
// call, so their times include the forward.

import {
  attention,
  backward,
  conv2d,
  groupNorm,
  matmul,
  mul,
  Rng,
  sizeOf,
  sum,
  tensor,
  type Tensor,
  zeroGrad,
} from '../engine/index.ts';
import { defineWorkload, randn, type Workload } from './workload.ts';

const FLOAT_BYTES = 4;

/** x [8,64,32,32] for the conv and GroupNorm benchmarks. */
const IMAGE_SHAPE = [8, 64, 32, 32];
const IMAGE_ELEMENTS = sizeOf(IMAGE_SHAPE);
const CONV_CHANNELS = 64;
/** W ~ N(0, 1/576): 1/fan_in with fan_in = 64·3·3. */
const CONV_WEIGHT_STD = 1 / Math.sqrt(CONV_CHANNELS * 9);
/** 2·N·Cout·H·W·Cin·9. */
const CONV_FWD_FLOPS = 603_979_776;
/** Forward + input gradient + weight gradient. */
const CONV_BWD_FLOPS = 3 * CONV_FWD_FLOPS;

const GN_GROUPS = 32;
const GN_EPS = 1e-5;

/** Tokens X [8, 256, 64]: the 16x16 pixels of a [8,64,16,16] map, 64 channels each. */
const ATTN_TOKENS_SHAPE = [8, 256, 64];
const ATTN_CHANNELS = 64;
/** 4 projections (2·8·256·64·64 each) + q·kᵀ + A·v (2·8·256·256·64 each). */
const ATTN_FWD_FLOPS = 201_326_592;
const ATTN_FWD_BWD_FLOPS = 3 * ATTN_FWD_FLOPS;

/** Entries ~ N(mean, std²) from the seeded stream `seed`. */
const normalTensor = (shape: number[], seed: number, std: number, mean: number): Tensor =>
  tensor(Float32Array.from(new Rng(seed).normals(sizeOf(shape), std, mean)), shape);

const disposeAll = (ts: Iterable<Tensor | null>): void => {
  for (const t of ts) t?.dispose();
};

/** Marks seeded inputs as leaves that receive gradients. */
function requireGrad(ts: readonly Tensor[]): void {
  for (const t of ts) t.requiresGrad = true;
}

/** Backward of L = sum(y ⊙ g); returns the leaves' gradients (each rep starts from none). */
function gradientsOf(y: Tensor, g: Tensor, wrt: readonly Tensor[]): Tensor[] {
  backward(sum(mul(y, g)));
  return wrt.map((t) => t.grad!);
}

// ---- conv ----------------------------------------------------------------------------------

interface ConvState {
  x: Tensor;
  w: Tensor;
  g: Tensor;
}

const convSetup = (): ConvState => ({
  x: randn(IMAGE_SHAPE, 5001),
  w: randn([CONV_CHANNELS, CONV_CHANNELS, 3, 3], 5002, CONV_WEIGHT_STD),
  g: randn(IMAGE_SHAPE, 5003),
});

const conv = (s: ConvState): Tensor => conv2d(s.x, s.w, null, { stride: 1, padding: 1 });

export const conv3x3Fwd = defineWorkload({
  name: 'conv3x3_fwd',
  description: 'y = conv2d(x, W), x [8,64,32,32] ~ N(0,1), W [64,64,3,3] ~ N(0,1/576), stride 1, pad 1, no bias',
  flops: CONV_FWD_FLOPS,
  warmupReps: 2,
  timedReps: 5,
  setup: convSetup,
  run: conv,
  teardown: (s) => disposeAll([s.x, s.w, s.g]),
});

export const conv3x3Bwd = defineWorkload({
  name: 'conv3x3_bwd',
  description: 'L = sum(conv2d(x, W) ⊙ G), G [8,64,32,32] ~ N(0,1); returns dL/dx, dL/dW (forward included)',
  flops: CONV_BWD_FLOPS,
  warmupReps: 2,
  timedReps: 3,
  setup: () => {
    const s = convSetup();
    requireGrad([s.x, s.w]);
    return s;
  },
  run: (s) => {
    zeroGrad([s.x, s.w]);
    return gradientsOf(conv(s), s.g, [s.x, s.w]);
  },
  teardown: (s) => {
    zeroGrad([s.x, s.w]);
    disposeAll([s.x, s.w, s.g]);
  },
});

// ---- GroupNorm -----------------------------------------------------------------------------

interface GroupNormState {
  x: Tensor;
  gamma: Tensor;
  beta: Tensor;
  g: Tensor;
}

function groupNormSetup(): GroupNormState {
  return {
    x: randn(IMAGE_SHAPE, 5101),
    gamma: normalTensor([CONV_CHANNELS], 5102, 0.1, 1), // 1 + 0.1·N(0,1)
    beta: randn([CONV_CHANNELS], 5103, 0.1),
    g: randn(IMAGE_SHAPE, 5104),
  };
}

const gn = (s: GroupNormState): Tensor => groupNorm(s.x, s.gamma, s.beta, { groups: GN_GROUPS, eps: GN_EPS });

export const groupNormFwd = defineWorkload({
  name: 'groupnorm_fwd',
  description:
    'GroupNorm(32 groups, eps 1e-5) of x [8,64,32,32] ~ N(0,1), gamma = 1 + 0.1·N(0,1), beta = 0.1·N(0,1) [64]',
  bytes: (2 * IMAGE_ELEMENTS + 2 * CONV_CHANNELS) * FLOAT_BYTES,
  warmupReps: 2,
  timedReps: 10,
  setup: groupNormSetup,
  run: gn,
  teardown: (s) => disposeAll([s.x, s.gamma, s.beta, s.g]),
});

export const groupNormFwdBwd = defineWorkload({
  name: 'groupnorm_fwd_bwd',
  description: 'L = sum(GN(x) ⊙ G), G ~ N(0,1); returns dL/dx, dL/dgamma, dL/dbeta (forward included)',
  bytes: (3 * IMAGE_ELEMENTS + 4 * CONV_CHANNELS) * FLOAT_BYTES,
  warmupReps: 2,
  timedReps: 10,
  setup: () => {
    const s = groupNormSetup();
    requireGrad([s.x, s.gamma, s.beta]);
    return s;
  },
  run: (s) => {
    zeroGrad([s.x, s.gamma, s.beta]);
    return gradientsOf(gn(s), s.g, [s.x, s.gamma, s.beta]);
  },
  teardown: (s) => {
    zeroGrad([s.x, s.gamma, s.beta]);
    disposeAll([s.x, s.gamma, s.beta, s.g]);
  },
});

// ---- attention -----------------------------------------------------------------------------

interface AttentionState {
  x: Tensor;
  wq: Tensor;
  wk: Tensor;
  wv: Tensor;
  wo: Tensor;
  g: Tensor;
}

const attentionInputs = (s: AttentionState): Tensor[] => [s.x, s.wq, s.wk, s.wv, s.wo];

function attentionSetup(): AttentionState {
  const w = (seed: number) => randn([ATTN_CHANNELS, ATTN_CHANNELS], seed, 1 / Math.sqrt(ATTN_CHANNELS));
  return { x: randn(ATTN_TOKENS_SHAPE, 5201), wq: w(5202), wk: w(5203), wv: w(5204), wo: w(5205), g: randn(ATTN_TOKENS_SHAPE, 5206) };
}

/** O = softmax(Q·Kᵀ/sqrt(64))·V·Wo with Q, K, V = X·Wq, X·Wk, X·Wv (no biases, no norm). */
function selfAttention(s: AttentionState): Tensor {
  const q = matmul(s.x, s.wq);
  const k = matmul(s.x, s.wk);
  const v = matmul(s.x, s.wv);
  return matmul(attention(q, k, v), s.wo);
}

export const attentionFwd = defineWorkload({
  name: 'attention_fwd',
  description:
    'O = softmax(XWq·(XWk)ᵀ/8)·XWv·Wo, X [8,256,64] ~ N(0,1) (the tokens of [8,64,16,16]), W* [64,64] ~ N(0,1/64), fused attention op',
  flops: ATTN_FWD_FLOPS,
  warmupReps: 2,
  timedReps: 5,
  setup: attentionSetup,
  run: selfAttention,
  teardown: (s) => disposeAll([...attentionInputs(s), s.g]),
});

export const attentionFwdBwd = defineWorkload({
  name: 'attention_fwd_bwd',
  description: 'L = sum(O ⊙ G), G [8,256,64] ~ N(0,1); returns dL/dX, dWq, dWk, dWv, dWo (forward included)',
  flops: ATTN_FWD_BWD_FLOPS,
  warmupReps: 2,
  timedReps: 5,
  setup: () => {
    const s = attentionSetup();
    requireGrad(attentionInputs(s));
    return s;
  },
  run: (s) => {
    zeroGrad(attentionInputs(s));
    return gradientsOf(selfAttention(s), s.g, attentionInputs(s));
  },
  teardown: (s) => {
    zeroGrad(attentionInputs(s));
    disposeAll([...attentionInputs(s), s.g]);
  },
});

export const LAYER_WORKLOADS: Workload[] = [conv3x3Fwd, conv3x3Bwd, groupNormFwd, groupNormFwdBwd, attentionFwd, attentionFwdBwd];
