/**
 * `--help` and unknown-option checks for the repo's scripts and benchmarks, which parse their
 * few options by hand. The help text is the script's own header comment (tsc keeps it in the
 * emitted .js), so each script documents its options in one place.
 */
import * as fs from 'fs';

/** The first block comment of a source file, without its comment markers. */
export function headerDoc(source: string): string {
  const m = /\/\*\*?([\s\S]*?)\*\//.exec(source);
  if (!m) return '';
  return m[1]
    .split('\n')
    .map((l) => l.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim();
}

/**
 * Options in argv (`--name` or `--name=value`) that are not in `known` (names without
 * dashes). A lone `--` ends the options.
 */
export function unknownOptions(argv: string[], known: string[]): string[] {
  const out: string[] = [];
  for (const a of argv) {
    if (a === '--') break;
    if (!a.startsWith('--')) continue;
    const name = a.slice(2).split('=')[0];
    if (!known.includes(name)) out.push(a);
  }
  return out;
}

/**
 * Call first thing in a script: prints the script's header comment and exits 0 on --help or
 * -h; exits 2 naming the option on anything not in `known`.
 */
export function handleUsage(scriptFile: string, known: string[], argv = process.argv.slice(2)): void {
  const doc = () => {
    try {
      return headerDoc(fs.readFileSync(scriptFile, 'utf8'));
    } catch {
      return '';
    }
  };
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${doc() || 'no usage text'}\n`);
    process.exit(0);
  }
  const bad = unknownOptions(argv, known);
  if (bad.length > 0) {
    const opts = known.length ? known.map((k) => `--${k}`).join(' ') : '(none)';
    process.stderr.write(`unknown option ${bad.join(', ')}; options: ${opts} (--help for usage)\n`);
    process.exit(2);
  }
}
