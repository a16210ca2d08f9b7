// The repository's root folder, from this module's own place (src/cli/, or dist/node/ in the
// bundle of scripts/bundle-node.mjs: both two folders down).

import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
