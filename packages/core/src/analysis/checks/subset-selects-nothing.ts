import { labelsMatch } from '../../config/compile/visibility.ts';
import { hostMatches } from '../../config/host.ts';
import type { AnalysisCheck } from '../analysis-check.ts';

export const subsetSelectsNothing: AnalysisCheck = {
  code: 'subset-selects-nothing',
  severity: 'warning',
  summary: "A DestinationRule subset's labels match none of its service's workloads.",
  *run({ snapshot, hasRegistry }) {
    if (!hasRegistry) return;
    for (const rule of snapshot.resources.DestinationRule) {
      const services = [...snapshot.services.values()].filter((service) =>
        hostMatches(rule.spec.host, service.host),
      );
      if (services.length === 0) continue;
      for (const [index, subset] of (rule.spec.subsets ?? []).entries()) {
        const selected = services.some((service) =>
          service.endpoints.some((endpoint) => labelsMatch(subset.labels, endpoint.labels)),
        );
        if (selected) continue;
        const wanted = Object.entries(subset.labels ?? {})
          .map(([key, value]) => `${key}=${value}`)
          .join(',');
        yield {
          resource: rule,
          path: `spec.subsets[${index}].labels`,
          message: `subset "${subset.name}" selects no workload of "${rule.spec.host}" (labels ${wanted || '{}'}); check the labels against the workloads' labels`,
        };
      }
    }
  },
};
