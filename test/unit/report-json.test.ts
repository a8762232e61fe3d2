import { parseDetectionJson, renderJson } from '../../lib/report';
import { FormatError } from '../../lib/errors';
import { sampleResult } from './report-fixture';

describe('renderJson', () => {
  test('round-trips a result', () => {
    const r = sampleResult();
    expect(parseDetectionJson(renderJson(r))).toEqual(r);
  });

  test('documented fields first, in the documented order, then ours', () => {
    const parsed = JSON.parse(renderJson(sampleResult()));
    expect(Object.keys(parsed)).toEqual([
      'models', 'edges', 'roots', 'method', 'options', 'timings',
      'families', 'duplicates', 'warnings', 'distances',
    ]);
    expect(Object.keys(parsed.models[0])).toEqual(['id', 'path', 'params', 'score', 'declared']);
    expect(Object.keys(parsed.edges[0])).toEqual(['parent', 'child', 'type', 'confidence', 'distance']);
  });

  test('key order does not depend on how the result was built', () => {
    const a = sampleResult();
    const b = sampleResult();
    b.options = { seed: 0, k: 'auto' };
    b.models = b.models.map((m) => ({ score: m.score, params: m.params, path: m.path, id: m.id }));
    expect(renderJson(b)).toBe(renderJson(a));
    const nested = renderJson({ ...a, options: { z: { b: 1, a: 2 }, a: [3] } });
    expect(nested).toContain('"options": { "a": [3], "z": { "a": 2, "b": 1 } },');
    const deep = renderJson({ ...a, options: { z: { y: { x: { w: 1 } } }, long: 'x'.repeat(160) } });
    expect(deep).toContain('"options": {\n    "long": "' + 'x'.repeat(160) + '",\n    "z": {\n      "y": { "x": { "w": 1 } }\n    }\n  },');
  });

  test('pretty-printed, with one matrix row per line', () => {
    const text = renderJson(sampleResult());
    expect(text.startsWith('{\n  "models": [\n    { "id": "base", "path": "/zoo/base.safetensors", "params": 1000, "score": 0.1, "declared": { "bases": [], "verdict": "none" } },')).toBe(true);
    expect(text).toContain('\n      [0, 1.5, 2, 2, 2, 9, 9, 12],\n');
    expect(text.endsWith('}\n')).toBe(true);
  });

  test('confidence parts are kept', () => {
    const r = sampleResult();
    r.edges[2].confidenceParts = { direction: 0.9, pairing: 0.888 };
    const text = renderJson(r);
    expect(text).toContain('{ "parent": "ft-a", "child": "ft-a-1", "type": "finetune", "confidence": 0.8, "distance": 0.5, "confidenceParts": { "direction": 0.9, "pairing": 0.888 } }');
    expect(parseDetectionJson(text)).toEqual(r);
    expect(() => parseDetectionJson(text.replace('"pairing": 0.888', '"pairing": "x"'))).toThrow(/edges\[2\]\.confidenceParts\.pairing must be a number/);
  });

  test('edge without distance has no distance key', () => {
    const r = sampleResult();
    delete r.edges[0].distance;
    const parsed = JSON.parse(renderJson(r));
    expect('distance' in parsed.edges[0]).toBe(false);
    expect(parseDetectionJson(renderJson(r)).edges[0]).toEqual({ parent: 'base', child: 'ft-a', type: 'finetune', confidence: 0.91 });
  });

  test('non-finite numbers become null and come back as NaN score / Infinity distance', () => {
    const r = sampleResult();
    r.models[7].score = NaN;
    r.distances!.matrix[7][0] = Infinity;
    const text = renderJson(r);
    expect(text).not.toMatch(/NaN|Infinity/);
    const back = parseDetectionJson(text);
    expect(back.models[7].score).toBeNaN();
    expect(back.distances!.matrix[7][0]).toBe(Infinity);
  });
});

describe('parseDetectionJson', () => {
  const base = (): Record<string, unknown> => JSON.parse(renderJson(sampleResult()));
  const expectError = (mutate: (o: any) => void, message: RegExp): void => {
    const o = base();
    mutate(o);
    let err: unknown;
    try {
      parseDetectionJson(JSON.stringify(o));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(message);
  };

  test('accepts the documented format alone and derives families', () => {
    const o = base();
    for (const k of ['families', 'duplicates', 'warnings', 'distances']) delete o[k];
    const r = parseDetectionJson(JSON.stringify(o));
    expect(r.families).toEqual([['base', 'ft-a', 'ft-a-1', 'ft-b', 'ft-b-copy'], ['other', 'other-ft'], ['lone']]);
    expect(r.duplicates).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.distances).toBeUndefined();
  });

  test('rejects text that is not JSON', () => {
    expect(() => parseDetectionJson('{"models": [')).toThrow(/detection JSON: not valid JSON/);
  });

  test('names the offending field', () => {
    expectError((o) => (o.models = {}), /models must be an array \(got an object\)/);
    expectError((o) => delete o.edges, /edges must be an array \(got nothing\)/);
    expectError((o) => (o.models[2].score = 'high'), /models\[2\]\.score must be a number \(got "high"\)/);
    expectError((o) => (o.models[1].id = 'base'), /models\[1\]\.id "base" appears twice/);
    expectError((o) => (o.models[0].params = -1), /models\[0\]\.params must be ≥ 0/);
    expectError((o) => (o.edges[1].child = 'ghost'), /edges\[1\]\.child names "ghost", which is not among the models/);
    expectError((o) => (o.edges[0].confidence = 1.5), /edges\[0\]\.confidence must lie in \[0, 1\] \(got 1\.5\)/);
    expectError((o) => (o.edges[0].child = 'base'), /edges\[0\] joins "base" to itself/);
    expectError((o) => (o.roots = ['base', 42]), /roots\[1\] must be a string \(got 42\)/);
    expectError((o) => delete o.method, /method must be a string/);
    expectError((o) => (o.timings = { scan: 'fast' }), /timings\.scan must be a number/);
    expectError((o) => o.families[1].push('base'), /families\[1\] repeats "base"/);
    expectError((o) => o.distances.matrix.pop(), /distances\.matrix has 7 rows for 8 ids/);
    expectError((o) => o.distances.matrix[3].push(1), /distances\.matrix\[3\] has 9 columns for 8 ids/);
    expectError((o) => (o.distances.matrix[0][1] = '1'), /distances\.matrix\[0\]\[1\] must be a number/);
  });
});
