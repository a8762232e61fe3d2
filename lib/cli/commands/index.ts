/**
 * Every `phylogeny` command, in the order help lists them. Each entry names its command and
 * loads its module on demand: a command's module pulls in what it runs (detection, training,
 * DuckDB, ...), and a process that runs one command should load only that one; the start-up
 * of `phylogeny index query` is part of its latency target (docs/index.md).
 */
import type { Command } from '../command';

interface CommandEntry {
  name: string;
  load: () => Command;
}

export const COMMAND_ENTRIES: readonly CommandEntry[] = [
  { name: 'demo', load: () => (require('./demo') as typeof import('./demo')).demoCommand },
  { name: 'detect', load: () => (require('./detect') as typeof import('./detect')).detectCommand },
  { name: 'eval', load: () => (require('./eval') as typeof import('./eval')).evalCommand },
  { name: 'scan', load: () => (require('./scan') as typeof import('./scan')).scanCommand },
  { name: 'merge', load: () => (require('./merge') as typeof import('./merge')).mergeCommand },
  { name: 'index add', load: () => (require('./index-add') as typeof import('./index-add')).indexAddCommand },
  { name: 'index query', load: () => (require('./index-query') as typeof import('./index-query')).indexQueryCommand },
  { name: 'index merge', load: () => (require('./index-merge') as typeof import('./index-merge')).indexMergeCommand },
  { name: 'zoo', load: () => (require('./zoo') as typeof import('./zoo')).zooCommand },
  { name: 'train', load: () => (require('./train') as typeof import('./train')).trainCommand },
  { name: 'inspect', load: () => (require('./inspect') as typeof import('./inspect')).inspectCommand },
  { name: 'methods', load: () => (require('./methods') as typeof import('./methods')).methodsCommand },
  { name: 'info', load: () => (require('./info') as typeof import('./info')).infoCommand },
];

export const COMMAND_NAMES: readonly string[] = COMMAND_ENTRIES.map((e) => e.name);

/** The command of that name, its module loaded now; undefined for an unknown name. */
export function loadCommand(name: string): Command | undefined {
  const entry = COMMAND_ENTRIES.find((e) => e.name === name);
  if (!entry) return undefined;
  const command = entry.load();
  if (command.name !== name) throw new Error(`command registry: '${name}' loaded the command '${command.name}'`);
  return command;
}

/** Every command, all modules loaded (help and the generated docs/cli.md list them all). */
export function allCommands(): Command[] {
  return COMMAND_NAMES.map((n) => loadCommand(n)!);
}
