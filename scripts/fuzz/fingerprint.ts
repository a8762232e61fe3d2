/**
 * Fuzz target: the fingerprint record codec of the index (lib/hub/codec.ts). An accepted
 * record is checked here against the format's rules independently of the decoder, and must
 * encode back to the same bytes.
 */
import { decodeFingerprint, encodeFingerprint } from '../../lib/hub/codec';
import type { Fingerprint } from '../../lib/hub/fingerprint';
import { colsOfRow, DEFAULT_FINGERPRINT_CONFIG, perRowColumns, shapeView } from '../../lib/hub/sample';
import { FuzzTarget } from './target';

function bf16Values(n: number, k: number): Float32Array {
  const v = Float32Array.from({ length: n }, (_, i) => Math.sin(i + k));
  const bits = new Uint32Array(v.buffer);
  for (let i = 0; i < n; i++) bits[i] &= 0xffff0000;
  return v;
}

function seeds(): Buffer[] {
  const fp = (shapes: number[][], rowsKept: number, colsKept: number): Fingerprint => ({
    config: DEFAULT_FINGERPRINT_CONFIG,
    fakeInit: 'auto',
    params: 1000,
    bytes: 4000,
    bytesRead: 800,
    reads: 3,
    skipped: [{ tensor: 'ids', reason: 'dtype I64 has no fingerprint row reader' }],
    tensors: shapes.map((shape, k) => {
      const { rows, rowLen } = shapeView(shape);
      const nr = Math.min(rows, rowsKept);
      // Rows longer than colsKept keep columns of their own (per-row); shorter ones all.
      const perRow = rowLen > colsKept;
      const nc = perRow ? colsKept : rowLen;
      const picked = Uint32Array.from({ length: nr }, (_, i) => i * Math.floor(rows / nr));
      const name = `t${k}.weight`;
      return {
        name, dtype: k % 2 ? 'BF16' : 'F32', shape, rowRate: nr / rows, rows: picked,
        colMode: perRow ? 'per-row' as const : 'all' as const, nCols: nc,
        cols: perRow ? perRowColumns(DEFAULT_FINGERPRINT_CONFIG.seed, name, shape, nc, picked) : Uint32Array.from({ length: nc }, (_, i) => i),
        // BF16 tensors hold BF16 values (zero low halves: stored as 16 bits), F32 ones any.
        values: k % 2 ? bf16Values(nr * nc, k) : Float32Array.from({ length: nr * nc }, (_, i) => Math.sin(i + k)),
        moments: [0.1, 2, -0.3, 4], fakeInitSq: 1.5,
        // Every row kept: the whole tensor's Σ(x − r)² travels too.
        ...(nr === rows ? { fakeInitWholeSq: 2.5 } : {}),
      };
    }),
  });
  return [encodeFingerprint(fp([[12, 5], [7], []], 3, 2)), encodeFingerprint(fp([[100, 30]], 10, 8)), encodeFingerprint(fp([[4, 30], [9, 3]], 5, 8))];
}

function fail(what: string): never {
  throw new Error(`accepted an invalid fingerprint record: ${what}`);
}

function check(path: string, bytes: Buffer): void {
  const fp = decodeFingerprint(bytes, path);
  for (const t of fp.tensors) {
    const { rows, rowLen } = shapeView(t.shape);
    if (t.values.length !== t.rows.length * t.nCols) fail(`${t.name}: value count`);
    if (t.cols.length !== (t.colMode === 'all' ? rowLen : t.rows.length * t.nCols)) fail(`${t.name}: column count`);
    for (let i = 0; i < t.rows.length; i++) if (t.rows[i] >= rows || (i > 0 && t.rows[i] <= t.rows[i - 1])) fail(`${t.name}: rows`);
    for (let r = 0; r < t.rows.length; r++) {
      const cols = colsOfRow(t, r);
      if (cols.length !== t.nCols) fail(`${t.name}: row ${r}'s column count`);
      for (let i = 0; i < cols.length; i++) if (cols[i] >= rowLen || (i > 0 && cols[i] <= cols[i - 1])) fail(`${t.name}: cols`);
    }
    if (!(t.rowRate > 0 && t.rowRate <= 1)) fail(`${t.name}: row rate`);
    if (t.fakeInitWholeSq !== undefined && (t.rows.length !== rows || !(t.fakeInitWholeSq >= 0))) fail(`${t.name}: whole-tensor Σ(x − r)² without every row`);
  }
  // The binary part must round-trip exactly (JSON text may be respelled, the arrays may not).
  const again = decodeFingerprint(encodeFingerprint(fp), path);
  for (let k = 0; k < fp.tensors.length; k++) {
    const a = fp.tensors[k];
    const b = again.tensors[k];
    if (Buffer.compare(Buffer.from(a.values.buffer, a.values.byteOffset, a.values.byteLength), Buffer.from(b.values.buffer, b.values.byteOffset, b.values.byteLength)) !== 0) fail('values do not round-trip');
    if (a.fakeInitWholeSq !== b.fakeInitWholeSq) fail('whole-tensor Σ(x − r)² does not round-trip');
  }
}

export const fingerprintTarget: FuzzTarget = { name: 'fingerprint', seeds: () => seeds(), check };
