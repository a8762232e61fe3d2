import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readAllDeclarations, readDeclarations, resolveDeclared } from '../../lib/io/declared';
import { applyDeclared } from '../../lib/detect/typing/declared';
import { writeSafetensors } from '../../lib/io/safetensors-writer';
import type { DetectionResult, DetectedEdge } from '../../lib/detect/types';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np-declared-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function modelDir(name: string, files: Record<string, string>): string {
  const d = path.join(dir, name);
  fs.mkdirSync(d, { recursive: true });
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(d, f), text);
  return d;
}

describe('readDeclarations', () => {
  test('every source, in order, without repeats', () => {
    const d = modelDir('ft', {
      'adapter_config.json': JSON.stringify({ base_model_name_or_path: 'org/base', r: 8 }),
      'README.md': '---\nbase_model:\n- org/base\n- org/other\n---\n',
      'config.json': JSON.stringify({ _name_or_path: '../base', hidden_size: 4 }),
    });
    writeSafetensors(path.join(d, 'model.safetensors'), [{ name: 'w', dtype: 'F32', shape: [2], data: [1, 2] }], { base_model: 'org/meta' });
    expect(readDeclarations(d)).toEqual([
      { base: 'org/base', source: 'adapter_config.json base_model_name_or_path' },
      { base: 'org/other', source: 'README.md base_model' },
      { base: '../base', source: 'config.json _name_or_path' },
      { base: 'org/meta', source: 'safetensors __metadata__ base_model' },
    ]);
  });

  test('a single file reads its metadata; nothing declared is an empty list', () => {
    const f = path.join(dir, 'single.safetensors');
    writeSafetensors(f, [{ name: 'w', dtype: 'F32', shape: [1], data: [0] }], { base_model_name_or_path: 'root' });
    expect(readDeclarations(f)).toEqual([{ base: 'root', source: 'safetensors __metadata__ base_model_name_or_path' }]);
    expect(readDeclarations(modelDir('plain', { 'config.json': '{"hidden_size": 3}' }))).toEqual([]);
  });

  test('malformed files are errors naming them; not strict turns them into warnings', () => {
    const bad = modelDir('bad', { 'config.json': '{"_name_or_path": 3}' });
    expect(() => readDeclarations(bad)).toThrow(/bad[\\/]config\.json: "_name_or_path" must be a string/);
    const notJson = modelDir('notjson', { 'adapter_config.json': '{' });
    expect(() => readDeclarations(notJson)).toThrow(/adapter_config\.json: not valid JSON/);
    const big = modelDir('big', { 'config.json': `{"x": "${'a'.repeat(1024 * 1024)}"}` });
    expect(() => readDeclarations(big)).toThrow(/more than the 1048576 a declaration file may have/);
    const all = readAllDeclarations([{ id: 'bad', path: bad }], false);
    expect(all.warnings[0]).toMatch(/declared bases of bad not read: .*must be a string/);
    expect(() => readAllDeclarations([{ id: 'bad', path: bad }], true)).toThrow(/must be a string/);
  });

  test('names resolve to ids by id, last path component or path, never to the model itself', () => {
    const models = [{ id: 'base', path: modelDir('base', {}) }, { id: 'ft', path: path.join(dir, 'ft') }];
    expect(resolveDeclared('org/base', models)).toBe('base');
    expect(resolveDeclared('./base/', models)).toBe('base');
    expect(resolveDeclared('meta-llama/Llama-2-7b-hf', models)).toBeNull();
    const all = readAllDeclarations([...models, { id: 'self', path: modelDir('self', { 'config.json': '{"_name_or_path": "self"}' }) }], true);
    expect(all.byModel.get('self')).toEqual([{ base: 'self', source: 'config.json _name_or_path', resolved: null }]);
  });
});

function result(edges: DetectedEdge[], ids: string[], dist: Record<string, number> = {}): DetectionResult {
  const hasParent = new Set(edges.map((e) => e.child));
  const d = (a: string, b: string) => (a === b ? 0 : dist[`${a}|${b}`] ?? dist[`${b}|${a}`] ?? 10);
  return {
    models: ids.map((id) => ({ id, path: id, params: 1, score: 0 })),
    edges,
    roots: ids.filter((id) => !hasParent.has(id)),
    families: [ids],
    duplicates: [],
    distances: { ids, matrix: ids.map((a) => ids.map((b) => d(a, b))) },
    method: 't',
    options: {},
    timings: {},
    warnings: [],
  };
}
const decl = (m: Record<string, string>) => new Map(Object.entries(m).map(([id, base]) => [id, [{ base, source: 'config.json _name_or_path', resolved: base }]]));

describe('declared against the weights', () => {
  test('agree, disagree (with evidence) and none', () => {
    const r = result(
      [
        { parent: 'r', child: 'a', type: 'finetune', confidence: 0.9 },
        { parent: 'r', child: 'b', type: 'finetune', confidence: 0.9 },
      ],
      ['r', 'a', 'b'],
    );
    const notes = applyDeclared(r, decl({ a: 'r', b: 'a' }), false);
    expect(r.models.find((m) => m.id === 'a')!.declared).toMatchObject({ bases: ['r'], verdict: 'agree' });
    const b = r.models.find((m) => m.id === 'b')!.declared!;
    expect(b.verdict).toBe('disagree');
    expect(b.evidence!.join('\n')).toMatch(/the weights put r \(finetune, confidence 0\.90, distance 10\.00\) as parent/);
    expect(r.models.find((m) => m.id === 'r')!.declared).toEqual({ bases: [], verdict: 'none' });
    expect(notes).toHaveLength(1);
    // Without the prior nothing moved.
    expect(r.edges.map((e) => `${e.parent}>${e.child}`)).toEqual(['r>a', 'r>b']);
  });

  test('the prior decides weak and undirected edges, never confident ones', () => {
    // Weak edge r→b, declared a: b moves under a (not much farther).
    const weak = result([{ parent: 'r', child: 'a', type: 'finetune', confidence: 0.9 }, { parent: 'r', child: 'b', type: 'finetune', confidence: 0.3 }], ['r', 'a', 'b'], { 'a|b': 12 });
    applyDeclared(weak, decl({ b: 'a' }), true);
    expect(weak.edges.map((e) => `${e.parent}>${e.child}`)).toEqual(['r>a', 'a>b']);
    expect(weak.models.find((m) => m.id === 'b')!.declared!.verdict).toBe('agree');
    // Confident edge: kept, and the verdict says disagree.
    const strong = result([{ parent: 'r', child: 'a', type: 'finetune', confidence: 0.9 }, { parent: 'r', child: 'b', type: 'finetune', confidence: 0.8 }], ['r', 'a', 'b']);
    applyDeclared(strong, decl({ b: 'a' }), true);
    expect(strong.edges.map((e) => `${e.parent}>${e.child}`)).toEqual(['r>a', 'r>b']);
    expect(strong.models.find((m) => m.id === 'b')!.declared!.verdict).toBe('disagree');
    // Far declared base: not taken.
    const far = result([{ parent: 'r', child: 'a', type: 'finetune', confidence: 0.9 }, { parent: 'r', child: 'b', type: 'finetune', confidence: 0.2 }], ['r', 'a', 'b'], { 'a|b': 40 });
    applyDeclared(far, decl({ b: 'a' }), true);
    expect(far.edges.map((e) => `${e.parent}>${e.child}`)).toEqual(['r>a', 'r>b']);
  });

  test("by default ('copies') a card orders identical copies and nothing else", () => {
    // y is the original, x its re-upload drawn on top: x's children hang from y once ordered.
    const edges = () => [
      { parent: 'r', child: 'x', type: 'finetune' as const, confidence: 0.9 },
      { parent: 'x', child: 'y', type: 'duplicate' as const, confidence: 0.5, distance: 0 },
      { parent: 'x', child: 'g', type: 'finetune' as const, confidence: 0.8 },
      { parent: 'r', child: 'w', type: 'finetune' as const, confidence: 0.2 },
    ];
    const ids = ['r', 'x', 'y', 'g', 'w'];
    const copies = result(edges(), ids, { 'g|w': 11 });
    // w's card names g: a weak edge the prior would move, but copies mode leaves it.
    applyDeclared(copies, decl({ x: 'y', w: 'g' }), 'copies');
    expect(copies.edges.map((e) => `${e.parent}>${e.child}`).sort()).toEqual(['r>w', 'r>y', 'y>g', 'y>x']);
    expect(copies.models.find((m) => m.id === 'x')!.declared!.verdict).toBe('agree');
    const prior = result(edges(), ids, { 'g|w': 11 });
    applyDeclared(prior, decl({ x: 'y', w: 'g' }), 'prior');
    expect(prior.edges.map((e) => `${e.parent}>${e.child}`).sort()).toEqual(['g>w', 'r>y', 'y>g', 'y>x']);
    const none = result(edges(), ids, { 'g|w': 11 });
    applyDeclared(none, decl({ x: 'y', w: 'g' }), 'none');
    expect(none.edges.map((e) => `${e.parent}>${e.child}`).sort()).toEqual(['r>w', 'r>x', 'x>g', 'x>y']);
  });

  test('the prior orders a duplicate pair and turns round a weak reversed edge', () => {
    const dup = result([{ parent: 'x', child: 'y', type: 'duplicate', confidence: 0.5, distance: 0 }], ['x', 'y']);
    applyDeclared(dup, decl({ x: 'y' }), true);
    expect(dup.edges.map((e) => `${e.parent}>${e.child}`)).toEqual(['y>x']);
    expect(dup.roots).toEqual(['y']);
    expect(dup.models.find((m) => m.id === 'x')!.declared!.verdict).toBe('agree');
    const rev = result([{ parent: 'g', child: 'c', type: 'finetune', confidence: 0.3 }, { parent: 'c', child: 'p', type: 'finetune', confidence: 0.2 }], ['g', 'c', 'p']);
    applyDeclared(rev, decl({ c: 'p' }), true);
    expect(rev.edges.map((e) => `${e.parent}>${e.child}`).sort()).toEqual(['g>p', 'p>c']);
    // The edge into c is confident: turning round would undo it, so nothing moves.
    const held = result([{ parent: 'g', child: 'c', type: 'finetune', confidence: 0.9 }, { parent: 'c', child: 'p', type: 'finetune', confidence: 0.2 }], ['g', 'c', 'p']);
    applyDeclared(held, decl({ c: 'p' }), true);
    expect(held.edges.map((e) => `${e.parent}>${e.child}`).sort()).toEqual(['c>p', 'g>c']);
  });
});
