import type { GatewayResource } from '../resources.ts';
import type { SourceWorkload } from './source-workload.ts';
import { labelsMatch } from './visibility.ts';

/**
 * Which Gateways a workload serves, as `namespace/name`: those whose `selector` matches its
 * labels, in any namespace (Istio's default, PILOT_SCOPE_GATEWAY_TO_NAMESPACE=false). A Gateway
 * without a selector selects no workload here: an in-process client becomes a gateway only by
 * being chosen, never by default.
 */
export function gatewaysSelecting(
  gateways: readonly GatewayResource[],
  source: SourceWorkload,
): ReadonlySet<string> {
  const selected = new Set<string>();
  for (const gateway of gateways) {
    const selector = gateway.spec.selector;
    if (selector === undefined || Object.keys(selector).length === 0) continue;
    if (labelsMatch(selector, source.labels))
      selected.add(`${gateway.metadata.namespace}/${gateway.metadata.name}`);
  }
  return selected;
}

/**
 * Whether a `gateways` list names one of `selected`. A bare name means a Gateway in the
 * VirtualService's own namespace, as in Istio; `mesh` never names a gateway.
 */
export function isBoundTo(
  gateways: readonly string[],
  virtualServiceNamespace: string,
  selected: ReadonlySet<string>,
): boolean {
  for (const name of gateways) {
    const qualified = name.includes('/') ? name : `${virtualServiceNamespace}/${name}`;
    if (selected.has(qualified)) return true;
  }
  return false;
}
