import { MESH_GATEWAY } from '../../config/compile/workload-view.ts';
import type { AnalysisCheck } from '../analysis-check.ts';
import { routeDestinations } from './route-destinations.ts';

export const destinationPortNotFound: AnalysisCheck = {
  code: 'destination-port-not-found',
  severity: 'error',
  summary:
    "A route's destination port is not a port of the destination service, or is missing where the service has several.",
  *run({ snapshot }) {
    for (const virtualService of snapshot.resources.VirtualService) {
      for (const destination of routeDestinations(virtualService)) {
        const service = snapshot.services.get(destination.host);
        if (service === undefined || service.ports.length === 0) continue;
        if (destination.port === undefined) {
          // Sidecars default to the port the caller addressed; a gateway has no such port to
          // reuse, so a multi-port destination there needs one (Istio's IST0112).
          const gateways = virtualService.spec.gateways ?? [];
          const gatewayOnly = gateways.length > 0 && !gateways.includes(MESH_GATEWAY);
          if (!gatewayOnly || service.ports.length < 2) continue;
          yield {
            resource: virtualService,
            path: `${destination.path}.port`,
            message: `"${destination.host}" has several ports (${service.ports.map((port) => port.number).join(', ')}) and a gateway route must say which one; set port.number`,
          };
          continue;
        }
        if (service.ports.some((port) => port.number === destination.port)) continue;
        yield {
          resource: virtualService,
          path: `${destination.path}.port.number`,
          message: `"${destination.host}" has no port ${destination.port} (it has ${service.ports.map((port) => port.number).join(', ')}); use one of those`,
        };
      }
    }
  },
};
