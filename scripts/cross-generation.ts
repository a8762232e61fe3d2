/**
 * Cross-generation detection on a folder, standalone: scans every model in it once, recovers
 * the directed forest (default method: multi-generation trees, K not needed) and prints every
 * lineage path from an ancestor down to each descendant, e.g.
 *
 *   base-7b →(0.81) chat-7b →(0.77) chat-7b-medical   (generation 2)
 *
 * (confidence of each link in parentheses). With lineage.json in the folder, each whole path
 * is marked against the truth.
 *
 *   npm run lineage -- ./zoo [--method M] [--fake-init SPEC]
 */
import { detect, MethodName } from '../lib/detect';
import { openModels } from '../lib/io/discover';
import { formatLineagePaths } from '../lib/report/paths';
import { scanModelSet } from '../lib/scan/scan';
import { handleUsage } from './usage';

handleUsage(__filename, ['method', 'fake-init']);

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function main() {
  const folder = process.argv[2];
  if (!folder || folder.startsWith('--')) {
    process.stderr.write('usage: npm run lineage -- <folder> [--method M] [--fake-init SPEC]\n');
    process.exitCode = 2;
    return;
  }
  const set = await openModels([folder]);
  const scan = await scanModelSet(set, { fakeInit: arg('fake-init') });
  const result = detect(scan, { method: arg('method') as MethodName | undefined });
  process.stdout.write(`${scan.models.length} models, ${result.families.length} families, method ${result.method}\n\n`);
  process.stdout.write(`${formatLineagePaths(result, set.lineage).text}\n`);
}

main().catch((e) => {
  process.stderr.write(`cross-generation: ${e?.message ?? e}\n`);
  process.exitCode = 1;
});
