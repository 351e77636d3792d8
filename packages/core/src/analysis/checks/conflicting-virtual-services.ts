import { MESH_GATEWAY } from '../../config/compile/workload-view.ts';
import { resourceKey } from '../../config/resource.ts';
import type { AnalysisCheck } from '../analysis-check.ts';

/** Istio's IST0109: several VirtualServices for one host on the mesh gateway. */
export const conflictingVirtualServices: AnalysisCheck = {
  code: 'conflicting-virtual-services',
  severity: 'warning',
  summary:
    'Several VirtualServices claim the same host for sidecars; their routes are merged in resource order.',
  *run({ snapshot }) {
    const firstClaim = new Map<string, string>();
    for (const virtualService of snapshot.resources.VirtualService) {
      const gateways = virtualService.spec.gateways ?? [];
      if (gateways.length > 0 && !gateways.includes(MESH_GATEWAY)) continue;
      for (const [index, host] of virtualService.spec.hosts.entries()) {
        const owner = firstClaim.get(host);
        if (owner === undefined) {
          firstClaim.set(host, resourceKey(virtualService));
          continue;
        }
        yield {
          resource: virtualService,
          path: `spec.hosts[${index}]`,
          message: `${owner} also claims "${host}"; it comes first in resource order (creation time, then namespace and name), so Weft tries its routes before this resource's; Istio leaves this order undefined — keep one VirtualService per host`,
        };
      }
    }
  },
};
