/** What a CLI command is: its declaration (options, positionals, help) and its action. */
import type { OptionSpec, ParsedArgs, PositionalSpec } from './args';

export interface CommandIo {
  /** Writes to stdout (results). */
  out(text: string): void;
  /** Writes to stderr (progress, notes). */
  err(text: string): void;
  quiet: boolean;
}

export interface Command {
  name: string;
  summary: string;
  /** Longer description for `--help` and docs/cli.md. */
  description?: string;
  options: OptionSpec[];
  positionals: PositionalSpec[];
  examples?: string[];
  /** Returns the exit code (0 when omitted). */
  run(args: ParsedArgs, io: CommandIo): Promise<number | void>;
}

export const QUIET_OPTION: OptionSpec = { name: 'quiet', alias: 'q', type: 'boolean', description: 'no progress bars or notes on stderr' };
