import { dotLabel, renderDot, renderSvg } from '../../lib/report';
import type { DetectionResult } from '../../lib/detect/types';
import { sampleResult, sampleTruth } from './report-fixture';

/** Text drawn in an SVG, XML entities decoded: what a reader of the picture sees. */
function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) =>
    m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&#45;/g, '-').replace(/&amp;/g, '&'),
  );
}
const count = (s: string, re: RegExp): number => (s.match(re) ?? []).length;

function oneFamily(ids: string[]): DetectionResult {
  return {
    models: ids.map((id, i) => ({ id, path: `/m/${i}`, params: 10, score: i / 10 })),
    edges: ids.slice(1).map((id) => ({ parent: ids[0], child: id, confidence: 0.7, distance: 1 })),
    roots: [ids[0]],
    families: [ids],
    duplicates: [],
    method: 'test',
    options: {},
    timings: {},
    warnings: [],
  };
}

describe('renderDot', () => {
  test('families become clusters, models nodes, edges edges', () => {
    const dot = renderDot(sampleResult());
    expect(dot.startsWith('digraph phylogeny {\n')).toBe(true);
    expect(dot.endsWith('}\n')).toBe(true);
    expect(count(dot, /subgraph cluster_\d+ \{/g)).toBe(2);
    expect(count(dot, / -> /g)).toBe(5);
    expect(dot).toContain('"base" [label="base\\nscore 0.1000"');
    expect(dot).toMatch(/"base" -> "ft-a" \[label="  0\.91\\n  d 1\.500", penwidth=3\.26/);
    // the lone model is outside every cluster
    const lone = dot.indexOf('"lone" [');
    expect(lone).toBeGreaterThan(dot.lastIndexOf('  }\n'));
  });

  test('Graphviz lays it out: one node per model, one edge per edge, two clusters', async () => {
    const svg = await renderSvg(renderDot(sampleResult()));
    expect(count(svg, /class="node"/g)).toBe(8);
    expect(count(svg, /class="edge"/g)).toBe(5);
    expect(count(svg, /class="cluster"/g)).toBe(2);
    expect(svgTexts(svg)).toEqual(expect.arrayContaining(['base', 'score 0.1000', 'family 1 · 5 models']));
  });

  test('pen width and colour grow with confidence; weak edges are dashed', () => {
    const r = oneFamily(['p', 'weak', 'strong']);
    r.edges[0].confidence = 0.1;
    r.edges[1].confidence = 0.95;
    const dot = renderDot(r);
    const attrs = (child: string): string => dot.split('\n').find((l) => l.includes(`-> "${child}"`))!;
    const pen = (child: string): number => Number(/penwidth=([\d.]+)/.exec(attrs(child))![1]);
    const dark = (child: string): number => {
      const hex = /color="#(\w{6})"/.exec(attrs(child))![1];
      return [0, 2, 4].reduce((s, i) => s + parseInt(hex.slice(i, i + 2), 16), 0);
    };
    expect(pen('strong')).toBeGreaterThan(pen('weak'));
    expect(dark('strong')).toBeLessThan(dark('weak'));
    expect(attrs('weak')).toContain('style=dashed');
    expect(attrs('strong')).not.toContain('style=dashed');
  });

  test('duplicates get a double border, and a dotted link when no edge joins them', () => {
    const dot = renderDot(sampleResult());
    expect(count(dot, /peripheries=2/g)).toBe(2);
    expect(dot).not.toContain('identical'); // ft-b → ft-b-copy already joins them
    const r = oneFamily(['p', 'x', 'y']);
    r.duplicates = [['x', 'y']];
    expect(renderDot(r)).toContain('"x" -> "y" [dir=none, style=dotted');
  });

  test('with truth, edges are coloured by mark and missed edges are drawn', () => {
    const dot = renderDot(sampleResult(), { truth: sampleTruth() });
    expect(dot).toMatch(/"base" -> "ft-a" \[[^\]]*✓", [^\]]*color="#1a7f37"/);
    expect(dot).toMatch(/"base" -> "ft-b" \[[^\]]*↔", [^\]]*color="#b35900"/);
    expect(dot).toMatch(/"other" -> "other-ft" \[[^\]]*✗", [^\]]*color="#cf222e"/);
    expect(dot).toContain('"lone" -> "other-ft" [style=dashed, color="#9aa0a6", fontcolor="#6e7781", label="missed"');
    expect(count(dot, / -> /g)).toBe(7);
  });

  test('escapes ids so that Graphviz shows them exactly', async () => {
    const hostile = ['base', 'q"uote', 'back\\slash', 'ends\\', '\\N', 'x<b>&amp;', '&#92;', 'ünï côdé', 'a\\"b', 'two\nlines'];
    const r = oneFamily(hostile);
    const dot = renderDot(r);
    const svg = await renderSvg(dot);
    expect(count(svg, /class="node"/g)).toBe(hostile.length);
    expect(count(svg, /class="edge"/g)).toBe(hostile.length - 1);
    const texts = svgTexts(svg);
    for (const id of hostile.slice(0, -1)) expect(texts).toContain(id);
    // A line break in an id is drawn as two lines, not as a broken DOT file.
    expect(texts).toEqual(expect.arrayContaining(['two', 'lines']));
  });

  test('dotLabel escapes backslashes, quotes and line breaks', () => {
    expect(dotLabel('a\\b"c\nd')).toBe('"a\\\\b\\"c\\nd"');
    expect(dotLabel('R&D &#92;')).toBe('"R&amp;D &amp;#92;"');
    expect(dotLabel('\\N')).toBe('"\\\\N"');
  });

  test('title and direction are options', () => {
    expect(renderDot(sampleResult(), { title: '', rankdir: 'LR' })).toMatch(/graph \[rankdir=LR, [^\]]*nodesep=0\.35, ranksep=0\.5\];/);
    expect(renderDot(sampleResult(), { title: 'My "zoo"' })).toContain('label="My \\"zoo\\""];');
  });
});
