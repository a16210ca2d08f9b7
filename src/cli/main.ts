// The `ddpm` command line: one entry per command in COMMANDS.

import { bench } from './commands/bench.ts';
import { check } from './commands/check.ts';
import { convert } from './commands/convert.ts';
import { classifier } from './commands/classifier.ts';
import { evaluate } from './commands/evaluate.ts';
import { model } from './commands/model.ts';
import { sample } from './commands/sample.ts';
import { schedule } from './commands/schedule.ts';
import { train } from './commands/train.ts';
import { unetForward } from './commands/unet-forward.ts';
import { parseCommandArgs, UsageError, type Command } from './command.ts';
import { useHost } from './harness.ts';
import { HOST_KINDS, type HostKind } from './host.ts';

const help: Command = {
  usage: 'help [COMMAND]',
  summary: 'show this help, or the usage of one command',
  flags: {},
  positionals: true,
  async run(_flags, [name, ...rest]) {
    if (rest.length > 0) throw new UsageError('help takes at most one command name');
    if (name === undefined) {
      console.log(usage());
      return 0;
    }
    const command = findCommand(name);
    console.log(`usage: ddpm ${command.usage}\n\n${command.summary}`);
    return 0;
  },
};

const COMMANDS: Record<string, Command> = {
  train,
  sample,
  eval: evaluate,
  convert,
  'unet-forward': unetForward,
  classifier,
  schedule,
  model,
  check,
  bench,
  help,
};

function findCommand(name: string): Command {
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) throw new UsageError(`unknown command: ${name}`);
  return command;
}

function usage(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.usage.length));
  const lines = Object.values(COMMANDS).map((c) => `  ddpm ${c.usage.padEnd(width)}  ${c.summary}`);
  return [
    'usage:',
    ...lines,
    '',
    'options (any command that runs the engine):',
    '  --host browser|node  where WebGPU runs: headless Chromium (default) or Dawn in Node (npm package webgpu)',
    '',
    'environment:',
    '  CHROME_PATH=PATH     browser to use (default: the first Chromium or Chrome found)',
    '  DDPM_SWIFTSHADER=0   let WebGPU use a real GPU instead of SwiftShader',
    '  DDPM_VERBOSE=1       show all page console output',
    '  DDPM_DAWN_POLLING=throttle|spin  --host node: how Dawn polls for finished GPU work (default: throttle on a',
    '                       software adapter, whose cores its busy loop takes; spin on a GPU)',
    "  DDPM_TUNING='{...}'  replace kernel choices of src/engine/tuning.ts for A/B runs, e.g. '{\"convTiledMinChannels\":64}';",
    "                       '{\"shapesFor\":\"gpu\"}' takes a real GPU's kernel shapes on a software adapter",
  ].join('\n');
}

/** Takes the global `--host KIND` (or `--host=KIND`) out of the arguments and applies it. */
function withoutHostOption(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a !== '--host' && !a.startsWith('--host=')) {
      out.push(a);
      continue;
    }
    const value = a.includes('=') ? a.slice('--host='.length) : argv[++i];
    if (!HOST_KINDS.includes(value as HostKind)) throw new UsageError(`--host must be ${HOST_KINDS.join(' or ')}, got '${value ?? ''}'`);
    useHost(value as HostKind);
  }
  return out;
}

/** Runs the command line `argv` (without node and the script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    const [name, ...args] = withoutHostOption(argv);
    if (name === '-h' || name === '--help') return await help.run({}, []);
    if (name === undefined) throw new UsageError('no command given');
    const command = findCommand(name);
    if (args.includes('-h') || args.includes('--help')) return await help.run({}, [name]);
    const { flags, positionals } = parseCommandArgs(command, args);
    return await command.run(flags, positionals);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`ddpm: ${err.message}\n\n${usage()}`);
      return 2;
    }
    console.error(`ddpm: ${err instanceof Error ? err.message : String(err)}`);
    if (process.env.DDPM_VERBOSE === '1' && err instanceof Error && err.stack) console.error(err.stack);
    return 1;
  }
}

/**
 * The process's entry (bin/ddpm.js, the Node bundle): runs `argv` and sets the exit code. SIGTERM
 * (`kill`, a test's hang guard) exits through the 'exit' handlers, which stop the CLI's browser.
 */
export async function runCli(argv: string[]): Promise<void> {
  process.once('SIGTERM', () => process.exit(143));
  process.exitCode = await main(argv);
}
