import { parseDetectionJson, renderDot, renderHtml, renderJson, renderText } from '../../lib/report';
import type { DetectionResult } from '../../lib/detect/types';
import { compareToTruth } from '../../lib/report/truth';

/** A family with a merge of two siblings, an adapter, a quantized copy and a duplicate. */
function typedResult(): DetectionResult {
  const ids = ['base', 'a', 'b', 'ab', 'lora', 'q', 'copy'];
  return {
    models: ids.map((id, i) => ({ id, path: `/z/${id}`, params: 10, score: i, declared: { bases: [], verdict: 'none' as const } })),
    edges: [
      { parent: 'base', child: 'a', type: 'finetune', confidence: 0.9, distance: 2 },
      { parent: 'base', child: 'b', type: 'finetune', confidence: 0.8, distance: 2 },
      { parent: 'a', child: 'ab', type: 'merge', weight: 0.6, confidence: 0.7, distance: 0.8 },
      { parent: 'b', child: 'ab', type: 'merge', weight: 0.4, confidence: 0.7, distance: 1.2 },
      { parent: 'base', child: 'lora', type: 'peft', confidence: 0.6, distance: 0.1 },
      { parent: 'a', child: 'q', type: 'quantized', confidence: 0.9, distance: 0.01 },
      { parent: 'a', child: 'copy', type: 'duplicate', confidence: 0.5, distance: 0 },
    ],
    roots: ['base'],
    families: [ids],
    duplicates: [['a', 'copy']],
    method: 'additive-tree',
    options: {},
    timings: {},
    warnings: [],
  };
}

describe('typed edges in every report', () => {
  test('JSON: every edge has a type, merges a weight, and it round-trips', () => {
    const r = typedResult();
    r.models[3].declared = { bases: ['a'], verdict: 'agree', evidence: ['config.json _name_or_path: a'] };
    const text = renderJson(r);
    const raw = JSON.parse(text);
    expect(raw.edges.map((e: { type: string }) => e.type)).toEqual(['finetune', 'finetune', 'merge', 'merge', 'peft', 'quantized', 'duplicate']);
    expect(raw.edges[2].weight).toBe(0.6);
    expect(raw.models[3].declared).toEqual({ bases: ['a'], verdict: 'agree', evidence: ['config.json _name_or_path: a'] });
    expect(parseDetectionJson(text)).toEqual(r);
    expect(() => parseDetectionJson(text.replace('"type": "peft"', '"type": "lora"'))).toThrow(/edges\[4\]\.type must be one of/);
    expect(() => parseDetectionJson(text.replace('"type": "finetune"', '"type": "finetune", "weight": 1'))).toThrow(/edges\[0\]\.weight is only allowed on merge edges/);
    expect(() => parseDetectionJson(text.replace('"verdict": "agree"', '"verdict": "maybe"'))).toThrow(/models\[3\]\.declared\.verdict must be one of/);
    expect(() => parseDetectionJson(text.replace('"verdict": "none"', '"verdict": "disagree"'))).toThrow(/declared\.verdict is "disagree" but no base is declared/);
  });

  test('text: merge formula, type tags, and second merge parents not listed as anomalies', () => {
    const text = renderText(typedResult());
    expect(text).toContain('merge of 0.6000 × a + 0.4000 × b');
    expect(text).toMatch(/lora .* peft/);
    expect(text).toMatch(/q .* quantized/);
    expect(text).toMatch(/copy .* duplicate \(direction undetermined\)/);
    expect(text).toContain('merges (child = weighted parents)\n  ab = 0.6000 × a + 0.4000 × b');
    expect(text).not.toContain('edges not drawn in the tree');
  });

  test('DOT: arrowheads per type, merge weights, duplicates without direction', () => {
    const dot = renderDot(typedResult());
    expect(dot).toMatch(/"a" -> "ab" \[label="  merge w 0\.6000[^\]]*arrowhead=diamond, style=bold\]/);
    expect(dot).toMatch(/"b" -> "ab" \[[^\]]*arrowhead=diamond[^\]]*\]/);
    expect(dot).not.toMatch(/"b" -> "ab" \[[^\]]*constraint=false/);
    expect(dot).toMatch(/"base" -> "lora" \[[^\]]*arrowhead=empty/);
    expect(dot).toMatch(/"a" -> "q" \[[^\]]*arrowhead=tee/);
    expect(dot).toMatch(/"a" -> "copy" \[[^\]]*dir=none, style=dotted/);
  });

  test('HTML: a type column, merge parents in the model table and a legend', async () => {
    const html = await renderHtml(typedResult());
    expect(html).toContain('<th>type</th>');
    expect(html).toContain('merge <span class="muted">w 0.6000</span>');
    expect(html).toContain('0.6000 × a + 0.4000 × b');
    expect(html).toContain('id="edge-types"');
    expect(html).toContain('merge: bold, diamond head');
  }, 60000);
});

describe('truth marks with typed truth', () => {
  test('a duplicate found either way round is right', () => {
    const t = compareToTruth(
      [{ parent: 'b', child: 'a', confidence: 0.5, type: 'duplicate' }, { parent: 'y', child: 'x', confidence: 0.9 }],
      { edges: [{ parent: 'a', child: 'b', type: 'duplicate' }, { parent: 'x', child: 'y' }], families: [] },
    );
    expect(t.marks).toEqual(['right', 'reversed']);
    expect(t.missed).toEqual([]);
  });
});
