import { LoadBalancerNames } from './balancer-name.ts';
import { registerLoadBalancer } from './balancer-registry.ts';
import { leastRequestBalancer } from './least-request.ts';
import { EMPTY_PICKER, type LoadBalancerFactory } from './load-balancer.ts';
import { maglevBalancer } from './maglev.ts';
import { peakEwmaBalancer } from './peak-ewma.ts';
import { randomBalancer } from './random-balancer.ts';
import { ringHashBalancer } from './ring-hash.ts';
import { roundRobinBalancer } from './round-robin.ts';

/**
 * `PASSTHROUGH`: no balancing; the adapter dials the address the application asked for (Envoy's
 * ORIGINAL_DST). Its picker never returns an endpoint, so an adapter checks
 * `balancer.name === 'passthrough'` before picking rather than reporting "no healthy upstream".
 */
export const passthroughBalancer: LoadBalancerFactory = {
  usesWarmup: false,
  create: () => () => EMPTY_PICKER,
};

/** Registers Weft's balancers; runs on import, and again to restore a replaced built-in. */
export function registerBuiltinBalancers(): void {
  registerLoadBalancer(LoadBalancerNames.roundRobin, roundRobinBalancer);
  registerLoadBalancer(LoadBalancerNames.leastRequest, leastRequestBalancer());
  registerLoadBalancer(LoadBalancerNames.random, randomBalancer);
  registerLoadBalancer(LoadBalancerNames.ringHash, ringHashBalancer);
  registerLoadBalancer(LoadBalancerNames.maglev, maglevBalancer);
  registerLoadBalancer(LoadBalancerNames.peakEwma, peakEwmaBalancer);
  registerLoadBalancer(LoadBalancerNames.passthrough, passthroughBalancer);
}

registerBuiltinBalancers();
