/**
 * Graphviz DOT: families as clusters, nodes labelled with id and score, edges with confidence
 * (pen width and colour grow with it), edge types by arrowhead and line (lib/report/edge-kind.ts:
 * merges bold with a diamond head and their weight, duplicates dotted without direction),
 * duplicates drawn with a double border and a dotted link.
 * With a ground truth, edge colour shows the truth mark instead and missed true edges are drawn
 * dashed grey. The HTML report renders this same text to SVG.
 */
import type { DetectedEdge, DetectionResult } from '../detect/types';
import type { Lineage } from '../io/types';
import { buildForest } from './forest';
import { formatConfidence, formatCount, formatNumber } from './format';
import { compareToTruth, TRUTH_SYMBOL, type TruthMark } from './truth';
import { DOT_EDGE_STYLE, edgeTag } from './edge-kind';
import { edgeTypeOf } from '../io/edge-types';

export interface DotOptions {
  truth?: Lineage;
  /** Graph label; default "phylogeny · <method>"; an empty string draws none. */
  title?: string;
  /** TB (default) draws generations top-down; LR suits many shallow families. */
  rankdir?: 'TB' | 'LR';
}

export const TRUTH_COLOR: Record<TruthMark, string> = { right: '#1a7f37', reversed: '#b35900', wrong: '#cf222e' };
const FONT = 'Helvetica,Arial,sans-serif';

/**
 * A DOT quoted string for label-like attributes (escString): backslashes are doubled so that an
 * id like "a\nb" is not read as a line break, quotes are escaped, real line breaks become \n.
 * Graphviz also decodes HTML entities in labels ("&amp;" shows as "&", and "&#92;" turns into a
 * stray backslash that has crashed the WebAssembly build), so every & is written as &amp;.
 */
export function dotLabel(s: string): string {
  const body = s
    .replace(/&/g, '&amp;')
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\r\n|\r|\n/g, '\\n')
    .replace(/[\x00-\x1f\x7f]/g, '');
  return `"${body}"`;
}

/**
 * Node names keep the model id where DOT can spell it. In a quoted ID, DOT only unescapes \" and
 * keeps every other backslash literally, so an id with a backslash or a control character has no
 * exact spelling; such ids get a generated name (the label still shows the id).
 */
function nodeNames(ids: Iterable<string>): Map<string, string> {
  const all = new Set(ids);
  const names = new Map<string, string>();
  let n = 0;
  for (const id of all) {
    if (!/[\\\x00-\x1f\x7f]/.test(id)) {
      names.set(id, `"${id.replace(/"/g, '\\"')}"`);
      continue;
    }
    let name: string;
    do name = `node_${n++}`;
    while (all.has(name));
    names.set(id, `"${name}"`);
  }
  return names;
}

/** Light steel for weak edges to dark blue for strong ones, so confidence reads without a legend. */
export function confidenceColor(c: number): string {
  const t = Number.isFinite(c) ? Math.min(1, Math.max(0, c)) : 0;
  const lo = [0xa9, 0xb8, 0xcc];
  const hi = [0x0b, 0x2f, 0x6b];
  return '#' + lo.map((l, i) => Math.round(l + (hi[i] - l) * t).toString(16).padStart(2, '0')).join('');
}

function edgeTip(e: DetectedEdge): string {
  const tag = edgeTag(e);
  let tip = `${e.parent} → ${e.child}${tag ? ` (${tag})` : ''}\nconfidence ${formatConfidence(e.confidence)}`;
  const p = e.confidenceParts;
  if (p) tip += ` (direction ${formatConfidence(p.direction)} × pairing ${formatConfidence(p.pairing)})`;
  if (e.distance !== undefined) tip += `\ndistance ${formatNumber(e.distance)}`;
  return tip;
}

export function renderDot(result: DetectionResult, opts: DotOptions = {}): string {
  const forest = buildForest(result);
  const truth = opts.truth ? compareToTruth(result.edges, opts.truth) : undefined;
  const names = nodeNames([...forest.nodes.keys(), ...(truth?.missed ?? []).flatMap((e) => [e.parent, e.child])]);
  const dup = new Set(result.duplicates.flat());
  const title = opts.title ?? `phylogeny · ${result.method}`;

  const out: string[] = [];
  out.push('digraph phylogeny {');
  out.push(
    `  graph [rankdir=${opts.rankdir ?? 'TB'}, fontname="${FONT}", fontsize=13, labelloc=t, nodesep=0.35, ranksep=0.5` +
      (title ? `, label=${dotLabel(title)}` : '') +
      '];',
  );
  out.push(`  node [shape=box, style="rounded,filled", fillcolor="#f4f6f8", color="#5b6770", fontname="${FONT}", fontsize=11];`);
  out.push(`  edge [fontname="${FONT}", fontsize=10, arrowsize=0.7];`);

  const nodeLine = (id: string, indent: string): string => {
    const n = forest.nodes.get(id);
    const m = n?.model;
    const attrs = [`label=${dotLabel(m ? `${id}\nscore ${formatNumber(m.score)}` : id)}`];
    const tip = m ? `${id}\nscore ${formatNumber(m.score)}\nparams ${formatCount(m.params)}` : id;
    attrs.push(`tooltip=${dotLabel(tip)}`);
    if (n && !n.edge && (n.children.length > 0 || forest.familyOf.has(id))) attrs.push('fillcolor="#dbe9f6"', 'penwidth=1.6');
    if (dup.has(id)) attrs.push('peripheries=2');
    if (!m) attrs.push('style="rounded,dashed"');
    return `${indent}${names.get(id)} [${attrs.join(', ')}];`;
  };
  for (const f of forest.families) {
    out.push(`  subgraph cluster_${f.number} {`);
    out.push(`    label=${dotLabel(`family ${f.number} · ${f.ids.length} models`)}; style="rounded,dashed"; color="#c0c7cf"; fontcolor="#5b6770"; fontsize=10;`);
    for (const id of f.ids) out.push(nodeLine(id, '    '));
    out.push('  }');
  }
  for (const n of forest.unrelated) out.push(nodeLine(n.id, '  '));
  // Ids that only a missed true edge names still need a node.
  for (const id of names.keys()) if (!forest.nodes.has(id)) out.push(nodeLine(id, '  '));

  const extra = new Set(forest.extraEdges);
  const linked = new Set<string>();
  result.edges.forEach((e: DetectedEdge, i) => {
    linked.add(JSON.stringify([e.parent, e.child])).add(JSON.stringify([e.child, e.parent]));
    const mark = truth?.marks[i];
    const c = e.confidence;
    // Leading spaces keep the text off the edge, which dot routes along the label's left side.
    const type = edgeTypeOf(e);
    let label = type === 'finetune' && !e.lowRank ? `  ${formatConfidence(c)}` : `  ${edgeTag(e).replace(' (direction undetermined)', '')}\n  ${formatConfidence(c)}`;
    if (e.distance !== undefined) label += `\n  d ${formatNumber(e.distance)}`;
    if (mark) label += ` ${TRUTH_SYMBOL[mark]}`;
    const color = mark ? TRUTH_COLOR[mark] : confidenceColor(c);
    const attrs = [
      `label=${dotLabel(label)}`,
      `penwidth=${(0.8 + 2.7 * (Number.isFinite(c) ? Math.min(1, Math.max(0, c)) : 0)).toFixed(2)}`,
      `color="${color}"`,
      `fontcolor="${mark ? color : '#3b4650'}"`,
      `tooltip=${dotLabel(edgeTip(e))}`,
    ];
    // The type's own style (lib/report/edge-kind.ts) wins over the low-confidence dash.
    const typeStyle = DOT_EDGE_STYLE[type];
    if (c < 0.34 && !typeStyle.some((a) => a.startsWith('style='))) attrs.push('style=dashed');
    attrs.push(...typeStyle);
    // Edges outside the drawn tree must not pull the layout away from it; a merge's second
    // parent is as much a parent as the first, so it keeps its pull.
    if (extra.has(e) && type !== 'merge') attrs.push('constraint=false');
    out.push(`  ${names.get(e.parent)} -> ${names.get(e.child)} [${attrs.join(', ')}];`);
  });
  for (const g of result.duplicates) {
    for (let i = 1; i < g.length; i++) {
      if (linked.has(JSON.stringify([g[i - 1], g[i]])) || !names.has(g[i - 1]) || !names.has(g[i])) continue;
      out.push(`  ${names.get(g[i - 1])} -> ${names.get(g[i])} [dir=none, style=dotted, color="#7d3c98", fontcolor="#7d3c98", label="identical", constraint=false];`);
    }
  }
  if (truth) {
    for (const e of truth.missed) {
      out.push(`  ${names.get(e.parent)} -> ${names.get(e.child)} [style=dashed, color="#9aa0a6", fontcolor="#6e7781", label="missed", constraint=false];`);
    }
  }
  out.push('}');
  return out.join('\n') + '\n';
}
