/**
 * models.json and lineage.json (docs/architecture.md, "Formats"): written last, after every model file, so
 * a directory with a models.json holds a complete zoo. Models are listed sorted by id, which the
 * hashing makes unrelated to lineage.
 */
import * as fs from 'fs';
import * as path from 'path';
import { createHash } from 'crypto';
import type { Lineage, LineageEdge } from '../io/types';
import { ZooManifest, ZooModelRecord } from './types';
import { FormatError } from '../errors';

/** Bumped whenever a change to lib/zoo changes what a zoo contains: invalidates cached zoos. */
export const ZOO_CODE_VERSION = 'zoo-1';

export const MODELS_JSON = 'models.json';
export const LINEAGE_JSON = 'lineage.json';

export function cacheKeyOf(options: Record<string, unknown>): string {
  const canonical = JSON.stringify(Object.keys(options).sort().map((k) => [k, options[k]]));
  return createHash('sha256').update(`${ZOO_CODE_VERSION}|${canonical}`).digest('hex').slice(0, 16);
}

/** Edges parent → child, and families as the node sets of each tree, all sorted by id. */
export function lineageOf(models: ZooModelRecord[]): Lineage {
  const ids = new Set(models.map((m) => m.id));
  const edges = models
    .filter((m) => m.parent !== null)
    .flatMap((m): LineageEdge[] => {
      const o = m.origin;
      const parents = o?.parents ?? [{ id: m.parent as string, weight: NaN }];
      for (const p of parents) if (!ids.has(p.id)) throw new FormatError('E_FORMAT', `model ${m.id}: parent ${p.id} is not in the zoo`);
      // Untyped zoos keep their old lineage.json exactly (no type field: a fine-tune).
      if (!o) return [{ parent: m.parent as string, child: m.id }];
      if (o.type === 'merge') return parents.map((p) => ({ parent: p.id, child: m.id, type: 'merge', weight: p.weight }));
      return [{ parent: m.parent as string, child: m.id, type: o.type, ...(o.rank ? { rank: o.rank } : {}) }];
    })
    .sort((a, b) => (a.child < b.child ? -1 : a.child > b.child ? 1 : a.parent < b.parent ? -1 : 1));
  const parentOf = new Map(models.map((m) => [m.id, m.parent]));
  const rootOf = (id: string): string => {
    const seen = new Set<string>();
    let cur = id;
    for (;;) {
      const p = parentOf.get(cur);
      if (!p) return cur;
      if (seen.has(cur)) throw new FormatError('E_FORMAT', `lineage cycle through ${cur}`);
      seen.add(cur);
      cur = p;
    }
  };
  const byRoot = new Map<string, string[]>();
  for (const m of models) {
    const r = rootOf(m.id);
    if (!byRoot.has(r)) byRoot.set(r, []);
    (byRoot.get(r) as string[]).push(m.id);
  }
  const families = [...byRoot.values()].map((f) => f.sort()).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  return { edges, families };
}

function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

export function writeManifest(dir: string, manifest: ZooManifest): Lineage {
  const models = [...manifest.models].sort((a, b) => (a.id < b.id ? -1 : 1));
  const lineage = lineageOf(models);
  writeJsonAtomic(path.join(dir, LINEAGE_JSON), lineage);
  writeJsonAtomic(path.join(dir, MODELS_JSON), { ...manifest, models });
  return lineage;
}

/** The manifest of a zoo directory, or null when it has none (or an unreadable one). */
export function readManifest(dir: string): ZooManifest | null {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, MODELS_JSON), 'utf8')) as ZooManifest;
    return m && m.generator === 'neural-phylogeny zoo' && Array.isArray(m.models) ? m : null;
  } catch {
    return null;
  }
}

export function readLineage(dir: string): Lineage {
  return JSON.parse(fs.readFileSync(path.join(dir, LINEAGE_JSON), 'utf8')) as Lineage;
}
