// The safetensors reader validates the whole header before reading data: each way a header can
// be wrong has its own message naming the tensor, and F16/BF16 widen to f32 exactly.

import { describe, expect, test } from 'vitest';
import { readSafetensors, toFloat32, writeSafetensors } from '../../src/engine/safetensors.ts';

/** A file from a raw header object (or text) and a data section of `dataBytes` bytes. */
function fileOf(header: unknown, dataBytes: number, data?: Uint8Array): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const json = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  if (data) out.set(data, 8 + json.length);
  return out;
}

const f32 = (shape: number[], begin: number, end: number) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

describe('safetensors reader', () => {
  test('round trip of what the writer makes, metadata included', () => {
    const bytes = writeSafetensors({ b: { shape: [2], data: new Float32Array([3, 4]) }, a: { shape: [1, 1], data: new Float32Array([1.5]) } }, { format: 'pt' });
    const file = readSafetensors(bytes);
    expect(file.metadata).toEqual({ format: 'pt' });
    expect([...file.tensors.keys()].sort()).toEqual(['a', 'b']);
    expect(Array.from(file.tensors.get('b')!.data as Float32Array)).toEqual([3, 4]);
  });

  test('F16 and BF16 widen to f32 exactly', () => {
    // 1.0, -2.5, 65504 (max half), 2^-24 (smallest subnormal) in binary16; 1.0, -3.0 in bfloat16.
    const half = new Uint16Array([0x3c00, 0xc100, 0x7bff, 0x0001]);
    const bf = new Uint16Array([0x3f80, 0xc040]);
    const data = new Uint8Array(12);
    data.set(new Uint8Array(half.buffer), 0);
    data.set(new Uint8Array(bf.buffer), 8);
    const file = readSafetensors(
      fileOf({ h: { dtype: 'F16', shape: [4], data_offsets: [0, 8] }, b: { dtype: 'BF16', shape: [2], data_offsets: [8, 12] } }, 12, data),
    );
    expect(Array.from(toFloat32('h', file.tensors.get('h')!))).toEqual([1, -2.5, 65504, 2 ** -24]);
    expect(Array.from(toFloat32('b', file.tensors.get('b')!))).toEqual([1, -3]);
    const ints = readSafetensors(fileOf({ i: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, 8));
    expect(() => toFloat32('i', ints.tensors.get('i')!)).toThrow(/tensor 'i' is I64, not a floating-point tensor/);
  });

  const broken: [string, Uint8Array, RegExp][] = [
    ['shorter than 8 bytes', new Uint8Array(5), /file is 5 bytes, shorter than its 8-byte header length/],
    ['header length past the end', fileOf({}, 0).subarray(0, 9), /header length 2 exceeds the file \(9 bytes\)/],
    ['header not JSON', fileOf('{"a": ', 0), /header is not valid UTF-8 JSON/],
    ['header not UTF-8', (() => { const b = fileOf('{"a":1}', 0); b[10] = 0xff; return b; })(), /header is not valid UTF-8 JSON/],
    ['header a JSON list', fileOf([1, 2], 0), /header is JSON but not an object of tensors/],
    ['unknown dtype', fileOf({ w: { dtype: 'F8', shape: [1], data_offsets: [0, 1] } }, 1), /tensor 'w' has unknown dtype "F8"/],
    ['bad shape', fileOf({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), /tensor 'w' has shape \[-1\]: not a list of non-negative integers/],
    ['bad offsets', fileOf({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, 4), /tensor 'w' has data_offsets \[4,0\]/],
    ['shape disagrees with the bytes', fileOf({ w: f32([3], 0, 8) }, 8), /tensor 'w' F32 \[3\] needs 12 bytes but its data_offsets \[0, 8\] hold 8/],
    ['overlapping ranges', fileOf({ a: f32([2], 0, 8), b: f32([2], 4, 12) }, 12), /tensor 'b' \[4, 12\] overlaps tensor 'a' \[0, 8\]/],
    ['a gap', fileOf({ a: f32([1], 0, 4), b: f32([1], 8, 12) }, 12), /tensor 'b' starts at data byte 8, leaving a gap after byte 4 \(end of 'a'\)/],
    ['truncated data', fileOf({ a: f32([1], 0, 4), b: f32([2], 4, 12) }, 10), /tensor 'b' \[4, 12\] ends past the file's 10 data bytes: truncated/],
    ['trailing bytes', fileOf({ a: f32([1], 0, 4) }, 8), /4 bytes after the last tensor \('a'\) belong to no tensor/],
    ['duplicate names', fileOf('{"a": {"dtype":"F32","shape":[1],"data_offsets":[0,4]}, "a": {"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8), /tensor 'a' appears twice in the header/],
    ['metadata not strings', fileOf({ __metadata__: { format: 1 } }, 0), /__metadata__ must be an object of strings/],
  ];
  test.each(broken)('refuses a file with %s, naming the problem, and leaves its bytes alone', (_, bytes, message) => {
    const before = bytes.slice();
    expect(() => readSafetensors(bytes)).toThrow(message);
    expect(bytes).toEqual(before);
  });
});
