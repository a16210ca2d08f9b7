import { parseArgs, type ParseArgsConfig } from 'node:util';

export type Flags = NonNullable<ParseArgsConfig['options']>;
export type FlagValues = Record<string, string | boolean | undefined>;

export interface Command {
  /** Synopsis after the program name, e.g. `check [--json FILE]`. */
  usage: string;
  summary: string;
  flags: Flags;
  /** Whether the command takes positional arguments. */
  positionals?: boolean;
  run(flags: FlagValues, positionals: string[]): Promise<number>;
}

/** A mistake on the command line: reported with the usage text, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseCommandArgs(command: Command, args: string[]): { flags: FlagValues; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: command.flags,
      allowPositionals: command.positionals ?? false,
      strict: true,
    });
    return { flags: values as FlagValues, positionals };
  } catch (err) {
    // node:util reports unknown flags, missing flag values and stray arguments as TypeErrors.
    if (err instanceof TypeError && 'code' in err) throw new UsageError(err.message);
    throw err;
  }
}
