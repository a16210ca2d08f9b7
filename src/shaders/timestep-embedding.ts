// Sinusoidal timestep embedding (diffusers get_timestep_embedding) and its gradient w.r.t. t.
// The frequencies come in as a buffer (computed on the CPU the way PyTorch rounds them), because
// the argument a = t·f reaches ~1000 rad: a 1e-6 relative error in f would already be 1e-3 there.
// For the same reason sin and cos are evaluated here with an explicit range reduction: the
// built-ins are only specified on [-π, π], and SwiftShader's are off by 2e-4 near 900 rad.

import { defineKernel } from './kernel.ts';

export const TIMESTEP_EMBEDDING_WORKGROUP = 64;

const TIMESTEP_EMBEDDING_UNIFORMS = {
  batch: 'u32',
  dim: 'u32',
  half: 'u32',
  /** 1: [cos, sin]; 0: [sin, cos]. */
  flip: 'u32',
} as const;

/**
 * sin and cos of x in f32, within 1e-7 for |x| < 1e4 (1e-6 up to 1e5; measured on SwiftShader):
 * Cody–Waite reduction by π/2 with a three-part constant (the first part has 8 significant bits,
 * so k·PIO2_A is exact), then the Cephes sinf/cosf minimax polynomials on [-π/4, π/4].
 */
export const SIN_COS_WGSL = /* wgsl */ `
const PIO2_A = 1.5703125;
const PIO2_B = 4.837512969970703125e-4;
const PIO2_C = 7.54978995489188216e-8;
fn sinCos(x: f32) -> vec2<f32> {
  let k = round(x * 0.636619772367581343);
  let r = ((x - k * PIO2_A) - k * PIO2_B) - k * PIO2_C;
  let z = r * r;
  let s = r + r * z * ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1);
  let c = 1.0 - 0.5 * z + z * z * ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2);
  // x = r + quadrant·π/2
  switch (i32(k) & 3) {
    case 0: { return vec2<f32>(s, c); }
    case 1: { return vec2<f32>(c, -s); }
    case 2: { return vec2<f32>(-s, -c); }
    default: { return vec2<f32>(-c, s); }
  }
}
`;

/**
 * out[b, col]: column i < half is the first half (sin, or cos when flipped) of frequency i.
 * One invocation per output element: `count` = batch · dim.
 */
export const timestepEmbeddingKernel = defineKernel({
  name: 'timestep-embedding',
  uniforms: { ...TIMESTEP_EMBEDDING_UNIFORMS, count: 'u32' },
  bindings: { ts: 'read', freqs: 'read', outs: 'read_write' },
  workgroupSize: TIMESTEP_EMBEDDING_WORKGROUP,
  invocations: 'count',
  body: (_, k) => `${SIN_COS_WGSL}
${k.main}
  let b = idx / params.dim;
  let col = idx % params.dim;
  if (col >= 2u * params.half) { outs[idx] = 0.0; return; } // odd dim: the padding column
  let second = col >= params.half;
  let sc = sinCos(ts[b] * freqs[col - select(0u, params.half, second)]);
  // sin goes first unless flipped.
  outs[idx] = select(sc.x, sc.y, second != (params.flip == 1u));
}`,
});

/** dt[b] = Σ_i f_i (g_sin[b, i] cos(t f_i) − g_cos[b, i] sin(t f_i)); one invocation per b. */
export const timestepEmbeddingGradKernel = defineKernel({
  name: 'timestep-embedding-grad',
  uniforms: TIMESTEP_EMBEDDING_UNIFORMS,
  bindings: { ts: 'read', freqs: 'read', gs: 'read', dts: 'read_write' },
  workgroupSize: TIMESTEP_EMBEDDING_WORKGROUP,
  invocations: 'batch',
  body: (_, k) => `${SIN_COS_WGSL}
${k.main}
  let row = idx * params.dim;
  let sinAt = row + select(0u, params.half, params.flip == 1u);
  let cosAt = row + select(params.half, 0u, params.flip == 1u);
  var acc = 0.0;
  for (var i = 0u; i < params.half; i++) {
    let f = freqs[i];
    let sc = sinCos(ts[idx] * f);
    acc += f * (gs[sinAt + i] * sc.y - gs[cosAt + i] * sc.x);
  }
  dts[idx] = acc;
}`,
});
