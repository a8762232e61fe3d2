/**
 * A small declarative argument parser: each command declares its options and positionals
 * once, and the same declaration drives parsing, `--help` and docs/cli.md.
 */

export type OptionType = 'string' | 'number' | 'boolean' | 'list';

export interface OptionSpec {
  name: string;
  alias?: string;
  type: OptionType;
  /** Placeholder shown in help, e.g. FILE. */
  arg?: string;
  description: string;
  default?: string | number | boolean;
  choices?: string[];
}

export interface PositionalSpec {
  name: string;
  description: string;
  variadic?: boolean;
  required?: boolean;
}

export interface ParsedArgs {
  opts: Record<string, string | number | boolean | string[] | undefined>;
  positionals: string[];
}

/** A mistake in how the command was called (exit code 2). */
export class UsageError extends Error {}

export function parseArgs(options: OptionSpec[], positionals: PositionalSpec[], argv: string[]): ParsedArgs {
  const byName = new Map<string, OptionSpec>();
  for (const o of options) {
    byName.set(o.name, o);
    if (o.alias) byName.set(o.alias, o);
  }
  const opts: ParsedArgs['opts'] = {};
  for (const o of options) if (o.default !== undefined) opts[o.name] = o.default;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      rest.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const key = a.startsWith('--') ? a.slice(2, eq > 0 ? eq : undefined) : a.slice(1, eq > 0 ? eq : undefined);
    let spec = byName.get(key);
    let negated = false;
    if (!spec && key.startsWith('no-') && byName.get(key.slice(3))?.type === 'boolean') {
      spec = byName.get(key.slice(3));
      negated = true;
    }
    if (!spec) throw new UsageError(`unknown option '${a.slice(0, eq > 0 ? eq : undefined)}'`);
    if (spec.type === 'boolean') {
      if (eq > 0) throw new UsageError(`option --${spec.name} takes no value`);
      opts[spec.name] = !negated;
      continue;
    }
    let value: string | undefined;
    if (eq > 0) value = a.slice(eq + 1);
    else {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`option --${spec.name} needs a value${spec.arg ? ` (${spec.arg})` : ''}`);
    }
    if (spec.choices && !spec.choices.includes(value)) {
      throw new UsageError(`option --${spec.name} must be one of ${spec.choices.join(', ')}; got '${value}'`);
    }
    if (spec.type === 'number') {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`option --${spec.name} needs a number, got '${value}'`);
      opts[spec.name] = n;
    } else if (spec.type === 'list') {
      const prev = opts[spec.name];
      const list = Array.isArray(prev) ? prev : [];
      opts[spec.name] = [...list, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
    } else {
      opts[spec.name] = value;
    }
  }
  const required = positionals.filter((p) => p.required);
  if (rest.length < required.length) {
    throw new UsageError(`missing ${required.slice(rest.length).map((p) => `<${p.name}>`).join(' ')}`);
  }
  const variadic = positionals.some((p) => p.variadic);
  if (!variadic && rest.length > positionals.length) {
    throw new UsageError(`unexpected argument '${rest[positionals.length]}'`);
  }
  return { opts, positionals: rest };
}

function optionLabel(o: OptionSpec): string {
  const flag = `--${o.name}${o.alias ? `, -${o.alias}` : ''}`;
  return o.type === 'boolean' ? flag : `${flag} ${o.arg ?? o.type.toUpperCase()}`;
}

export function formatOptions(options: OptionSpec[]): string {
  const labels = options.map(optionLabel);
  const width = Math.min(34, Math.max(0, ...labels.map((l) => l.length)));
  return options
    .map((o, i) => {
      let desc = o.description;
      if (o.choices) desc += ` (${o.choices.join(' | ')})`;
      if (o.default !== undefined && o.default !== false) desc += ` [default: ${String(o.default)}]`;
      const label = labels[i];
      return label.length > width ? `  ${label}\n  ${' '.repeat(width)}  ${desc}` : `  ${label.padEnd(width)}  ${desc}`;
    })
    .join('\n');
}
