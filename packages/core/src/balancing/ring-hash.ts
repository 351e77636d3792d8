import type { Random } from '../randomness/random.ts';
import { hashString, randomHash } from './hash-function.ts';
import type { LbEndpoint, LoadBalancerFactory, PickContext, Picker } from './load-balancer.ts';

/** Istio's and Envoy's default `minimumRingSize`. */
export const DEFAULT_MINIMUM_RING_SIZE = 1024;
/** Envoy's cap on ring size (8M entries, ~100 MB here); larger minimums are clamped to it. */
export const MAXIMUM_RING_SIZE = 8_388_608;

/** A built ring: points sorted ascending, each owned by an index into `endpoints`. */
export interface HashRing {
  readonly endpoints: readonly LbEndpoint[];
  readonly points: Float64Array;
  readonly owners: Int32Array;
}

/**
 * Envoy's ring ("ketama") construction: each endpoint gets virtual nodes in proportion to its
 * weight, scaled so the lightest endpoint still gets ⌈its share × minimumRingSize⌉; fractional
 * shares carry over from one endpoint to the next. Virtual node j of an endpoint sits at
 * hash("address:port_j"). Endpoints are taken in key order, so the ring is a function of the set
 * alone and every caller with the same set builds the same ring, whatever order it was given in.
 */
export function buildHashRing(endpoints: readonly LbEndpoint[], minimumRingSize: number): HashRing {
  const sorted = [...endpoints].sort((left, right) =>
    left.key < right.key ? -1 : left.key > right.key ? 1 : 0,
  );
  const weights = sorted.map((endpoint) => Math.max(0, endpoint.weight));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const shares = total > 0 ? weights.map((weight) => weight / total) : weights.map(() => 1 / weights.length);
  const smallest = Math.min(...shares.filter((share) => share > 0));
  const minimum = Math.min(Math.max(1, minimumRingSize), MAXIMUM_RING_SIZE);
  const scale = Math.min(Math.ceil(smallest * minimum) / smallest, MAXIMUM_RING_SIZE);

  const positions: number[] = [];
  const owners: number[] = [];
  let placed = 0;
  let target = 0;
  for (const [owner, endpoint] of sorted.entries()) {
    target += scale * (shares[owner] as number);
    for (let node = 0; placed < target; node++, placed++) {
      positions.push(hashString(`${endpoint.key}_${node}`));
      owners.push(owner);
    }
  }
  const order = Array.from(positions.keys()).sort(
    (left, right) =>
      (positions[left] as number) - (positions[right] as number) ||
      (owners[left] as number) - (owners[right] as number),
  );
  return {
    endpoints: sorted,
    points: Float64Array.from(order, (index) => positions[index] as number),
    owners: Int32Array.from(order, (index) => owners[index] as number),
  };
}

/** The owner of the first point at or after `hash`, wrapping past the top of the ring. */
export function ringLookup(ring: HashRing, hash: number): LbEndpoint | undefined {
  const points = ring.points;
  let low = 0;
  let high = points.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((points[middle] as number) < hash) low = middle + 1;
    else high = middle;
  }
  return ring.endpoints[ring.owners[low === points.length ? 0 : low] as number];
}

class RingHashPicker implements Picker {
  readonly #ring: HashRing;
  readonly #random: Random;

  constructor(ring: HashRing, random: Random) {
    this.#ring = ring;
    this.#random = random;
  }

  pick(context?: PickContext): LbEndpoint | undefined {
    return ringLookup(this.#ring, context?.hash ?? randomHash(this.#random.next()));
  }
}

/**
 * `consistentHash` with `ringHash` (Istio's default hash algorithm). A request without a hash
 * (its header, cookie or parameter absent) gets a random one, as in Envoy.
 */
export const ringHashBalancer: LoadBalancerFactory = {
  usesWarmup: false,
  create: ({ settings, random }) => {
    const configured = settings?.consistentHash?.ringHash?.minimumRingSize;
    const minimumRingSize =
      configured === undefined || configured === 0 ? DEFAULT_MINIMUM_RING_SIZE : configured;
    return (endpoints) => new RingHashPicker(buildHashRing(endpoints, minimumRingSize), random);
  },
};
