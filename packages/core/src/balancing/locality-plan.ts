import type { ClusterEndpoint } from '../config/compile/cluster.ts';
import type { Locality } from '../registry/workload.ts';
import type { LoadBalancerSettings, LocalityLbSetting } from './load-balancer.ts';
import { localityMatches, localityPriority, topologyLabel } from './locality-match.ts';

/** The calling workload, which locality priorities are relative to. */
export interface LocalitySource {
  readonly locality?: Locality | undefined;
  readonly labels?: Readonly<Record<string, string>> | undefined;
}

/** The natural weight of one locality: the sum of its endpoints' weights (Istio's EDS). */
export interface LocalityWeightInput {
  readonly label: string;
  readonly locality: Locality | undefined;
  readonly weight: number;
}

/**
 * How endpoints are split into priorities and localities, compiled once per balancer from
 * Istio's `localityLbSetting` as pilot applies it (pilot/pkg/networking/core/loadbalancer):
 *
 * - `distribute` (when a `from` matches the caller): one priority; each `to` pattern's weight is
 *   split across the localities it matches in proportion to their natural weight (rounded up);
 *   localities no pattern matches get no traffic.
 * - failover, only when enabled (Istio: the cluster has outlier detection, because without it
 *   nothing ever marks endpoints unhealthy): priority 0 for the caller's region/zone/subzone, 1
 *   for its region/zone, 2 for its region, 3 elsewhere, 4 for regions that `failover` does not
 *   name as the caller region's fallback. With `failoverPriority`, the label tiers come first
 *   (tier × 5 + locality priority when `failover` is also set; tiers alone otherwise).
 */
export interface LocalityPlan {
  /** Whether localities within a priority are picked by weight (Envoy's locality-weighted LB). */
  readonly isLocalityWeighted: boolean;
  /** The endpoint's raw priority (lower is preferred; the caller renumbers them densely). */
  priorityOf(endpoint: ClusterEndpoint): number;
  /** Each locality's weight; 0 drops it. Without `distribute`, the natural weights. */
  localityWeights(localities: readonly LocalityWeightInput[]): Map<string, number>;
}

export interface LocalityPlanOptions {
  readonly source: LocalitySource;
  /** Istio: `true` when the cluster has outlier detection (or the Service prefers close). */
  readonly enableFailover: boolean;
  /** MeshConfig's `localityLbSetting`, used when the DestinationRule has none; Istio's is `{ enabled: true }`. */
  readonly meshSetting?: LocalityLbSetting | undefined;
}

/** Istio's default MeshConfig.localityLbSetting. */
export const DEFAULT_MESH_LOCALITY_LB_SETTING: LocalityLbSetting = Object.freeze({ enabled: true });

/** The locality plan in force, or undefined when locality load balancing does not apply. */
export function planLocality(
  settings: LoadBalancerSettings | undefined,
  options: LocalityPlanOptions,
): LocalityPlan | undefined {
  // zoneAwareLbSetting replaces localityLbSetting in Istio; Weft does not implement it (it is
  // reported by unsupportedBalancingFields) and so applies no locality balancing at all.
  if (settings?.zoneAwareLbSetting !== undefined) return undefined;
  const setting = settings?.localityLbSetting ?? options.meshSetting ?? DEFAULT_MESH_LOCALITY_LB_SETTING;
  if (setting.enabled === false) return undefined;
  const { source } = options;
  const distribute = setting.distribute ?? [];
  if (distribute.length > 0) {
    const rule = distribute.find((candidate) => localityMatches(source.locality, candidate.from ?? ''));
    return {
      isLocalityWeighted: true,
      priorityOf: () => 0,
      localityWeights: (localities) =>
        rule === undefined ? naturalWeights(localities) : distributeWeights(localities, rule.to ?? {}),
    };
  }
  if (!options.enableFailover) return undefined;
  const failover = setting.failover ?? [];
  const failoverPriority = setting.failoverPriority ?? [];
  const labelTier = failoverPriority.length > 0 ? compileLabelTiers(failoverPriority, source) : undefined;
  const regionFallback = failover.find((entry) => entry.from === (source.locality?.region ?? ''))?.to;
  const localityTier = (endpoint: ClusterEndpoint): number => {
    const priority = localityPriority(source.locality, endpoint.locality);
    return priority === 3 && regionFallback !== undefined && endpoint.locality?.region !== regionFallback
      ? 4
      : priority;
  };
  return {
    isLocalityWeighted: failover.length > 0 || failoverPriority.length > 0,
    priorityOf:
      labelTier === undefined
        ? localityTier
        : failover.length > 0
          ? (endpoint) => labelTier(endpoint) * 5 + localityTier(endpoint)
          : labelTier,
    localityWeights: naturalWeights,
  };
}

function naturalWeights(localities: readonly LocalityWeightInput[]): Map<string, number> {
  return new Map(localities.map(({ label, weight }) => [label, weight]));
}

function distributeWeights(
  localities: readonly LocalityWeightInput[],
  to: Readonly<Record<string, number>>,
): Map<string, number> {
  const weights = new Map(localities.map(({ label }) => [label, 0]));
  const unclaimed = new Set(localities);
  // Istio walks a Go map here (random order); Weft takes the entries in the order written.
  for (const [pattern, share] of Object.entries(to)) {
    const matched = [...unclaimed].filter((candidate) => localityMatches(candidate.locality, pattern));
    const total = matched.reduce((sum, candidate) => sum + candidate.weight, 0);
    for (const candidate of matched) {
      unclaimed.delete(candidate);
      if (total > 0) weights.set(candidate.label, Math.ceil((candidate.weight * share) / total));
    }
  }
  return weights;
}

/**
 * `failoverPriority`: the first label (in order) on which the endpoint differs from the caller
 * decides the tier, n − index for n labels; matching all of them is tier 0. `label=value` compares
 * with `value` instead of the caller's own label. Region, zone and subzone labels fall back to
 * the locality, as Istio adds them to every endpoint.
 */
function compileLabelTiers(
  failoverPriority: readonly string[],
  source: LocalitySource,
): (endpoint: ClusterEndpoint) => number {
  const tiers = failoverPriority.map((entry) => {
    const separator = entry.indexOf('=');
    const name = separator < 0 ? entry : entry.slice(0, separator);
    const expected =
      separator < 0 ? topologyLabel(source.labels, source.locality, name) : entry.slice(separator + 1);
    return { name, expected };
  });
  return (endpoint) => {
    for (const [index, { name, expected }] of tiers.entries()) {
      if (topologyLabel(endpoint.labels, endpoint.locality, name) !== expected) return tiers.length - index;
    }
    return 0;
  };
}
