import { labelsMatch } from '../../config/compile/visibility.ts';
import { hostMatches } from '../../config/host.ts';
import type { AnalysisCheck } from '../analysis-check.ts';

/**
 * Istio's IST0113-like conflict: a DestinationRule tells callers to send plaintext (or their own
 * TLS) to workloads whose PeerAuthentication requires mTLS, so every such request is refused.
 */
export const mtlsConflict: AnalysisCheck = {
  code: 'mtls-conflict',
  severity: 'error',
  summary: 'A DestinationRule disables mesh mTLS for workloads whose PeerAuthentication is STRICT.',
  *run({ snapshot }) {
    for (const rule of snapshot.resources.DestinationRule) {
      const policies = [
        { path: 'spec.trafficPolicy.tls.mode', mode: rule.spec.trafficPolicy?.tls?.mode, labels: undefined },
        ...(rule.spec.subsets ?? []).map((subset, index) => ({
          path: `spec.subsets[${index}].trafficPolicy.tls.mode`,
          mode: subset.trafficPolicy?.tls?.mode,
          labels: subset.labels,
        })),
      ];
      for (const { path, mode, labels } of policies) {
        if (mode === undefined || mode === 'ISTIO_MUTUAL') continue;
        const strict = [...snapshot.services.values()]
          .filter((service) => service.origin === 'registry' && hostMatches(rule.spec.host, service.host))
          .flatMap((service) => service.endpoints.map((endpoint) => ({ service, endpoint })))
          .find(({ service, endpoint }) => {
            if (!labelsMatch(labels, endpoint.labels)) return false;
            const inbound = snapshot.inboundFor({ namespace: endpoint.namespace, labels: endpoint.labels });
            const port = service.ports[0]?.number ?? 0;
            return (
              inbound.peerAuthentication.modeForPort(endpoint.targetPorts.get(port) ?? port) === 'STRICT'
            );
          });
        if (strict === undefined) continue;
        const policies = snapshot
          .inboundFor({ namespace: strict.endpoint.namespace, labels: strict.endpoint.labels })
          .peerAuthentication.sources.join(', ');
        yield {
          resource: rule,
          path,
          message: `tls mode ${mode} sends traffic to "${strict.service.host}" without mesh mTLS, but its workloads require STRICT mTLS (${strict.endpoint.origin}, by ${policies}); use ISTIO_MUTUAL, remove the tls setting, or relax that PeerAuthentication`,
        };
      }
    }
  },
};
