/**
 * Merged children of real trained models, with typed ground truth: takes a trained zoo, picks
 * in each family two fine-tuned siblings a, b of the root (their base), merges them with one
 * recipe (merge-kinds.ts) and writes a model set: the zoo's models, the merged children, and a
 * lineage.json whose merge edges name every parent with its weight. Ids are hashes, so names do
 * not reveal which models are merges.
 */
import * as fs from 'fs';
import * as path from 'path';
import { createHash } from 'crypto';
import { readHeaderSync } from '../io/safetensors';
import { decodeToFloat32, isFloatDtype } from '../io/dtype';
import { writeSafetensors, type TensorData } from '../io/safetensors-writer';
import type { Lineage, LineageEdge } from '../io/types';
import { FormatError } from '../errors';
import { MERGE_RECIPES, type MergeKind } from './merge-kinds';
import { deriveSeed, Rng } from './rng';

export { MERGE_KINDS, MERGE_RECIPES, type MergeKind } from './merge-kinds';

type FloatModel = Map<string, { shape: number[]; data: Float32Array }>;

/** Every tensor of a single-file safetensors model as float32 (zoo models are small). */
export function readFloatModel(file: string): FloatModel {
  const h = readHeaderSync(file);
  const fd = fs.openSync(file, 'r');
  try {
    const out: FloatModel = new Map();
    for (const t of h.tensors) {
      if (!isFloatDtype(t.dtype)) throw new FormatError('E_FORMAT', `${file}: tensor ${t.name} is ${t.dtype}; only float tensors can be merged`, { file });
      const buf = Buffer.alloc(t.end - t.begin);
      fs.readSync(fd, buf, 0, buf.length, h.dataStart + t.begin);
      out.set(t.name, { shape: t.shape, data: decodeToFloat32(buf, t.dtype) });
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

export interface MergedSetOptions {
  /** A zoo directory of single-file models (<id>.safetensors) with lineage.json. */
  zooDir: string;
  lineage: Lineage;
  outDir: string;
  kind: MergeKind;
  seed: number;
}

export interface MergedSet {
  dir: string;
  lineage: Lineage;
  merged: { id: string; parents: { id: string; weight: number }[]; coefficient: number }[];
}

/** Writes the model set; one merge per family that has a root with two or more children. */
export function writeMergedSet(o: MergedSetOptions): MergedSet {
  const recipe = MERGE_RECIPES[o.kind];
  fs.mkdirSync(o.outDir, { recursive: true });
  const fileOf = (id: string) => path.join(o.zooDir, `${id}.safetensors`);
  const ids = new Set(o.lineage.edges.flatMap((e) => [e.parent, e.child]));
  for (const id of ids) {
    if (!fs.existsSync(fileOf(id))) throw new FormatError('E_FORMAT', `${fileOf(id)}: not found (merges need a zoo of single-file models)`, { file: fileOf(id) });
    fs.copyFileSync(fileOf(id), path.join(o.outDir, `${id}.safetensors`));
  }
  const hasParent = new Set(o.lineage.edges.map((e) => e.child));
  const roots = [...ids].filter((id) => !hasParent.has(id)).sort();
  const edges: LineageEdge[] = [...o.lineage.edges];
  const merged: MergedSet['merged'] = [];
  for (const root of roots) {
    const kids = o.lineage.edges.filter((e) => e.parent === root).map((e) => e.child).sort();
    if (kids.length < 2) continue;
    const rng = new Rng(deriveSeed(o.seed, 'merge', o.kind, root));
    // Two distinct children, drawn by the seed.
    const i = Math.floor(rng.next() * kids.length);
    const j = (i + 1 + Math.floor(rng.next() * (kids.length - 1))) % kids.length;
    const who = { a: kids[i], b: kids[j], base: root };
    const [A, B, base] = [who.a, who.b, who.base].map((id) => readFloatModel(fileOf(id)));
    const c = recipe.draw(rng);
    const tensors: TensorData[] = [...A].map(([name, t]) => {
      const tb = B.get(name);
      const t0 = base.get(name);
      if (!tb || !t0 || tb.data.length !== t.data.length || t0.data.length !== t.data.length) {
        throw new FormatError('E_FORMAT', `${fileOf(who.a)}: tensor ${name} does not match its sibling's or base's`, { file: fileOf(who.a) });
      }
      return { name, dtype: 'F32', shape: t.shape, data: recipe.apply({ a: t.data, b: tb.data, base: t0.data }, c, rng) };
    });
    const id = `fc-${createHash('sha256').update(`merge|${o.kind}|${o.seed}|${root}`).digest('hex').slice(0, 10)}`;
    writeSafetensors(path.join(o.outDir, `${id}.safetensors`), tensors);
    const parents = recipe.truth(c).map((p) => ({ id: who[p.who], weight: p.weight }));
    for (const p of parents) edges.push({ parent: p.id, child: id, type: 'merge', weight: p.weight });
    merged.push({ id, parents, coefficient: c });
  }
  const families = o.lineage.families.map((f) => [...f, ...merged.filter((m) => m.parents.some((p) => f.includes(p.id))).map((m) => m.id)]);
  const lineage: Lineage = { edges, families };
  fs.writeFileSync(path.join(o.outDir, 'lineage.json'), JSON.stringify(lineage, null, 2) + '\n');
  return { dir: o.outDir, lineage, merged };
}
