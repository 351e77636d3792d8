import type { AnalysisCheck } from '../analysis-check.ts';

/** bad-inputs A17: a VirtualService claims a host another namespace owns. */
export const crossNamespaceHostClaim: AnalysisCheck = {
  code: 'cross-namespace-host-claim',
  severity: 'warning',
  summary:
    "A VirtualService claims a host owned by another namespace; it applies only to its own namespace's callers.",
  *run({ snapshot }) {
    if (snapshot.options.crossNamespaceHostClaims === 'mesh-wide') return;
    for (const virtualService of snapshot.resources.VirtualService) {
      for (const [index, host] of virtualService.spec.hosts.entries()) {
        const owner = snapshot.services.get(host)?.namespace;
        if (owner === undefined || owner === virtualService.metadata.namespace) continue;
        yield {
          resource: virtualService,
          path: `spec.hosts[${index}]`,
          message: `"${host}" belongs to namespace "${owner}", so these routes apply only to callers in "${virtualService.metadata.namespace}"; to route every caller, put the VirtualService in "${owner}"`,
        };
      }
    }
  },
};
