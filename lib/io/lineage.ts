/**
 * lineage.json (docs/architecture.md, "Formats"): {"edges":[{"parent":ID,"child":ID}],"families":[[ID,...]]},
 * the ground truth the zoo writes beside a model set. A file that does not have this shape
 * is an error naming it: silently ignoring bad ground truth would make `eval` lie.
 */
import * as fs from 'fs';
import { FormatError, IoError } from '../errors';
import { Lineage } from './types';

export const LINEAGE_FILE = 'lineage.json';

function bad(file: string, rule: string): FormatError {
  return new FormatError('E_FORMAT', `${file}: ${rule}`, { file });
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
  const edges = obj.edges.map((e, i) => {
    const edge = e as Record<string, unknown> | null;
    if (typeof edge !== 'object' || edge === null || typeof edge.parent !== 'string' || typeof edge.child !== 'string')
      throw bad(file, `lineage edge ${i} must be an object with string "parent" and "child"`);
    if (edge.parent === edge.child) throw bad(file, `lineage edge ${i} makes '${edge.parent}' its own parent`);
    return { parent: edge.parent, child: edge.child };
  });
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
    edges: lineage.edges.map((e) => ({ parent: rename(e.parent), child: rename(e.child) })),
    families: lineage.families.map((f) => f.map(rename)),
  };
}
