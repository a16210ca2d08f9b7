// PROTOTYPE (benchmark only, to be deleted): workgroup-memory tiled implicit GEMM for the
// conv forward, C[m, p] = Σ_k A[k, m] · B[k, p] with A the packed filter [K, M] and B gathered.
import { UniformLayout, declareBindings, type KernelSpec, type StorageBinding } from './common.ts';

export const WG_TILE_M = 32;
export const WG_TILE_P = 64;
export const WG_TILE_K = 16;

export const wgUniforms = new UniformLayout([
  { name: 'pBlocks', type: 'u32' },
  { name: 'pixels', type: 'u32' },
  { name: 'M', type: 'u32' },
  { name: 'K', type: 'u32' },
  { name: 'C', type: 'u32' },
  { name: 'outH', type: 'u32' },
  { name: 'outW', type: 'u32' },
  { name: 'kh', type: 'u32' },
  { name: 'kw', type: 'u32' },
  { name: 'srcH', type: 'u32' },
  { name: 'srcW', type: 'u32' },
  { name: 'stride', type: 'u32' },
  { name: 'padT', type: 'i32' },
  { name: 'padL', type: 'i32' },
]);

export function convWgKernel(): KernelSpec {
  const storage: StorageBinding[] = [
    { name: 'src', access: 'read' },
    { name: 'filt', access: 'read' },
    { name: 'outs', access: 'read_write' },
  ];
  const code = `${declareBindings(wgUniforms, storage)}
var<workgroup> As: array<array<vec4<f32>, ${WG_TILE_M / 4}>, ${WG_TILE_K}>;
var<workgroup> Bs: array<array<vec4<f32>, ${WG_TILE_P / 4}>, ${WG_TILE_K}>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let pBlock = wg.x;
  let m0 = wg.y * ${WG_TILE_M}u;
  let p0 = pBlock * ${WG_TILE_P}u;
  let plane = params.outH * params.outW;
  let khw = params.kh * params.kw;
  // Loader roles: B column t (one pixel), rows 0..15; A: row t/4, 8 channels at (t%4)*8.
  let lp = min(p0 + t, params.pixels - 1u);
  let lb = lp / plane;
  let ly = i32((lp % plane) / params.outW * params.stride) - params.padT;
  let lx = i32((lp % params.outW) * params.stride) - params.padL;
  let srcB = lb * params.C * params.srcH * params.srcW;
  // Compute roles: 8 channels × 4 pixels.
  let tm = t / 16u;   // 0..3 → channels tm*8..
  let tp = t % 16u;   // 0..15 → pixels tp*4..
  var acc: array<vec4<f32>, 8>; // [pixel j][quad q] = acc[j*2+q]
  var a0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var a2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0);
  var a4 = vec4<f32>(0.0); var a5 = vec4<f32>(0.0); var a6 = vec4<f32>(0.0); var a7 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < params.K; k0 += ${WG_TILE_K}u) {
    // A tile: 16 rows × 32 channels = 128 vec4; thread loads 2.
    for (var i = 0u; i < 2u; i++) {
      let e = t * 2u + i;           // 0..127
      let kk = e / 8u;
      let mq = e % 8u;
      let k = min(k0 + kk, params.K - 1u);
      let m = m0 + mq * 4u;
      let base = k * params.M + m;
      As[kk][mq] = vec4<f32>(filt[base], filt[min(base + 1u, k * params.M + params.M - 1u)], filt[min(base + 2u, k * params.M + params.M - 1u)], filt[min(base + 3u, k * params.M + params.M - 1u)]) * select(0.0, 1.0, k0 + kk < params.K);
    }
    // B tile: column t, 16 rows.
    var c = k0 / khw;
    var r = k0 % khw;
    var ty = r / params.kw;
    var tx = r % params.kw;
    for (var kk = 0u; kk < ${WG_TILE_K}u; kk++) {
      let sy = u32(ly + i32(ty));
      let sx = u32(lx + i32(tx));
      let ok = sy < params.srcH && sx < params.srcW && c < params.C;
      let v = select(0.0, src[select(0u, srcB + (c * params.srcH + sy) * params.srcW + sx, ok)], ok);
      Bs[kk][t / 4u][t % 4u] = v;
      tx++;
      if (tx == params.kw) { tx = 0u; ty++; if (ty == params.kh) { ty = 0u; c++; } }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${WG_TILE_K}u; kk++) {
      let w0 = As[kk][tm * 2u];
      let w1 = As[kk][tm * 2u + 1u];
      let b = Bs[kk][tp];
      a0 += w0 * b.x; a1 += w1 * b.x;
      a2 += w0 * b.y; a3 += w1 * b.y;
      a4 += w0 * b.z; a5 += w1 * b.z;
      a6 += w0 * b.w; a7 += w1 * b.w;
    }
    workgroupBarrier();
  }
  acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3; acc[4] = a4; acc[5] = a5; acc[6] = a6; acc[7] = a7;
  for (var j = 0u; j < 4u; j++) {
    let p = p0 + tp * 4u + j;
    if (p < params.pixels) {
      let b = p / plane;
      let rr = p % plane;
      for (var i = 0u; i < 8u; i++) {
        let m = m0 + tm * 8u + i;
        if (m < params.M) {
          outs[(b * params.M + m) * plane + rr] = acc[j * 2u + i / 4u][i % 4u];
        }
      }
    }
  }
}`;
  return { key: 'conv2d-wg-proto', code, storage, uniforms: wgUniforms, workgroupSize: 64 };
}
