// The files of a diffusers folder, wherever they come from: a Node directory (the CLI), files a
// page was given, or a test's map of name → bytes. Paths are relative to the folder, '/'-separated.

export class DiffusersError extends Error {
  constructor(message: string) {
    super(`diffusers: ${message}`);
    this.name = 'DiffusersError';
  }
}

/** A folder's files: their relative paths, and their bytes on request (only what is needed is read). */
export interface FileSource {
  readonly names: readonly string[];
  read(name: string): Uint8Array;
}

/** A FileSource over a map of relative path → bytes. */
export function mapSource(files: ReadonlyMap<string, Uint8Array> | Record<string, Uint8Array>): FileSource {
  const map = files instanceof Map ? files : new Map(Object.entries(files));
  return {
    names: [...map.keys()],
    read(name) {
      const bytes = map.get(name);
      if (!bytes) throw new DiffusersError(`the folder has no ${name}`);
      return bytes;
    },
  };
}

/** The file names diffusers gives a model's config and weights, and a pipeline's index and scheduler config. */
export const DIFFUSERS_FILES = {
  modelIndex: 'model_index.json',
  config: 'config.json',
  weights: 'diffusion_pytorch_model.safetensors',
  pickle: 'diffusion_pytorch_model.bin',
  shardIndex: 'diffusion_pytorch_model.safetensors.index.json',
  scheduler: 'scheduler_config.json',
} as const;

/** `name` as JSON, or an error naming the file. */
export function readJson(source: FileSource, name: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(source.read(name)));
  } catch (e) {
    if (e instanceof DiffusersError) throw e;
    throw new DiffusersError(`${name} is not valid JSON (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DiffusersError(`${name} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** How to turn a pickle folder into safetensors with diffusers itself (we never unpickle: it runs code). */
function pickleAdvice(path: string, pipeline: boolean): string {
  const folder = path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '';
  const load = pipeline
    ? `from diffusers import DiffusionPipeline; DiffusionPipeline.from_pretrained('DIR').save_pretrained('DIR-safetensors', safe_serialization=True)`
    : `from diffusers import UNet2DModel; UNet2DModel.from_pretrained('DIR').save_pretrained('DIR-safetensors', safe_serialization=True)`;
  return (
    `${path} is a PyTorch pickle, which this engine never loads (unpickling can run arbitrary code), and ` +
    `${folder}${DIFFUSERS_FILES.weights} is missing. Convert the folder to safetensors with diffusers, in Python: ` +
    `python -c "${load}" (DIR: the ${pipeline ? 'pipeline' : 'model'} folder), then use DIR-safetensors`
  );
}

/**
 * The weights file of the model in `dir` ('' or 'unet/'): its safetensors, or an error that says
 * why there is none (a pickle, shards, nothing).
 */
export function weightsFile(source: FileSource, dir: string, pipeline: boolean): string {
  const path = dir + DIFFUSERS_FILES.weights;
  if (source.names.includes(path)) return path;
  if (source.names.includes(dir + DIFFUSERS_FILES.pickle)) throw new DiffusersError(pickleAdvice(dir + DIFFUSERS_FILES.pickle, pipeline));
  if (source.names.includes(dir + DIFFUSERS_FILES.shardIndex)) {
    throw new DiffusersError(`${dir + DIFFUSERS_FILES.shardIndex}: sharded weights are not supported; save the model unsharded (save_pretrained(..., max_shard_size="100GB"))`);
  }
  throw new DiffusersError(`${path} is missing`);
}
