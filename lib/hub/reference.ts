/**
 * The float64 reference of the native fingerprint reader, in plain TypeScript: one fs read per
 * sampled row, each element converted to float32 as the native reader does, moments summed
 * in float64 in the order every reader uses (per row: element e into lane e mod 8, lanes
 * combined ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)), rows added in order), and
 * Σ(x − r)² over the kept values in output order with r from the JavaScript Philox (and, when
 * every row is sampled, over every element in row order). Tests
 * hold the native reader to it exactly.
 */
import * as fs from 'fs';
import { IoError } from '../errors';
import { decodeToFloat32, DTYPE_SIZES, FloatDtype } from '../io/dtype';
import { fakeInitValue, type FakeInitParams } from '../scan/philox';
import type { NativeFingerprintOutput, NativeFingerprintPlan } from './fingerprint';

/** Σx, Σx², Σx³, Σx⁴ of one row in the readers' lane order (see above). */
export function referenceRowMoments(x: Float32Array): [number, number, number, number] {
  const lanes = [0, 1, 2, 3].map(() => new Float64Array(8));
  for (let e = 0; e < x.length; e++) {
    const l = e % 8;
    const v = x[e];
    const v2 = v * v;
    lanes[0][l] += v;
    lanes[1][l] += v2;
    lanes[2][l] += v2 * v;
    lanes[3][l] += v2 * v2;
  }
  const combine = (s: Float64Array) => ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  return [combine(lanes[0]), combine(lanes[1]), combine(lanes[2]), combine(lanes[3])];
}

/**
 * What every reader sums over one tensor's sampled rows, in the readers' order: the moments of
 * each row (referenceRowMoments) added row by row, the kept values written out in output order,
 * Σ(x − r)² over the kept values and, when every row is sampled, over every element in row
 * order. Used by this reference and by the reader of formed rows (lib/hub/formed-rows.ts).
 */
export class RowSums {
  readonly moments: [number, number, number, number] = [0, 0, 0, 0];
  fakeSq = 0;
  private fakeAll = 0;

  constructor(
    private readonly fake: FakeInitParams | undefined,
    private readonly rowLen: number,
    private readonly allRows: boolean,
  ) {}

  /** Adds row r (its values x), writing the values at `cols` into `values` from `at`; returns the next position. */
  add(x: Float32Array, r: number, cols: ArrayLike<number>, values: Float32Array, at: number): number {
    referenceRowMoments(x).forEach((m, j) => (this.moments[j] += m));
    for (let k = 0; k < cols.length; k++) {
      const c = cols[k];
      values[at++] = x[c];
      if (this.fake) {
        const d = x[c] - fakeInitValue(this.fake, r * this.rowLen + c);
        this.fakeSq += d * d;
      }
    }
    if (this.fake && this.allRows) {
      for (let e = 0; e < this.rowLen; e++) {
        const d = x[e] - fakeInitValue(this.fake, r * this.rowLen + e);
        this.fakeAll += d * d;
      }
    }
    return at;
  }

  /** Σ(x − r)² over every element, or NaN unless every row was sampled with a fake init. */
  get fakeWholeSq(): number {
    return this.fake && this.allRows ? this.fakeAll : NaN;
  }
}

export function referenceFingerprint(plan: NativeFingerprintPlan): NativeFingerprintOutput {
  const perRow = (t: NativeFingerprintPlan['tensors'][number]) => (t.colsPerRow ? (t.rows.length ? t.cols.length / t.rows.length : 0) : t.cols.length);
  const total = plan.tensors.reduce((s, t) => s + t.rows.length * perRow(t), 0);
  const values = new Float32Array(total);
  const moments = new Float64Array(plan.tensors.length * 4);
  const fakeSq = new Float64Array(plan.tensors.length);
  const fakeWholeSq = new Float64Array(plan.tensors.length).fill(NaN);
  const fds = plan.files.map((f) => fs.openSync(f, 'r'));
  let bytesRead = 0;
  try {
    let at = 0;
    plan.tensors.forEach((t, ti) => {
      const size = DTYPE_SIZES[t.dtype];
      const rowBytes = t.rowLen * size;
      const sums = new RowSums(t.fake, t.rowLen, t.rows.length === t.totalRows);
      const buf = Buffer.alloc(rowBytes);
      const k = perRow(t);
      for (const [i, r] of t.rows.entries()) {
        const n = fs.readSync(fds[t.file], buf, 0, rowBytes, t.offset + r * rowBytes);
        if (n !== rowBytes) throw new IoError('E_IO', `${plan.files[t.file]}: short read (the file changed or was truncated)`, { file: plan.files[t.file] });
        bytesRead += rowBytes;
        at = sums.add(decodeToFloat32(buf, t.dtype as FloatDtype), r, t.colsPerRow ? t.cols.subarray(i * k, (i + 1) * k) : t.cols, values, at);
      }
      moments.set(sums.moments, ti * 4);
      fakeSq[ti] = sums.fakeSq;
      fakeWholeSq[ti] = sums.fakeWholeSq;
    });
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
  return { values, moments, fakeSq, fakeWholeSq, bytesRead, reads: 0, seconds: 0 };
}
