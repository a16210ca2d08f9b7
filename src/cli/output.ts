import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

export function writeJson(file: string, value: unknown): void {
  const path = resolve(file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
  const shown = relative(process.cwd(), path);
  process.stderr.write(`wrote ${shown.startsWith('..') ? path : shown}\n`);
}
