/**
 * Plain-text report: the recovered forest drawn with box-drawing characters, one family after
 * another, each model with its direction score and each edge with its confidence and distance.
 * With a ground truth, each edge carries ✓ / ↔ / ✗ and missed true edges are listed, which is
 * how `phylogeny demo` shows what a method got right.
 */
import { directionLabel, directionOf } from './family-direction';
import type { DetectedEdge, DetectionResult } from '../detect/types';
import type { Lineage } from '../io/types';
import { buildForest, type ForestNode } from './forest';
import { formatConfidence, formatMs, formatNumber, padStart, textWidth } from './format';
import { compareToTruth, summarizeTruth, TRUTH_SYMBOL, type TruthMark } from './truth';
import { edgeTag, mergeFormula, mergesOf } from './edge-kind';
import { edgeTypeOf } from '../io/edge-types';

export interface TextOptions {
  /** Ground truth: marks each edge and lists the true edges that were missed. */
  truth?: Lineage;
  /** ANSI colours; off unless asked, so piped output and files stay clean. */
  color?: boolean;
  /** Wrap width for warnings and lists (default 100); the tree itself is never cut. */
  width?: number;
}

const ANSI = { bold: '1', dim: '2', red: '31', green: '32', yellow: '33', cyan: '36' } as const;
type Style = keyof typeof ANSI;
const MARK_STYLE: Record<TruthMark, Style> = { right: 'green', reversed: 'yellow', wrong: 'red' };

interface Row {
  glyphs: string;
  id: string;
  root: boolean;
  score?: string;
  conf?: string;
  dist?: string;
  mark?: TruthMark;
  /** Edge type tag for anything but a plain fine-tune (lib/report/edge-kind.ts). */
  kind?: string;
}

export function renderText(result: DetectionResult, opts: TextOptions = {}): string {
  return render(result, opts, true);
}

/** The true lineage drawn the same way (no scores), to print beside a recovered forest. */
export function renderLineageText(truth: Lineage, opts: Omit<TextOptions, 'truth'> = {}): string {
  const ids = new Set<string>();
  for (const f of truth.families) for (const id of f) ids.add(id);
  for (const e of truth.edges) ids.add(e.parent).add(e.child);
  const asResult: DetectionResult = {
    models: [...ids].map((id) => ({ id, path: '', params: 0, score: NaN })),
    edges: truth.edges.map((e) => ({ parent: e.parent, child: e.child, type: e.type, weight: e.weight, rank: e.rank, confidence: 1 })),
    roots: [],
    families: truth.families,
    duplicates: [],
    method: 'true lineage',
    options: {},
    timings: {},
    warnings: [],
  };
  return render(asResult, opts, false);
}

function render(result: DetectionResult, opts: TextOptions, scored: boolean): string {
  const paint = (s: string, style: Style): string => (opts.color && s ? `\x1b[${ANSI[style]}m${s}\x1b[0m` : s);
  const width = opts.width ?? 100;
  const forest = buildForest(result);
  const truth = opts.truth ? compareToTruth(result.edges, opts.truth) : undefined;
  const markOf = new Map<DetectedEdge, TruthMark>();
  if (truth) result.edges.forEach((e, i) => markOf.set(e, truth.marks[i]));

  const rowOf = (n: ForestNode, glyphs: string): Row => ({
    glyphs,
    id: n.id,
    root: !n.edge,
    score: scored && n.model ? formatNumber(n.model.score) : undefined,
    conf: scored && n.edge ? formatConfidence(n.edge.confidence) : undefined,
    dist: scored && n.edge?.distance !== undefined ? formatNumber(n.edge.distance) : undefined,
    mark: n.edge ? markOf.get(n.edge) : undefined,
    kind: n.edge ? kindOf(n.edge) : undefined,
  });
  // A merged child is drawn under its first parent; the tag names all of them.
  const merges = new Map(mergesOf(result).map((m) => [m.child, m.parents]));
  function kindOf(e: DetectedEdge): string {
    const ps = merges.get(e.child);
    if (ps && ps.length > 1) return `merge of ${mergeFormula(ps)}`;
    return edgeTag(e);
  }
  const treeRows = (n: ForestNode, lead: string, glyph: string, rows: Row[]): Row[] => {
    rows.push(rowOf(n, lead + glyph));
    const below = lead + (glyph === '├─ ' ? '│  ' : glyph === '└─ ' ? '   ' : '');
    n.children.forEach((c, i) => treeRows(c, below, i === n.children.length - 1 ? '└─ ' : '├─ ', rows));
    return rows;
  };
  const sections = forest.families.map((f) => ({
    head: `family ${f.number} · ${f.ids.length} models` + (scored && directionLabel(directionOf(result, f.ids)) ? ` · ${directionLabel(directionOf(result, f.ids))}` : ''),
    rows: f.trees.flatMap((t) => treeRows(t, '', '', [])),
  }));
  if (forest.unrelated.length) {
    sections.push({
      head: `unrelated models (no parent, no child) · ${forest.unrelated.length}`,
      rows: forest.unrelated.map((n) => rowOf(n, '')),
    });
  }

  // Columns align across the whole report so scores and confidences read as one table.
  const all = sections.flatMap((s) => s.rows);
  const idW = Math.max(0, ...all.map((r) => textWidth(r.glyphs + r.id)));
  const scoreW = Math.max(0, ...all.map((r) => textWidth(r.score ?? '')));
  const distW = Math.max(0, ...all.map((r) => textWidth(r.dist ?? '')));
  const line = (r: Row): string => {
    let s = paint(r.glyphs, 'dim') + (r.root ? paint(r.id, 'bold') : r.id) + ' '.repeat(idW - textWidth(r.glyphs + r.id));
    if (r.score !== undefined) s += `  ${paint('score', 'dim')} ${padStart(r.score, scoreW)}`;
    if (r.conf !== undefined) s += `  ${paint('conf', 'dim')} ${r.conf}`;
    if (r.dist !== undefined) s += `  ${paint('dist', 'dim')} ${padStart(r.dist, distW)}`;
    else if (r.mark && distW) s += ' '.repeat(distW + 7);
    if (r.mark) s += `  ${paint(TRUTH_SYMBOL[r.mark], MARK_STYLE[r.mark])}`;
    if (r.kind) s += `  ${paint(r.kind, 'cyan')}`;
    return s.trimEnd();
  };

  const out: string[] = [];
  const nFam = forest.families.length;
  out.push(
    paint(scored ? `phylogeny · ${result.method}` : result.method, 'bold') +
      ` · ${result.models.length} models · ${result.edges.length} edges · ${nFam} ${nFam === 1 ? 'family' : 'families'}` +
      (forest.unrelated.length ? ` · ${forest.unrelated.length} unrelated` : ''),
  );
  if (scored) out.push(paint('score: lower = nearer initialization (ancestor) · conf, dist: edge from the parent · untagged edges are fine-tunes', 'dim'));
  if (truth) out.push(summarizeTruth(truth));
  for (const s of sections) {
    out.push('', paint(s.head, 'cyan'));
    for (const r of s.rows) out.push(line(r));
  }

  const edgeLine = (e: DetectedEdge): string => {
    const m = markOf.get(e);
    let s = `  ${e.parent} → ${e.child}`;
    if (scored) s += `  conf ${formatConfidence(e.confidence)}`;
    if (scored && e.distance !== undefined) s += `  dist ${formatNumber(e.distance)}`;
    const tag = edgeTag(e);
    return s + (m ? `  ${paint(TRUTH_SYMBOL[m], MARK_STYLE[m])}` : '') + (tag ? `  ${paint(tag, 'cyan')}` : '');
  };
  // Second parents of a merge are expected, not an anomaly: they are listed with the merges.
  const odd = forest.extraEdges.filter((e) => !((merges.get(e.child)?.length ?? 0) > 1 && edgeTypeOf(e) === 'merge'));
  if (merges.size) {
    out.push('', paint('merges (child = weighted parents)', 'cyan'));
    for (const [child, ps] of merges) out.push(...wrap(`${child} = ${mergeFormula(ps)}`, width, '  ', '    '));
  }
  if (odd.length) {
    out.push('', paint('edges not drawn in the tree (second parent or cycle)', 'cyan'));
    for (const e of odd) out.push(edgeLine(e));
  }
  if (result.duplicates.length) {
    out.push('', paint('duplicates (identical compared weights)', 'cyan'));
    for (const g of result.duplicates) out.push(...wrap(g.join(' = '), width, '  ', '    '));
  }
  if (truth?.missed.length) {
    out.push('', paint('missed true edges (pair not recovered)', 'cyan'));
    for (const e of truth.missed) out.push(`  ${e.parent} → ${e.child}`);
  }
  if (result.warnings.length) {
    out.push('', paint('warnings', 'yellow'));
    for (const w of result.warnings) out.push(...wrap(w, width, '  - ', '    '));
  }
  const opt = Object.entries(result.options ?? {});
  const tim = Object.entries(result.timings ?? {});
  if (scored && (opt.length || tim.length)) out.push('');
  if (scored && opt.length) {
    // Diagnostics such as per-tensor weights stay in the JSON report; the text shows their size.
    const shown = (v: unknown): string => {
      if (typeof v === 'string') return v;
      const json = JSON.stringify(v);
      if (json === undefined || json.length <= 60) return String(json);
      const n = Array.isArray(v) ? v.length : Object.keys(v as object).length;
      return `{${n} entries: see the JSON report}`;
    };
    const words = opt.map(([k, v]) => `${k}=${shown(v)}`);
    out.push(...wrap(words.join(', '), width, 'options: ', '  '));
  }
  if (scored && tim.length) out.push('timings: ' + tim.map(([k, v]) => `${k} ${formatMs(v)}`).join(' · '));
  return out.join('\n') + '\n';
}

/** Word wrap with a first-line lead and a hanging indent; a word longer than the line stays whole. */
function wrap(text: string, width: number, first: string, rest: string): string[] {
  const lines: string[] = [];
  let cur = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && textWidth(cur) + 1 + textWidth(word) > width) {
      lines.push(cur);
      cur = rest;
      empty = true;
    }
    cur += (empty ? '' : ' ') + word;
    empty = false;
  }
  lines.push(cur);
  return lines;
}
