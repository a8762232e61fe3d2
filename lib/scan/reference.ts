/**
 * The float64 reference scan in plain TypeScript: reads every planned tensor with fs, turns
 * each element into a float32 as the native scan does (GGUF members dequantized and GPTQ/AWQ
 * members unpacked by the reference code, lib/io/tensor-data.ts), and sums in float64 in element order.
 * Slow and simple on purpose: tests hold the native scan (every kernel set, any thread count
 * and chunk size) within 1e-9 of it.
 */
import * as fs from 'fs';
import { formLora, readPackedValues, readValuesFd } from '../io/tensor-data';
import type { NativeScanPlan } from '../native';
import { fakeInitFill } from './philox';

export interface ReferenceOutput {
  values: Float64Array;
  offsets: number[];
}

const STATS = 5;

export function referenceScan(plan: NativeScanPlan): ReferenceOutput {
  const offsets: number[] = [];
  let total = 0;
  for (const g of plan.groups) {
    offsets.push(total);
    total += g.members.length * STATS + g.members.length ** 2;
  }
  const values = new Float64Array(total);
  const fds = plan.files.map((f) => fs.openSync(f, 'r'));
  try {
    const CHUNK = 1 << 16;
    plan.groups.forEach((g, gi) => {
      const k = g.members.length;
      const base = offsets[gi];
      const gram = base + k * STATS;
      const r = new Float32Array(CHUNK);
      for (let start = 0; start < g.count; start += CHUNK) {
        const n = Math.min(CHUNK, g.count - start);
        const xs = g.members.map((m) => {
          if (m.lora) return new Float32Array(0);
          const p = m.packed;
          if (p) {
            const at = (x: { file: number; offset: number }) => ({ fd: fds[x.file], offset: x.offset });
            return readPackedValues({ ...p, method: p.awq ? 'awq' : 'gptq', qweight: at(m), qzeros: at(p.zeros), scales: { ...at(p.scales), dtype: p.scales.dtype }, gIdx: p.gIdx && at(p.gIdx) }, start, n);
          }
          return readValuesFd(fds[m.file], { ...m, name: g.name, file: plan.files[m.file] }, start, n);
        });
        g.members.forEach((m, i) => {
          const l = m.lora;
          if (!l) return;
          const rows = Math.ceil(g.count / l.cols);
          const a = readValuesFd(fds[l.a.file], { dtype: l.a.dtype, offset: l.a.offset }, 0, l.rank * l.cols);
          const b = readValuesFd(fds[l.b.file], { dtype: l.b.dtype, offset: l.b.offset }, 0, rows * l.rank);
          xs[i] = formLora(xs[l.base], a, b, l.rank, l.cols, l.scale, start);
        });
        fakeInitFill(g.fake, start, r.subarray(0, n));
        for (let a = 0; a < k; a++) {
          const x = xs[a];
          const s = base + a * STATS;
          for (let i = 0; i < n; i++) {
            const v = x[i];
            const v2 = v * v;
            const d = v - r[i];
            values[s] += v;
            values[s + 1] += v2;
            values[s + 2] += v2 * v;
            values[s + 3] += v2 * v2;
            values[s + 4] += d * d;
          }
          for (let b = a; b < k; b++) {
            const y = xs[b];
            let dot = 0;
            for (let i = 0; i < n; i++) dot += x[i] * y[i];
            values[gram + a * k + b] += dot;
          }
        }
      }
      for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) values[gram + a * k + b] = values[gram + b * k + a];
    });
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
  return { values, offsets };
}
