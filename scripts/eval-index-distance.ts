/**
 * `npm run eval:index-distance -- --dirs D1,D2`: how far distances estimated from fingerprints
 * are from the exact scan's, for every true parent–child pair of each zoo (a folder with
 * lineage.json). For each pair: the model distance detection uses by default (per-tensor RMS
 * difference, mean over tensors), exact and estimated, and its relative error; and, over the
 * pair's tensors, the root-mean-square relative error of ‖parent − child‖² per tensor (one
 * tensor's sample is small; the model distance averages over many). The fingerprint config is
 * the default unless --whole-params / --budget say otherwise.
 *
 *   npm run eval:index-distance -- --dirs /tmp/syn1b
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { computeDistances, squaredDifference } from '../lib/detect/distances';
import { addToIndex } from '../lib/hub/add';
import { estimateScan } from '../lib/hub/estimate';
import { scanOrder, uniqueIds } from '../lib/hub/ids';
import { DEFAULT_FINGERPRINT_CONFIG } from '../lib/hub/sample';
import { FingerprintIndex } from '../lib/hub/store';
import { openModels } from '../lib/io/discover';
import { scanModelSet } from '../lib/scan/scan';
import { machineDescription } from '../bench/machine';
import { handleUsage } from './usage';

handleUsage(__filename, ['dirs', 'budget', 'whole-params']);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const SETTINGS = { metric: 'euclidean', normalize: 'rms', combine: 'mean' } as const;
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

async function main(): Promise<void> {
  const dirs = arg('dirs', '').split(',').filter(Boolean);
  if (!dirs.length) throw new Error('give --dirs: zoo folders with lineage.json');
  const config = {
    ...DEFAULT_FINGERPRINT_CONFIG,
    budget: Number(arg('budget', String(DEFAULT_FINGERPRINT_CONFIG.budget))),
    wholeParams: Number(arg('whole-params', String(DEFAULT_FINGERPRINT_CONFIG.wholeParams))),
  };
  const lines = [`# ${machineDescription()}`, `# fingerprint config ${JSON.stringify(config)}`, ''];
  lines.push('| zoo | parent → child | parameters | fingerprint share | exact distance | estimated | relative error | per-tensor ‖Δ‖² rms error (tensors) |', '|---|---|---|---|---|---|---|---|');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'np-eval-dist-'));
  try {
    for (const dir of dirs) {
      const set = await openModels([dir]);
      if (!set.lineage) throw new Error(`${dir}: no lineage.json`);
      const exact = await scanModelSet(set);
      const idx = path.join(tmp, path.basename(dir));
      const added = await addToIndex(idx, [dir], { config });
      const index = await FingerprintIndex.open(idx, { readOnly: true });
      const rows = await index.models();
      const ids = uniqueIds(rows);
      const fps = await index.fingerprints(rows.map((r) => r.hash));
      index.close();
      const est = estimateScan(scanOrder(ids).map((i) => ({ id: ids[i], path: rows[i].path, fingerprint: fps.get(rows[i].hash)! })));
      const pos = new Map(exact.models.map((m, i) => [m.id, i]));
      if (est.models.some((m, i) => m.id !== exact.models[i].id)) throw new Error(`${dir}: the index lists other models than the scan`);
      const de = computeDistances(exact.tensors, exact.models.length, SETTINGS);
      const ds = computeDistances(est.tensors, est.models.length, SETTINGS);
      for (const e of set.lineage.edges) {
        const a = pos.get(e.parent);
        const b = pos.get(e.child);
        if (a === undefined || b === undefined) continue;
        const errs: number[] = [];
        for (const t of exact.tensors) {
          const u = est.tensors.find((x) => x.name === t.name);
          const ia = t.models.indexOf(a);
          const ib = t.models.indexOf(b);
          if (!u || ia < 0 || ib < 0) continue;
          const x = squaredDifference(t, ia, ib);
          if (x > 0) errs.push(squaredDifference(u, u.models.indexOf(a), u.models.indexOf(b)) / x - 1);
        }
        const rms = Math.sqrt(errs.reduce((s, v) => s + v * v, 0) / Math.max(1, errs.length));
        const m = set.models[a];
        lines.push(`| ${path.basename(dir)} | ${e.parent} → ${e.child} | ${(m.params / 1e6).toFixed(1)}M | ${pct(added.bytesRead / added.modelBytes)} of bytes read | ${de[a][b].toPrecision(6)} | ${ds[a][b].toPrecision(6)} | ${pct(Math.abs(ds[a][b] / de[a][b] - 1))} | ${pct(rms)} (${errs.length}) |`);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((e) => {
  process.stderr.write(`eval:index-distance failed: ${String(e?.stack ?? e)}\n`);
  process.exitCode = 1;
});
