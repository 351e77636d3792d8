import { MESH_GATEWAY } from '../../config/compile/workload-view.ts';
import type { AnalysisCheck } from '../analysis-check.ts';
import { isKnownHost } from './route-destinations.ts';

export const virtualServiceHostNotFound: AnalysisCheck = {
  code: 'virtual-service-host-not-found',
  severity: 'warning',
  summary: 'A VirtualService for sidecars claims a host that no service or ServiceEntry defines.',
  *run(context) {
    if (!context.hasRegistry) return;
    for (const virtualService of context.snapshot.resources.VirtualService) {
      const gateways = virtualService.spec.gateways ?? [];
      if (gateways.length > 0 && !gateways.includes(MESH_GATEWAY)) continue;
      for (const [index, host] of virtualService.spec.hosts.entries()) {
        if (host.includes('*') || isKnownHost(context, host)) continue;
        yield {
          resource: virtualService,
          path: `spec.hosts[${index}]`,
          message: `no service or ServiceEntry defines host "${host}", so no caller ever sends traffic through this route table; fix the host, or add a ServiceEntry`,
        };
      }
    }
  },
};
