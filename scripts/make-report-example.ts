/**
 * Makes the README's report picture from a real detection result:
 *
 *   npm run build:ts
 *   node dist/scripts/make-report-example.js result.json [--truth lineage.json]
 *        [--out docs/img/report-example.png] [--html report.html] [--width 1280] [--height 1024]
 *
 * result.json is `phylogeny detect --format json` output. The PNG must come from a real run,
 * never from hand-made data, so this script takes the result as input instead of building one.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { inkFraction, parseDetectionJson, readPng, renderHtml, screenshotHtml } from '../lib/report';
import { handleUsage } from './usage';

handleUsage(__filename, ['truth', 'out', 'html', 'width', 'height']);

function parseArgs(argv: string[]): { input: string; flags: Map<string, string> } {
  const flags = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) {
      if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
      flags.set(argv[i].slice(2), argv[++i]);
    } else rest.push(argv[i]);
  }
  if (rest.length !== 1) throw new Error('usage: make-report-example <result.json> [--truth lineage.json] [--out png] [--html file] [--width N] [--height N]');
  return { input: rest[0], flags };
}

async function main(): Promise<void> {
  const { input, flags } = parseArgs(process.argv.slice(2));
  const result = parseDetectionJson(readFileSync(input, 'utf8'));
  const truth = flags.has('truth') ? JSON.parse(readFileSync(flags.get('truth')!, 'utf8')) : undefined;
  if (truth !== undefined && !Array.isArray(truth?.edges)) throw new Error(`${flags.get('truth')}: not a lineage.json (no "edges" array)`);
  const html = await renderHtml(result, { truth });
  const htmlPath = flags.get('html') ?? join(mkdtempSync(join(tmpdir(), 'phylogeny-report-')), 'report.html');
  writeFileSync(htmlPath, html);
  const out = flags.get('out') ?? 'docs/img/report-example.png';
  const shot = await screenshotHtml(htmlPath, out, {
    width: flags.has('width') ? Number(flags.get('width')) : undefined,
    height: flags.has('height') ? Number(flags.get('height')) : undefined,
  });
  // A blank page would otherwise land in the README unnoticed.
  const ink = inkFraction(readPng(readFileSync(shot.pngPath)));
  if (ink !== undefined && ink < 0.01) throw new Error(`${shot.pngPath} looks blank (${(ink * 100).toFixed(2)}% ink)`);
  console.log(`wrote ${htmlPath}\nwrote ${shot.pngPath} (${shot.width}×${shot.height}, ${shot.browser})`);
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
