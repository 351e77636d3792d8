/**
 * Randomness, injected: weighted routing, fault percentages, load-balancer choices and backoff
 * jitter all draw from a Random, so tests are seeded and reproducible.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
}

export const systemRandom: Random = { next: Math.random };

/**
 * A small, fast seeded generator (SplitMix32 variant): statistically fine for load balancing
 * and tests, not for cryptography.
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return {
    next() {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      z = (z ^ (z >>> 16)) >>> 0;
      return z / 4_294_967_296;
    },
  };
}
