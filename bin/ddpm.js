#!/usr/bin/env node
// Entry point of the `ddpm` CLI: lets Node load the TypeScript sources directly, then runs them.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
