/**
 * Istio's merge of a DestinationRule's traffic policies for one cluster (one port of one subset):
 *
 *   top-level policy
 *   → replaced by the top-level `portLevelSettings` entry for the port, if any
 *   → each field the subset's policy sets replaces the merged one
 *   → replaced by the subset's `portLevelSettings` entry for the port, if any.
 *
 * A port-level entry replaces all four of loadBalancer, connectionPool, outlierDetection and tls,
 * even the ones it leaves unset (Istio: "port level policies do not inherit"); a subset policy
 * replaces field by field. The fields are generic so this stays independent of the schema types.
 */
export interface PortLevelPolicyShape<Part> {
  readonly port?: { readonly number?: number };
  readonly loadBalancer?: Part;
  readonly connectionPool?: Part;
  readonly outlierDetection?: Part;
  readonly tls?: Part;
}

export interface TrafficPolicyShape<Part> {
  readonly loadBalancer?: Part;
  readonly connectionPool?: Part;
  readonly outlierDetection?: Part;
  readonly tls?: Part;
  readonly tunnel?: Part;
  readonly proxyProtocol?: Part;
  readonly retryBudget?: Part;
  readonly portLevelSettings?: readonly PortLevelPolicyShape<Part>[];
}

export interface MergedPolicy<Part> {
  readonly loadBalancer?: Part;
  readonly connectionPool?: Part;
  readonly outlierDetection?: Part;
  readonly tls?: Part;
  readonly tunnel?: Part;
  readonly proxyProtocol?: Part;
  readonly retryBudget?: Part;
}

const OVERRIDABLE = [
  'loadBalancer',
  'connectionPool',
  'outlierDetection',
  'tls',
  'tunnel',
  'proxyProtocol',
  'retryBudget',
] as const;
const PORT_LEVEL = ['loadBalancer', 'connectionPool', 'outlierDetection', 'tls'] as const;

export function mergeTrafficPolicy<Part>(
  topLevel: TrafficPolicyShape<Part> | undefined,
  subset: TrafficPolicyShape<Part> | undefined,
  port: number,
): MergedPolicy<Part> {
  const merged: { -readonly [K in keyof MergedPolicy<Part>]: Part | undefined } = {};
  if (topLevel !== undefined) {
    for (const field of OVERRIDABLE) merged[field] = topLevel[field];
    applyPortLevel(merged, topLevel, port);
  }
  if (subset !== undefined) {
    for (const field of OVERRIDABLE) {
      if (subset[field] !== undefined) merged[field] = subset[field];
    }
    applyPortLevel(merged, subset, port);
  }
  for (const field of OVERRIDABLE) if (merged[field] === undefined) delete merged[field];
  return merged;
}

function applyPortLevel<Part>(
  merged: { -readonly [K in keyof MergedPolicy<Part>]: Part | undefined },
  policy: TrafficPolicyShape<Part>,
  port: number,
): void {
  const entry = policy.portLevelSettings?.find((setting) => setting.port?.number === port);
  if (entry === undefined) return;
  for (const field of PORT_LEVEL) merged[field] = entry[field];
}
