/**
 * Seeded random numbers for the zoo. Every draw (initial weights, data subsets, shuffles,
 * generated text, synthetic drift) comes from here, never from Math.random or tfjs' own RNG,
 * so a zoo is a pure function of its seed and two runs write the same bytes.
 */

/** 32-bit FNV-1a of a string: turns structured keys ("p3/child2") into seeds. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A seed derived from a base seed and a path of keys; different keys give unrelated streams. */
export function deriveSeed(seed: number, ...keys: (string | number)[]): number {
  return hashString(`${seed >>> 0}/${keys.join('/')}`);
}

/**
 * sfc32 (Small Fast Counting, from PractRand): 128-bit state, passes PractRand. The state lives
 * in an Int32Array: plain uint32 fields above 2³¹ are heap numbers in V8 and made each draw
 * ~10× slower, which matters for the billions of values of a synthetic 7B model.
 */
export class Rng {
  private readonly s = new Int32Array(4);
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number) {
    // splitmix32 expands the seed so that nearby seeds give unrelated states.
    let x = seed | 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.s[i] = z ^ (z >>> 16);
    }
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32(): number {
    const s = this.s;
    const a = s[0];
    const b = s[1];
    const c = s[2];
    const d = s[3];
    const t = (((a + b) | 0) + d) | 0;
    s[3] = (d + 1) | 0;
    s[0] = b ^ (b >>> 9);
    s[1] = (c + (c << 3)) | 0;
    s[2] = (((c << 21) | (c >>> 11)) + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /**
   * Standard normal by Marsaglia's polar method (one log and one sqrt per pair, no trig: about
   * twice as fast as Box–Muller here); the second value of each pair is kept for the next call.
   */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u: number;
    let v: number;
    let q: number;
    do {
      u = 2 * this.next() - 1;
      v = 2 * this.next() - 1;
      q = u * u + v * v;
    } while (q >= 1 || q === 0);
    const f = Math.sqrt((-2 * Math.log(q)) / q);
    this.spare = v * f;
    this.hasSpare = true;
    return u * f;
  }

  /** Fills `out` with N(0, std²) values. */
  fillNormal(out: Float32Array, std: number, mean = 0): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** Fills `out` with U(lo, hi) values. */
  fillUniform(out: Float32Array, lo: number, hi: number): Float32Array {
    const w = hi - lo;
    for (let i = 0; i < out.length; i++) out[i] = lo + w * this.next();
    return out;
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(arr: T[]): T[] {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
    return arr;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  pick<T>(arr: readonly T[]): T {
    return arr[this.int(arr.length)];
  }
}
