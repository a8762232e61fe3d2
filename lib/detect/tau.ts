/**
 * τ, the cost of making a model a root: a model with no plausible parent nearer than τ starts
 * a family of its own. Families of related models sit much closer together than models of
 * different families, so the sorted distances show a gap between the two populations and τ
 * goes in it (the largest gap of the sorted pairwise distances recovered every true
 * undirected edge of a trained vision zoo; docs/detect.md).
 */
import { finitePairDistances } from './distances';
import { minimumSpanningForest } from '../graph/components';

export interface TauChoice {
  tau: number;
  /** The distances on either side of the gap (absent when there is no qualifying gap). */
  below?: number;
  above?: number;
}

/**
 * τ at the largest gap of the sorted values, placed at the geometric mean of its two sides.
 * The gap counts only if the value above it is at least `minRatio` times the one below:
 * inside a single family distances vary by small factors (siblings are √2 apart when their
 * parent is 1 away; a child fine-tuned three times longer than its siblings sits √3 ≈ 1.7
 * times farther, but its siblings fill the range in between), so a smaller jump is not
 * evidence of two populations and τ = ∞. The default 1.5 sits above √2, and below the factor
 * of about 1.9 that relative distances left between the farthest fine-tune and the nearest
 * unrelated model in our synthetic zoos (relative distances of unrelated models are bounded
 * near √2, so the factor cannot be large when fine-tunes move far).
 */
export function tauFromGap(values: number[], minRatio: number): TauChoice {
  const v = values.filter((x) => Number.isFinite(x) && x > 0).sort((a, b) => a - b);
  let bestGap = 0;
  let at = -1;
  for (let i = 0; i + 1 < v.length; i++) {
    const gap = v[i + 1] - v[i];
    if (gap > bestGap) {
      bestGap = gap;
      at = i;
    }
  }
  if (at < 0 || v[at + 1] < minRatio * v[at]) return { tau: Infinity };
  return { tau: Math.sqrt(v[at] * v[at + 1]), below: v[at], above: v[at + 1] };
}

/**
 * Resolves the τ option: a number as given; 'gap' over all finite pairwise distances;
 * 'msf-gap' over the edges of the minimum spanning forest (the single-linkage merge heights,
 * which are what τ actually cuts); 'none' = ∞.
 */
export function chooseTau(dist: number[][], rule: number | 'gap' | 'msf-gap' | 'none', minRatio: number): TauChoice {
  if (typeof rule === 'number') return { tau: rule };
  if (rule === 'none') return { tau: Infinity };
  if (rule === 'gap') return tauFromGap(finitePairDistances(dist), minRatio);
  const nodes = dist.map((_, i) => i);
  return tauFromGap(minimumSpanningForest(dist, nodes).map((e) => e.weight), minRatio);
}
