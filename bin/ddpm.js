#!/usr/bin/env node
// Entry point of the `ddpm` CLI: lets Node load the TypeScript sources directly, then runs them.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/main.ts');
await runCli(process.argv.slice(2));
