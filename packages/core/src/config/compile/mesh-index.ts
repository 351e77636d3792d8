import { hostMatches } from '../host.ts';
import type { DestinationRuleResource, ResourcesByKind } from '../resources.ts';
import type { MeshOptions } from './mesh-options.ts';
import type { MeshService } from './mesh-service.ts';

/** What every view of one snapshot shares: the resources in order, the services, the options. */
export interface MeshIndex {
  readonly resources: ResourcesByKind;
  readonly services: ReadonlyMap<string, MeshService>;
  readonly options: MeshOptions;
  /** DestinationRules that may apply to `host` (exact or wildcard), in resource order. */
  readonly destinationRulesFor: (host: string) => readonly DestinationRuleResource[];
}

/**
 * Indexes DestinationRules by exact host so that a cluster looks at a handful of rules, not all
 * of them (1,000 services × 1,000 rules would dominate compile time otherwise).
 */
export function indexDestinationRules(
  rules: readonly DestinationRuleResource[],
): (host: string) => readonly DestinationRuleResource[] {
  const exact = new Map<string, DestinationRuleResource[]>();
  const wildcard: DestinationRuleResource[] = [];
  for (const rule of rules) {
    if (rule.spec.host.includes('*')) wildcard.push(rule);
    else exact.set(rule.spec.host, [...(exact.get(rule.spec.host) ?? []), rule]);
  }
  if (wildcard.length === 0) return (host) => exact.get(host) ?? [];
  return (host) => {
    const matching = wildcard.filter((rule) => hostMatches(rule.spec.host, host));
    const named = exact.get(host) ?? [];
    if (matching.length === 0) return named;
    // Keep resource order across both lists; precedence among them is decided by the selector.
    const order = new Map(rules.map((rule, index) => [rule, index]));
    return [...named, ...matching].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  };
}
