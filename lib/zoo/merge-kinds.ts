/**
 * Model-merging recipes, per tensor, as the merging tools apply them (linear, SLERP, task
 * arithmetic, TIES, DARE). Each takes the parents (and for task-vector recipes their common
 * base) as float32 arrays and returns the merged tensor; `truth` says which models the result
 * is a weighted combination of, for lineage.json.
 */
import { Rng } from './rng';

export const MERGE_KINDS = ['linear', 'slerp', 'task-arithmetic', 'ties', 'dare'] as const;
export type MergeKind = (typeof MERGE_KINDS)[number];

export interface MergeInputs {
  /** The two merged models (fine-tunes of `base`). */
  a: Float32Array;
  b: Float32Array;
  base: Float32Array;
}

export interface MergeRecipe {
  /** Drawn once per merged model: the recipe's coefficient. */
  draw(rng: Rng): number;
  apply(x: MergeInputs, c: number, rng: Rng): Float32Array;
  /** The true parents and weights for lineage.json ('a', 'b', 'base'), given the coefficient. */
  truth(c: number): { who: 'a' | 'b' | 'base'; weight: number }[];
  /** One line for docs and the script's table. */
  about: string;
}

const map = (n: number, f: (i: number) => number): Float32Array => {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = f(i);
  return out;
};

/** Top `density` share of |τ| kept, the rest zeroed (TIES' trim step). */
function trim(t: Float32Array, density: number): Float32Array {
  const mags = Float32Array.from(t, Math.abs).sort();
  const cut = mags[Math.min(mags.length - 1, Math.floor((1 - density) * mags.length))];
  return map(t.length, (i) => (Math.abs(t[i]) >= cut ? t[i] : 0));
}

export const MERGE_RECIPES: Record<MergeKind, MergeRecipe> = {
  linear: {
    about: 'w·a + (1−w)·b, w uniform in [0.3, 0.7]',
    draw: (rng) => 0.3 + 0.4 * rng.next(),
    apply: ({ a, b }, w) => map(a.length, (i) => w * a[i] + (1 - w) * b[i]),
    truth: (w) => [{ who: 'a', weight: w }, { who: 'b', weight: 1 - w }],
  },
  slerp: {
    about: 'spherical interpolation per tensor at t uniform in [0.3, 0.7] (linear where the angle is tiny)',
    draw: (rng) => 0.3 + 0.4 * rng.next(),
    apply: ({ a, b }, t) => {
      let ab = 0;
      let aa = 0;
      let bb = 0;
      for (let i = 0; i < a.length; i++) {
        ab += a[i] * b[i];
        aa += a[i] * a[i];
        bb += b[i] * b[i];
      }
      const cos = aa > 0 && bb > 0 ? Math.max(-1, Math.min(1, ab / Math.sqrt(aa * bb))) : 1;
      const th = Math.acos(cos);
      if (th < 1e-4) return map(a.length, (i) => (1 - t) * a[i] + t * b[i]);
      const wa = Math.sin((1 - t) * th) / Math.sin(th);
      const wb = Math.sin(t * th) / Math.sin(th);
      return map(a.length, (i) => wa * a[i] + wb * b[i]);
    },
    truth: (t) => [{ who: 'a', weight: 1 - t }, { who: 'b', weight: t }],
  },
  'task-arithmetic': {
    about: 'base + λ·((a − base) + (b − base)), λ uniform in [0.3, 0.5]',
    draw: (rng) => 0.3 + 0.2 * rng.next(),
    apply: ({ a, b, base }, l) => map(a.length, (i) => base[i] + l * (a[i] - base[i] + b[i] - base[i])),
    truth: (l) => [{ who: 'a', weight: l }, { who: 'b', weight: l }, ...(1 - 2 * l >= 0.05 ? [{ who: 'base' as const, weight: 1 - 2 * l }] : [])],
  },
  ties: {
    about: 'TIES: task vectors trimmed to their top 20% magnitudes, sign elected by sum, disjoint mean, λ = 1',
    draw: () => 1,
    apply: ({ a, b, base }, l) => {
      const ta = trim(map(a.length, (i) => a[i] - base[i]), 0.2);
      const tb = trim(map(a.length, (i) => b[i] - base[i]), 0.2);
      return map(a.length, (i) => {
        const sign = Math.sign(ta[i] + tb[i]);
        let s = 0;
        let n = 0;
        for (const t of [ta[i], tb[i]]) if (t !== 0 && Math.sign(t) === sign) (s += t), n++;
        return base[i] + l * (n > 0 ? s / n : 0);
      });
    },
    truth: (l) => [{ who: 'a', weight: l / 2 }, { who: 'b', weight: l / 2 }],
  },
  dare: {
    about: 'DARE: each task-vector entry dropped with p = 0.9, the rest scaled by 1/(1−p), then task arithmetic with λ = 0.5',
    draw: () => 0.5,
    apply: ({ a, b, base }, l, rng) => {
      const p = 0.9;
      return map(a.length, (i) => {
        const ka = rng.next() >= p ? 1 / (1 - p) : 0;
        const kb = rng.next() >= p ? 1 / (1 - p) : 0;
        return base[i] + l * (ka * (a[i] - base[i]) + kb * (b[i] - base[i]));
      });
    },
    truth: (l) => [{ who: 'a', weight: l }, { who: 'b', weight: l }],
  },
};
