/** Shared by the format benches: numeric options and the best-of-N CPU scan time of a set. */
import type { ModelSet } from '../lib/io/types';
import { scanModelSet } from '../lib/scan/scan';

/** `--name N` from the script's arguments (checked by its handleUsage), or the fallback. */
export function numberOption(argv: readonly string[], name: string, fallback: number): number {
  const i = argv.indexOf(`--${name}`);
  return i > 0 ? Number(argv[i + 1]) : fallback;
}

/** The fastest of `reps` CPU scans of the set, in seconds (best-of, since other work on a
 * shared machine only ever slows a run down). */
export async function bestScanSeconds(set: ModelSet, reps: number): Promise<number> {
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    await scanModelSet(set, { device: 'cpu', fakeInit: 'hf(0.02)' });
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return best;
}
