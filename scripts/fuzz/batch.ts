/**
 * Runs fuzz cases of one target in this process: each mutated file is written to disk and
 * given to the target's check. A clean refusal is a FormatError or IoError; anything else
 * thrown (another error, or a check that found an invalid file accepted) is a crash.
 */
import * as fs from 'fs';
import * as path from 'path';
import { FormatError, IoError } from '../../lib/errors';
import { Mutator } from './mutate';
import { FuzzTarget } from './target';

export type Outcome = { kind: 'ok' } | { kind: 'refused'; message: string } | { kind: 'crash'; message: string };

export interface Counts {
  ok: number;
  refused: number;
  crashes: number;
  /** The first few crashes: case index, mutation steps, error. */
  crashReports: string[];
}

export function newCounts(): Counts {
  return { ok: 0, refused: 0, crashes: 0, crashReports: [] };
}

export function runCase(target: FuzzTarget, mutator: Mutator, index: number, dir: string): Outcome & { steps: string[] } {
  const m = mutator.mutate(index);
  const file = path.join(dir, `case.${target.name}`);
  fs.writeFileSync(file, m.bytes);
  try {
    target.check(file, m.bytes);
    return { kind: 'ok', steps: m.steps };
  } catch (e) {
    if (e instanceof FormatError || e instanceof IoError) return { kind: 'refused', message: e.message, steps: m.steps };
    return { kind: 'crash', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e), steps: m.steps };
  }
}

export function record(counts: Counts, index: number, o: Outcome & { steps: string[] }): void {
  if (o.kind === 'ok') counts.ok++;
  else if (o.kind === 'refused') counts.refused++;
  else {
    counts.crashes++;
    if (counts.crashReports.length < 10) counts.crashReports.push(`case ${index} (${o.steps.join('; ')}): ${o.message}`);
  }
}
