import { hostMatches } from '../host.ts';
import { resourceKey } from '../resource.ts';
import type { DestinationRuleResource } from '../resources.ts';
import type { MeshOptions } from './mesh-options.ts';
import type { SourceWorkload } from './source-workload.ts';
import { isExportedTo, labelsMatch } from './visibility.ts';

type DestinationRuleSpec = DestinationRuleResource['spec'];
export type TrafficPolicy = NonNullable<DestinationRuleSpec['trafficPolicy']>;
export type Subset = NonNullable<DestinationRuleSpec['subsets']>[number];

/** The DestinationRule(s) that govern one host for one workload, merged as Istio merges them. */
export interface EffectiveDestinationRule {
  /** The resources merged, in resource order. */
  readonly sources: readonly string[];
  readonly trafficPolicy?: TrafficPolicy;
  readonly subsets: readonly Subset[];
}

/**
 * Istio's precedence: a rule in the caller's namespace (one whose workloadSelector matches the
 * caller before one without), then the service's namespace, then the root namespace; within a
 * namespace the most specific host wins (exact before the longest wildcard). Rules for the same
 * host in the chosen namespace are merged: the first top-level trafficPolicy wins and subsets are
 * united, the first definition of a name winning (bad-inputs A11; analyze() reports the rest).
 */
export function selectDestinationRule(
  rules: readonly DestinationRuleResource[],
  host: string,
  serviceNamespace: string,
  source: SourceWorkload,
  options: MeshOptions,
): EffectiveDestinationRule | undefined {
  const applicable = rules.filter(
    (rule) =>
      hostMatches(rule.spec.host, host) &&
      isExportedTo(rule.spec.exportTo, rule.metadata.namespace, source.namespace, options.defaultExportTo) &&
      (rule.spec.workloadSelector === undefined ||
        (rule.metadata.namespace === source.namespace &&
          labelsMatch(rule.spec.workloadSelector.matchLabels, source.labels))),
  );
  if (applicable.length === 0) return undefined;
  const namespaces = [source.namespace, serviceNamespace, options.rootNamespace];
  for (const namespace of namespaces) {
    const inNamespace = applicable.filter((rule) => rule.metadata.namespace === namespace);
    if (inNamespace.length === 0) continue;
    const selected = inNamespace.filter((rule) => rule.spec.workloadSelector !== undefined);
    const pool = selected.length > 0 ? selected : inNamespace;
    return merge(mostSpecific(pool));
  }
  return undefined;
}

function mostSpecific(rules: readonly DestinationRuleResource[]): readonly DestinationRuleResource[] {
  const exact = rules.filter((rule) => !rule.spec.host.includes('*'));
  if (exact.length > 0) return exact;
  const longest = Math.max(...rules.map((rule) => rule.spec.host.length));
  const winner = rules.find((rule) => rule.spec.host.length === longest)?.spec.host;
  return rules.filter((rule) => rule.spec.host === winner);
}

function merge(rules: readonly DestinationRuleResource[]): EffectiveDestinationRule {
  let trafficPolicy: TrafficPolicy | undefined;
  const subsets = new Map<string, Subset>();
  for (const rule of rules) {
    trafficPolicy ??= rule.spec.trafficPolicy;
    for (const subset of rule.spec.subsets ?? [])
      if (!subsets.has(subset.name)) subsets.set(subset.name, subset);
  }
  return {
    sources: rules.map(resourceKey),
    ...(trafficPolicy === undefined ? {} : { trafficPolicy }),
    subsets: [...subsets.values()],
  };
}
