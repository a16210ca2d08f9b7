// Kernel declarations (src/shaders/kernel.ts) and the typed launch (src/engine/ops/launch.ts):
// the derived WGSL header, pipeline key and uniform layout, and the errors for unknown or
// missing uniforms, bindings and specialisation constants, at run time (for JS callers) and at
// compile time (the @ts-expect-error lines fail `tsc` if a mistake stops being a type error).

import { describe, expect, test } from 'vitest';
import { launch } from '../../src/engine/ops/launch.ts';
import { binaryKernel, fillKernel } from '../../src/shaders/elementwise.ts';
import { comptime, defineKernel, UniformLayout } from '../../src/shaders/kernel.ts';

const demo = defineKernel({
  name: 'demo',
  uniforms: { count: 'u32', shape: 'dims', scale: 'f32', shift: 'i32' },
  bindings: {
    xs: 'read',
    bias: { access: 'read', optional: true },
    rows: { access: 'read', type: 'vec4<f32>' },
    out: 'read_write',
  },
  specialise: { mode: comptime.oneOf(['a', 'b']), rank: comptime.int(0, 4), fast: comptime.bool() },
  workgroupSize: 64,
  invocations: 'count',
  body: ({ mode }, k) => `${k.main}
  out[idx] = xs[idx]${k.has.bias ? ' + bias[idx]' : ''}; // ${mode}
}`,
});

const gridKernel = defineKernel({
  name: 'demo-grid',
  uniforms: {},
  bindings: { out: 'read_write' },
  workgroupSize: [8, 8, 1],
  body: (_, k) => `${k.entry}
fn main() {}`,
});

describe('defineKernel', () => {
  test('derives the WGSL header: Params (dims first), then the bindings present, numbered in order', () => {
    const without = demo.wgsl({ mode: 'a', rank: 2, fast: false });
    expect(without).toContain('struct Params {\n  shape: array<vec4<u32>, 2>,\n  count: u32,\n  scale: f32,\n  shift: i32,\n}');
    expect(without).toContain('@group(0) @binding(0) var<uniform> params: Params;');
    expect(without).toContain('@group(0) @binding(1) var<storage, read> xs: array<f32>;');
    expect(without).toContain('@group(0) @binding(2) var<storage, read> rows: array<vec4<f32>>;');
    expect(without).toContain('@group(0) @binding(3) var<storage, read_write> out: array<f32>;');
    expect(without).not.toContain('bias');
    expect(without).toContain('@compute @workgroup_size(64)');
    expect(without).toContain('if (idx >= params.count) { return; }');
    const withBias = demo.wgsl({ mode: 'b', rank: 2, fast: false }, ['bias']);
    expect(withBias).toContain('@group(0) @binding(2) var<storage, read> bias: array<f32>;');
    expect(withBias).toContain('out[idx] = xs[idx] + bias[idx]; // b');
    expect(gridKernel.wgsl({})).toContain('@compute @workgroup_size(8, 8, 1)');
  });

  test('the pipeline key is the name, each specialisation value and each optional binding present', () => {
    const buffers = { xs: 1, rows: 2, out: 3 };
    expect(demo.prepare({ mode: 'a', rank: 3, fast: true }, buffers).key).toBe('demo[mode=a,rank=3,fast=true]');
    const withBias = demo.prepare<number>({ mode: 'a', rank: 3, fast: true }, { ...buffers, bias: 4 });
    expect(withBias.key).toBe('demo[mode=a,rank=3,fast=true,+bias]');
    expect(withBias.buffers).toEqual([1, 4, 2, 3]); // binding order
    expect(demo.prepare({ mode: 'a', rank: 3, fast: true }, { ...buffers, bias: null }).key).toBe('demo[mode=a,rank=3,fast=true]');
    expect(fillKernel.prepare({}, { out: 0 }).key).toBe('fill');
    expect(binaryKernel.prepare({ op: 'mul', rank: 0 }, { as_: 0, bs: 0, out: 0 }).key).toBe('binary[op=mul,rank=0]');
  });

  test('the uniform layout packs dims as 2 × vec4<u32>, then 4-byte scalars, in 16-byte units', () => {
    const layout = new UniformLayout('t', { count: 'u32', shape: 'dims', scale: 'f32', shift: 'i32' });
    expect(layout.fields.map((f) => [f.name, f.offset])).toEqual([
      ['shape', 0],
      ['count', 32],
      ['scale', 36],
      ['shift', 40],
    ]);
    expect(layout.byteSize).toBe(48);
    const view = new DataView(new ArrayBuffer(48));
    layout.pack({ count: 7, shape: [2, 3], scale: 0.5, shift: -1 }, view, 0);
    expect([view.getUint32(0, true), view.getUint32(4, true), view.getUint32(8, true)]).toEqual([2, 3, 0]);
    expect([view.getUint32(32, true), view.getFloat32(36, true), view.getInt32(40, true)]).toEqual([7, 0.5, -1]);
  });

  test('a declaration whose invocation count is not a u32 uniform is refused', () => {
    expect(() =>
      defineKernel({
        name: 'bad',
        uniforms: { n: 'f32' },
        bindings: {},
        workgroupSize: 64,
        // @ts-expect-error: 'n' is not a u32 field
        invocations: 'n',
        body: () => '',
      }),
    ).toThrow("defineKernel 'bad': invocations 'n' is not a u32 uniform");
  });
});

describe('launch rejects, naming the kernel and the field', () => {
  const t = { buffer: {} as GPUBuffer };
  const spec = { op: 'add', rank: 0 } as const;
  const buffers = { as_: t, bs: t, out: t };
  const uniforms = { outShape: [4], aStrides: [1], bStrides: [1], rank: 0, count: 4 };
  // Calls typed `any` stand for JS callers; the same mistakes from TypeScript are type errors below.
  const untyped = launch as (...args: unknown[]) => void;

  test('an unknown or missing uniform', () => {
    expect(() => untyped(binaryKernel, spec, buffers, { ...uniforms, extra: 1 })).toThrow(
      "kernel 'binary': unknown uniform 'extra' (it declares outShape, aStrides, bStrides, rank, count)",
    );
    expect(() => untyped(binaryKernel, spec, buffers, { ...uniforms, count: undefined })).toThrow(
      "kernel 'binary': uniform 'count' has no value",
    );
    expect(() => untyped(binaryKernel, spec, buffers, { ...uniforms, rank: [1] })).toThrow(
      "kernel 'binary': uniform 'rank' must be a number",
    );
  });

  test('an unknown or missing binding', () => {
    expect(() => untyped(binaryKernel, spec, { ...buffers, cs: t }, uniforms)).toThrow(
      "kernel 'binary': unknown binding 'cs' (it declares as_, bs, out)",
    );
    expect(() => untyped(binaryKernel, spec, { as_: t, out: t }, uniforms)).toThrow("kernel 'binary': binding 'bs' has no buffer");
  });

  test('an unknown, missing or out-of-range specialisation constant', () => {
    expect(() => untyped(binaryKernel, { ...spec, fast: true }, buffers, uniforms)).toThrow(
      "kernel 'binary': unknown specialisation constant 'fast' (it declares op, rank)",
    );
    expect(() => untyped(binaryKernel, { op: 'add' }, buffers, uniforms)).toThrow(
      "kernel 'binary': specialisation constant 'rank' has no value",
    );
    expect(() => untyped(binaryKernel, { op: 'pow', rank: 0 }, buffers, uniforms)).toThrow(
      "kernel 'binary': specialisation constant 'op' must be one of 'add', 'sub', 'mul', 'div', got pow",
    );
    expect(() => untyped(binaryKernel, { op: 'add', rank: 9 }, buffers, uniforms)).toThrow(
      "kernel 'binary': specialisation constant 'rank' must be an integer in [0, 8], got 9",
    );
  });

  test('a grid for a 1-D kernel, or none for a grid kernel', () => {
    expect(() => untyped(fillKernel, {}, { out: t }, { count: 1, value: 0 }, [1, 1, 1])).toThrow(
      "kernel 'fill' is 1-D: its grid comes from 'count'",
    );
    expect(() => untyped(gridKernel, {}, { out: t }, {})).toThrow("kernel 'demo-grid' needs a workgroup grid");
  });
});

/** Never called: each marked line must stay a type error. */
export function compileTimeErrors(): void {
  const t = { buffer: {} as GPUBuffer };
  const spec = { op: 'add', rank: 0 } as const;
  const buffers = { as_: t, bs: t, out: t };
  const uniforms = { outShape: [4], aStrides: [1], bStrides: [1], rank: 0, count: 4 };
  launch(binaryKernel, spec, buffers, uniforms);
  // @ts-expect-error: an unknown uniform
  launch(binaryKernel, spec, buffers, { ...uniforms, extra: 1 });
  const { count: _count, ...withoutCount } = uniforms;
  // @ts-expect-error: a missing uniform
  launch(binaryKernel, spec, buffers, withoutCount);
  // @ts-expect-error: a dims uniform given a number
  launch(binaryKernel, spec, buffers, { ...uniforms, outShape: 4 });
  // @ts-expect-error: an unknown binding
  launch(binaryKernel, spec, { ...buffers, cs: t }, uniforms);
  // @ts-expect-error: a missing binding
  launch(binaryKernel, spec, { as_: t, out: t }, uniforms);
  // @ts-expect-error: a specialisation value outside the declared ones
  launch(binaryKernel, { op: 'pow', rank: 0 }, buffers, uniforms);
  // @ts-expect-error: a 1-D kernel takes no grid
  launch(fillKernel, {}, { out: t }, { count: 1, value: 0 }, [1, 1, 1]);
  // @ts-expect-error: a grid kernel needs one
  launch(gridKernel, {}, { out: t }, {});
  // An optional binding may be left out or null.
  launch(demo, { mode: 'a', rank: 0, fast: false }, { xs: t, rows: t, out: t, bias: null }, { count: 1, shape: [], scale: 1, shift: 0 });
}
