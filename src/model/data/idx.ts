// IDX files (the MNIST / Fashion-MNIST format): a big-endian header of magic number
// 0x00000800 | type << 8 | rank, then `rank` u32 dimensions, then the data. Only unsigned
// bytes (type 0x08) are used by these datasets.

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}

/** Parses an (already decompressed) IDX file, checking magic number, rank and size. */
export function parseIdx(bytes: Uint8Array, what = 'IDX file', expectedRank?: number): IdxArray {
  if (bytes.length < 4) throw new DatasetError(`${what}: ${bytes.length} bytes is too short for an IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic >>> 16 !== 0 || ((magic >>> 8) & 0xff) !== 0x08) {
    throw new DatasetError(
      `${what}: magic number 0x${magic.toString(16).padStart(8, '0')} is not an unsigned-byte IDX file (0x000008NN); is it gzipped or another format?`,
    );
  }
  const rank = magic & 0xff;
  if (expectedRank !== undefined && rank !== expectedRank) {
    throw new DatasetError(`${what}: rank ${rank}, expected ${expectedRank} (${expectedRank === 3 ? 'images' : 'labels'})`);
  }
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) throw new DatasetError(`${what}: truncated header (${bytes.length} bytes)`);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== headerBytes + count) {
    throw new DatasetError(
      `${what}: header says [${dims.join('x')}] = ${count} bytes of data but the file has ${bytes.length - headerBytes}`,
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

export interface ImageSet {
  /** Images as bytes, [count, height, width] (one channel). */
  images: Uint8Array;
  labels: Uint8Array | null;
  count: number;
  height: number;
  width: number;
  channels: number;
}

/** Pairs an images file and a labels file, checking that their counts agree. */
export function imageSetFromIdx(images: IdxArray, labels: IdxArray | null, name: string): ImageSet {
  const [count, height, width] = images.dims as [number, number, number];
  if (labels && labels.dims[0] !== count) {
    throw new DatasetError(`${name}: ${count} images but ${labels.dims[0]} labels`);
  }
  return { images: images.data, labels: labels?.data ?? null, count, height, width, channels: 1 };
}
