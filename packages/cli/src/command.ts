/** What every `comsg` subcommand declares: its usage (for --help) and its parser options. */
import type { ParseArgsConfig } from 'node:util';
import type { Io } from './io.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** "comsg ps [example] [--json]" */
  readonly usage: string;
  /** Further help lines (options, arguments, examples). */
  readonly help: readonly string[];
  readonly options: OptionSpec;
  readonly maxPositionals: number;
  run(args: Parsed, io: Io): Promise<number>;
}

/** `--json` and `--help`, which every command takes. */
export const COMMON_OPTIONS: OptionSpec = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};
