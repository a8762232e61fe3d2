import { renderHtml } from '../../lib/report';
import type { DetectionResult } from '../../lib/detect/types';
import { sampleResult, sampleTruth } from './report-fixture';

const count = (s: string, re: RegExp): number => (s.match(re) ?? []).length;
/** Every start tag's attributes; escaped text holds no "<", so this sees real markup only. */
const attributes = (html: string): string[] => [...html.matchAll(/<[a-zA-Z][^>]*>/g)].flatMap((m) => [...m[0].matchAll(/\s([\w:-]+)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/g)].map((a) => `${a[1].toLowerCase()}=${a[2]}`));
const decode = (s: string): string => s.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n))).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
/** The first <svg>…</svg> after a marker: the forest drawing or the heat map. */
function svgAfter(html: string, marker: string): string {
  const from = html.indexOf('<svg', html.indexOf(marker));
  return html.slice(from, html.indexOf('</svg>', from) + 6);
}
function section(html: string, id: string): string {
  const from = html.indexOf(`<section id="${id}">`);
  expect(from).toBeGreaterThanOrEqual(0);
  return html.slice(from, html.indexOf('</section>', from));
}

describe('renderHtml', () => {
  let html: string;
  beforeAll(async () => {
    html = await renderHtml(sampleResult(), { truth: sampleTruth() });
  });

  test('is one self-contained document that loads nothing from anywhere', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    // no attribute points at a network (or any external) resource
    const attrs = attributes(html);
    expect(attrs.length).toBeGreaterThan(100);
    expect(attrs.filter((a) => /^(?:src|href|xlink:href|action|poster|srcset|data)=/.test(a))).toEqual([]);
    expect(attrs.filter((a) => /https?:|\/\//.test(a) && !/^xmlns(:xlink)?="http:\/\/www\.w3\.org\//.test(a))).toEqual([]);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/@import|url\(\s*["']?(?!#|data:)/i);
    expect(html).not.toMatch(/<!DOCTYPE svg|<\?xml/);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none';`);
  });

  test('draws the forest as inline SVG with one node per model and one edge per edge (plus missed)', () => {
    const svg = svgAfter(html, '<section id="forest">');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(count(svg, /<g id="node\d+" class="node">/g)).toBe(8);
    expect(count(svg, /<g id="edge\d+" class="edge">/g)).toBe(5 + 2);
    for (const m of sampleResult().models) expect(decode(svg)).toContain(`>${m.id}</text>`);
  });

  test('tables list every edge with its truth mark and every model', () => {
    const edges = section(html, 'edges');
    expect(count(edges, /<tr>/g)).toBe(1 + 5);
    expect(edges).toContain('<td class="id">base</td><td class="id">ft-b</td><td class="num" data-sort="0.4">0.40');
    expect(count(edges, /class="mark right"/g)).toBe(3);
    expect(count(edges, /class="mark reversed"/g)).toBe(1);
    expect(count(edges, /class="mark wrong"/g)).toBe(1);
    expect(edges).toContain('lone → other-ft');
    const models = section(html, 'models');
    expect(count(models, /<tr>/g)).toBe(1 + 8);
    expect(models).toContain('data-sort="1000">1,000</td>');
  });

  test('heat map has a cell per pair and a legend', () => {
    const heat = svgAfter(html, '<section id="distances">');
    expect(count(heat, /<title>[^<]* ↔ [^<]*<\/title>/g)).toBe(64);
    expect(heat).toContain('<title>ft-a ↔ ft-a-1: 0.5000</title>');
    expect(heat).toContain('>12.00</text>');
    expect(heat).toContain('not comparable');
  });

  test('shows method, options, timings and warnings', () => {
    const run = section(html, 'run');
    expect(run).toContain('<dd>arborescence</dd>');
    expect(run).toContain('scan 812 ms · detect 3 ms');
    expect(run).toContain('&quot;k&quot;: &quot;auto&quot;');
    expect(section(html, 'warnings')).toContain('<li>2 models share no tensor with the others</li>');
  });

  test('without truth there is no truth column', async () => {
    const plain = await renderHtml(sampleResult());
    expect(section(plain, 'edges')).not.toContain('<th>truth</th>');
    expect(plain).not.toContain('class="mark');
  });

  test('escapes hostile ids everywhere', async () => {
    const evil = '<img src=http://evil.example/x.png onerror=alert(1)>';
    const r: DetectionResult = {
      ...sampleResult(),
      models: [
        { id: 'root', path: '/a', params: 1, score: 0 },
        { id: evil, path: '"><script>alert(2)</script>', params: 1, score: 1 },
      ],
      edges: [{ parent: 'root', child: evil, confidence: 0.5, distance: 1 }],
      roots: ['root'],
      families: [['root', evil]],
      duplicates: [],
      distances: { ids: ['root', evil], matrix: [[0, 1], [1, 0]] },
      warnings: [evil],
    };
    const page = await renderHtml(r, { title: evil });
    expect(page).not.toContain('<img');
    expect(page).not.toContain('<script>alert');
    expect(attributes(page).filter((a) => /^(?:src|onerror)=/.test(a))).toEqual([]);
    expect(count(page, /&lt;img src=http:\/\/evil\.example\/x\.png onerror=alert\(1\)&gt;/g)).toBeGreaterThan(4);
  });

  test('results without a distance matrix or with non-finite distances still render', async () => {
    const r = sampleResult();
    r.distances!.matrix[7][0] = Infinity;
    const withInf = svgAfter(await renderHtml(r), '<section id="distances">');
    expect(withInf).toContain('<title>lone ↔ base: not comparable</title>');
    const none = await renderHtml({ ...sampleResult(), distances: undefined });
    expect(section(none, 'distances')).toContain('no distance matrix');
  });
});
