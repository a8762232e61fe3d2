/**
 * Typed lineage through the CLI: declared bases read from the model directories and compared
 * with the weights (agree / disagree / none), a broken model card as a warning by default and
 * an error with --use-declared, and eval's type confusion table.
 */
import * as fs from 'fs';
import * as path from 'path';
import { runCli } from '../helpers/cli';
import { parseDetectionJson } from '../../lib/report';
import { RandomTensor, tmpDir, writeRandomModel } from '../helpers/models';

const run = runCli;

const LAYOUT: RandomTensor[] = [
  { name: 'fc1.weight', shape: [32, 50], dtype: 'F32' },
  { name: 'fc2.weight', shape: [10, 32], dtype: 'F32' },
];

/** Four tensors: a chain of three models is rooted at its end only when the votes outweigh the
 * root prior's factor 2 for its middle, and two tensors' tempered votes do not. */
const CHAIN_LAYOUT: RandomTensor[] = [...LAYOUT, { name: 'fc3.weight', shape: [12, 32], dtype: 'F32' }, { name: 'fc4.weight', shape: [12, 32], dtype: 'F32' }];

describe('typed lineage in the CLI', () => {
  const dir = tmpDir('np-cli-typed-');
  const set = path.join(dir, 'set');
  const model = (id: string) => {
    fs.mkdirSync(path.join(set, id), { recursive: true });
    return path.join(set, id, 'model.safetensors');
  };
  const p = writeRandomModel(model('p'), LAYOUT, 1);
  writeRandomModel(model('a'), LAYOUT.map((t) => ({ ...t, scale: 0.02 })), 2, p);
  writeRandomModel(model('b'), LAYOUT.map((t) => ({ ...t, scale: 0.02 })), 3, p);
  fs.writeFileSync(path.join(set, 'a', 'config.json'), JSON.stringify({ _name_or_path: 'org/p' }));
  fs.writeFileSync(path.join(set, 'b', 'README.md'), '---\nbase_model: [a]\nlicense: mit\n---\n# b\n');
  fs.writeFileSync(path.join(set, 'lineage.json'), JSON.stringify({ edges: [{ parent: 'p', child: 'a', type: 'finetune' }, { parent: 'p', child: 'b' }] }));

  it('reports each model\'s declared bases against the weights', async () => {
    const r = await run(['detect', set, '--format', 'json', '-q']);
    expect(r.code).toBe(0);
    const res = parseDetectionJson(r.out);
    const of = (id: string) => res.models.find((m) => m.id === id)!.declared!;
    expect(of('a')).toMatchObject({ bases: ['p'], verdict: 'agree' });
    expect(of('b').verdict).toBe('disagree');
    expect(of('b').evidence!.join('\n')).toMatch(/README\.md base_model: a/);
    expect(of('p')).toEqual({ bases: [], verdict: 'none' });
    expect(res.edges.every((e) => e.type === 'finetune')).toBe(true);
  });

  it('a broken model card is a warning, and an error naming it with --use-declared', async () => {
    fs.writeFileSync(path.join(set, 'b', 'README.md'), '---\nbase_model: "open\n---\n');
    const ok = await run(['detect', set, '--format', 'json']);
    expect(ok.code).toBe(0);
    expect(ok.err).toMatch(/declared bases of b not read: .*README\.md: front matter line 2: unterminated double-quoted value/);
    const strict = await run(['detect', set, '--use-declared', '-q']);
    expect(strict.code).toBe(1);
    expect(strict.err).toMatch(/README\.md: front matter line 2/);
  });

  it('a card orders identical copies by default; --weights-only leaves them in model order', async () => {
    // '0copy' sorts before 'orig', so model order draws the re-upload on top of its source.
    const copies = path.join(dir, 'copies');
    const at = (id: string) => (fs.mkdirSync(path.join(copies, id), { recursive: true }), path.join(copies, id, 'model.safetensors'));
    const root = writeRandomModel(at('root'), CHAIN_LAYOUT, 4);
    const orig = writeRandomModel(at('orig'), CHAIN_LAYOUT.map((t) => ({ ...t, scale: 0.02 })), 5, root);
    fs.copyFileSync(path.join(copies, 'orig', 'model.safetensors'), at('0copy'));
    writeRandomModel(at('kid'), CHAIN_LAYOUT.map((t) => ({ ...t, scale: 0.02 })), 6, orig);
    fs.writeFileSync(path.join(copies, '0copy', 'README.md'), '---\nbase_model: orig\n---\n');
    // The chain's steps are random and small against its random weights, so most fake-init
    // votes would abstain (their change is mostly the step's projection on the weights) and
    // the root prior would take the chain's middle; this test is about the copies, so every
    // vote counts here.
    const edges = async (...flags: string[]) => {
      const r = await run(['detect', copies, '--format', 'json', '-q', '--fake-init-abstain', 'off', ...flags]);
      expect(r.code).toBe(0);
      return parseDetectionJson(r.out).edges.map((e) => `${e.parent}>${e.child}:${e.type}`).sort();
    };
    expect(await edges()).toEqual(['orig>0copy:duplicate', 'orig>kid:finetune', 'root>orig:finetune']);
    expect(await edges('--weights-only')).toEqual(['0copy>kid:finetune', '0copy>orig:duplicate', 'root>0copy:finetune']);
    const both = await run(['detect', copies, '--weights-only', '--use-declared', '-q']);
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/--use-declared and --weights-only contradict/);
  });

  it('eval prints typed accuracy and the type confusion table', async () => {
    const r = await run(['eval', set, '--methods', 'additive-tree', '-q']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/typed acc\s+multi-parent\s+false merges/);
    expect(r.out).toMatch(/edge types, additive-tree \(rows: true type, columns: detected type\):\ntrue \\ found\s+finetune/);
  });
});
