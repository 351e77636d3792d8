/**
 * The order of one round: every variant runs between two windows of its baseline
 * (B V1 B V2 B … Vk B), so each is compared with the S0 windows right next to it in time and
 * drift of the machine within a round cancels out. Groups and the variants inside them rotate
 * from round to round, reversed on odd rounds, so no variant always runs first or last.
 */

export interface Planned {
  readonly id: string;
  readonly baseline?: string;
}

function rotate<T>(items: readonly T[], round: number): T[] {
  if (items.length === 0) return [];
  const shift = round % items.length;
  const rotated = [...items.slice(shift), ...items.slice(0, shift)];
  return round % 2 === 1 ? rotated.reverse() : rotated;
}

/** The ids to run, in order, for round `round`. */
export function roundPlan(variants: readonly Planned[], round: number): string[] {
  // A variant whose baseline is not in the run (--no-baseline) runs on its own, like a baseline.
  const ids = new Set(variants.map((variant) => variant.id));
  const baselines = variants.filter(
    (variant) => variant.baseline === undefined || !ids.has(variant.baseline),
  );
  const plan: string[] = [];
  for (const baseline of rotate(baselines, round)) {
    plan.push(baseline.id);
    const compared = variants.filter(
      (variant) => variant.baseline === baseline.id && variant.id !== baseline.id,
    );
    for (const variant of rotate(compared, round)) plan.push(variant.id, baseline.id);
  }
  return plan;
}
