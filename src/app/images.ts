// Images as the front ends receive them: CPU arrays in [−1, 1] with their shape.

/** `n` images in [−1, 1], [n, channels, size, size]. */
export interface ImageBatch {
  data: Float32Array;
  n: number;
  channels: number;
  size: number;
}

/** `data` as a batch of `n` images in a model's shape. */
export function imageBatch(data: Float32Array, n: number, model: { inChannels: number; imageSize: number }): ImageBatch {
  return { data, n, channels: model.inChannels, size: model.imageSize };
}

/** An error's message, whatever was thrown. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
