/**
 * `npm run train:shipped`: trains the detector that ships in detectors/default/ (what
 * `detect --method learned` uses without --detector) on the zoos and settings of
 * SHIPPED_TRAINING (lib/learned/shipped.ts): the `regimes` zoos of seeds 0-4, 2 families per
 * regime, children split 7:1:2 with seed 0, early stopping on the val children. Zoos come
 * from ensureZoo (cached; built when missing). Every random choice is seeded (split,
 * initialization, crops), so a rerun on the same tfjs backend should give the same weights.
 *
 *   npm run train:shipped [-- --out DIR]      # default: detectors/default of this checkout
 */
import { trainDetector } from '../lib/learned/train';
import { SHIPPED_TRAINING, shippedDetectorDir } from '../lib/learned/shipped';
import { ensureZoo } from '../lib/zoo';
import { handleUsage } from './usage';

handleUsage(__filename, ['out']);

async function main(): Promise<void> {
  const i = process.argv.indexOf('--out');
  const out = i > 0 && process.argv[i + 1] ? process.argv[i + 1] : shippedDetectorDir();
  const t = SHIPPED_TRAINING;
  const zoos: string[] = [];
  const labels: string[] = [];
  for (const seed of t.regimeSeeds) {
    zoos.push((await ensureZoo({ preset: 'regimes', seed, families: t.regimeFamilies, log: (l) => process.stderr.write(`${l}\n`) })).outDir);
    labels.push(`regimes seed ${seed}, ${t.regimeFamilies} families per regime`);
  }
  const report = await trainDetector({ zoos, zooLabels: labels, out, epochs: t.epochs, patience: t.patience, learningRate: t.learningRate, seed: t.seed, log: (l) => process.stderr.write(`${l}\n`) });
  process.stdout.write(
    `wrote ${out}: best epoch ${report.bestEpoch}/${report.epochs}, val ${(100 * report.valAccuracy).toFixed(1)}%, ` +
      `test ${(100 * report.testAccuracy).toFixed(1)}% over ${report.testChildren} children (chance ${(100 * report.chance).toFixed(1)}%), ${report.seconds.toFixed(0)} s\n`,
  );
}

main().catch((e) => {
  process.stderr.write(`train:shipped failed: ${String(e?.stack ?? e)}\n`);
  process.exitCode = 1;
});
