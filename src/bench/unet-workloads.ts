// The U-Net workloads of bench/WORKLOADS.md: inference and one diffusion training step
// (q_sample, forward, MSE, backward, Adam) at batch 8 on 32x32x1 images.
//
// The network is our UNet built from a config as close to WORKLOADS' as our (diffusers
// UNet2DModel) layout allows. It is larger: every up level has resBlocksPerLevel + 1 = 2
// ResBlocks (the extra one consumes the skip of conv_in or of a downsampler), with attention
// after both at 8x8. FLOP rates use our model's own FLOP count; bench/README.md lists the
// differences.

import { backward, CapturedRun, live, mseLoss, noGrad, Rng, runtime, tensor, type Tensor, zeroGrad } from '../engine/index.ts';
import type { UNetConfig } from '../model/config.ts';
import { GaussianDiffusion } from '../model/diffusion/gaussian-diffusion.ts';
import { ReplayedForward } from '../model/replayed-forward.ts';
import { Adam } from '../model/train/optimizer.ts';
import { UNet } from '../model/unet.ts';
import { defineWorkload, randn, type Workload } from './workload.ts';

/** The U-Net of WORKLOADS.md, for comparison with ours. */
export const WORKLOADS_UNET = { params: 827_233, forwardFlops: 2_942_500_864 } as const;

export const BENCH_UNET_CONFIG: Partial<UNetConfig> = {
  imageSize: 32,
  inChannels: 1,
  outChannels: 1,
  baseChannels: 32,
  channelMultipliers: [1, 2, 2],
  // The fewest our layout allows; the up path then has 2 ResBlocks per level (WORKLOADS: 1).
  resBlocksPerLevel: 1,
  attentionResolutions: [8],
  heads: 1,
  normGroups: 8,
  normEps: 1e-5,
  dropout: 0,
  // DDPM's timestep embedding: sin first, frequencies exp(−ln(10⁴)·i/(half − 1)).
  flipSinToCos: false,
  freqShift: 1,
};

const BATCH = 8;
const IMAGE_SHAPE = [BATCH, 1, 32, 32];
const TIMESTEPS = 1000;
const ADAM = { lr: 2e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 0 };
const SEEDS = { weights: 6100, x0: 6001, eps: 6002, t: 6003 };
/** WORKLOADS' tfjs sanity values for the loss of the first and the 4th training step. */
const TFJS_LOSSES = { first: 1.337, fourth: 0.8231 };
const FLOAT_BYTES = 4;
const ADAM_BUFFERS = 4; // parameters, gradients, m, v

/** Our model's size and work at batch 8, from its plan (no GPU needed). */
export const BENCH_UNET_PLAN = (() => {
  const model = new UNet(BENCH_UNET_CONFIG);
  const plan = model.plan(BATCH);
  return { params: model.parameterCount(), forwardFlops: plan.totalFlops, activationElements: plan.activationElements };
})();

const MODEL_SUMMARY =
  `our UNet (base 32, mults 1,2,2, 1 ResBlock per down level and 2 per up level, attention at 8x8 after each ResBlock and in the middle): ` +
  `${BENCH_UNET_PLAN.params} params, ${BENCH_UNET_PLAN.forwardFlops} fwd FLOPs at batch 8 ` +
  `(WORKLOADS' U-Net: ${WORKLOADS_UNET.params} / ${WORKLOADS_UNET.forwardFlops}); GFLOP/s use ours`;

/** WORKLOADS' initialisation: conv/linear weights ~ N(0, 1/fan_in), biases 0, GroupNorm 1/0. */
function initializeAsWorkloads(model: UNet, seed: number): void {
  const rng = new Rng(seed);
  const values = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, p] of model.namedParameters()) {
    const data = new Float32Array(p.size);
    if (p.init.kind === 'ones') data.fill(1);
    else if (p.init.kind === 'uniform-fan-in' && p.shape.length > 1) data.set(rng.normals(p.size, 1 / Math.sqrt(p.init.fanIn)));
    values.set(name, { shape: [...p.shape], data });
  }
  model.loadStateDict(values);
}

interface FixedBatch {
  x0: Tensor;
  eps: Tensor;
  t: Tensor;
}

/** x0 ~ U(−1,1), eps ~ N(0,1), t ~ U{0..999}: created once, used by every step. */
function fixedBatch(diffusion: GaussianDiffusion): FixedBatch {
  const tRng = new Rng(SEEDS.t);
  return {
    x0: tensor(Float32Array.from(new Rng(SEEDS.x0).uniforms(BATCH * 32 * 32, -1, 1)), IMAGE_SHAPE),
    eps: randn(IMAGE_SHAPE, SEEDS.eps),
    t: diffusion.timesteps(Array.from({ length: BATCH }, () => tRng.int(TIMESTEPS))),
  };
}

function buildModel(): UNet {
  const model = new UNet(BENCH_UNET_CONFIG).build(SEEDS.weights);
  initializeAsWorkloads(model, SEEDS.weights);
  return model;
}

const linearSchedule = (): GaussianDiffusion => new GaussianDiffusion({ schedule: { type: 'linear', T: TIMESTEPS } });

// ---- unet_forward --------------------------------------------------------------------------

interface ForwardState {
  model: UNet;
  /** The forward captured at the first (warm-up) rep and replayed after, as sampling runs it. */
  forward: ReplayedForward;
  xt: Tensor;
  t: Tensor;
}

export const unetForward = defineWorkload({
  name: 'unet_forward',
  description: `eps_pred = UNet(x_t, t), batch 8, no tape, captured at the warm-up rep and replayed; x_t = q_sample of the fixed batch (untimed). ${MODEL_SUMMARY}`,
  flops: BENCH_UNET_PLAN.forwardFlops,
  warmupReps: 1,
  timedReps: 3,
  setup: (): ForwardState => {
    const model = buildModel().eval();
    const diffusion = linearSchedule();
    const batch = fixedBatch(diffusion);
    const xt = diffusion.qSample(batch.x0, batch.t, batch.eps);
    batch.x0.dispose();
    batch.eps.dispose();
    diffusion.dispose();
    const weights = model.parameters().map((p) => p.value);
    return { model, forward: new ReplayedForward((x, t) => model.forward(x, t), 'replay', weights), xt, t: batch.t };
  },
  run: (s) => noGrad(() => s.forward.forward(s.xt, s.t)),
  teardown: (s) => {
    s.forward.dispose();
    s.model.dispose();
    s.xt.dispose();
    s.t.dispose();
  },
});

// ---- unet_train_step -----------------------------------------------------------------------

/** What the train-step workload observes besides its timings (WORKLOADS' sanity values, memory). */
export interface TrainStepReport {
  /** Loss of the first step (the first warm-up rep), before any update. */
  firstStepLoss: number | null;
  /** Pool bytes in use at the peak of each step (size classes; buffers of the step's tensors). */
  peakPoolInUseBytes: number[];
  /** The parameter arena's buffers: values, Adam's gradients, m and v (outside the pool). */
  arenaBytes: number;
  /** Parameters + gradients + m + v (exact sizes) + every forward intermediate of our plan. */
  lowerBoundBytes: number;
  /** The parameter part of the lower bound: 4 · params · 4 B. */
  optimizerStateBytes: number;
  /** The activation part: plan(8).activationElements · 4 B. */
  activationBytes: number;
}

interface TrainState {
  model: UNet;
  params: Tensor[];
  diffusion: GaussianDiffusion;
  adam: Adam;
  batch: FixedBatch;
  /** The step, captured at the first rep. */
  captured: CapturedRun | null;
  steps: number;
  report: TrainStepReport;
}

const BASE_TRAIN_DESCRIPTION =
  'x_t = q_sample(x0, t, eps) (linear schedule), loss = mse(UNet(x_t, t), eps), backward, Adam ' +
  `(lr 2e-4, β 0.9/0.999, eps 1e-8, no clipping), captured at the warm-up rep and replayed; sync on the loss. ${MODEL_SUMMARY}`;

const MB = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function describeReport(r: TrainStepReport, steps: number): string {
  const peak = Math.max(...r.peakPoolInUseBytes);
  return (
    `${BASE_TRAIN_DESCRIPTION}. Measured: first-step loss ${r.firstStepLoss?.toFixed(4)} (tfjs ${TFJS_LOSSES.first}); ` +
    `check.checksum = loss of step ${steps} (tfjs 4th step ${TFJS_LOSSES.fourth}); ` +
    `peak pooled bytes in use per step ${MB(peak)} (${peak} B; per step ${r.peakPoolInUseBytes.join(', ')}) + parameter arena ${MB(r.arenaBytes)} ` +
    `(params, Adam grads/m/v) = ${MB(peak + r.arenaBytes)}; lower bound ${MB(r.lowerBoundBytes)} = ` +
    `params+grads+m+v ${MB(r.optimizerStateBytes)} + forward activations ${MB(r.activationBytes)} (plan estimate)`
  );
}

export const unetTrainStep: Workload = defineWorkload({
  name: 'unet_train_step',
  description: BASE_TRAIN_DESCRIPTION,
  flops: 3 * BENCH_UNET_PLAN.forwardFlops,
  warmupReps: 1,
  timedReps: 3,
  setup: (): TrainState => {
    const model = buildModel();
    const diffusion = linearSchedule();
    const adam = new Adam(model, ADAM);
    const optimizerStateBytes = ADAM_BUFFERS * BENCH_UNET_PLAN.params * FLOAT_BYTES;
    const activationBytes = BENCH_UNET_PLAN.activationElements * FLOAT_BYTES;
    return {
      model,
      params: model.parameters().map((p) => p.value),
      diffusion,
      adam,
      batch: fixedBatch(diffusion),
      captured: null,
      steps: 0,
      report: {
        firstStepLoss: null,
        peakPoolInUseBytes: [],
        arenaBytes: ADAM_BUFFERS * model.arena!.bytes,
        lowerBoundBytes: optimizerStateBytes + activationBytes,
        optimizerStateBytes,
        activationBytes,
      },
    };
  },
  run: (s) => {
    const pool = runtime().pool;
    // The peak since the previous step began covers that step, its sync and its freeing.
    if (s.steps > 0) s.report.peakPoolInUseBytes.push(pool.getStats().peakInUseBytes);
    pool.resetPeaks();
    const { x0, eps, t } = s.batch;
    // Captured at the first (warm-up) rep and replayed after, as training runs it; Adam's step is live.
    s.adam.step++;
    let loss: Tensor;
    if (s.captured) loss = s.captured.replay([x0, eps, t]);
    else {
      const step = live("Adam's step", () => s.adam.step);
      ({ run: s.captured, result: loss } = CapturedRun.capture([x0, eps, t], (x0s, epss, ts) => {
        const loss = mseLoss(s.model.forward(s.diffusion.qSample(x0s, ts, epss), ts), epss);
        backward(loss);
        s.adam.encodeUpdate(ADAM.lr, step);
        zeroGrad(s.params);
        return loss;
      }));
    }
    // Only in the first (untimed warm-up) rep: an extra readback there costs no timed work.
    if (s.steps === 0) void loss.read().then((v) => (s.report.firstStepLoss = v[0]!));
    s.steps++;
    return loss;
  },
  teardown: (s) => {
    s.report.peakPoolInUseBytes.push(runtime().pool.getStats().peakInUseBytes);
    unetTrainStep.description = describeReport(s.report, s.steps);
    console.info(`bench unet_train_step: ${unetTrainStep.description}`);
    zeroGrad(s.params);
    s.captured?.dispose();
    s.model.dispose();
    s.diffusion.dispose();
    for (const t of Object.values(s.batch)) t.dispose();
  },
});

export const UNET_WORKLOADS: Workload[] = [unetForward, unetTrainStep];
