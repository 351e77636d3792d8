/**
 * Weighted choice by binary search over running totals, built once per update: a pick is
 * O(log n) and allocates nothing. Entries of weight 0 are never chosen.
 */
export class CumulativeWeights {
  readonly #totals: Float64Array;
  readonly total: number;

  constructor(weights: ArrayLike<number>) {
    this.#totals = new Float64Array(weights.length);
    let running = 0;
    for (let index = 0; index < weights.length; index++) {
      running += Math.max(0, weights[index] ?? 0);
      this.#totals[index] = running;
    }
    this.total = running;
  }

  /** The index whose share of the total holds `draw` ∈ [0, 1); -1 when every weight is 0. */
  index(draw: number): number {
    const totals = this.#totals;
    if (this.total <= 0) return -1;
    const target = draw * this.total;
    let low = 0;
    let high = totals.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((totals[middle] as number) > target) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}

/** Whether every weight is the same, when the unweighted fast paths apply. */
export function hasEqualWeights(weights: readonly number[]): boolean {
  for (const weight of weights) if (weight !== weights[0]) return false;
  return true;
}
