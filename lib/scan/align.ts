/**
 * Alignment: which tensors are compared across which models. Tensors are grouped by name and
 * shape; a folder may mix architectures, so each group holds only the models that have it,
 * and two models are compared over the groups they share. When a fine-tune resized the
 * vocabulary (rows appended to embed_tokens / lm_head), tensors with the same name and
 * trailing dimensions but slightly different row counts are compared over their common row
 * prefix (row-major: the first R rows are the first R × rowSize elements) instead of being
 * dropped.
 */
import { DtypeError, InvalidArgumentError } from '../errors';
import { isScannable } from '../io/tensor-data';
import type { ModelSource, TensorEntry } from '../io/types';
import { parsePattern } from './fake-init';
import type { SkippedTensor } from './types';

export const DEFAULT_ROW_PREFIX_RATIO = 0.6;

export interface AlignOptions {
  /** Only tensors whose name matches one of these (globs or /regex/). */
  include?: string[];
  /** Leave out tensors whose name matches one of these. */
  exclude?: string[];
  /**
   * Refuse tensors whose dtype cannot be scanned (integer, bool, ...) or that cannot be read
   * in place, instead of leaving them out of the statistics (the default; each one is listed
   * in `skipped`). Checkpoints routinely hold such tensors (BatchNorm's int64
   * `num_batches_tracked`, attention masks), so refusing is opt-in.
   */
  strictDtypes?: boolean;
  /** Accepted for compatibility: leaving such tensors out is the default. Conflicts with strictDtypes. */
  skipNonFloat?: boolean;
  /**
   * Row counts that differ are compared over the common prefix when min/max rows is at least
   * this ratio. Default 0.6: vocabulary resizes range from one added token (32000 -> 32001)
   * to extensions by half (Chinese-LLaMA: 32000 -> 49953, ratio 0.64); widths that double
   * (ratio 0.5, usually a different architecture) stay apart. 1 disables prefix alignment.
   */
  rowPrefixMinRatio?: number;
}

export interface AlignedMember {
  /** Index into the models array. */
  model: number;
  tensor: TensorEntry;
}

export interface AlignedGroup {
  name: string;
  /** Compared shape (rows = common prefix when row-prefix aligned). */
  shape: number[];
  /** Full shape of the first member (fan-in for fake init does not depend on rows). */
  fullShape: number[];
  /** Elements compared per member. */
  count: number;
  members: AlignedMember[];
  rowPrefix?: { rows: number; fullRows: number[] };
  /** Shape of the sibling weight of a bias-like tensor, from the first member's model. */
  siblingWeightShape?: number[];
}

export interface Alignment {
  groups: AlignedGroup[];
  skipped: SkippedTensor[];
}

const product = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

function matchesAny(name: string, patterns: RegExp[]): boolean {
  return patterns.some((p) => p.test(name));
}

/** Canonical order of groups everywhere (full scans, shards, merges): name, then shape. */
export function compareGroupKeys(a: { name: string; shape: number[] }, b: { name: string; shape: number[] }): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  const sa = a.shape.join('x');
  const sb = b.shape.join('x');
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

export function alignModels(models: ModelSource[], opts: AlignOptions = {}): Alignment {
  const include = (opts.include ?? []).map(parsePattern);
  const exclude = (opts.exclude ?? []).map(parsePattern);
  const ratio = opts.rowPrefixMinRatio ?? DEFAULT_ROW_PREFIX_RATIO;
  if (opts.strictDtypes && opts.skipNonFloat) {
    throw new InvalidArgumentError('E_INVALID_ARG', 'strictDtypes and skipNonFloat contradict each other (CLI: --strict-dtypes with --skip-non-float)');
  }
  const strict = opts.strictDtypes === true;
  const skipped: SkippedTensor[] = [];
  // name -> trailing-shape key -> members
  const byName = new Map<string, Map<string, AlignedMember[]>>();

  models.forEach((model, mi) => {
    for (const t of model.tensors) {
      if (include.length && !matchesAny(t.name, include)) {
        skipped.push({ model: model.id, tensor: t.name, reason: 'not matched by include' });
        continue;
      }
      if (exclude.length && matchesAny(t.name, exclude)) {
        skipped.push({ model: model.id, tensor: t.name, reason: 'matched by exclude' });
        continue;
      }
      if (t.unreadable !== undefined) {
        if (!strict) {
          skipped.push({ model: model.id, tensor: t.name, reason: t.unreadable });
          continue;
        }
        throw new DtypeError(
          'E_DTYPE',
          `${t.file}: tensor '${t.name}' cannot be scanned: ${t.unreadable}; without strictDtypes (CLI: --strict-dtypes) such tensors are left out`,
          { file: t.file, tensor: t.name },
        );
      }
      if (!isScannable(t)) {
        if (!strict) {
          skipped.push({ model: model.id, tensor: t.name, reason: `dtype ${t.dtype} ${t.gguf || t.packed ? 'has no dequantizer' : 'is not a float type'}` });
          continue;
        }
        throw new DtypeError(
          'E_DTYPE',
          `${t.file}: tensor '${t.name}' has dtype ${t.dtype}, which cannot be scanned ` +
            `(${t.gguf ? 'GGUF: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K..Q6_K' : t.packed ? 'GPTQ/AWQ: 4 and 8 bits' : 'only F32, F16, BF16 and F64'}); ` +
            'without strictDtypes (CLI: --strict-dtypes) such tensors are left out',
          { file: t.file, tensor: t.name },
        );
      }
      const trailing = `${t.shape.length}:${t.shape.slice(1).join('x')}`;
      let shapes = byName.get(t.name);
      if (!shapes) byName.set(t.name, (shapes = new Map()));
      let list = shapes.get(trailing);
      if (!list) shapes.set(trailing, (list = []));
      list.push({ model: mi, tensor: t });
    }
  });

  const groups: AlignedGroup[] = [];
  for (const [name, shapes] of byName) {
    for (const members of shapes.values()) {
      // Split by row count: consecutive distinct counts merge while min/max >= ratio.
      const rowsOf = (m: AlignedMember) => (m.tensor.shape.length === 0 ? 1 : m.tensor.shape[0]);
      const distinct = [...new Set(members.map(rowsOf))].sort((a, b) => a - b);
      const clusters: number[][] = [];
      for (const r of distinct) {
        const last = clusters[clusters.length - 1];
        const canJoin = last && ratio < 1 && r > 0 && last[0] / r >= ratio;
        if (canJoin) last.push(r);
        else clusters.push([r]);
      }
      for (const cluster of clusters) {
        const inCluster = members.filter((m) => cluster.includes(rowsOf(m)));
        const first = inCluster[0].tensor;
        const rows = cluster[0];
        const shape = first.shape.length === 0 ? [] : [rows, ...first.shape.slice(1)];
        const group: AlignedGroup = {
          name,
          shape,
          fullShape: first.shape,
          count: product(shape),
          members: inCluster.sort((a, b) => a.model - b.model),
        };
        if (cluster.length > 1) group.rowPrefix = { rows, fullRows: group.members.map((m) => rowsOf(m)) };
        groups.push(group);
      }
    }
  }

  // Sibling weights (for bias fan-in) from the first member's model.
  for (const g of groups) {
    if (!/(^|[._])bias$/.test(g.name)) continue;
    const wname = g.name.replace(/bias$/, 'weight');
    const model = models[g.members[0].model];
    const w = model.tensors.find((t) => t.name === wname);
    if (w) g.siblingWeightShape = w.shape;
  }
  groups.sort(compareGroupKeys);
  return { groups, skipped };
}
