/**
 * Seeded mutations of valid files for fuzzing readers: bit flips, byte overwrites,
 * truncations, hostile values written over what look like length/count/type fields (small
 * little-endian integers in the seed), and splices (ranges copied, inserted or deleted). Each
 * case draws from its own generator (seed, index), so any case can be replayed alone.
 */
import { createRng } from '../../lib/graph/rng';

export interface Mutation {
  bytes: Buffer;
  /** What was done, for reproducing a failure. */
  steps: string[];
}

const HOSTILE_U64 = [0n, 1n, 2n, 31n, 255n, 1n << 31n, 1n << 32n, (1n << 53n) + 1n, 1n << 60n, 1n << 62n, 1n << 63n, (1n << 64n) - 1n];
const HOSTILE_U32 = [0, 1, 2, 3, 4, 5, 8, 9, 12, 13, 30, 31, 39, 40, 1000, 0x7fffffff, 0xffffffff];

/** Positions holding small little-endian integers: likely counts, lengths, types, offsets. */
export function candidateFields(buf: Buffer): { u64: number[]; u32: number[] } {
  const u64: number[] = [], u32: number[] = [];
  for (let p = 0; p + 4 <= buf.length; p++) {
    if (p + 8 <= buf.length && buf.readBigUInt64LE(p) < 1n << 24n && buf.readBigUInt64LE(p) > 0n) u64.push(p);
    if (buf.readUInt32LE(p) < 64) u32.push(p);
  }
  return { u64, u32 };
}

export class Mutator {
  private readonly fields: { u64: number[]; u32: number[] }[];
  constructor(
    private readonly seeds: Buffer[],
    private readonly seed: number,
    private readonly structural?: (seed: Buffer, rand: () => number) => Buffer,
  ) {
    this.fields = seeds.map(candidateFields);
  }

  /** Case `index`: one seed with 1 to 3 mutations. */
  mutate(index: number): Mutation {
    const r = createRng((this.seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
    const int = (n: number): number => Math.floor(r.next() * n);
    const s = int(this.seeds.length);
    if (this.structural && int(2) === 0) {
      return { bytes: this.structural(this.seeds[s], r.next), steps: [`seed ${s}`, 'structure-aware mutation (replay with the same seed and index)'] };
    }
    let b = Buffer.from(this.seeds[s]);
    const steps = [`seed ${s}`];
    const n = 1 + int(3);
    for (let k = 0; k < n; k++) {
      const kind = int(8);
      const at = b.length ? int(b.length) : 0;
      switch (kind) {
        case 0: {
          if (!b.length) break;
          const bit = int(8);
          b[at] ^= 1 << bit;
          steps.push(`flip bit ${bit} of byte ${at}`);
          break;
        }
        case 1:
          if (!b.length) break;
          b[at] = int(256);
          steps.push(`set byte ${at} to ${b[at]}`);
          break;
        case 2: {
          const len = int(b.length + 1);
          b = b.subarray(0, len);
          steps.push(`truncate to ${len}`);
          break;
        }
        case 3:
        case 4: {
          const f = this.fields[s].u64.filter((p) => p + 8 <= b.length);
          if (!f.length) break;
          const p = f[int(f.length)];
          // Near the file length (just fits / just does not), or a hostile constant.
          const v = int(4) === 0 ? BigInt(Math.max(0, b.length + int(64) - 32)) : HOSTILE_U64[int(HOSTILE_U64.length)];
          b.writeBigUInt64LE(v, p);
          steps.push(`u64 at ${p} = ${v}`);
          break;
        }
        case 5: {
          const f = this.fields[s].u32.filter((p) => p + 4 <= b.length);
          if (!f.length) break;
          const p = f[int(f.length)];
          const v = HOSTILE_U32[int(HOSTILE_U32.length)];
          b.writeUInt32LE(v, p);
          steps.push(`u32 at ${p} = ${v}`);
          break;
        }
        case 6: {
          // Splice: a range of some seed inserted at a random place, or written over it.
          const src = this.seeds[int(this.seeds.length)];
          const from = int(src.length + 1), len = int(Math.min(64, src.length - from) + 1);
          const piece = src.subarray(from, from + len);
          if (int(2)) {
            b = Buffer.concat([b.subarray(0, at), piece, b.subarray(at)]);
            steps.push(`insert ${len} bytes from ${from} at ${at}`);
          } else {
            b = Buffer.concat([b.subarray(0, at), piece, b.subarray(Math.min(b.length, at + len))]);
            steps.push(`overwrite ${len} bytes at ${at} with bytes from ${from}`);
          }
          break;
        }
        case 7: {
          const len = int(Math.min(64, b.length - at) + 1);
          b = Buffer.concat([b.subarray(0, at), b.subarray(at + len)]);
          steps.push(`delete ${len} bytes at ${at}`);
          break;
        }
      }
    }
    return { bytes: Buffer.from(b), steps };
  }
}

