import type { Random } from '../randomness/random.ts';
import type { Clock } from '../time/clock.ts';
import type { LbEndpoint, LoadBalancerFactory, Picker } from './load-balancer.ts';

/**
 * Power of two choices over peak-EWMA cost (Finagle's and Linkerd's default balancer): two
 * distinct endpoints are sampled and the cheaper wins, cost = estimated latency × (in flight + 1)
 * ÷ weight (see EndpointLoad). Unlike least request it reacts to an endpoint that is slow but not
 * yet congested, and the decay (τ = 10 s) brings traffic back once it recovers. An endpoint with
 * no sample yet costs 0 while idle and a large penalty while busy: new endpoints are probed one
 * request at a time until they answer.
 */
class PeakEwmaPicker implements Picker {
  readonly #endpoints: readonly LbEndpoint[];
  readonly #random: Random;
  readonly #clock: Clock;

  constructor(endpoints: readonly LbEndpoint[], random: Random, clock: Clock) {
    this.#endpoints = endpoints;
    this.#random = random;
    this.#clock = clock;
  }

  pick(): LbEndpoint | undefined {
    const endpoints = this.#endpoints;
    const count = endpoints.length;
    if (count <= 1) return endpoints[0];
    const first = Math.floor(this.#random.next() * count);
    const a = endpoints[first] as LbEndpoint;
    const b = endpoints[(first + 1 + Math.floor(this.#random.next() * (count - 1))) % count] as LbEndpoint;
    const nowMs = this.#clock.now();
    return b.load.peakEwmaCost(nowMs) / b.effectiveWeight < a.load.peakEwmaCost(nowMs) / a.effectiveWeight
      ? b
      : a;
  }
}

/** `peak_ewma`, a Weft extension; see docs/load-balancing.md for how to enable it. */
export const peakEwmaBalancer: LoadBalancerFactory = {
  usesWarmup: true,
  create:
    ({ random, clock }) =>
    (endpoints) =>
      new PeakEwmaPicker(endpoints, random, clock),
};
