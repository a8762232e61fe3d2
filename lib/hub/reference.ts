/**
 * The float64 reference of the native fingerprint reader, in plain TypeScript: one fs read per
 * sampled row, each element converted to float32 as the native reader does, moments summed
 * in float64 in the same order (row by row, element by element). Tests hold the native reader
 * to it exactly.
 */
import * as fs from 'fs';
import { IoError } from '../errors';
import { decodeToFloat32, DTYPE_SIZES, FloatDtype } from '../io/dtype';
import type { NativeFingerprintOutput, NativeFingerprintPlan } from './fingerprint';

export function referenceFingerprint(plan: NativeFingerprintPlan): NativeFingerprintOutput {
  const perRow = (t: NativeFingerprintPlan['tensors'][number]) => (t.colsPerRow ? (t.rows.length ? t.cols.length / t.rows.length : 0) : t.cols.length);
  const total = plan.tensors.reduce((s, t) => s + t.rows.length * perRow(t), 0);
  const values = new Float32Array(total);
  const moments = new Float64Array(plan.tensors.length * 4);
  const fds = plan.files.map((f) => fs.openSync(f, 'r'));
  let bytesRead = 0;
  try {
    let at = 0;
    plan.tensors.forEach((t, ti) => {
      const size = DTYPE_SIZES[t.dtype];
      const rowBytes = t.rowLen * size;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let s4 = 0;
      const buf = Buffer.alloc(rowBytes);
      const k = perRow(t);
      for (const [i, r] of t.rows.entries()) {
        const n = fs.readSync(fds[t.file], buf, 0, rowBytes, t.offset + r * rowBytes);
        if (n !== rowBytes) throw new IoError('E_IO', `${plan.files[t.file]}: short read (the file changed or was truncated)`, { file: plan.files[t.file] });
        bytesRead += rowBytes;
        const x = decodeToFloat32(buf, t.dtype as FloatDtype);
        for (let e = 0; e < x.length; e++) {
          const v = x[e];
          const v2 = v * v;
          s1 += v;
          s2 += v2;
          s3 += v2 * v;
          s4 += v2 * v2;
        }
        const cols = t.colsPerRow ? t.cols.subarray(i * k, (i + 1) * k) : t.cols;
        for (const c of cols) values[at++] = x[c];
      }
      moments.set([s1, s2, s3, s4], ti * 4);
    });
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
  return { values, moments, bytesRead, reads: 0, seconds: 0 };
}
