// jax-js 0.1.25 (WebGPU device) on the workloads of bench/WORKLOADS.md. Every workload is one
// `jit`-compiled function (jax-js fuses elementwise chains and reductions into its kernels), the
// gradient workloads `jit(grad(f))`, the train step one jitted function of valueAndGrad plus the
// Adam update. NCHW, as ours. The synced scalar `Σ sum(output_i)` is a second jitted function,
// read back with `await array.data()` (which submits the pending kernels and maps 4 bytes).
// Loaded into the harness page only by `ddpm bench --peers jax`, on its own GPUDevice.

import { defaultDevice, getWebGPUDevice, grad, init, jit, lax, nn, numpy as np, valueAndGrad } from '@jax-js/jax';
import { definePeerWorkload, normals, type PeerEngine, type PeerWorkload } from './common.ts';
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

type A = np.Array;

const arr = (data: Float32Array, shape: number[]): A => np.array(data, { shape });

/** `Σ sum(t_i)` as its own jitted function (so it cannot fuse into the workload's kernels). */
const syncSum = jit((outs: A[]) => outs.map((o) => np.sum(o)).reduce((a, b) => np.add(a, b)));

/** Reads back the synced scalar of `outs` (consumed). */
async function syncRead(outs: A | A[]): Promise<number> {
  const s = syncSum(Array.isArray(outs) ? outs : [outs]);
  return (await s.data())[0]!;
}

/** A workload of resident inputs and one jitted function of them; inputs are passed as new references. */
function simple(setup: () => A[], f: (...xs: A[]) => A | A[]): PeerWorkload {
  const fn = jit(f);
  return definePeerWorkload({
    setup,
    rep: (xs: A[]) => syncRead(fn(...xs.map((x) => x.ref))),
    teardown: (xs: A[]) => {
      xs.forEach((x) => x.dispose());
      fn.dispose();
    },
  });
}

// ---- micro-benchmarks ----------------------------------------------------------------------

const N4M = 4 * 1024 * 1024;
const matmul = (n: number) => simple(() => [arr(normals([n, n], 1001), [n, n]), arr(normals([n, n], 1002), [n, n])], (a, b) => np.matmul(a!, b!));

// ---- layers (NCHW) -------------------------------------------------------------------------

const IMG = [8, 64, 32, 32];
const convInputs = (): A[] => [arr(normals(IMG, 5001), IMG), arr(normals([64, 64, 3, 3], 5002, 1 / 24), [64, 64, 3, 3]), arr(normals(IMG, 5003), IMG)];
const conv3 = (x: A, w: A): A => lax.convGeneralDilated(x, w, [1, 1], [[1, 1], [1, 1]]);

/** GroupNorm over NCHW: statistics over each group's C/G channels and all positions (biased variance). */
function groupNorm(x: A, gamma: A, beta: A, groups: number): A {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const xr = np.reshape(x, [n, groups, (c / groups) * h * w]);
  const mean = np.mean(xr.ref, 2, { keepdims: true });
  const xc = np.subtract(xr, mean);
  const variance = np.mean(np.square(xc.ref), 2, { keepdims: true });
  const y = np.reshape(np.multiply(xc, lax_rsqrt(np.add(variance, EPS))), [n, c, h, w]);
  return np.add(np.multiply(y, np.reshape(gamma, [1, c, 1, 1])), np.reshape(beta, [1, c, 1, 1]));
}

const lax_rsqrt = (x: A): A => np.reciprocal(np.sqrt(x));

const groupNormInputs = (): A[] => [
  arr(normals(IMG, 5101), IMG),
  arr(normals([64], 5102, 0.1, 1), [64]),
  arr(normals([64], 5103, 0.1), [64]),
  arr(normals(IMG, 5104), IMG),
];

const TOKENS = [8, 256, 64];
const attentionInputs = (): A[] => [
  arr(normals(TOKENS, 5201), TOKENS),
  ...[5202, 5203, 5204, 5205].map((seed) => arr(normals([64, 64], seed, 1 / 8), [64, 64])),
  arr(normals(TOKENS, 5206), TOKENS),
];

const softmaxAttention = (q: A, k: A, v: A, scale: number): A =>
  np.matmul(nn.softmax(np.multiply(np.matmul(q, np.swapaxes(k, 1, 2)), scale), -1), v);

function selfAttention(x: A, wq: A, wk: A, wv: A, wo: A): A {
  const q = np.matmul(x.ref, wq);
  const k = np.matmul(x.ref, wk);
  const v = np.matmul(x, wv);
  return np.matmul(softmaxAttention(q, k, v, 1 / 8), wo);
}

// ---- the U-Net (WORKLOADS') ----------------------------------------------------------------

const ops: NetOps<A> = {
  dup: (x) => x.ref,
  conv: (x, w, b, k, stride) => {
    const pad: [number, number][] = k === 3 ? [[1, 1], [1, 1]] : [[0, 0], [0, 0]];
    const y = lax.convGeneralDilated(x, w, [stride, stride], pad);
    return np.add(y, np.reshape(b, [1, -1, 1, 1]));
  },
  groupNorm,
  silu: (x) => nn.silu(x),
  add: (a, b) => np.add(a, b),
  linear: (x, w, b) => np.add(np.matmul(x, w), b),
  addChannelVector: (h, v) => {
    const [n, c] = v.shape as [number, number];
    return np.add(h, np.reshape(v, [n, c, 1, 1]));
  },
  concatChannels: (a, b) => np.concatenate([a, b], 1),
  upsample2: (x) => np.repeat(np.repeat(x, 2, 2), 2, 3),
  toTokens: (x) => {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    return np.transpose(np.reshape(x, [n, c, h * w]), [0, 2, 1]);
  },
  fromTokens: (x, side) => {
    const [n, , c] = x.shape as [number, number, number];
    return np.reshape(np.transpose(x, [0, 2, 1]), [n, c, side, side]);
  },
  attention: softmaxAttention,
  sinusoid: (t, freqs) => {
    const arg = np.multiply(np.reshape(t, [-1, 1]), np.reshape(freqs, [1, -1]));
    return np.concatenate([np.sin(arg.ref), np.cos(arg)], 1);
  },
};

type Params = Record<string, A>;

function unetParams(): Params {
  const values = initialParams();
  return Object.fromEntries(UNET_PARAMS.map((p) => [p.name, arr(values.get(p.name)!, p.shape)]));
}

const refs = (p: Params): Params => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.ref]));

interface UNetState {
  params: Params;
  m: Params;
  v: Params;
  step: number;
  x0: A;
  eps: A;
  t: A;
  tFloat: A;
  sqrtAbar: A;
  sqrtOneMinusAbar: A;
  freqs: A;
  xt: A | null;
}

const IMAGE_SHAPE = [BATCH, 1, IMAGE, IMAGE];

function qSample(x0: A, eps: A, t: A, sqrtAbar: A, sqrtOneMinusAbar: A): A {
  const a = np.reshape(np.take(sqrtAbar, t.ref, 0), [BATCH, 1, 1, 1]);
  const b = np.reshape(np.take(sqrtOneMinusAbar, t, 0), [BATCH, 1, 1, 1]);
  return np.add(np.multiply(a, x0), np.multiply(b, eps));
}

function unetState(train: boolean): UNetState {
  const batch = fixedBatch();
  const tables = scheduleTables();
  const params = unetParams();
  const zeros = (): Params => Object.fromEntries(UNET_PARAMS.map((p) => [p.name, np.zeros(p.shape)]));
  const s: UNetState = {
    params,
    m: train ? zeros() : {},
    v: train ? zeros() : {},
    step: 0,
    x0: arr(batch.x0, IMAGE_SHAPE),
    eps: arr(batch.eps, IMAGE_SHAPE),
    t: np.array(Int32Array.from(batch.t), { dtype: np.int32 }),
    tFloat: arr(Float32Array.from(batch.t), [BATCH]),
    sqrtAbar: arr(tables.sqrtAbar, [tables.sqrtAbar.length]),
    sqrtOneMinusAbar: arr(tables.sqrtOneMinusAbar, [tables.sqrtOneMinusAbar.length]),
    freqs: arr(tembFrequencies(), [16]),
    xt: null,
  };
  if (!train) s.xt = qSample(s.x0.ref, s.eps.ref, s.t.ref, s.sqrtAbar.ref, s.sqrtOneMinusAbar.ref);
  return s;
}

function disposeUNet(s: UNetState): void {
  for (const group of [s.params, s.m, s.v]) Object.values(group).forEach((a) => a.dispose());
  for (const a of [s.x0, s.eps, s.t, s.tFloat, s.sqrtAbar, s.sqrtOneMinusAbar, s.freqs, s.xt]) a?.dispose();
}

const UNET_NOTE = "WORKLOADS' U-Net (827,233 params, 2.94 GFLOP fwd at batch 8), not ours (1,112,801 params, 3.98 GFLOP): compare GFLOP/s";

function unetForwardWorkload(): PeerWorkload {
  const fwd = jit((p: Params, xt: A, t: A, freqs: A) => unetForward(ops, p, xt, t, freqs));
  return definePeerWorkload({
    flops: WORKLOADS_UNET_FORWARD_FLOPS,
    note: `${UNET_NOTE}; one jitted forward`,
    setup: () => unetState(false),
    rep: (s: UNetState) => syncRead(fwd(refs(s.params), s.xt!.ref, s.tFloat.ref, s.freqs.ref)),
    teardown: (s: UNetState) => {
      disposeUNet(s);
      fwd.dispose();
    },
  });
}

/** q_sample, forward, MSE, gradients and one Adam update (bias-corrected; c1, c2 = 1/(1 − β^step)) as one jitted step. */
function unetTrainWorkload(): PeerWorkload {
  const lossOf = (p: Params, xt: A, eps: A, t: A, freqs: A): A =>
    np.mean(np.square(np.subtract(unetForward(ops, p, xt, t, freqs), eps)));
  const step = jit((p: Params, m: Params, v: Params, x0: A, eps: A, t: A, tFloat: A, sa: A, sb: A, freqs: A, c1: A, c2: A) => {
    const xt = qSample(x0, eps.ref, t, sa, sb);
    const [loss, g] = valueAndGrad(lossOf)(refs(p), xt, eps, tFloat, freqs);
    const next: Params = {};
    const nextM: Params = {};
    const nextV: Params = {};
    for (const name of Object.keys(p)) {
      const gi = g[name]!;
      const mi = np.add(np.multiply(m[name]!, ADAM.beta1), np.multiply(gi.ref, 1 - ADAM.beta1));
      const vi = np.add(np.multiply(v[name]!, ADAM.beta2), np.multiply(np.square(gi), 1 - ADAM.beta2));
      const mHat = np.multiply(mi.ref, c1.ref);
      const vHat = np.multiply(vi.ref, c2.ref);
      next[name] = np.subtract(p[name]!, np.divide(np.multiply(mHat, ADAM.lr), np.add(np.sqrt(vHat), ADAM.eps)));
      nextM[name] = mi;
      nextV[name] = vi;
    }
    c1.dispose();
    c2.dispose();
    return { loss, p: next, m: nextM, v: nextV };
  });
  return definePeerWorkload({
    flops: 3 * WORKLOADS_UNET_FORWARD_FLOPS,
    note: `${UNET_NOTE}; one jitted step: valueAndGrad + Adam (lr 2e-4, eps 1e-8)`,
    setup: () => unetState(true),
    rep: (s: UNetState) => {
      s.step++;
      const c1 = np.array(1 / (1 - ADAM.beta1 ** s.step));
      const c2 = np.array(1 / (1 - ADAM.beta2 ** s.step));
      const out = step(s.params, s.m, s.v, s.x0.ref, s.eps.ref, s.t.ref, s.tFloat.ref, s.sqrtAbar.ref, s.sqrtOneMinusAbar.ref, s.freqs.ref, c1, c2);
      s.params = out.p;
      s.m = out.m;
      s.v = out.v;
      return out.loss.data().then((d) => d[0]!);
    },
    teardown: (s: UNetState) => {
      disposeUNet(s);
      step.dispose();
    },
  });
}

// ---- the table ---------------------------------------------------------------------------

const WORKLOADS: Record<string, () => PeerWorkload> = {
  matmul_256: () => matmul(256),
  matmul_1024: () => matmul(1024),
  add_4m: () => simple(() => [arr(normals([N4M], 2001), [N4M]), arr(normals([N4M], 2002), [N4M])], (a, b) => np.add(a!, b!)),
  silu_4m: () => simple(() => [arr(normals([N4M], 3001), [N4M])], (x) => nn.silu(x!)),
  sum_4m: () => simple(() => [arr(normals([N4M], 4001), [N4M])], (x) => np.sum(x!)),
  conv3x3_fwd: () =>
    simple(convInputs, (x, w, g) => {
      g!.dispose();
      return conv3(x!, w!);
    }),
  conv3x3_bwd: () =>
    simple(convInputs, (x, w, g) => grad((xx: A, ww: A) => np.sum(np.multiply(conv3(xx, ww), g!)), { argnums: [0, 1] })(x!, w!)),
  groupnorm_fwd: () =>
    simple(groupNormInputs, (x, gamma, beta, g) => {
      g!.dispose();
      return groupNorm(x!, gamma!, beta!, 32);
    }),
  groupnorm_fwd_bwd: () =>
    simple(groupNormInputs, (x, gamma, beta, g) =>
      grad((xx: A, gg: A, bb: A) => np.sum(np.multiply(groupNorm(xx, gg, bb, 32), g!)), { argnums: [0, 1, 2] })(x!, gamma!, beta!),
    ),
  attention_fwd: () =>
    simple(attentionInputs, (x, wq, wk, wv, wo, g) => {
      g!.dispose();
      return selfAttention(x!, wq!, wk!, wv!, wo!);
    }),
  attention_fwd_bwd: () =>
    simple(attentionInputs, (x, wq, wk, wv, wo, g) =>
      grad((a: A, b: A, c: A, d: A, e: A) => np.sum(np.multiply(selfAttention(a, b, c, d, e), g!)), { argnums: [0, 1, 2, 3, 4] })(
        x!,
        wq!,
        wk!,
        wv!,
        wo!,
      ),
    ),
  unet_forward: unetForwardWorkload,
  unet_train_step: unetTrainWorkload,
};

export async function createJaxPeer(): Promise<PeerEngine> {
  const available = await init('webgpu');
  if (!available.includes('webgpu')) throw new Error('jax-js: the webgpu device did not initialise');
  defaultDevice('webgpu');
  const device = getWebGPUDevice();
  return {
    name: 'jax',
    describe: () => ({
      library: '@jax-js/jax',
      version: '0.1.25',
      backend: 'webgpu',
      adapter: { vendor: device.adapterInfo?.vendor, architecture: device.adapterInfo?.architecture },
      layout: 'NCHW, as ours; every workload one jit-compiled function (gradients: jit(grad(f))), the sync sum a second one',
    }),
    workload: (name) => WORKLOADS[name]?.() ?? `jax: no definition of '${name}'`,
    idle: () => device.queue.onSubmittedWorkDone(),
  };
}
