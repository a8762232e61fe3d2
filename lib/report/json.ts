/**
 * JSON report: the detection JSON of docs/report.md (models, edges, roots, method, options,
 * timings, in that order) followed by our extra fields (families, duplicates, warnings,
 * distances). Key order is fixed and option keys are sorted so that two runs diff cleanly.
 *
 * JSON has no NaN or Infinity: they are written as null. Reading back, a null score is NaN
 * (no score) and a null distance (edge or matrix cell) is Infinity (the two models share no
 * tensor, so they cannot be compared).
 */
import type { DeclaredBase, DetectedEdge, DetectedModel, DetectionResult } from '../detect/types';
import { EDGE_TYPES, edgeTypeOf, isEdgeType } from '../io/edge-types';
import { FormatError } from '../errors';
import { buildForest } from './forest';

export function renderJson(result: DetectionResult): string {
  const ordered: Record<string, unknown> = {
    models: result.models.map((m: DetectedModel) => ({ id: m.id, path: m.path, params: m.params, score: m.score, declared: declaredOf(m) })),
    edges: result.edges.map((e: DetectedEdge) => ({
      parent: e.parent,
      child: e.child,
      type: edgeTypeOf(e),
      weight: e.weight,
      confidence: e.confidence,
      distance: e.distance,
      confidenceParts: e.confidenceParts && { direction: e.confidenceParts.direction, pairing: e.confidenceParts.pairing },
      undirected: e.undirected || undefined,
      lowRank: e.lowRank,
      rank: e.rank,
    })),
    roots: result.roots,
    method: result.method,
    options: sortKeys(result.options ?? {}),
    timings: result.timings ?? {},
    families: result.families,
    familyDirections: result.familyDirections,
    duplicates: result.duplicates,
    warnings: result.warnings,
  };
  if (result.distances) ordered.distances = { ids: result.distances.ids, matrix: result.distances.matrix };
  return pretty(ordered, '') + '\n';
}

/** A model's declared bases; a result made without reading declarations says "none". */
function declaredOf(m: DetectedModel): DeclaredBase {
  const d = m.declared ?? { bases: [], verdict: 'none' };
  return { bases: d.bases, verdict: d.verdict, evidence: d.evidence };
}

/** Deep copy with object keys sorted; values JSON cannot hold are dropped as JSON.stringify would. */
function sortKeys(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const src = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(src).sort()) {
      if (src[k] !== undefined && typeof src[k] !== 'function') out[k] = sortKeys(src[k]);
    }
    return out;
  }
  return v;
}

const isScalar = (v: unknown): boolean => v === null || typeof v !== 'object';
const present = (v: Record<string, unknown>): [string, unknown][] =>
  Object.entries(v).filter(([, x]) => x !== undefined && typeof x !== 'function');
// An empty array or object prints as [] or {}, like a scalar: it does not make a value deeper.
const depth = (v: unknown): number => {
  if (isScalar(v)) return 0;
  const inner = Array.isArray(v) ? v : Object.values(v as object);
  return inner.length === 0 ? 0 : 1 + Math.max(0, ...inner.map(depth));
};

/** One-line form: `[1, 2]`, `{ "k": v }`. */
function inline(v: unknown): string {
  if (isScalar(v)) return scalar(v);
  if (Array.isArray(v)) return `[${v.map(inline).join(', ')}]`;
  const entries = present(v as Record<string, unknown>);
  return entries.length ? `{ ${entries.map(([k, x]) => `${JSON.stringify(k)}: ${inline(x)}`).join(', ')} }` : '{}';
}

function scalar(v: unknown): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return 'null';
  return JSON.stringify(v ?? null);
}

/**
 * Two-space indentation, except that arrays of scalars (matrix rows, id lists) and small shallow
 * values (one model, one edge) stay on one line: a 100-model matrix stays 100 lines long.
 */
function pretty(v: unknown, indent: string): string {
  if (isScalar(v)) return scalar(v);
  if (Array.isArray(v) && v.every(isScalar)) return inline(v);
  if (indent !== '' && depth(v) <= 2) {
    const one = inline(v);
    if (indent.length + one.length <= 160) return one;
  }
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[\n${v.map((x) => inner + pretty(x, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = present(v as Record<string, unknown>);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${pretty(x, inner)}`).join(',\n')}\n${indent}}`;
}

/** Parses and validates a detection result; every error names the offending field. */
export function parseDetectionJson(text: string): DetectionResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw fail(`not valid JSON (${(err as Error).message})`);
  }
  const top = obj(raw, '(top level)');

  const modelsRaw = arr(top.models, 'models');
  const ids = new Set<string>();
  const models = modelsRaw.map((x, i): DetectedModel => {
    const at = `models[${i}]`;
    const m = obj(x, at);
    const id = str(m.id, `${at}.id`);
    if (id === '') throw fail(`${at}.id is empty`);
    if (ids.has(id)) throw fail(`${at}.id "${id}" appears twice`);
    ids.add(id);
    const params = num(m.params, `${at}.params`);
    if (!(params >= 0)) throw fail(`${at}.params must be ≥ 0 (got ${params})`);
    return { id, path: str(m.path, `${at}.path`), params, score: m.score === null ? NaN : num(m.score, `${at}.score`), declared: parseDeclared(m.declared, `${at}.declared`) };
  });
  const known = (v: unknown, at: string): string => {
    const id = str(v, at);
    if (!ids.has(id)) throw fail(`${at} names "${id}", which is not among the models`);
    return id;
  };

  const edges = arr(top.edges, 'edges').map((x, i): DetectedEdge => {
    const at = `edges[${i}]`;
    const e = obj(x, at);
    const parent = known(e.parent, `${at}.parent`);
    const child = known(e.child, `${at}.child`);
    if (parent === child) throw fail(`${at} joins "${parent}" to itself`);
    const confidence = num(e.confidence, `${at}.confidence`);
    if (!(confidence >= 0 && confidence <= 1)) throw fail(`${at}.confidence must lie in [0, 1] (got ${confidence})`);
    // Files written before edges had types hold fine-tunes only.
    if (e.type !== undefined && !isEdgeType(e.type)) throw fail(`${at}.type must be one of ${EDGE_TYPES.join(', ')} (got ${shown(e.type)})`);
    const edge: DetectedEdge = { parent, child, type: e.type === undefined ? 'finetune' : (e.type as DetectedEdge['type']), confidence };
    if (e.weight !== undefined) {
      if (edge.type !== 'merge') throw fail(`${at}.weight is only allowed on merge edges (this one is ${edge.type})`);
      edge.weight = num(e.weight, `${at}.weight`);
      if (!Number.isFinite(edge.weight)) throw fail(`${at}.weight must be finite`);
    }
    if (e.distance !== undefined) {
      edge.distance = e.distance === null ? Infinity : num(e.distance, `${at}.distance`);
      if (!(edge.distance >= 0)) throw fail(`${at}.distance must be ≥ 0 (got ${edge.distance})`);
    }
    if (e.confidenceParts !== undefined) {
      const p = obj(e.confidenceParts, `${at}.confidenceParts`);
      edge.confidenceParts = {
        direction: num(p.direction, `${at}.confidenceParts.direction`),
        pairing: num(p.pairing, `${at}.confidenceParts.pairing`),
      };
    }
    if (e.undirected !== undefined) edge.undirected = bool(e.undirected, `${at}.undirected`);
    if (e.lowRank !== undefined) {
      if (typeof e.lowRank !== 'boolean') throw fail(`${at}.lowRank must be true or false (got ${shown(e.lowRank)})`);
      edge.lowRank = e.lowRank;
    }
    if (e.rank !== undefined) {
      edge.rank = num(e.rank, `${at}.rank`);
      if (!(Number.isInteger(edge.rank) && edge.rank >= 1)) throw fail(`${at}.rank must be a positive integer (got ${edge.rank})`);
    }
    return edge;
  });

  const roots = arr(top.roots, 'roots').map((x, i) => known(x, `roots[${i}]`));
  const method = str(top.method, 'method');
  const options = obj(top.options, 'options');
  const timings: Record<string, number> = {};
  for (const [k, v] of Object.entries(obj(top.timings, 'timings'))) timings[k] = num(v, `timings.${k}`);

  const groups = (v: unknown, at: string): string[][] =>
    arr(v, at).map((g, i) => arr(g, `${at}[${i}]`).map((x, j) => known(x, `${at}[${i}][${j}]`)));
  const result: DetectionResult = {
    models,
    edges,
    roots,
    families: [],
    duplicates: top.duplicates === undefined ? [] : groups(top.duplicates, 'duplicates'),
    method,
    options,
    timings,
    warnings: top.warnings === undefined ? [] : arr(top.warnings, 'warnings').map((w, i) => str(w, `warnings[${i}]`)),
  };
  if (top.families !== undefined) {
    result.families = groups(top.families, 'families');
    const seen = new Set<string>();
    result.families.forEach((f, i) =>
      f.forEach((id) => {
        if (seen.has(id)) throw fail(`families[${i}] repeats "${id}", which is already in a family`);
        seen.add(id);
      }),
    );
  } else {
    // The documented format has no families; they are the connected components of the forest.
    const forest = buildForest(result);
    result.families = [...forest.families.map((f) => f.ids), ...forest.unrelated.map((n) => [n.id])];
  }
  if (top.familyDirections !== undefined) {
    result.familyDirections = arr(top.familyDirections, 'familyDirections').map((x, i) => {
      const at = `familyDirections[${i}]`;
      const f = obj(x, at);
      const confidence = f.confidence === null ? null : num(f.confidence, `${at}.confidence`);
      if (confidence !== null && !(confidence >= 0 && confidence <= 1)) throw fail(`${at}.confidence must lie in [0, 1] (got ${confidence})`);
      return { root: known(f.root, `${at}.root`), confidence, directed: bool(f.directed, `${at}.directed`) };
    });
  }
  if (top.distances !== undefined) result.distances = parseDistances(top.distances, known);
  return result;
}

const VERDICTS = ['agree', 'disagree', 'none'] as const;

/** A model's `declared` block; absent (files written before it existed) reads as nothing declared. */
function parseDeclared(v: unknown, at: string): DeclaredBase {
  if (v === undefined) return { bases: [], verdict: 'none' };
  const d = obj(v, at);
  const bases = arr(d.bases, `${at}.bases`).map((x, i) => str(x, `${at}.bases[${i}]`));
  const verdict = str(d.verdict, `${at}.verdict`);
  if (!(VERDICTS as readonly string[]).includes(verdict)) throw fail(`${at}.verdict must be one of ${VERDICTS.join(', ')} (got ${shown(verdict)})`);
  if (verdict !== 'none' && bases.length === 0) throw fail(`${at}.verdict is "${verdict}" but no base is declared`);
  const out: DeclaredBase = { bases, verdict: verdict as DeclaredBase['verdict'] };
  if (d.evidence !== undefined) out.evidence = arr(d.evidence, `${at}.evidence`).map((x, i) => str(x, `${at}.evidence[${i}]`));
  return out;
}

function parseDistances(v: unknown, known: (v: unknown, at: string) => string): DetectionResult['distances'] {
  const d = obj(v, 'distances');
  const ids = arr(d.ids, 'distances.ids').map((x, i) => known(x, `distances.ids[${i}]`));
  if (new Set(ids).size !== ids.length) throw fail('distances.ids lists a model twice');
  const rows = arr(d.matrix, 'distances.matrix');
  if (rows.length !== ids.length) throw fail(`distances.matrix has ${rows.length} rows for ${ids.length} ids`);
  const matrix = rows.map((r, i) => {
    const row = arr(r, `distances.matrix[${i}]`);
    if (row.length !== ids.length) throw fail(`distances.matrix[${i}] has ${row.length} columns for ${ids.length} ids`);
    return row.map((x, j) => (x === null ? Infinity : num(x, `distances.matrix[${i}][${j}]`)));
  });
  return { ids, matrix };
}

function fail(msg: string): FormatError {
  return new FormatError('E_FORMAT', `detection JSON: ${msg}`);
}
const shown = (v: unknown): string => (v === undefined ? 'nothing' : Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' ? 'an object' : String(v));
function obj(v: unknown, at: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw fail(`${at} must be an object (got ${shown(v)})`);
  return v as Record<string, unknown>;
}
function arr(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) throw fail(`${at} must be an array (got ${shown(v)})`);
  return v;
}
function str(v: unknown, at: string): string {
  if (typeof v !== 'string') throw fail(`${at} must be a string (got ${shown(v)})`);
  return v;
}
function num(v: unknown, at: string): number {
  if (typeof v !== 'number') throw fail(`${at} must be a number (got ${shown(v)})`);
  return v;
}
function bool(v: unknown, at: string): boolean {
  if (typeof v !== 'boolean') throw fail(`${at} must be true or false (got ${shown(v)})`);
  return v;
}
