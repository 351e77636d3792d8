import { hostMatches } from '../../config/host.ts';
import type { AnalysisCheck } from '../analysis-check.ts';
import { routeDestinations } from './route-destinations.ts';

export const subsetNotDefined: AnalysisCheck = {
  code: 'subset-not-defined',
  severity: 'error',
  summary: 'A route names a subset that no DestinationRule for its host defines.',
  *run({ snapshot }) {
    const rules = snapshot.resources.DestinationRule;
    for (const virtualService of snapshot.resources.VirtualService) {
      for (const destination of routeDestinations(virtualService)) {
        const { subset, host } = destination;
        if (subset === undefined) continue;
        const defined = rules.some(
          (rule) =>
            hostMatches(rule.spec.host, host) &&
            (rule.spec.subsets ?? []).some((candidate) => candidate.name === subset),
        );
        if (defined) continue;
        yield {
          resource: virtualService,
          path: `${destination.path}.subset`,
          message: `no DestinationRule for "${host}" defines subset "${subset}"; requests routed here fail with "no healthy upstream" — add the subset to the host's DestinationRule (and apply it before the VirtualService that uses it)`,
        };
      }
    }
  },
};
