import type { Locality } from '../../registry/workload.ts';
import type { EffectiveDestinationRule, TrafficPolicy } from './destination-rule-selection.ts';
import type { MeshService } from './mesh-service.ts';
import { mergeTrafficPolicy } from './traffic-policy-merge.ts';
import { labelsMatch } from './visibility.ts';

type PolicyPart<K extends keyof TrafficPolicy> = NonNullable<TrafficPolicy[K]>;

/** The traffic policy in force for one cluster, after Istio's merge (traffic-policy-merge.ts). */
export interface ClusterPolicy {
  readonly loadBalancer?: PolicyPart<'loadBalancer'>;
  readonly connectionPool?: PolicyPart<'connectionPool'>;
  readonly outlierDetection?: PolicyPart<'outlierDetection'>;
  readonly tls?: PolicyPart<'tls'>;
  readonly retryBudget?: PolicyPart<'retryBudget'>;
}

/** One endpoint of a cluster: an address and the port to dial. */
export interface ClusterEndpoint {
  readonly address: string;
  readonly port: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount?: string;
  readonly locality?: Locality;
  readonly weight: number;
  readonly origin: string;
}

/** Envoy's unit of load balancing: one port of one subset of one service. */
export interface Cluster {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly subset?: string;
  readonly service: MeshService;
  readonly endpoints: readonly ClusterEndpoint[];
  readonly policy: ClusterPolicy;
  /** The DestinationRule(s) the policy came from. */
  readonly destinationRules: readonly string[];
  /** Set when the route names a subset no DestinationRule defines: the cluster has no endpoints. */
  readonly missingSubset?: boolean;
}

export function buildCluster(
  name: string,
  service: MeshService,
  port: number,
  subsetName: string | undefined,
  rule: EffectiveDestinationRule | undefined,
): Cluster {
  const subset =
    subsetName === undefined ? undefined : rule?.subsets.find((candidate) => candidate.name === subsetName);
  const missingSubset = subsetName !== undefined && subset === undefined;
  // The merge moves whole parts around without looking inside, so each keeps its schema type.
  const merged = mergeTrafficPolicy<unknown>(
    rule?.trafficPolicy,
    subset?.trafficPolicy,
    port,
  ) as ClusterPolicy;
  const endpoints: ClusterEndpoint[] = [];
  if (!missingSubset) {
    for (const endpoint of service.endpoints) {
      if (subset !== undefined && !labelsMatch(subset.labels, endpoint.labels)) continue;
      const target = endpoint.targetPorts.get(port);
      if (target === undefined) continue;
      endpoints.push({
        address: endpoint.address,
        port: target,
        labels: endpoint.labels,
        ...(endpoint.serviceAccount === undefined ? {} : { serviceAccount: endpoint.serviceAccount }),
        ...(endpoint.locality === undefined ? {} : { locality: endpoint.locality }),
        weight: endpoint.weight,
        origin: endpoint.origin,
      });
    }
  }
  return {
    name,
    host: service.host,
    port,
    ...(subsetName === undefined ? {} : { subset: subsetName }),
    service,
    endpoints,
    policy: { ...pick(merged) },
    destinationRules: rule?.sources ?? [],
    ...(missingSubset ? { missingSubset } : {}),
  };
}

/** Drops tunnel and proxyProtocol, which Weft reports as unsupported and does not apply. */
function pick(policy: ClusterPolicy & { tunnel?: unknown; proxyProtocol?: unknown }): ClusterPolicy {
  const { tunnel: _tunnel, proxyProtocol: _proxyProtocol, ...rest } = policy;
  return rest;
}
