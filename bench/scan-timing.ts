/** Shared by the format benches: numeric options, the best-of-N CPU scan time of a set, and the
 * table of scan rates against the first (BF16) row. */
import type { ModelSet } from '../lib/io/types';
import { scanModelSet } from '../lib/scan/scan';
import type { DeviceRequest } from '../lib/scan/device';

/** `--name N` from the script's arguments (checked by its handleUsage), or the fallback. */
export function numberOption(argv: readonly string[], name: string, fallback: number): number {
  const i = argv.indexOf(`--${name}`);
  return i > 0 ? Number(argv[i + 1]) : fallback;
}

/** The fastest of `reps` scans of the set (on the CPU unless `device` says otherwise), in
 * seconds (best-of, since other work on a shared machine only ever slows a run down). */
export async function bestScanSeconds(set: ModelSet, reps: number, device: DeviceRequest = 'cpu'): Promise<number> {
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    await scanModelSet(set, { device, fakeInit: 'hf(0.02)' });
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return best;
}

/**
 * Prints, for each [name, set] row, the best-of-`reps` scan time and its parameter rate against
 * the first row's (the BF16 baseline, scanned in the same process); `params` is the parameter
 * count every row holds, whatever its storage.
 */
export async function writeRateTable(title: string, rows: [string, ModelSet][], params: number, reps: number, machine: string): Promise<void> {
  process.stdout.write(`# ${title}; best of ${reps}\n# ${machine}\n`);
  process.stdout.write('| weights | file MB | seconds | Mparam/s | bytes-of-parameters GB/s (BF16 equivalent) | rate / BF16 |\n|---|---|---|---|---|---|\n');
  let base = 0;
  for (const [name, set] of rows) {
    await bestScanSeconds(set, 1); // page cache and thread pool warm
    const s = await bestScanSeconds(set, reps);
    const rate = params / s;
    if (!base) base = rate;
    const mb = set.models.reduce((a, m) => a + m.bytes, 0) / 1e6;
    process.stdout.write(`| ${name} | ${mb.toFixed(1)} | ${s.toFixed(3)} | ${(rate / 1e6).toFixed(0)} | ${((rate * 2) / 1e9).toFixed(2)} | ${(rate / base).toFixed(2)} |\n`);
  }
}
