// TensorFlow.js 4.22 (tfjs-core + the WebGPU backend) on the workloads of bench/WORKLOADS.md, as
// that file builds them: NHWC activations, [k,k,Cin,Cout] filters, tf.grads for the gradient
// workloads, one optimizer.minimize for the train step. Loaded into the harness page only by
// `ddpm bench --peers tfjs` (a dynamic import), on its own GPUDevice from the same adapter.

import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients (the @tensorflow/tfjs bundle imports this file).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-webgpu';
import {
  definePeerWorkload,
  nchwToNhwc,
  normals,
  oihwToHwio,
  type PeerEngine,
  type PeerWorkload,
} from './common.ts';
import {
  ADAM,
  BATCH,
  EPS,
  fixedBatch,
  IMAGE,
  initialParams,
  scheduleTables,
  tembFrequencies,
  UNET_PARAMS,
  unetForward,
  WORKLOADS_UNET_FORWARD_FLOPS,
  type NetOps,
} from './workloads-unet.ts';

type T = tf.Tensor;

/** `Σ sum(t_i)`, read back with `await data()`. */
async function syncRead(build: () => T | T[]): Promise<number> {
  const s = tf.tidy(() => {
    const outs = build();
    const list = Array.isArray(outs) ? outs : [outs];
    return list.map((o) => tf.sum(o)).reduce((a, b) => tf.add(a, b));
  });
  try {
    return (await s.data())[0]!;
  } finally {
    s.dispose();
  }
}

const disposeAll = (ts: Record<string, T> | T[]): void => Object.values(ts).forEach((t) => t.dispose());

/** A workload whose state is a set of tensors and whose rep is `f(state)`. */
function simple<S extends Record<string, T>>(setup: () => S, f: (s: S) => T | T[]): PeerWorkload {
  return definePeerWorkload({ setup, rep: (s: S) => syncRead(() => f(s)), teardown: disposeAll });
}

// ---- micro-benchmarks ----------------------------------------------------------------------

const N4M = 4 * 1024 * 1024;
const matmul = (n: number) =>
  simple(
    () => ({ a: tf.tensor2d(normals([n, n], 1001), [n, n]), b: tf.tensor2d(normals([n, n], 1002), [n, n]) }),
    (s) => tf.matMul(s.a!, s.b!),
  );

const silu = (x: T): T => tf.mul(x, tf.sigmoid(x));

// ---- layers (NHWC) -------------------------------------------------------------------------

const IMG = [8, 64, 32, 32];
const IMG_NHWC = [8, 32, 32, 64];
const image = (seed: number): T => tf.tensor4d(nchwToNhwc(normals(IMG, seed), IMG), IMG_NHWC as [number, number, number, number]);

function convState() {
  const w = [64, 64, 3, 3];
  return { x: image(5001), w: tf.tensor4d(oihwToHwio(normals(w, 5002, 1 / 24), w), [3, 3, 64, 64]), g: image(5003) };
}
const conv3 = (x: T, w: T): T => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');

/** WORKLOADS' GroupNorm: reshape [N,H·W,G,C/G], moments over axes [1,3], normalise, reshape back, affine. */
function groupNorm(x: T, gamma: T, beta: T, groups: number): T {
  const [n, h, w, c] = x.shape as number[];
  const xr = tf.reshape(x, [n!, h! * w!, groups, c! / groups]);
  const { mean, variance } = tf.moments(xr, [1, 3], true);
  const y = tf.reshape(tf.mul(tf.sub(xr, mean), tf.rsqrt(tf.add(variance, EPS))), [n!, h!, w!, c!]);
  return tf.add(tf.mul(y, gamma), beta);
}

function groupNormState() {
  return {
    x: image(5101),
    gamma: tf.tensor1d(normals([64], 5102, 0.1, 1)),
    beta: tf.tensor1d(normals([64], 5103, 0.1)),
    g: image(5104),
  };
}

const TOKENS = [8, 256, 64];
function attentionState() {
  const w = (seed: number) => tf.tensor2d(normals([64, 64], seed, 1 / 8), [64, 64]);
  return {
    x: tf.tensor3d(normals(TOKENS, 5201), TOKENS as [number, number, number]),
    wq: w(5202),
    wk: w(5203),
    wv: w(5204),
    wo: w(5205),
    g: tf.tensor3d(normals(TOKENS, 5206), TOKENS as [number, number, number]),
  };
}

/** [N,T,C]·W as one 2-D matMul (reshapes are free in tfjs). */
function tokensMatMul(x: T, w: T): T {
  const [n, t, c] = x.shape as number[];
  return tf.reshape(tf.matMul(tf.reshape(x, [n! * t!, c!]), w), [n!, t!, w.shape[1]!]);
}

function selfAttention(x: T, wq: T, wk: T, wv: T, wo: T): T {
  const q = tokensMatMul(x, wq);
  const k = tokensMatMul(x, wk);
  const v = tokensMatMul(x, wv);
  const a = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / 8));
  return tokensMatMul(tf.matMul(a, v), wo);
}

// ---- the U-Net (WORKLOADS') ----------------------------------------------------------------

const ops: NetOps<T> = {
  dup: (x) => x,
  conv: (x, w, b, k, stride) =>
    tf.fused.conv2d({
      x: x as tf.Tensor4D,
      filter: w as tf.Tensor4D,
      strides: stride,
      pad: k === 1 ? 'valid' : stride === 1 ? 'same' : [[0, 0], [1, 1], [1, 1], [0, 0]],
      bias: b,
    }),
  groupNorm,
  silu,
  add: (a, b) => tf.add(a, b),
  linear: (x, w, b) => (x.rank === 2 ? tf.add(tf.matMul(x, w), b) : tf.add(tokensMatMul(x, w), b)),
  addChannelVector: (h, v) => tf.add(h, tf.reshape(v, [v.shape[0]!, 1, 1, v.shape[1]!])),
  concatChannels: (a, b) => tf.concat([a, b], 3),
  upsample2: (x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [x.shape[1]! * 2, x.shape[2]! * 2], false, false),
  toTokens: (x) => tf.reshape(x, [x.shape[0]!, x.shape[1]! * x.shape[2]!, x.shape[3]!]),
  fromTokens: (x, side) => tf.reshape(x, [x.shape[0]!, side, side, x.shape[2]!]),
  attention: (q, k, v, scale) => tf.matMul(tf.softmax(tf.mul(tf.matMul(q, k, false, true), scale)), v),
  sinusoid: (t, freqs) => {
    const arg = tf.mul(tf.reshape(t, [-1, 1]), tf.reshape(freqs, [1, -1]));
    return tf.concat([tf.sin(arg), tf.cos(arg)], 1);
  },
};

/** Parameters in tfjs layout: conv filters [k,k,Cin,Cout]; as variables for training. */
function unetParams(trainable: boolean): Record<string, T> {
  const values = initialParams();
  const out: Record<string, T> = {};
  for (const p of UNET_PARAMS) {
    const data = values.get(p.name)!;
    const t = p.kind === 'conv' ? tf.tensor(oihwToHwio(data, p.shape), [p.shape[2]!, p.shape[3]!, p.shape[1]!, p.shape[0]!]) : tf.tensor(data, p.shape);
    out[p.name] = trainable ? tf.variable(t, true, `unet/${p.name}`) : t;
    if (trainable) t.dispose();
  }
  return out;
}

interface UNetState {
  params: Record<string, T>;
  x0: T;
  eps: T;
  t: T;
  tFloat: T;
  sqrtAbar: T;
  sqrtOneMinusAbar: T;
  freqs: T;
  xt: T | null;
  optimizer: tf.Optimizer | null;
}

function unetState(trainable: boolean): UNetState {
  const batch = fixedBatch();
  const tables = scheduleTables();
  const shape = [BATCH, IMAGE, IMAGE, 1]; // C = 1: NHWC and NCHW hold the same order
  const s: UNetState = {
    params: unetParams(trainable),
    x0: tf.tensor(batch.x0, shape),
    eps: tf.tensor(batch.eps, shape),
    t: tf.tensor1d(batch.t, 'int32'),
    tFloat: tf.tensor1d(batch.t, 'float32'),
    sqrtAbar: tf.tensor1d(tables.sqrtAbar),
    sqrtOneMinusAbar: tf.tensor1d(tables.sqrtOneMinusAbar),
    freqs: tf.tensor1d(tembFrequencies()),
    xt: null,
    optimizer: trainable ? tf.train.adam(ADAM.lr, ADAM.beta1, ADAM.beta2, ADAM.eps) : null,
  };
  if (!trainable) s.xt = tf.tidy(() => qSample(s));
  return s;
}

function qSample(s: UNetState): T {
  const a = tf.reshape(tf.gather(s.sqrtAbar, s.t), [BATCH, 1, 1, 1]);
  const b = tf.reshape(tf.gather(s.sqrtOneMinusAbar, s.t), [BATCH, 1, 1, 1]);
  return tf.add(tf.mul(a, s.x0), tf.mul(b, s.eps));
}

function disposeUNet(s: UNetState): void {
  disposeAll(s.params);
  for (const t of [s.x0, s.eps, s.t, s.tFloat, s.sqrtAbar, s.sqrtOneMinusAbar, s.freqs, s.xt]) t?.dispose();
  s.optimizer?.dispose();
}

const UNET_NOTE = "WORKLOADS' U-Net (827,233 params, 2.94 GFLOP fwd at batch 8), not ours (1,112,801 params, 3.98 GFLOP): compare GFLOP/s";

// ---- the table ---------------------------------------------------------------------------

const WORKLOADS: Record<string, () => PeerWorkload> = {
  matmul_256: () => matmul(256),
  matmul_1024: () => matmul(1024),
  add_4m: () => simple(() => ({ a: tf.tensor1d(normals([N4M], 2001)), b: tf.tensor1d(normals([N4M], 2002)) }), (s) => tf.add(s.a!, s.b!)),
  silu_4m: () => simple(() => ({ x: tf.tensor1d(normals([N4M], 3001)) }), (s) => silu(s.x!)),
  sum_4m: () => simple(() => ({ x: tf.tensor1d(normals([N4M], 4001)) }), (s) => tf.sum(s.x!)),
  conv3x3_fwd: () => simple(convState, (s) => conv3(s.x, s.w)),
  conv3x3_bwd: () => simple(convState, (s) => tf.grads((x: T, w: T) => tf.sum(tf.mul(conv3(x, w), s.g)))([s.x, s.w])),
  groupnorm_fwd: () => simple(groupNormState, (s) => groupNorm(s.x, s.gamma, s.beta, 32)),
  groupnorm_fwd_bwd: () =>
    simple(groupNormState, (s) =>
      tf.grads((x: T, gamma: T, beta: T) => tf.sum(tf.mul(groupNorm(x, gamma, beta, 32), s.g)))([s.x, s.gamma, s.beta]),
    ),
  attention_fwd: () => simple(attentionState, (s) => selfAttention(s.x, s.wq, s.wk, s.wv, s.wo)),
  attention_fwd_bwd: () =>
    simple(attentionState, (s) =>
      tf.grads((x: T, wq: T, wk: T, wv: T, wo: T) => tf.sum(tf.mul(selfAttention(x, wq, wk, wv, wo), s.g)))([s.x, s.wq, s.wk, s.wv, s.wo]),
    ),
  unet_forward: () =>
    definePeerWorkload({
      flops: WORKLOADS_UNET_FORWARD_FLOPS,
      note: UNET_NOTE,
      setup: () => unetState(false),
      rep: (s: UNetState) => syncRead(() => unetForward(ops, s.params, s.xt!, s.tFloat, s.freqs)),
      teardown: disposeUNet,
    }),
  unet_train_step: () =>
    definePeerWorkload({
      flops: 3 * WORKLOADS_UNET_FORWARD_FLOPS,
      note: `${UNET_NOTE}; Adam (lr 2e-4, eps 1e-8) by optimizer.minimize`,
      setup: () => unetState(true),
      rep: async (s: UNetState) => {
        const loss = tf.tidy(
          () =>
            s.optimizer!.minimize(
              () => tf.mean(tf.square(tf.sub(unetForward(ops, s.params, qSample(s), s.tFloat, s.freqs), s.eps))) as tf.Scalar,
              true,
              Object.values(s.params) as tf.Variable[],
            )!,
        );
        try {
          return (await loss.data())[0]!;
        } finally {
          loss.dispose();
        }
      },
      teardown: disposeUNet,
    }),
};

interface WebGPUBackendLike {
  device: GPUDevice;
  adapterInfo?: unknown;
}

export async function createTfjsPeer(): Promise<PeerEngine> {
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs: the webgpu backend did not initialise');
  await tf.ready();
  const backend = tf.backend() as unknown as WebGPUBackendLike;
  const device = backend.device;
  return {
    name: 'tfjs',
    describe: () => ({
      library: '@tensorflow/tfjs-core + @tensorflow/tfjs-backend-webgpu',
      version: tf.version_core,
      backend: tf.getBackend(),
      adapter: JSON.parse(JSON.stringify(backend.adapterInfo ?? null)) as unknown,
      layout: 'NHWC activations, [k,k,Cin,Cout] filters (WORKLOADS.md); conv with bias as tf.fused.conv2d',
    }),
    workload: (name) => WORKLOADS[name]?.() ?? `tfjs: no definition of '${name}'`,
    idle: () => device.queue.onSubmittedWorkDone(),
  };
}
