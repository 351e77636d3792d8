import type { LoadBalancerFactory } from './load-balancer.ts';

/**
 * The string-keyed registry of load-balancing algorithms. Weft's own (round_robin,
 * least_request, random, ring_hash, maglev, peak_ewma, passthrough) register through
 * `registerLoadBalancer` like any extension; registering a name again replaces it, for clusters
 * created afterwards.
 */
const balancers = new Map<string, LoadBalancerFactory>();

export function registerLoadBalancer(name: string, factory: LoadBalancerFactory): void {
  balancers.set(name, factory);
}

export function findLoadBalancer(name: string): LoadBalancerFactory | undefined {
  return balancers.get(name);
}

/** Every registered name, for messages that list what is available. */
export function registeredLoadBalancers(): readonly string[] {
  return [...balancers.keys()];
}
