/**
 * The detection methods, in the order the CLI lists them. Adding a method is one file in this
 * folder and one line here: its options' defaults, the CLI's `--method` choices, `phylogeny
 * methods` and docs/cli.md all read this list.
 */
import { InvalidArgumentError } from '../../errors';
import { additiveTree } from './additive-tree';
import { agglomerative } from './agglomerative';
import { arborescence } from './arborescence';
import { dbscan } from './dbscan';
import { kmeansAfter } from './kmeans-after';
import { kmeansAlong } from './kmeans-along';
import { learned } from './learned';
import { mother } from './mother';
import type { MethodSpec } from './spec';
import { spanningForest } from './spanning-forest';
import { spectral } from './spectral';

const BUILTIN = {
  'additive-tree': additiveTree,
  arborescence,
  'spanning-forest': spanningForest,
  'kmeans-after': kmeansAfter,
  'kmeans-along': kmeansAlong,
  agglomerative,
  spectral,
  dbscan,
  mother,
  learned,
} satisfies Record<string, MethodSpec>;

export type MethodName = keyof typeof BUILTIN;

const specs = new Map<string, MethodSpec>();
/** Every method name, registration order; the CLI's `--method` choices (live: registerMethod adds). */
export const METHOD_CHOICES: string[] = [];
/** The learning-free methods (those that run on a scan alone), with one-line descriptions. */
export const METHODS: Array<{ name: MethodName; description: string }> = [];

/** Adds a method; a name already taken is an error (two methods must never share one). */
export function registerMethod(spec: MethodSpec): void {
  if (specs.has(spec.name)) throw new InvalidArgumentError('E_INVALID_ARG', `a detection method named '${spec.name}' is already registered`);
  if ((spec.run === undefined) === (spec.modelFiles === undefined)) {
    throw new InvalidArgumentError('E_INVALID_ARG', `detection method '${spec.name}' needs exactly one of run and modelFiles`);
  }
  specs.set(spec.name, spec);
  METHOD_CHOICES.push(spec.name);
  if (spec.run !== undefined) METHODS.push({ name: spec.name as MethodName, description: spec.description });
}

for (const [name, spec] of Object.entries(BUILTIN)) {
  if (name !== spec.name) throw new InvalidArgumentError('E_INVALID_ARG', `registry key '${name}' names method '${spec.name}'`);
  registerMethod(spec);
}

/** Every registered method, registration order. */
export function methodSpecs(): MethodSpec[] {
  return [...specs.values()];
}

export function methodSpec(name: string): MethodSpec {
  const spec = specs.get(name);
  if (spec === undefined) throw new InvalidArgumentError('E_INVALID_ARG', `method must be one of ${METHOD_CHOICES.join(', ')} (got ${name})`);
  return spec;
}
