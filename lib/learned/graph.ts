/**
 * The token graph of one model set: edge tokens (candidate pairs) then node tokens (one per
 * model, carrying its "no parent" option). A token attends to itself and to every token that
 * shares a model with it, so two layers see each competing parent of a child and each
 * sibling edge of a parent; and the softmax targets group, per child, its candidate parents
 * and its "no parent" token.
 */
import type { Pair } from './features';

const NEG = -1e9;

export interface TokenGraph {
  tokens: number;
  /** [T × T] additive attention mask. */
  mask: Float32Array;
  /** Per child model: token indices of its choices (candidate edges in, then its node token). */
  choices: number[][];
}

export function tokenGraph(pairs: Pair[], models: number): TokenGraph {
  const P = pairs.length;
  const T = P + models;
  const mask = new Float32Array(T * T).fill(NEG);
  const incident: number[][] = Array.from({ length: models }, () => []);
  pairs.forEach((p, i) => {
    incident[p.a].push(i);
    incident[p.b].push(i);
  });
  const allow = (i: number, j: number) => {
    mask[i * T + j] = 0;
    mask[j * T + i] = 0;
  };
  for (let i = 0; i < T; i++) mask[i * T + i] = 0;
  for (let m = 0; m < models; m++) {
    const list = incident[m];
    for (const i of list) {
      allow(i, P + m);
      for (const j of list) mask[i * T + j] = 0;
    }
  }
  const choices: number[][] = Array.from({ length: models }, () => []);
  pairs.forEach((p, i) => choices[p.b].push(i));
  for (let m = 0; m < models; m++) choices[m].push(P + m);
  return { tokens: T, mask, choices };
}
