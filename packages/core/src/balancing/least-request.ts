import type { Random } from '../randomness/random.ts';
import { hasEqualWeights } from './cumulative-weights.ts';
import { DeadlineHeap } from './deadline-heap.ts';
import type { LbEndpoint, LoadBalancerFactory, Picker } from './load-balancer.ts';

export interface LeastRequestOptions {
  /** Endpoints sampled per pick, the least loaded winning (Envoy's `choice_count`); default 2. */
  readonly choiceCount?: number;
  /**
   * Envoy's `active_request_bias`, used when weights differ: an endpoint's weight becomes
   * weight / (active + 1)^bias. 0 ignores load (weighted round robin); default 1.
   */
  readonly activeRequestBias?: number;
}

/**
 * Equal weights: power of N choices (Mitzenmacher; Envoy's default). N = 2 samples two distinct
 * endpoints, so the single most loaded endpoint never gets a new request until it drains to the
 * level of another; N ≥ the endpoint count is a full scan from a random start; otherwise the N
 * samples are independent (Envoy's sampling). Ties keep the first sample, which is random.
 */
class ChoicePicker implements Picker {
  readonly #endpoints: readonly LbEndpoint[];
  readonly #random: Random;
  readonly #choiceCount: number;

  constructor(endpoints: readonly LbEndpoint[], random: Random, choiceCount: number) {
    this.#endpoints = endpoints;
    this.#random = random;
    this.#choiceCount = choiceCount;
  }

  pick(): LbEndpoint | undefined {
    const endpoints = this.#endpoints;
    const count = endpoints.length;
    if (count <= 1) return endpoints[0];
    const random = this.#random;
    const first = Math.floor(random.next() * count);
    let best = endpoints[first] as LbEndpoint;
    if (this.#choiceCount === 2) {
      const other = endpoints[(first + 1 + Math.floor(random.next() * (count - 1))) % count] as LbEndpoint;
      return other.load.active < best.load.active ? other : best;
    }
    if (this.#choiceCount >= count) {
      for (let step = 1; step < count; step++) {
        const candidate = endpoints[(first + step) % count] as LbEndpoint;
        if (candidate.load.active < best.load.active) best = candidate;
      }
      return best;
    }
    for (let choice = 1; choice < this.#choiceCount; choice++) {
      const candidate = endpoints[Math.floor(random.next() * count)] as LbEndpoint;
      if (candidate.load.active < best.load.active) best = candidate;
    }
    return best;
  }
}

/**
 * Unequal weights (including warmup): Envoy's earliest-deadline-first schedule whose weights are
 * re-read at each pick as weight / (active + 1)^bias. A busy endpoint is picked less and less
 * often but never starved, unlike in P2C.
 */
class WeightedLeastRequestPicker implements Picker {
  readonly #endpoints: readonly LbEndpoint[];
  readonly #weights: Float64Array;
  readonly #bias: number;
  readonly #heap: DeadlineHeap;

  constructor(endpoints: readonly LbEndpoint[], random: Random, bias: number) {
    this.#endpoints = endpoints;
    this.#weights = Float64Array.from(endpoints, (endpoint) => endpoint.effectiveWeight);
    this.#bias = bias;
    // A random first deadline within each entry's period keeps callers out of lockstep.
    this.#heap = new DeadlineHeap(endpoints.map((_, entry) => random.next() / this.#loadWeight(entry)));
  }

  pick(): LbEndpoint | undefined {
    const heap = this.#heap;
    const entry = heap.top;
    heap.rescheduleTop(heap.deadline(entry) + 1 / this.#loadWeight(entry));
    return this.#endpoints[entry];
  }

  #loadWeight(entry: number): number {
    const weight = this.#weights[entry] as number;
    const active = (this.#endpoints[entry] as LbEndpoint).load.active;
    if (this.#bias === 1) return weight / (active + 1);
    return this.#bias === 0 ? weight : weight / (active + 1) ** this.#bias;
  }
}

/** `LEAST_REQUEST` (Istio's default): P2C on equal weights, load-biased EDF on unequal ones. */
export function leastRequestBalancer(options: LeastRequestOptions = {}): LoadBalancerFactory {
  const choiceCount = Math.max(2, Math.floor(options.choiceCount ?? 2));
  const bias = Math.max(0, options.activeRequestBias ?? 1);
  return {
    usesWarmup: true,
    create:
      ({ random }) =>
      (endpoints) =>
        hasEqualWeights(endpoints.map((endpoint) => endpoint.effectiveWeight))
          ? new ChoicePicker(endpoints, random, choiceCount)
          : new WeightedLeastRequestPicker(endpoints, random, bias),
  };
}
