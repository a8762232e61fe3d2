/**
 * Chu-Liu/Edmonds minimum spanning arborescence: the cheapest set of edges giving every node
 * reachable from the root exactly one parent with no cycle. Every non-root node first takes
 * its cheapest incoming edge; each cycle this creates is contracted into one node whose
 * incoming edges are re-priced by what breaking into the cycle there saves, and the smaller
 * problem is solved recursively (all cycles of a round are contracted at once). O(V·E) worst
 * case, which is fine for the M×M graphs of detection.
 */

export interface WeightedEdge {
  from: number;
  to: number;
  weight: number;
}

export interface Arborescence {
  /** parent[v]: the chosen parent, -1 for the root and for unreachable nodes. */
  parent: Int32Array;
  /** parentEdge[v]: index into the input edges of v's chosen edge, -1 where parent is -1. */
  parentEdge: Int32Array;
  /** Sum of the chosen edges' weights. */
  weight: number;
  /** Nodes the root cannot reach (no arborescence spans them). */
  unreachable: number[];
}

interface Edge {
  u: number;
  v: number;
  w: number;
}

/** Returns, for one level, the indices into `edges` of the chosen edges. */
function solve(n: number, root: number, edges: Edge[]): number[] {
  const best = new Int32Array(n).fill(-1);
  for (let i = 0; i < edges.length; i++) {
    const e = edges[i];
    if (e.u === e.v || e.v === root) continue;
    if (best[e.v] === -1 || e.w < edges[best[e.v]].w) best[e.v] = i;
  }
  const group = new Int32Array(n).fill(-1);
  const seen = new Int32Array(n).fill(-1);
  const inCycle = new Uint8Array(n);
  let groups = 0;
  for (let v = 0; v < n; v++) {
    let x = v;
    while (x !== root && seen[x] !== v && group[x] === -1) {
      seen[x] = v;
      x = edges[best[x]].u;
    }
    // Walking from v came back to a node of this walk that has no group yet: a new cycle.
    if (x !== root && group[x] === -1 && seen[x] === v) {
      let y = x;
      do {
        group[y] = groups;
        inCycle[y] = 1;
        y = edges[best[y]].u;
      } while (y !== x);
      groups++;
    }
  }
  if (groups === 0) {
    const chosen: number[] = [];
    for (let v = 0; v < n; v++) if (v !== root) chosen.push(best[v]);
    return chosen;
  }
  for (let v = 0; v < n; v++) if (group[v] === -1) group[v] = groups++;
  const contracted: Edge[] = [];
  const origin: number[] = [];
  for (let i = 0; i < edges.length; i++) {
    const e = edges[i];
    const a = group[e.u];
    const b = group[e.v];
    if (a === b) continue;
    // Entering a cycle at e.v replaces e.v's cycle edge: it costs only the difference.
    contracted.push({ u: a, v: b, w: inCycle[e.v] ? e.w - edges[best[e.v]].w : e.w });
    origin.push(i);
  }
  const chosen = solve(groups, group[root], contracted).map((i) => origin[i]);
  const entered = new Uint8Array(n);
  for (const i of chosen) entered[edges[i].v] = 1;
  for (let v = 0; v < n; v++) if (inCycle[v] && !entered[v]) chosen.push(best[v]);
  return chosen;
}

/**
 * Minimum spanning arborescence of the nodes reachable from `root`. Self-loops and edges
 * into the root are ignored; among equal-weight choices the earlier edge wins, so the result
 * is deterministic.
 */
export function minimumArborescence(n: number, root: number, edges: WeightedEdge[]): Arborescence {
  const parent = new Int32Array(n).fill(-1);
  const parentEdge = new Int32Array(n).fill(-1);
  for (const e of edges) {
    if (!Number.isFinite(e.weight)) throw new RangeError(`edge ${e.from}→${e.to} has a non-finite weight`);
  }
  const out: number[][] = Array.from({ length: n }, () => []);
  edges.forEach((e, i) => out[e.from].push(i));
  const reached = new Uint8Array(n);
  reached[root] = 1;
  const stack = [root];
  while (stack.length > 0) {
    const u = stack.pop()!;
    for (const i of out[u]) {
      const v = edges[i].to;
      if (!reached[v]) {
        reached[v] = 1;
        stack.push(v);
      }
    }
  }
  const local = new Int32Array(n).fill(-1);
  const nodes: number[] = [];
  for (let v = 0; v < n; v++) if (reached[v]) local[v] = nodes.push(v) - 1;
  const inner: Edge[] = [];
  const origin: number[] = [];
  edges.forEach((e, i) => {
    if (reached[e.from] && reached[e.to] && e.from !== e.to && e.to !== root) {
      inner.push({ u: local[e.from], v: local[e.to], w: e.weight });
      origin.push(i);
    }
  });
  let weight = 0;
  for (const i of solve(nodes.length, local[root], inner)) {
    const e = edges[origin[i]];
    parent[e.to] = e.from;
    parentEdge[e.to] = origin[i];
    weight += e.weight;
  }
  const unreachable: number[] = [];
  for (let v = 0; v < n; v++) if (!reached[v]) unreachable.push(v);
  return { parent, parentEdge, weight, unreachable };
}

/**
 * The minimum arborescence over nodes 0..n−1 under a virtual root that reaches every node at
 * `rootCost`: a node becomes a root where no admissible parent is cheaper. `edges` are between
 * the n real nodes. With rootCost null the virtual root costs more than all the edges together,
 * so the roots are only the nodes with no admissible parent at all. Returns each node's parent
 * (−1 for roots).
 */
export function arborescenceUnderVirtualRoot(n: number, edges: WeightedEdge[], rootCost: number | null): Int32Array {
  const shifted: WeightedEdge[] = [];
  let total = 0;
  for (const e of edges) {
    shifted.push({ from: e.from + 1, to: e.to + 1, weight: e.weight });
    total += e.weight;
  }
  const cost = rootCost ?? total + 1;
  for (let b = 0; b < n; b++) shifted.push({ from: 0, to: b + 1, weight: cost });
  const arb = minimumArborescence(n + 1, 0, shifted);
  return Int32Array.from({ length: n }, (_, v) => (arb.parent[v + 1] > 0 ? arb.parent[v + 1] - 1 : -1));
}
