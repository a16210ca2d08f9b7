// safetensors: an 8-byte little-endian header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}},
// then the raw little-endian tensor bytes (offsets relative to the end of the header).
//
// The reader validates the whole header before it touches any tensor data, and every way a
// header can be wrong has its own message naming the tensor: a file from elsewhere (a diffusers
// folder, a download) is refused with a reason, never half read.

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

/** Raw element bytes per dtype. */
export const SAFETENSORS_DTYPE_BYTES: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

/** The typed array a dtype is read into: its own, or raw 16-bit words for F16 and BF16. */
export type SafetensorsData =
  | Float64Array
  | Float32Array
  | Uint16Array
  | BigInt64Array
  | BigUint64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  data: SafetensorsData;
}

export interface SafetensorsFile {
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

/** Headers above this are refused as not safetensors (the reference implementation's bound is 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(`safetensors: ${message}`);
    this.name = 'SafetensorsError';
  }
}

/**
 * The top-level keys of a JSON object text, in order, duplicates included (JSON.parse keeps
 * only the last of duplicated keys, which would hide a second tensor of the same name).
 */
function topLevelKeys(json: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const ch = json[i];
    if (ch === '"') {
      let j = i + 1;
      while (j < json.length && json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      if (depth === 1) {
        let k = j + 1;
        while (k < json.length && /\s/.test(json[k]!)) k++;
        if (json[k] === ':') keys.push(JSON.parse(json.slice(i, j + 1)) as string);
      }
      i = j;
    } else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
  }
  return keys;
}

interface HeaderEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** One tensor's header entry, checked on its own (ranges are checked together afterwards). */
function parseEntry(name: string, raw: unknown): HeaderEntry {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SafetensorsError(`tensor '${name}': its header entry is ${JSON.stringify(raw)}, not an object`);
  }
  const info = raw as Record<string, unknown>;
  const dtype = info.dtype;
  if (typeof dtype !== 'string' || !(dtype in SAFETENSORS_DTYPE_BYTES)) {
    throw new SafetensorsError(
      `tensor '${name}' has unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(SAFETENSORS_DTYPE_BYTES).join(', ')})`,
    );
  }
  const shape = info.shape;
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw new SafetensorsError(`tensor '${name}' has shape ${JSON.stringify(shape)}: not a list of non-negative integers`);
  }
  const offsets = info.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
    throw new SafetensorsError(`tensor '${name}' has data_offsets ${JSON.stringify(offsets)}: not [begin, end] with 0 ≤ begin ≤ end`);
  }
  const [begin, end] = offsets as [number, number];
  const bytes = shape.reduce((a, b) => a * b, 1) * SAFETENSORS_DTYPE_BYTES[dtype as SafetensorsDtype];
  if (end - begin !== bytes) {
    throw new SafetensorsError(
      `tensor '${name}' ${dtype} [${shape}] needs ${bytes} bytes but its data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end };
}

/** The data ranges must tile the data section exactly: sorted, no overlap, no gap, nothing past the end. */
function checkRanges(entries: HeaderEntry[], dataBytes: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let previous: HeaderEntry | null = null;
  for (const e of sorted) {
    if (e.begin < at) {
      throw new SafetensorsError(`tensor '${e.name}' [${e.begin}, ${e.end}] overlaps tensor '${previous!.name}' [${previous!.begin}, ${previous!.end}]`);
    }
    if (e.begin > at) {
      throw new SafetensorsError(`tensor '${e.name}' starts at data byte ${e.begin}, leaving a gap after byte ${at}${previous ? ` (end of '${previous.name}')` : ''}`);
    }
    if (e.end > dataBytes) {
      throw new SafetensorsError(`tensor '${e.name}' [${e.begin}, ${e.end}] ends past the file's ${dataBytes} data bytes: truncated`);
    }
    at = e.end;
    previous = e;
  }
  if (at !== dataBytes) {
    throw new SafetensorsError(`${dataBytes - at} bytes after the last tensor${previous ? ` ('${previous.name}')` : ''} belong to no tensor`);
  }
}

function view(dtype: SafetensorsDtype, buffer: ArrayBuffer): SafetensorsData {
  switch (dtype) {
    case 'F64':
      return new Float64Array(buffer);
    case 'F32':
      return new Float32Array(buffer);
    case 'F16':
    case 'BF16':
    case 'U16':
      return new Uint16Array(buffer);
    case 'I64':
      return new BigInt64Array(buffer);
    case 'U64':
      return new BigUint64Array(buffer);
    case 'I32':
      return new Int32Array(buffer);
    case 'U32':
      return new Uint32Array(buffer);
    case 'I16':
      return new Int16Array(buffer);
    case 'I8':
      return new Int8Array(buffer);
    case 'U8':
    case 'BOOL':
      return new Uint8Array(buffer);
  }
}

/** Parses and validates a whole file; any inconsistency raises SafetensorsError and reads no data. */
export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.byteLength < 8) throw new SafetensorsError(`file is ${bytes.byteLength} bytes, shorter than its 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = dv.getBigUint64(0, true);
  if (headerLen > BigInt(bytes.byteLength - 8)) {
    throw new SafetensorsError(`header length ${headerLen} exceeds the file (${bytes.byteLength} bytes): truncated or not safetensors`);
  }
  if (headerLen > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(`header length ${headerLen} is over the ${MAX_HEADER_BYTES}-byte limit: not a safetensors file`);
  }
  const n = Number(headerLen);
  let text: string;
  let header: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
    header = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new SafetensorsError('header is JSON but not an object of tensors');
  }
  const seen = new Set<string>();
  for (const key of topLevelKeys(text)) {
    if (seen.has(key)) throw new SafetensorsError(`tensor '${key}' appears twice in the header`);
    seen.add(key);
  }
  let metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      const ok = typeof raw === 'object' && raw !== null && !Array.isArray(raw) && Object.values(raw).every((v) => typeof v === 'string');
      if (!ok) throw new SafetensorsError('__metadata__ must be an object of strings');
      metadata = raw as Record<string, string>;
      continue;
    }
    entries.push(parseEntry(name, raw));
  }
  const dataStart = 8 + n;
  checkRanges(entries, bytes.byteLength - dataStart);

  const tensors = new Map<string, SafetensorsEntry>();
  for (const e of entries) {
    // A copy (Node Buffers share pools, so slice() would not do): aligned and owned.
    const buffer = new Uint8Array(bytes.subarray(dataStart + e.begin, dataStart + e.end)).buffer;
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: view(e.dtype, buffer) });
  }
  return { tensors, metadata };
}

/** IEEE half (binary16) bits → number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** A floating-point tensor's values as f32 (F16 and BF16 widened exactly; F64 rounded). */
export function toFloat32(name: string, entry: SafetensorsEntry): Float32Array {
  switch (entry.dtype) {
    case 'F32':
      return entry.data as Float32Array;
    case 'F64':
      return Float32Array.from(entry.data as Float64Array);
    case 'F16':
      return Float32Array.from(entry.data as Uint16Array, halfToFloat);
    case 'BF16': {
      // bfloat16 is the top half of an f32.
      const words = entry.data as Uint16Array;
      const bits = new Uint32Array(words.length);
      for (let i = 0; i < words.length; i++) bits[i] = words[i]! << 16;
      return new Float32Array(bits.buffer);
    }
    default:
      throw new SafetensorsError(`tensor '${name}' is ${entry.dtype}, not a floating-point tensor`);
  }
}

/** Serialises tensors (sorted by name, no gaps) and string metadata. */
export function writeSafetensors(
  tensors: Map<string, { shape: number[]; data: Float32Array }> | Record<string, { shape: number[]; data: Float32Array }>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const entries = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of entries) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new SafetensorsError(`tensor '${name}' has ${t.data.length} values for shape [${t.shape}]`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const [, t] of entries) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}
