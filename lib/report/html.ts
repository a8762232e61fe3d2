/**
 * One self-contained HTML file: the forest as inline SVG (Graphviz run in Node through
 * @viz-js/viz, so the page needs no script to draw it), tables of edges and models, a heat map
 * of the distance matrix, the run's method, options and timings, and its warnings. A
 * Content-Security-Policy forbids every network load, so the page works offline and an id cannot
 * smuggle in a remote resource.
 */
import { directionsSummary } from './family-direction';
import type { DetectedModel, DetectionResult } from '../detect/types';
import { edgeTypeOf, EDGE_TYPES } from '../io/edge-types';
import { EDGE_LEGEND, mergeFormula, mergesOf } from './edge-kind';
import type { Lineage } from '../io/types';
import { renderDot } from './dot';
import { buildForest } from './forest';
import { escapeHtml, formatConfidence, formatCount, formatMs, formatNumber } from './format';
import { renderHeatmap } from './heatmap';
import { CSS, SORT_SCRIPT } from './html-assets';
import { compareToTruth, TRUTH_SYMBOL, type TruthMark } from './truth';
import type { Viz } from '@viz-js/viz';
import { PhylogenyError } from '../errors';

export interface HtmlOptions {
  truth?: Lineage;
  /** Page title and heading; default "Neural phylogeny · <method>". */
  title?: string;
  /** Layout direction of the forest drawing. */
  rankdir?: 'TB' | 'LR';
}

let viz: Promise<Viz> | undefined;

/** Graphviz (WebAssembly) turns DOT into SVG text; the instance is created once per process. */
export async function renderSvg(dot: string): Promise<string> {
  // Loaded lazily: the module is 1 MB of WebAssembly that only HTML and SVG output need.
  viz ??= import('@viz-js/viz').then((m) => m.instance());
  let res;
  try {
    res = (await viz).render(dot, { format: 'svg' });
  } catch (err) {
    // A WebAssembly trap can leave the instance's memory inconsistent: start afresh next time.
    viz = undefined;
    throw err;
  }
  if (res.status !== 'success') {
    throw new PhylogenyError('E_RENDER', `Graphviz could not lay out the forest: ${res.errors.map((e) => e.message).join('; ')}`);
  }
  // Keep the <svg> element only: an XML prolog or DOCTYPE is invalid inside HTML.
  return res.output.slice(res.output.indexOf('<svg'));
}

const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

type Truth = ReturnType<typeof compareToTruth>;
type Forest = ReturnType<typeof buildForest>;
const h = escapeHtml;

/** The header's counters: models, edges, families, ...; with truth, how many edges were right. */
function statsHtml(result: DetectionResult, forest: Forest, truth: Truth | undefined): string {
  const stat = (value: string | number, label: string, cls = ''): string =>
    `<div class="stat ${cls}"><b>${h(String(value))}</b><span>${h(label)}</span></div>`;
  const stats = [
    stat(result.models.length, 'models'),
    stat(result.edges.length, 'edges'),
    stat(forest.families.length, 'families'),
    stat(forest.unrelated.length, 'unrelated'),
    stat(result.duplicates.length, 'duplicate groups'),
  ];
  if (truth) {
    stats.push(
      stat(`${truth.right}/${truth.total}`, 'true edges recovered ✓', 'right'),
      stat(truth.reversed, 'reversed ↔', 'reversed'),
      stat(truth.wrong, 'wrong ✗', 'wrong'),
      stat(truth.missed.length, 'missed', 'wrong'),
    );
  }
  return stats.join('');
}

const markCell = (m?: TruthMark): string =>
  m ? `<td class="mark ${m}" data-sort="${m}" title="${m}">${TRUTH_SYMBOL[m]}</td>` : '<td data-sort=""></td>';
/** A numeric cell; `data-sort` carries the raw value so the table sorts by number, not text. */
const num = (v: number | undefined, text: string): string =>
  `<td class="num" data-sort="${v === undefined || Number.isNaN(v) ? '' : v}">${h(text)}</td>`;

/** The sortable edge table, with truth marks and the missed true edges when truth is known. */
function edgesTableHtml(result: DetectionResult, truth: Truth | undefined): string {
  const parts = (p?: { direction: number; pairing: number }): string =>
    p ? ` title="direction ${formatConfidence(p.direction)} × pairing ${formatConfidence(p.pairing)}"` : '';
  const edgeRows = result.edges.map((e, i) => {
    const c = Number.isFinite(e.confidence) ? Math.min(1, Math.max(0, e.confidence)) : 0;
    return (
      `<tr><td class="id">${h(e.parent)}</td><td class="id">${h(e.child)}</td>` +
      `<td class="num" data-sort="${e.confidence}"${parts(e.confidenceParts)}>${formatConfidence(e.confidence)}<span class="bar"><i style="width:${(c * 100).toFixed(0)}%"></i></span></td>` +
      num(e.distance, e.distance === undefined ? '—' : formatNumber(e.distance)) +
      `<td data-sort="${edgeTypeOf(e)}">${h(edgeTypeOf(e))}${e.weight !== undefined ? ` <span class="muted">w ${h(formatNumber(e.weight))}</span>` : ''}${e.lowRank ? ` <span class="muted">low-rank${e.rank ? ` r${e.rank}` : ''}</span>` : ''}</td>` +
      (truth ? markCell(truth.marks[i]) : '') +
      '</tr>'
    );
  });
  return (
    `<div class="scroll"><table class="sortable" id="edge-table"><thead><tr><th>parent</th><th>child</th><th>confidence</th><th>distance</th><th>type</th>` +
    (truth ? '<th>truth</th>' : '') +
    `</tr></thead><tbody>${edgeRows.join('')}</tbody></table></div>` +
    (truth && truth.missed.length
      ? `<p class="legend">Missed true edges (pair not recovered): ${truth.missed.map((e) => `<span class="id">${h(e.parent)} → ${h(e.child)}</span>`).join(', ')}</p>`
      : '')
  );
}

/** Models in forest order (family by family, then the unrelated ones): rows and heatmap agree. */
function forestOrder(forest: Forest): string[] {
  return [...forest.families.flatMap((f) => f.ids), ...forest.unrelated.map((n) => n.id)];
}

/** The sortable model table: family, parent, size, score, root and duplicate tags. */
function modelsTableHtml(result: DetectionResult, forest: Forest, order: string[]): string {
  const mergeParents = new Map(mergesOf(result).map((m) => [m.child, m.parents]));
  const dupOf = new Map<string, string[]>();
  for (const g of result.duplicates) for (const id of g) dupOf.set(id, g.filter((x) => x !== id));
  const modelRows = order.map((id) => {
    const n = forest.nodes.get(id)!;
    const m = n.model;
    const tags = [
      !n.edge && forest.familyOf.has(id) ? '<span class="tag">root</span>' : '',
      dupOf.has(id) ? `<span class="tag dup">= ${h(dupOf.get(id)!.join(', '))}</span>` : '',
      declaredTag(m?.declared),
    ].join('');
    const parents = mergeParents.get(id);
    return (
      `<tr><td class="id" title="${h(m?.path ?? '')}">${h(id)}</td>` +
      num(forest.familyOf.get(id), String(forest.familyOf.get(id) ?? '—')) +
      `<td class="id">${h(parents ? mergeFormula(parents) : n.edge?.parent ?? '')}</td>` +
      num(m?.params, m ? formatCount(m.params) : '—') +
      num(m?.score, m ? formatNumber(m.score) : '—') +
      `<td>${tags}</td></tr>`
    );
  });
  return (
    `<div class="scroll"><table class="sortable" id="model-table"><thead><tr><th>model</th><th>family</th><th>parent</th><th>params</th><th>score</th><th></th></tr></thead>` +
    `<tbody>${modelRows.join('')}</tbody></table></div>`
  );
}

/** What the model's files declare as its base, and whether the weights agree. */
function declaredTag(d: DetectedModel['declared']): string {
  if (!d || d.verdict === 'none') return '';
  const title = h([`declared: ${d.bases.join(', ')}`, ...(d.evidence ?? [])].join('\n'));
  return d.verdict === 'agree'
    ? `<span class="tag" title="${title}">declared base agrees</span>`
    : `<span class="tag dup" title="${title}">declared base disagrees: ${h(d.bases.join(', '))}</span>`;
}

/** Method, timings and options of the run. */
function runInfoHtml(result: DetectionResult): string {
  const timings = Object.entries(result.timings ?? {});
  return (
    `<dl><dt>method</dt><dd>${h(result.method)}</dd>` +
    (timings.length ? `<dt>timings</dt><dd>${timings.map(([k, v]) => `${h(k)} ${h(formatMs(v))}`).join(' · ')}</dd>` : '') +
    `</dl><pre>${h(JSON.stringify(result.options ?? {}, null, 2))}</pre>`
  );
}

function warningsHtml(result: DetectionResult): string {
  return result.warnings.length
    ? `<section id="warnings"><h2>Warnings</h2><ul class="warnings">${result.warnings.map((w) => `<li>${h(w)}</li>`).join('')}</ul></section>`
    : '';
}

/** The parts of the page, each already HTML. */
interface PageParts {
  title: string;
  method: string;
  stats: string;
  svg: string;
  legend: string;
  warnings: string;
  /** Family direction confidences, one line ('' when the result has none). */
  directions: string;
  edgeCount: number;
  edgesTable: string;
  modelCount: number;
  modelsTable: string;
  heat: string;
  runInfo: string;
}

/** The page around the parts: one self-contained file (styles and script inline). */
function pageHtml(p: PageParts): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${PAGE_CSP}">
<title>${h(p.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1>${h(p.title)}</h1>
<div class="sub">method <b>${h(p.method)}</b> · score: lower = nearer initialization (ancestor) · edge labels: confidence and distance</div>
<div class="stats">${p.stats}</div>
</header>
<section id="forest"><h2>Forest</h2>
<div class="graph">${p.svg}</div>
<p class="legend">${p.directions}${p.legend}Shaded boxes are roots; double borders mark models with identical compared weights (dotted link). Hover for details.</p>
<p class="legend" id="edge-types">Edge types: ${EDGE_TYPES.map((t) => h(EDGE_LEGEND[t])).join(' · ')}.</p>
</section>
${p.warnings}
<div class="grid">
<section id="edges"><h2>Edges (${p.edgeCount})</h2>${p.edgesTable}</section>
<section id="models"><h2>Models (${p.modelCount})</h2>${p.modelsTable}</section>
</div>
<section id="distances"><h2>Distance matrix</h2>
<div class="graph">${p.heat}</div>
<p class="legend">Rows and columns in forest order; orange squares outline families.</p>
</section>
<section id="run"><h2>Run</h2>${p.runInfo}</section>
<footer>neural-phylogeny report · forest laid out by Graphviz (WebAssembly) at render time · works offline</footer>
</main>
<script>${SORT_SCRIPT}</script>
</body>
</html>
`;
}

export async function renderHtml(result: DetectionResult, opts: HtmlOptions = {}): Promise<string> {
  const forest = buildForest(result);
  const truth = opts.truth ? compareToTruth(result.edges, opts.truth) : undefined;
  const order = forestOrder(forest);
  return pageHtml({
    title: opts.title ?? `Neural phylogeny · ${result.method}`,
    method: result.method,
    stats: statsHtml(result, forest, truth),
    svg: await renderSvg(renderDot(result, { truth: opts.truth, title: '', rankdir: opts.rankdir })),
    legend: truth
      ? 'Edge colour: <span class="mark right">✓ right</span> · <span class="mark reversed">↔ reversed</span> · <span class="mark wrong">✗ wrong</span> · grey dashed: missed true edge. '
      : 'Edge colour and width grow with confidence; dashed: confidence under 0.34. ',
    directions: directionsSummary(result, forest),
    warnings: warningsHtml(result),
    edgeCount: result.edges.length,
    edgesTable: edgesTableHtml(result, truth),
    modelCount: result.models.length,
    modelsTable: modelsTableHtml(result, forest, order),
    heat: result.distances
      ? renderHeatmap({ ...result.distances, order, blocks: forest.families.map((f) => f.ids) })
      : '<p class="muted">The method recorded no distance matrix.</p>',
    runInfo: runInfoHtml(result),
  });
}
