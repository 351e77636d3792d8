import { labelsMatch } from '../../config/compile/visibility.ts';
import type { AnalysisCheck, Finding } from '../analysis-check.ts';

/** Istio's IST0127-like: a policy's workload selector matches no workload in its namespace. */
export const selectorMatchesNothing: AnalysisCheck = {
  code: 'selector-matches-nothing',
  severity: 'warning',
  summary: 'A policy or Sidecar selects workloads by labels, and none has them.',
  *run({ snapshot, hasRegistry }) {
    if (!hasRegistry) return;
    const endpoints = [...snapshot.services.values()].flatMap((service) => service.endpoints);
    const selectsSomething = (namespace: string, labels: Readonly<Record<string, string>> | undefined) =>
      endpoints.some((endpoint) => endpoint.namespace === namespace && labelsMatch(labels, endpoint.labels));
    const { resources } = snapshot;
    const selectors: {
      resource: Finding['resource'];
      path: string;
      labels: Readonly<Record<string, string>> | undefined;
    }[] = [
      ...[
        ...resources.AuthorizationPolicy,
        ...resources.RequestAuthentication,
        ...resources.PeerAuthentication,
        ...resources.Telemetry,
      ]
        .filter((resource) => resource.spec.selector !== undefined)
        .map((resource) => ({
          resource,
          path: 'spec.selector.matchLabels',
          labels: resource.spec.selector?.matchLabels,
        })),
      ...resources.Sidecar.filter((sidecar) => sidecar.spec.workloadSelector !== undefined).map(
        (resource) => ({
          resource,
          path: 'spec.workloadSelector.labels',
          labels: resource.spec.workloadSelector?.labels,
        }),
      ),
    ];
    for (const { resource, path, labels } of selectors) {
      if (selectsSomething(resource.metadata.namespace, labels)) continue;
      yield {
        resource,
        path,
        message: `selects no workload in namespace "${resource.metadata.namespace}", so it has no effect; check the labels against the workloads' labels`,
      };
    }
  },
};
