import type { LoadBalancerSettings } from './load-balancer.ts';

/** Registry names of the built-in balancers. */
export const LoadBalancerNames = {
  roundRobin: 'round_robin',
  leastRequest: 'least_request',
  random: 'random',
  ringHash: 'ring_hash',
  maglev: 'maglev',
  peakEwma: 'peak_ewma',
  passthrough: 'passthrough',
} as const;

/** Istio's choice when `simple` is unset or UNSPECIFIED (LEAST_REQUEST since Istio 1.14). */
export const DEFAULT_LOAD_BALANCER = LoadBalancerNames.leastRequest;

/**
 * The registry name a DestinationRule's settings select. A policy that names no algorithm
 * (`simple` unset or UNSPECIFIED, no `consistentHash`) gets `defaultName`; this is where a mesh
 * or cluster override such as `peak_ewma` comes in without overriding an explicit choice.
 */
export function loadBalancerName(
  settings: LoadBalancerSettings | undefined,
  defaultName: string = DEFAULT_LOAD_BALANCER,
): string {
  if (settings?.consistentHash !== undefined) {
    // Istio: ring hash unless maglev is named.
    return settings.consistentHash.maglev === undefined
      ? LoadBalancerNames.ringHash
      : LoadBalancerNames.maglev;
  }
  switch (settings?.simple) {
    case 'ROUND_ROBIN':
      return LoadBalancerNames.roundRobin;
    case 'LEAST_REQUEST':
      return LoadBalancerNames.leastRequest;
    case 'RANDOM':
      return LoadBalancerNames.random;
    case 'PASSTHROUGH':
      return LoadBalancerNames.passthrough;
    default:
      return defaultName;
  }
}

/**
 * Settings Weft accepts but does not apply, by field name, for the caller to report (Weft never
 * drops configuration silently). `zoneAwareLbSetting` needs the caller cluster's own zone
 * spread, which a library does not see; Weft then applies no locality balancing.
 */
export function unsupportedBalancingFields(settings: LoadBalancerSettings | undefined): readonly string[] {
  return settings?.zoneAwareLbSetting === undefined ? [] : ['loadBalancer.zoneAwareLbSetting'];
}
