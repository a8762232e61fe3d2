import * as fs from 'fs';
import * as path from 'path';
import { detect } from '../../detect/detect';
import { evaluateMethods, formatEvalTable, ALL_METHODS } from '../../eval/compare';
import { evaluate } from '../../eval/metrics';
import { openModels } from '../../io/discover';
import { renderHtml, renderText } from '../../report';
import { renderLineageText } from '../../report/text';
import { scanModelSet } from '../../scan/scan';
import { Command, QUIET_OPTION } from '../command';
import { fmtBytes, ProgressBar } from '../progress';
import { zooProgressHandler } from '../zoo-progress';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export const demoCommand: Command = {
  name: 'demo',
  summary: 'the main job on an embedded default: train (or reuse) a small mnist-fc zoo, detect, compare with the truth',
  description:
    'Builds a small zoo of genuinely trained MLP families (MNIST parents; children and grandchildren fine-tuned on Fashion-MNIST when installed, MNIST-derived tasks otherwise; cached after the first run), scans it, runs the default detection method, prints the recovered forest with every edge marked against the truth, the accuracy of every learning-free method, and writes a self-contained HTML report.',
  positionals: [],
  options: [
    { name: 'seed', type: 'number', arg: 'S', description: 'zoo seed', default: 0 },
    { name: 'html', type: 'string', arg: 'FILE', description: 'where to write the HTML report', default: 'phylogeny-demo.html' },
    { name: 'zoo-dir', type: 'string', arg: 'DIR', description: 'build/reuse the zoo here instead of the cache (~/.cache/neural-phylogeny)' },
    QUIET_OPTION,
  ],
  examples: ['npx phylogeny demo', 'npx phylogeny demo --seed 3 --html /tmp/report.html'],
  async run(args, io) {
    const seed = args.opts.seed as number;
    const t0 = Date.now();
    io.out('neural-phylogeny demo: which of these models were fine-tuned from which? (weights only)\n\n');
    const bar = new ProgressBar('zoo mnist-fc', { enabled: !io.quiet });
    // tfjs and the zoo load only when the demo runs.
    const { describeBackend, ensureZoo } = await import('../../zoo');
    const zoo = await ensureZoo({
      preset: 'mnist-fc',
      scale: 'small',
      seed,
      outDir: args.opts['zoo-dir'] as string | undefined,
      onProgress: zooProgressHandler(bar),
    });
    bar.done(zoo.cached ? `reused ${zoo.outDir}` : `${zoo.models.length} models trained in ${zoo.buildSeconds.toFixed(0)} s`);
    const datasets = zoo.datasets as { fashionMnist?: string; mnist?: string };
    io.out(`zoo: ${zoo.models.length} models in ${zoo.lineage.families.length} families (${zoo.outDir})\n`);
    if (datasets.mnist) io.out(`data: ${datasets.mnist}\n`);
    if (datasets.fashionMnist) io.out(`      Fashion-MNIST ${datasets.fashionMnist}\n`);
    if (zoo.backend) {
      const missing = zoo.backend.attempts.filter((a) => !a.ok).map((a) => a.candidate);
      io.out(`training backend: ${zoo.backend.name} via ${zoo.backend.package}${missing.length ? ` (not available here: ${missing.join(', ')})` : ''}\n`);
      if (process.env.PHYLOGENY_DEBUG) io.out(`  ${describeBackend(zoo.backend)}\n`);
    }

    const set = await openModels([zoo.outDir]);
    const sbar = new ProgressBar('scan', { enabled: !io.quiet });
    const scan = await scanModelSet(set, { onProgress: (p) => sbar.updateBytes(p.bytesDone, p.bytesTotal) });
    sbar.done(`${fmtBytes(scan.run.bytes)} (${scan.run.device}, ${scan.run.isa})`);

    const result = detect(scan);
    const truth = set.lineage ?? zoo.lineage;
    const m = evaluate(result, truth);
    io.out(`\nRecovered forest (method ${result.method}; ✓ right edge, ↔ reversed, ✗ wrong):\n\n`);
    io.out(`${renderText(result, { truth, color: Boolean(process.stdout.isTTY) })}\n`);
    io.out(`\nTrue forest:\n\n${renderLineageText(truth, { color: Boolean(process.stdout.isTTY) })}\n`);
    io.out(`\nDirected-edge accuracy (${result.method}): ${pct(m.edgeAccuracy)} (${m.counts.correctEdges}/${m.counts.trueEdges} true edges found with the right direction); families ARI ${m.ari.toFixed(3)}\n`);
    io.out(`\nEvery learning-free method on this zoo:\n\n${formatEvalTable(evaluateMethods(scan, truth, ALL_METHODS))}\n`);

    const html = path.resolve(args.opts.html as string);
    fs.writeFileSync(html, await renderHtml(result, { truth, title: `neural-phylogeny demo: mnist-fc seed ${seed}` }));
    io.out(`\nHTML report: ${html}\n(${((Date.now() - t0) / 1000).toFixed(0)} s in all)\n`);
    return 0;
  },
};
