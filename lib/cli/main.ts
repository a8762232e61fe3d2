#!/usr/bin/env node
/**
 * The `phylogeny` command: a thin layer over the library. Exit codes: 0 success, 1 an error
 * about the inputs or the run (message names the file), 2 a usage mistake (EXIT_CODES).
 */
import { InvalidArgumentError, PhylogenyError } from '../errors';
import { VERSION } from '../version';
import { formatOptions, parseArgs, UsageError } from './args';
import type { Command, CommandIo } from './command';
import { allCommands, COMMAND_NAMES, loadCommand } from './commands';


function commandHelp(c: Command): string {
  const pos = c.positionals.map((p) => (p.required ? `<${p.name}${p.variadic ? '...' : ''}>` : `[${p.name}${p.variadic ? '...' : ''}]`));
  const lines = [`usage: phylogeny ${c.name} ${[...pos, c.options.length ? '[options]' : ''].filter(Boolean).join(' ')}`, '', c.summary];
  if (c.description) lines.push('', c.description);
  if (c.positionals.length) {
    lines.push('', 'arguments:');
    for (const p of c.positionals) lines.push(`  ${p.name.padEnd(12)} ${p.description}`);
  }
  if (c.options.length) lines.push('', 'options:', formatOptions(c.options));
  if (c.examples?.length) lines.push('', 'examples:', ...c.examples.map((e) => `  ${e}`));
  return `${lines.join('\n')}\n`;
}

export function mainHelp(): string {
  const COMMANDS = allCommands();
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `phylogeny ${VERSION}: which neural networks were fine-tuned from which, from the weights alone`,
    '',
    'usage: phylogeny <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'phylogeny <command> --help' for a command's options. Documentation: docs/cli.md",
    '',
  ].join('\n');
}

export { commandHelp };

/**
 * The one place that maps an error to an exit code, first match wins. A bad option value is a
 * usage mistake whether the CLI's parser or the library caught it (`--threads 0` and
 * `--fake-init 'x=bogus'` both exit 2); anything else the library reports about the inputs or
 * the run exits 1.
 */
export const EXIT_CODES: ReadonlyArray<{ error: abstract new (...a: never[]) => Error; code: number; usage: boolean }> = [
  { error: UsageError, code: 2, usage: true },
  { error: InvalidArgumentError, code: 2, usage: true },
  { error: PhylogenyError, code: 1, usage: false },
  { error: Error, code: 1, usage: false },
];

/** Exit code and whether to point at `--help`, for anything a command threw. */
export function exitCodeOf(e: unknown): { code: number; usage: boolean } {
  return EXIT_CODES.find((row) => e instanceof row.error) ?? { code: 1, usage: false };
}

export async function main(argv: string[], io: Omit<CommandIo, 'quiet'> = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
}): Promise<number> {
  // Two-word commands ("index add") take their second word from the arguments.
  const twoWord = argv.length >= 2 && COMMAND_NAMES.includes(`${argv[0]} ${argv[1]}`);
  const [name, ...rest] = twoWord ? [`${argv[0]} ${argv[1]}`, ...argv.slice(2)] : argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const helpName = rest.length >= 2 && COMMAND_NAMES.includes(`${rest[0]} ${rest[1]}`) ? `${rest[0]} ${rest[1]}` : rest[0];
    const target = name === 'help' && helpName !== undefined ? loadCommand(helpName) : undefined;
    io.out(target ? commandHelp(target) : mainHelp());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    io.out(`${VERSION}\n`);
    return 0;
  }
  const command = loadCommand(name);
  if (!command) {
    io.err(`phylogeny: unknown command '${name}'\n\n${mainHelp()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(commandHelp(command));
    return 0;
  }
  try {
    const args = parseArgs(command.options, command.positionals, rest);
    const code = await command.run(args, { ...io, quiet: Boolean(args.opts.quiet) });
    return code ?? 0;
  } catch (e) {
    const { code, usage } = exitCodeOf(e);
    const message = e instanceof Error && typeof e.message === 'string' ? e.message : String(e);
    io.err(`phylogeny ${name}: ${message}\n${usage ? `Run 'phylogeny ${name} --help' for usage.\n` : ''}`);
    if (process.env.PHYLOGENY_DEBUG && e instanceof Error && !(e instanceof PhylogenyError) && !usage) io.err(`${e.stack}\n`);
    return code;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`phylogeny: ${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
