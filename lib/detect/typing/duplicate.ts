/**
 * Duplicates: models with identical compared weights (lib/detect/duplicates.ts finds them
 * from the Gram: distance 0 and equal moments). Nothing in the weights can say which copy came
 * first, so the edge is typed 'duplicate' with confidence 0.5 and the report says the direction
 * is undetermined. Declared metadata (lib/io/declared.ts) may order a pair: a copy whose files
 * name the other as their base is drawn as its child.
 */

/** The group reordered so that its first member (drawn as the others' parent) declares none
 * of the other copies as its base; without declarations the order is unchanged. */
export function orderCopies(group: number[], declaresBase: (child: number, base: number) => boolean): number[] {
  const root = group.find((a) => !group.some((b) => b !== a && declaresBase(a, b))) ?? group[0];
  return [root, ...group.filter((m) => m !== root)];
}
