/**
 * BatchNorm running statistics (lib/detect/running-stats.ts): recognised by name, left out of
 * detection by default, compared on request, and kept by the MoTHer baseline. On a family
 * whose running statistics are overwritten by each fine-tune (as a fine-tune on other data
 * does), comparing them hides the tree that the weights give.
 */
import { detect } from '../../lib/detect';
import { selectTensors } from '../../lib/detect/select';
import { isRunningStat } from '../../lib/detect/running-stats';
import { createRng } from '../../lib/graph/rng';
import { buildScan, gaussian, type SynthModel } from '../helpers/synthetic-scan';

describe('BatchNorm running statistics', () => {
  test('are told by their last name component', () => {
    for (const n of ['bn1.running_mean', 'layer.0.bn.running_var', 'bn.moving_mean', 'norm.moving_variance']) expect(isRunningStat(n)).toBe(true);
    for (const n of ['bn1.weight', 'bn1.num_batches_tracked', 'running_mean_proj.weight', 'fc.running']) expect(isRunningStat(n)).toBe(false);
  });

  // A root, three children and a grandchild under the first: weights move a little per
  // fine-tune; each model's running statistics are drawn afresh (what the last batches left).
  const rng = createRng(7);
  const draw = (n: number, scale: number, base?: Float64Array) => Float64Array.from({ length: n }, (_, i) => (base ? base[i] : 0) + scale * gaussian(rng));
  const root = draw(600, 0.2);
  const kids = [0, 1, 2].map(() => draw(600, 0.02, root));
  const grand = draw(600, 0.02, kids[0]);
  const ids = ['root', 'c0', 'c1', 'c2', 'g'];
  const models: SynthModel[] = [root, ...kids, grand].map((w, i) => ({
    id: ids[i],
    tensors: { 'fc.weight': w, 'bn.running_mean': draw(64, 1), 'bn.running_var': Float64Array.from(draw(64, 0.5), (x) => 1 + Math.abs(x)) },
  }));
  const scan = buildScan(models, { shapes: { 'fc.weight': [20, 30] }, seed: 3 });
  const truth = { c0: 'root', c1: 'root', c2: 'root', g: 'c0' };
  const parents = (r: ReturnType<typeof detect>) => Object.fromEntries(r.edges.map((e) => [e.child, e.parent]));

  test('selection drops them only when asked', () => {
    expect(selectTensors(scan, [], [], 'compare').map((t) => t.name)).toEqual(['fc.weight', 'bn.running_mean', 'bn.running_var']);
    expect(selectTensors(scan, [], [], 'ignore').map((t) => t.name)).toEqual(['fc.weight']);
  });

  test('left out by default, the weights give the tree; compared, they hide it', () => {
    const def = detect(scan);
    expect(def.options.runningStats).toBe('ignore');
    expect(parents(def)).toEqual(truth);
    const compared = detect(scan, { runningStats: 'compare' });
    expect(compared.options.runningStats).toBe('compare');
    expect(parents(compared)).not.toEqual(truth);
  });

  test('the MoTHer baseline keeps them unless told otherwise', () => {
    expect(detect(scan, { method: 'mother' }).options.runningStats).toBe('compare');
    expect(detect(scan, { method: 'mother', runningStats: 'ignore' }).options.runningStats).toBe('ignore');
    expect(() => detect(scan, { runningStats: 'drop' as never })).toThrow(/runningStats must be one of ignore, compare/);
  });
});
