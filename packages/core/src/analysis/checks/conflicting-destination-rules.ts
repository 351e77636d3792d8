import { resourceKey } from '../../config/resource.ts';
import type { DestinationRuleResource } from '../../config/resources.ts';
import type { AnalysisCheck, Finding } from '../analysis-check.ts';

/**
 * Several DestinationRules for one host in one namespace are merged: the first top-level
 * trafficPolicy wins and the first definition of each subset wins (bad-inputs A11). Report what
 * the merge throws away.
 */
export const conflictingDestinationRules: AnalysisCheck = {
  code: 'conflicting-destination-rules',
  severity: 'warning',
  summary: 'Several DestinationRules for one host define the same subset or a top-level traffic policy.',
  *run({ snapshot }) {
    const groups = new Map<string, DestinationRuleResource[]>();
    for (const rule of snapshot.resources.DestinationRule) {
      if (rule.spec.workloadSelector !== undefined) continue;
      const key = `${rule.metadata.namespace}|${rule.spec.host}`;
      groups.set(key, [...(groups.get(key) ?? []), rule]);
    }
    for (const rules of groups.values()) yield* duplicatesIn(rules);
  },
};

function* duplicatesIn(rules: readonly DestinationRuleResource[]): Iterable<Finding> {
  let policyOwner: string | undefined;
  const subsetOwners = new Map<string, string>();
  for (const rule of rules) {
    if (rule.spec.trafficPolicy !== undefined) {
      if (policyOwner === undefined) policyOwner = resourceKey(rule);
      else {
        yield {
          resource: rule,
          path: 'spec.trafficPolicy',
          message: `ignored: ${policyOwner} comes first in resource order and already sets the top-level trafficPolicy for "${rule.spec.host}"; move the settings into it`,
        };
      }
    }
    for (const [index, subset] of (rule.spec.subsets ?? []).entries()) {
      const owner = subsetOwners.get(subset.name);
      if (owner === undefined) subsetOwners.set(subset.name, resourceKey(rule));
      else {
        yield {
          resource: rule,
          path: `spec.subsets[${index}]`,
          message: `ignored: ${owner} comes first in resource order and already defines subset "${subset.name}" for "${rule.spec.host}"; rename or remove one of them`,
        };
      }
    }
  }
}
