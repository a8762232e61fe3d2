import { renderLineageText, renderText } from '../../lib/report';
import type { DetectionResult } from '../../lib/detect/types';
import { sampleResult, sampleTruth } from './report-fixture';

describe('renderText', () => {
  test('draws the forest with scores, confidences and truth marks', () => {
    const expected = [
      'phylogeny · arborescence · 8 models · 5 edges · 2 families · 1 unrelated',
      'score: lower = nearer initialization (ancestor) · conf, dist: edge from the parent · untagged edges are fine-tunes',
      'truth: 3/6 true edges recovered ✓ · 1 reversed ↔ · 1 wrong ✗ · 2 missed',
      '',
      'family 1 · 5 models',
      'base             score 0.1000',
      '├─ ft-a          score 0.2000  conf 0.91  dist  1.500  ✓',
      '│  └─ ft-a-1     score 0.3000  conf 0.80  dist 0.5000  ✓',
      '└─ ft-b          score 0.2500  conf 0.40  dist  2.000  ↔',
      '   └─ ft-b-copy  score 0.2500  conf 0.50  dist      0  ✓  duplicate (direction undetermined)',
      '',
      'family 2 · 2 models',
      'other            score 0.1500',
      '└─ other-ft      score 0.1800  conf 0.55  dist  3.000  ✗',
      '',
      'unrelated models (no parent, no child) · 1',
      'lone             score 0.5000',
      '',
      'duplicates (identical compared weights)',
      '  ft-b = ft-b-copy',
      '',
      'missed true edges (pair not recovered)',
      '  lone → other-ft',
      '  base → other',
      '',
      'warnings',
      '  - 2 models share no tensor with the others',
      '',
      'options: k=auto, seed=0',
      'timings: scan 812 ms · detect 3 ms',
      '',
    ].join('\n');
    expect(renderText(sampleResult(), { truth: sampleTruth() })).toBe(expected);
  });

  test('without truth there are no marks and no truth summary', () => {
    const text = renderText(sampleResult());
    expect(text).not.toMatch(/[✓↔✗]/);
    expect(text).not.toContain('truth:');
    expect(text).toContain('├─ ft-a          score 0.2000  conf 0.91  dist  1.500\n');
  });

  test('colour only when asked', () => {
    expect(renderText(sampleResult(), { truth: sampleTruth() })).not.toContain('\x1b[');
    const coloured = renderText(sampleResult(), { truth: sampleTruth(), color: true });
    expect(coloured).toContain('\x1b[32m✓\x1b[0m');
    expect(coloured).toContain('\x1b[31m✗\x1b[0m');
    // Stripping the escapes gives back the plain report: colour never shifts the columns.
    expect(coloured.replace(/\x1b\[\d+m/g, '')).toBe(renderText(sampleResult(), { truth: sampleTruth() }));
  });

  test('orders families by size, roots by score, children in natural order', () => {
    const r: DetectionResult = {
      ...sampleResult(),
      models: ['z-root', 'm10', 'm2', 'm1', 'a-root', 'a-kid'].map((id, i) => ({ id, path: id, params: 1, score: i })),
      edges: [
        { parent: 'z-root', child: 'm10', confidence: 1 },
        { parent: 'z-root', child: 'm2', confidence: 1 },
        { parent: 'z-root', child: 'm1', confidence: 1 },
        { parent: 'a-root', child: 'a-kid', confidence: 1 },
      ],
      families: [],
      duplicates: [],
      distances: undefined,
      warnings: [],
    };
    const lines = renderText(r).split('\n');
    const ids = lines.filter((l) => / score /.test(l)).map((l) => l.replace(/^[│├└─ ]+/, '').split(/\s+/)[0]);
    expect(ids).toEqual(['z-root', 'm1', 'm2', 'm10', 'a-root', 'a-kid']);
    expect(lines).toContain('family 1 · 4 models');
    expect(lines).toContain('family 2 · 2 models');
  });

  test('a cycle and a second parent are shown, not lost or looped over', () => {
    const r: DetectionResult = {
      ...sampleResult(),
      models: ['a', 'b', 'c'].map((id, i) => ({ id, path: id, params: 1, score: i })),
      edges: [
        { parent: 'a', child: 'b', confidence: 0.5 },
        { parent: 'b', child: 'c', confidence: 0.5 },
        { parent: 'c', child: 'a', confidence: 0.5 },
        { parent: 'a', child: 'c', confidence: 0.2 },
      ],
      families: [['a', 'b', 'c']],
      duplicates: [],
      distances: undefined,
      warnings: [],
    };
    const text = renderText(r);
    // The cycle is cut at its lowest-score member, which becomes the root.
    expect(text).toContain('a        score     0\n└─ b     score 1.000  conf 0.50\n   └─ c  score 2.000  conf 0.50\n');
    expect(text).toContain('edges not drawn in the tree (second parent or cycle)\n  a → c  conf 0.20\n  c → a  conf 0.50');
    for (const id of ['a', 'b', 'c']) expect(text.match(new RegExp(`^[│├└─ ]*${id} +score`, 'gm'))).toHaveLength(1);
  });

  test('wraps long warnings at the given width', () => {
    const r = { ...sampleResult(), warnings: ['word '.repeat(30).trim()] };
    const lines = renderText(r, { width: 40 }).split('\n');
    const start = lines.indexOf('warnings');
    const block = lines.slice(start + 1, lines.indexOf('', start));
    expect(block.length).toBeGreaterThan(3);
    for (const l of block) expect(l.length).toBeLessThanOrEqual(40);
    expect(block.join(' ').replace(/\s+-\s+|\s+/g, ' ').trim()).toBe('word '.repeat(30).trim());
  });
});

describe('renderLineageText', () => {
  test('draws the true forest without scores', () => {
    expect(renderLineageText(sampleTruth())).toBe(
      [
        'true lineage · 8 models · 6 edges · 1 family',
        '',
        'family 1 · 8 models',
        'ft-b',
        '├─ base',
        '│  ├─ ft-a',
        '│  │  └─ ft-a-1',
        '│  └─ other',
        '└─ ft-b-copy',
        'lone',
        '└─ other-ft',
        '',
      ].join('\n'),
    );
  });
});
