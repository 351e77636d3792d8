import type { AnalysisCheck, Finding } from '../analysis-check.ts';
import { isKnownHost, routeDestinations } from './route-destinations.ts';

export const destinationHostNotFound: AnalysisCheck = {
  code: 'destination-host-not-found',
  severity: 'warning',
  summary: 'A route sends traffic to a host that is neither a service nor a ServiceEntry host.',
  *run(context) {
    if (!context.hasRegistry) return;
    for (const virtualService of context.snapshot.resources.VirtualService) {
      for (const destination of routeDestinations(virtualService)) {
        if (isKnownHost(context, destination.host)) continue;
        yield {
          resource: virtualService,
          path: `${destination.path}.host`,
          message: `no service or ServiceEntry defines host "${destination.host}"; requests routed here fail with "no healthy upstream" — fix the host name, or add a ServiceEntry for an external host`,
        } satisfies Finding;
      }
    }
  },
};
