import { UsageError } from '../args';
import { Command, QUIET_OPTION } from '../command';
import { ProgressBar } from '../progress';
import { DEFAULT_TREE_GATE, isTreeGate } from '../../learned/tree-gate';

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '-');

export const trainCommand: Command = {
  name: 'train',
  summary: 'train the learning-based detector (edge encoder + transformer) on zoos with known lineage',
  description:
    "Follows the paper's protocol: the children of each zoo are split train/val/test 7:1:2; Adam, learning rate 0.01, one model set per step, up to --epochs epochs with early stopping on validation accuracy. The encoder trains on random crops of the weight matrices (tfjs); the detector directory holds the weights, the options and the versions it was trained with, and `phylogeny detect --method learned --detector DIR` runs the encoder natively over whole matrices. See docs/learned.md.",
  positionals: [],
  options: [
    { name: 'zoo', type: 'list', arg: 'DIR', description: 'zoo directory with lineage.json (repeatable)' },
    { name: 'out', alias: 'o', type: 'string', arg: 'DIR', description: 'detector directory to write' },
    { name: 'epochs', type: 'number', arg: 'N', description: 'training epochs (one step per zoo per epoch)', default: 100 },
    { name: 'seed', type: 'number', arg: 'S', description: 'seed of the split, initialization and crops', default: 0 },
    { name: 'lr', type: 'number', arg: 'LR', description: 'Adam learning rate', default: 0.01 },
    { name: 'patience', type: 'number', arg: 'N', description: 'epochs without a better validation result before stopping', default: 30 },
    { name: 'tree-gate', type: 'number', arg: 'B', description: "β of the tree gate the detector decodes with: the additive tree's choices gain β × its direction log-odds, so the network overrides the tree's sure edges only on strong evidence (0: the network alone; the default was chosen by leave-one-regime-out, docs/learned.md)", default: DEFAULT_TREE_GATE },
    QUIET_OPTION,
  ],
  examples: ['phylogeny zoo --preset mnist-fc --out zoos/fc0 && phylogeny train --zoo zoos/fc0 --out detector'],
  async run(args, io) {
    const zoos = args.opts.zoo as string[] | undefined;
    const out = args.opts.out as string | undefined;
    if (!zoos?.length) throw new UsageError('train needs --zoo DIR (one or more)');
    if (!out) throw new UsageError('train needs --out DIR');
    const treeGate = args.opts['tree-gate'] as number;
    if (!isTreeGate(treeGate)) throw new UsageError(`--tree-gate must be a number >= 0, got ${treeGate}`);
    const bar = new ProgressBar('train', { enabled: !io.quiet });
    // tfjs and the learned detector load only when a detector is trained.
    const { trainDetector } = await import('../../learned');
    const report = await trainDetector({
      zoos,
      out,
      epochs: args.opts.epochs as number,
      seed: args.opts.seed as number,
      learningRate: args.opts.lr as number,
      patience: args.opts.patience as number,
      config: { treeGate },
      onProgress: (e) => bar.update(e.epoch / e.epochs, `epoch ${e.epoch}/${e.epochs} loss ${e.loss.toFixed(3)} val ${pct(e.valAccuracy)}${e.best ? ' *' : ''}`),
      log: io.quiet ? undefined : (line) => io.err(`${line}\n`),
    });
    bar.done(`best epoch ${report.bestEpoch}${report.stoppedEarly ? ' (stopped early)' : ''}`);
    io.out(
      `detector: ${report.out}\nvalidation accuracy: ${pct(report.valAccuracy)}\n` +
        `test directed-edge accuracy: ${pct(report.testAccuracy)} over ${report.testChildren} test children (chance ${pct(report.chance)})\n`,
    );
    return 0;
  },
};
