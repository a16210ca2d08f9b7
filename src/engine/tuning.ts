// Kernel shapes that depend on the adapter, chosen once from what it reports (never guessed per
// call). A software adapter (SwiftShader: CPU threads running SIMD lanes) and a real GPU want
// different shapes where workgroup memory is involved: on a CPU it is just more memory traffic.

import type { DeviceReport } from './device.ts';
import { SHADER_F16, supportsF16 } from './dtype.ts';

export interface KernelTuning {
  /**
   * A conv2d launch that neither the window nor the row kernel takes uses the workgroup-memory
   * (tiled) kernel above this many output channels, the direct kernel at or below.
   */
  convTiledMinChannels: number;
  /**
   * Pixels per thread the conv row kernel may take, first fitting first (stride-1 launches whose
   * output rows split into whole runs of that many); empty: never the row kernel.
   */
  convRowPixels: number[];
  /** The row kernel runs launches it fits with up to this many output channels (ahead of the tiled one). */
  convRowsMaxChannels: number;
  /** Output channels per thread of the row kernel where they divide the layer's (else 8). */
  convRowChannels: number;
  /**
   * Small-output launches (weight gradients of stride-1 convs) with up to this many output
   * channels use the window kernel, ahead of the tiled one; 0: never.
   */
  convWindowMaxChannels: number;
  /**
   * Workgroups the conv weight gradient should occupy: with fewer, its sum over the batch is
   * split (split-K in one dispatch, then one reduction) until this many run.
   */
  convWeightGradTargetWorkgroups: number;
  /**
   * A weight gradient whose images have at most this many taps (output pixels) runs as one
   * matmul over im2col columns instead of a conv kernel; 0: never.
   */
  convWeightGradMatmulMaxTaps: number;
  /** Whether matmul uses the workgroup-memory tiled kernel (transposes read in its loaders). */
  matmulTiled: boolean;
  /**
   * Workgroups a matmul should occupy: with fewer, a long K is split into slices (split-K) until
   * this many run, each slice at least MATMUL_MIN_SPLIT_K long.
   */
  matmulTargetWorkgroups: number;
  /**
   * Workgroups the block kernels' (software) block per invocation shrinks toward: with fewer,
   * rows then columns per invocation halve until this many run.
   */
  matmulBlockTargetWorkgroups: number;
  /**
   * Block kernels: a matmul of fewer FLOPs (2·M·N·K per batch, all batches) takes blocks of at
   * most MATMUL_SMALL_WORK_ROWS rows per invocation.
   */
  matmulLargeBlockMinFlops: number;
  /** Parallel items (output × lane) a sum's first pass aims for; each lane then sums a strided share. */
  reduceTargetItems: number;
  /** Whether a sum's lanes take contiguous runs (a CPU's caches) rather than interleaving (a GPU's coalescing). */
  reduceChunked: boolean;
  /**
   * Whether an invocation of the vec4 elementwise kernels takes one contiguous run of vec4s (a
   * CPU's caches, no bounds branches) rather than vec4s a stride apart (a GPU's coalescing).
   */
  elementwiseContiguous: boolean;
  /** Whether fused attention streams K/V (or Q/dO) tiles through workgroup memory (FlashAttention-2 style). */
  attentionTiled: boolean;
  /**
   * The register kernels of fused attention hold 4 rows × up to 4 head-dim arrays per invocation;
   * past this head dim attention takes the tiled kernels whatever `attentionTiled` says.
   */
  attentionRegisterMaxHeadDim: number;
  /** Whether transposing copies (permute) stage tiles in workgroup memory. */
  transposeTiled: boolean;
  /**
   * Attention over attentionMaterialiseMinKeys to attentionMaterialiseMaxKeys keys materialises
   * the scores (matmul, softmax, matmul); the rest runs fused. Max 0: never.
   */
  attentionMaterialiseMaxKeys: number;
  attentionMaterialiseMinKeys: number;
  /**
   * Whether reductions inside a workgroup (softmax rows, the sum's GPU pass) use subgroup
   * operations; only where the device has the 'subgroups' feature.
   */
  subgroups: boolean;
  /** Whether softmax rows take one invocation each (no barriers) rather than a workgroup each. */
  softmaxThreadPerRow: boolean;
  /**
   * Whether GroupNorm's statistics take one dispatch, a workgroup per (sample, group) reducing
   * in workgroup memory, rather than two barrier-free ones (per-chunk sums, then their merge).
   */
  groupNormWorkgroupStats: boolean;
  /**
   * Whether sampling runs the network in f16 (weights and activations stored in half precision,
   * arithmetic in f32; training stays f32); only where the device has 'shader-f16'.
   */
  sampleInHalf: boolean;
  /**
   * Bytes a tensor binding may span: the device's storage-binding (and buffer) limit. Lower it
   * to rehearse a smaller device: training then splits its batch into micro-batches, and a
   * launch that binds a larger tensor is refused with its name.
   */
  maxBindingBytes: number;
}

/** Device features that some tuning choices need: a choice is refused on a device without its feature. */
export const TUNING_FEATURES: { readonly [K in keyof KernelTuning]?: string } = { subgroups: 'subgroups', sampleInHalf: SHADER_F16 };

/** The device features that `overrides` turn on. */
export function featuresTurnedOn(overrides: Partial<KernelTuning>): string[] {
  return Object.entries(TUNING_FEATURES)
    .filter(([field]) => overrides[field as keyof KernelTuning] === true)
    .map(([, feature]) => feature);
}

/** Whether the adapter is a CPU implementation of WebGPU (SwiftShader or another fallback). */
export function isSoftwareAdapter(report: DeviceReport): boolean {
  return report.isFallbackAdapter || report.adapter.architecture === 'swiftshader';
}

/** Which class of adapter kernel shapes are chosen for: a CPU implementation, or a real GPU. */
export type AdapterClass = 'software' | 'gpu';
export const ADAPTER_CLASSES: readonly AdapterClass[] = ['software', 'gpu'];

/**
 * The kernel shapes for this adapter. `shapesFor` picks the other class's shapes (a real GPU's
 * kernels run on a CPU adapter, as the lavapipe checks do); features and limits stay the device's.
 */
export function kernelTuning(report: DeviceReport, shapesFor: AdapterClass = isSoftwareAdapter(report) ? 'software' : 'gpu'): KernelTuning {
  const software = shapesFor === 'software';
  return {
    // On a GPU, workgroup-memory tiles pay off as soon as a 32-row tile is mostly filled. On
    // SwiftShader the direct kernel takes what is left (stride-2 convs, some weight gradients) as
    // fast as the tiled one (bench U-Net step 3.30 / 3.34 s), and the tiled pipeline's workgroup
    // memory costs ~1 s to build on first use (unet_forward's first call 4.6 → 3.6–3.8 s).
    convTiledMinChannels: software ? 4096 : 16,
    // With its taps unrolled, the row kernel beats the tiled one on SwiftShader at any width
    // (Chromium, GPU time: [8,64,16,16] 3×3 forward 62 → 36–38 ms, input gradient 63 → 35–37;
    // the bench U-Net's train step 5.0 → 3.6 s). On a GPU the tiled kernel keeps every launch over 16.
    convRowsMaxChannels: software ? 4096 : 16,
    // 16 channels per thread halve the filter loads per multiply-add on SwiftShader: bench U-Net
    // step 3.68 → 3.34 s (its first call, pipeline builds included, 10.8 → 12.4 s).
    convRowChannels: software ? 16 : 8,
    // Runs of 4 as well on a software adapter (the 4x4 level of fashion-16): forward convs of a
    // batch-16 step 142 → 120 ms, input gradients 98–101 → 88–94 ms; on a GPU the extra filter
    // packing copies (26 dispatches a step) would cost more than they save.
    convRowPixels: software ? [16, 8, 4] : [16, 8],
    // On SwiftShader the window kernel beats the tiled one at any width: conv3x3_bwd (64
    // channels, its weight gradient by the window kernel instead of the tiled one) 822 → 675 ms
    // in Chromium. On a GPU the tiled kernel keeps every launch over 16 channels.
    convWindowMaxChannels: software ? 4096 : 16,
    // SwiftShader runs a workgroup per CPU thread; an H100 has 132 SMs, each with several in flight
    // (there, 64 left the ddpm-cifar10 weight gradients at 72 workgroups of 65536-long sums).
    convWeightGradTargetWorkgroups: software ? 64 : 1024,
    // On SwiftShader a 4×4 image's 3×3 weight gradient (32 channels, batch 16) took 4.2 ms in the
    // direct kernel for 4.7 MFLOP; by im2col and the block matmul the fashion-16 step's weight
    // gradients went 99–113 → 74 ms of GPU time (training 2.52–2.61 → 2.69–2.77 steps/s). Up to
    // 64 taps (8×8 images) the step was no faster and the bench U-Net's 8×8 level took 1.5 s more
    // of pipeline builds on first use; 256 was slower. A GPU keeps its tiled split-K conv kernel.
    convWeightGradMatmulMaxTaps: software ? 16 : 0,
    matmulTiled: !software,
    // A GPU has tens of compute units with several workgroups each in flight; SwiftShader runs one
    // workgroup per CPU thread at a time.
    matmulTargetWorkgroups: software ? 8 : 256,
    // One workgroup per CPU thread keeps every thread busy; past that, smaller blocks only reload
    // operands: matmul_256 with 32-row blocks in 2 workgroups took 6.8 ms against 10.1 with
    // 8-row blocks in 8 (Chromium, 2 threads; wall 10.6 → 7.3–8.8 ms in the bench).
    matmulBlockTargetWorkgroups: software ? (report.cpuThreads ?? 8) : 256,
    // A 16- or 32-row block takes 1.0–3.0 s to build on SwiftShader (8 rows: 0.5 s), and saves a
    // small matmul only a fraction of its run time: the fashion-16 step's matmuls are 0.5–9.4
    // MFLOP, so a whole training run saves less than their first step spends building them.
    matmulLargeBlockMinFlops: software ? 2 ** 24 : 0,
    // Faster on an H100 (Dawn/Vulkan): attention_fwd 0.081 vs 0.673 ms of GPU time, forward +
    // backward 0.314 vs 3.62, ddpm-cifar10's batch-128 step 560 vs 710 ms.
    attentionMaterialiseMaxKeys: 1024,
    // On SwiftShader, with a thread per softmax row, materialised attention_fwd_bwd (256 keys)
    // took 280 ms against 404 fused (forward 95 / 94), and its pipelines build in 0.36 s instead
    // of 1.45; at 64 keys (the bench's U-Net) and 16 (fashion-16) the two were even (train step
    // 6.47 / 6.29 s; 27 / 34 ms of attention GPU time) and fused takes fewer dispatches.
    attentionMaterialiseMinKeys: software ? 128 : 0,
    transposeTiled: !software,
    attentionTiled: !software,
    // At head dim 256 the key-value-grad register kernel needs 16 KiB per invocation: NVIDIA's
    // Vulkan driver (H100, 580.159) refuses to build it ("failed to validate local memory").
    attentionRegisterMaxHeadDim: software ? 256 : 128,
    // Measured on SwiftShader (4M-element sum, one pass): 1024 contiguous runs 7.0–9.5 ms,
    // 16384 interleaved lanes 10.4–11.9 ms, 64 runs 13 ms.
    reduceTargetItems: software ? 1024 : 16384,
    reduceChunked: software,
    // add_4m's kernel on SwiftShader (Chromium): 16.7–18.8 ms strided, 12.6–13.8 contiguous.
    elementwiseContiguous: software,
    subgroups: report.features.includes('subgroups'),
    // SwiftShader runs a workgroup's invocations as fibers: the barriers of a row's reductions
    // cost more than the row ([2048, 256] forward + backward, GPU time: workgroup per row 153–191
    // ms with subgroups, 285–306 without; a thread per row 24–28 ms).
    softmaxThreadPerRow: software,
    // One dispatch instead of two per norm (27 of a fashion-16 forward's 257, as many again in its
    // training step); on SwiftShader the workgroup tree measured 20–50x slower than the chunks.
    groupNormWorkgroupStats: !software,
    // Half the bytes of every activation and weight a GPU moves; a CPU adapter converts each f16
    // it loads (lavapipe has shader-f16 and is slower with it), so it stays f32 there. A precision,
    // not a kernel shape: from the adapter itself, whatever `shapesFor` says.
    sampleInHalf: !isSoftwareAdapter(report) && supportsF16(report.features),
    maxBindingBytes: deviceBindingLimit(report),
  };
}

/** The largest storage binding the device allows (WebGPU's default limits where it reports none). */
export function deviceBindingLimit(report: DeviceReport): number {
  const binding = report.limits.maxStorageBufferBindingSize ?? 128 * 2 ** 20;
  const buffer = report.limits.maxBufferSize ?? 256 * 2 ** 20;
  return Math.min(binding, buffer);
}
