/**
 * Disjoint sets. UnionFind works on indices 0..n−1; KeyedUnionFind on any keys (model ids),
 * remembering the order keys were first seen so that groupings come out in a stable order.
 */

export class UnionFind {
  private readonly up: Int32Array;
  constructor(n: number) {
    this.up = Int32Array.from({ length: n }, (_, i) => i);
  }
  find(x: number): number {
    while (this.up[x] !== x) {
      this.up[x] = this.up[this.up[x]];
      x = this.up[x];
    }
    return x;
  }
  union(a: number, b: number): boolean {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return false;
    // The smaller index stays representative: keeps results independent of call order.
    if (ra < rb) this.up[rb] = ra;
    else this.up[ra] = rb;
    return true;
  }
}

export class KeyedUnionFind<K> {
  private readonly index = new Map<K, number>();
  private readonly up: number[] = [];

  /** Adds a key as a set of its own (no-op when known); returns its index. */
  add(key: K): number {
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.up.length;
      this.index.set(key, i);
      this.up.push(i);
    }
    return i;
  }

  /** The representative index of key's set (an unknown key is added first). */
  find(key: K): number {
    let x = this.add(key);
    while (this.up[x] !== x) {
      this.up[x] = this.up[this.up[x]];
      x = this.up[x];
    }
    return x;
  }

  union(a: K, b: K): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra < rb) this.up[rb] = ra;
    else if (rb < ra) this.up[ra] = rb;
  }

  /** Every key, in the order first seen. */
  keys(): IterableIterator<K> {
    return this.index.keys();
  }
}
