export interface Layer {
  name: string;
  paths: string[];
  mayImport: string[];
}
export const ENGINE_ENTRIES: string[];
export const LAYERS: Layer[];
export function layerOf(repoPath: string): Layer | undefined;
export function violation(from: string, to: string): string | null;
export const layersPlugin: unknown;
