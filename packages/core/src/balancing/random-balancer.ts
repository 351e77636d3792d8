import type { Random } from '../randomness/random.ts';
import { CumulativeWeights, hasEqualWeights } from './cumulative-weights.ts';
import type { LbEndpoint, LoadBalancerFactory, Picker } from './load-balancer.ts';

class UniformPicker implements Picker {
  readonly #endpoints: readonly LbEndpoint[];
  readonly #random: Random;

  constructor(endpoints: readonly LbEndpoint[], random: Random) {
    this.#endpoints = endpoints;
    this.#random = random;
  }

  pick(): LbEndpoint | undefined {
    return this.#endpoints[Math.floor(this.#random.next() * this.#endpoints.length)];
  }
}

class WeightedRandomPicker implements Picker {
  readonly #endpoints: readonly LbEndpoint[];
  readonly #random: Random;
  readonly #weights: CumulativeWeights;

  constructor(endpoints: readonly LbEndpoint[], random: Random) {
    this.#endpoints = endpoints;
    this.#random = random;
    this.#weights = new CumulativeWeights(endpoints.map((endpoint) => endpoint.weight));
  }

  pick(): LbEndpoint | undefined {
    return this.#endpoints[this.#weights.index(this.#random.next())];
  }
}

/**
 * `RANDOM`: each pick independent. Weighted by the endpoint's configured weight (Envoy's random
 * balancer ignores weights; Weft honours them, so WorkloadEntry weights mean the same under every
 * policy). No warmup, as in Envoy and Istio.
 */
export const randomBalancer: LoadBalancerFactory = {
  usesWarmup: false,
  create:
    ({ random }) =>
    (endpoints) =>
      hasEqualWeights(endpoints.map((endpoint) => endpoint.weight))
        ? new UniformPicker(endpoints, random)
        : new WeightedRandomPicker(endpoints, random),
};
