/**
 * lineage.json (docs/architecture.md, "Formats"): {"edges":[{"parent":ID,"child":ID,"type"?,"weight"?}],
 * "families":[[ID,...]]}, the ground truth the zoo writes beside a model set. A file that does not have this shape
 * is an error naming it: silently ignoring bad ground truth would make `eval` lie.
 */
import * as fs from 'fs';
import { FormatError, IoError } from '../errors';
import { Lineage, LineageEdge } from './types';
import { EDGE_TYPES, edgeTypeOf, isEdgeType } from './edge-types';

export const LINEAGE_FILE = 'lineage.json';

function bad(file: string, rule: string): FormatError {
  return new FormatError('E_FORMAT', `${file}: ${rule}`, { file });
}

const EDGE_KEYS = new Set(['parent', 'child', 'type', 'weight', 'rank']);

/**
 * One edge of lineage.json: {"parent", "child"} plus optional "type" (lib/io/edge-types.ts),
 * "weight" (merge edges only) and "rank" (finetune/peft only). Unknown keys are refused so a
 * misspelt "typ" is not silently read as a fine-tune.
 */
function parseEdge(file: string, e: unknown, i: number): LineageEdge {
  const at = `lineage edge ${i}`;
  if (typeof e !== 'object' || e === null || Array.isArray(e)) throw bad(file, `${at} must be an object with string "parent" and "child"`);
  const edge = e as Record<string, unknown>;
  if (typeof edge.parent !== 'string' || typeof edge.child !== 'string') throw bad(file, `${at} must be an object with string "parent" and "child"`);
  for (const k of Object.keys(edge)) if (!EDGE_KEYS.has(k)) throw bad(file, `${at} has an unknown field "${k}" (allowed: ${[...EDGE_KEYS].join(', ')})`);
  if (edge.parent === edge.child) throw bad(file, `${at} makes '${edge.parent}' its own parent`);
  const out: LineageEdge = { parent: edge.parent, child: edge.child };
  if (edge.type !== undefined) {
    if (!isEdgeType(edge.type)) throw bad(file, `${at} "type" must be one of ${EDGE_TYPES.join(', ')} (got ${JSON.stringify(edge.type)})`);
    out.type = edge.type;
  }
  const type = edgeTypeOf(out);
  if (edge.weight !== undefined) {
    if (type !== 'merge') throw bad(file, `${at} has a "weight" but is a ${type} edge (only merge edges carry weights)`);
    if (typeof edge.weight !== 'number' || !Number.isFinite(edge.weight)) throw bad(file, `${at} "weight" must be a finite number`);
    out.weight = edge.weight;
  }
  if (edge.rank !== undefined) {
    if (type !== 'finetune' && type !== 'peft') throw bad(file, `${at} has a "rank" but is a ${type} edge (only finetune and peft edges have one)`);
    if (typeof edge.rank !== 'number' || !Number.isInteger(edge.rank) || edge.rank < 1) throw bad(file, `${at} "rank" must be a positive integer`);
    out.rank = edge.rank;
  }
  return out;
}

/**
 * The rules between edges: a pair appears once; a child has one parent unless every edge into
 * it is a merge edge (a merge has two or more); following parents never returns to a model.
 */
function checkEdges(file: string, edges: LineageEdge[]): void {
  const pairs = new Set<string>();
  const into = new Map<string, LineageEdge[]>();
  edges.forEach((e, i) => {
    const k = JSON.stringify([e.parent, e.child].sort());
    if (pairs.has(k)) throw bad(file, `lineage edge ${i} joins '${e.parent}' and '${e.child}', which an earlier edge already joins`);
    pairs.add(k);
    if (!into.has(e.child)) into.set(e.child, []);
    into.get(e.child)!.push(e);
  });
  for (const [child, es] of into) {
    if (es.length === 1) continue;
    const other = es.find((e) => edgeTypeOf(e) !== 'merge');
    if (other) throw bad(file, `lineage: '${child}' has ${es.length} parents but its edge from '${other.parent}' is a ${edgeTypeOf(other)} edge (only merge children have several parents)`);
  }
  for (const [child, es] of into) {
    if (es.length === 1 && edgeTypeOf(es[0]) === 'merge') throw bad(file, `lineage: merge child '${child}' has a single parent '${es[0].parent}' (a merge needs two or more)`);
  }
  // Cycle check: depth-first over parents, colouring models on the current path.
  const state = new Map<string, 1 | 2>();
  const visit = (id: string, path: string[]): void => {
    const s = state.get(id);
    if (s === 2) return;
    if (s === 1) throw bad(file, `lineage has a cycle: ${[...path.slice(path.indexOf(id)), id].join(' → ')}`);
    state.set(id, 1);
    for (const e of into.get(id) ?? []) visit(e.parent, [...path, id]);
    state.set(id, 2);
  };
  for (const child of into.keys()) visit(child, []);
}

/** Validates parsed JSON as a Lineage; `families` may be left out (read as []). */
export function parseLineage(file: string, text: string): Lineage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw bad(file, `lineage is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw bad(file, 'lineage must be a JSON object {"edges": [...], "families": [...]}');
  const obj = json as Record<string, unknown>;
  if (!Array.isArray(obj.edges)) throw bad(file, 'lineage "edges" must be an array of {"parent", "child"} objects');
  const edges = obj.edges.map((e, i) => parseEdge(file, e, i));
  checkEdges(file, edges);
  let families: string[][] = [];
  if (obj.families !== undefined) {
    if (!Array.isArray(obj.families)) throw bad(file, 'lineage "families" must be an array of arrays of model ids');
    families = obj.families.map((f, i) => {
      if (!Array.isArray(f) || !f.every((id) => typeof id === 'string'))
        throw bad(file, `lineage family ${i} must be an array of model ids (strings)`);
      return [...(f as string[])];
    });
  }
  return { edges, families };
}

export async function readLineage(file: string): Promise<Lineage> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    throw new IoError('E_IO', `${file}: cannot read lineage: ${(e as Error).message}`, { file, cause: e });
  }
  return parseLineage(file, text);
}

/** Rewrites ids through `rename` (ids disambiguated by discovery); unknown ids are kept. */
export function renameLineage(lineage: Lineage, rename: (id: string) => string): Lineage {
  return {
    edges: lineage.edges.map((e) => ({ ...e, parent: rename(e.parent), child: rename(e.child) })),
    families: lineage.families.map((f) => f.map(rename)),
  };
}
