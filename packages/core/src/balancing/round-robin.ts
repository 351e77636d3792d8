import { hasEqualWeights } from './cumulative-weights.ts';
import { DeadlineHeap } from './deadline-heap.ts';
import type { LbEndpoint, LoadBalancerFactory, Picker } from './load-balancer.ts';

/** Equal weights: plain rotation from a random start, so callers do not all begin on one endpoint. */
class RotationPicker implements Picker {
  readonly #endpoints: readonly LbEndpoint[];
  #next: number;

  constructor(endpoints: readonly LbEndpoint[], start: number) {
    this.#endpoints = endpoints;
    this.#next = start;
  }

  pick(): LbEndpoint | undefined {
    const chosen = this.#endpoints[this.#next];
    this.#next = this.#next + 1 === this.#endpoints.length ? 0 : this.#next + 1;
    return chosen;
  }
}

/**
 * Weighted round robin as earliest-deadline-first (Envoy's scheduler): entry i's j-th turn is due
 * at j / wᵢ, and each pick serves the earliest turn. Deadlines are computed as j / wᵢ rather than
 * accumulated, so with integer weights every run of Σw consecutive picks holds exactly wᵢ of entry
 * i, and picks of a heavy endpoint are spread through the cycle rather than bunched. A random
 * phase φ ∈ [0, 1) starts each picker mid-cycle, as Envoy does to keep callers out of lockstep.
 */
class EdfRoundRobinPicker implements Picker {
  readonly #endpoints: readonly LbEndpoint[];
  readonly #weights: Float64Array;
  readonly #turns: Float64Array;
  readonly #heap: DeadlineHeap;

  constructor(endpoints: readonly LbEndpoint[], phase: number) {
    this.#endpoints = endpoints;
    this.#weights = Float64Array.from(endpoints, (endpoint) => endpoint.effectiveWeight);
    // The first turn after the phase; weight 0 gives an infinite deadline: never picked.
    this.#turns = this.#weights.map((weight) => Math.floor(phase * weight) + 1);
    this.#heap = new DeadlineHeap(this.#turns.map((turn, entry) => turn / (this.#weights[entry] as number)));
  }

  pick(): LbEndpoint | undefined {
    const heap = this.#heap;
    const entry = heap.top;
    const turn = (this.#turns[entry] as number) + 1;
    this.#turns[entry] = turn;
    heap.rescheduleTop(turn / (this.#weights[entry] as number));
    return this.#endpoints[entry];
  }
}

/** `ROUND_ROBIN`: rotation, weighted by `effectiveWeight` (so warmup applies). */
export const roundRobinBalancer: LoadBalancerFactory = {
  usesWarmup: true,
  create:
    ({ random }) =>
    (endpoints) =>
      hasEqualWeights(endpoints.map((endpoint) => endpoint.effectiveWeight))
        ? new RotationPicker(endpoints, Math.floor(random.next() * endpoints.length))
        : new EdfRoundRobinPicker(endpoints, random.next()),
};
