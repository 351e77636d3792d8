import { hostMatches, splitNamespacedHost } from '../host.ts';
import type { SidecarResource } from '../resources.ts';
import type { MeshOptions } from './mesh-options.ts';
import type { SourceWorkload } from './source-workload.ts';
import { labelsMatch } from './visibility.ts';

/**
 * What a Sidecar resource lets one workload see: egress `namespace/host` entries and the
 * outbound traffic policy (`.` is the workload's own namespace, even in the root namespace's
 * Sidecar). Chosen as Istio does: a Sidecar in the workload's namespace whose
 * selector matches it, else the namespace's selector-less Sidecar, else the root namespace's.
 */
export interface SidecarScope {
  readonly sidecar?: string;
  readonly outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  /** Whether config or a service in `namespace` for `host` is visible; true without a Sidecar. */
  readonly isVisible: (namespace: string, host: string) => boolean;
}

export function selectSidecarScope(
  sidecars: readonly SidecarResource[],
  source: SourceWorkload,
  options: MeshOptions,
): SidecarScope {
  const inNamespace = sidecars.filter((sidecar) => sidecar.metadata.namespace === source.namespace);
  const chosen =
    inNamespace.find(
      (sidecar) =>
        sidecar.spec.workloadSelector !== undefined &&
        labelsMatch(sidecar.spec.workloadSelector.labels, source.labels),
    ) ??
    inNamespace.find((sidecar) => sidecar.spec.workloadSelector === undefined) ??
    sidecars.find(
      (sidecar) =>
        sidecar.metadata.namespace === options.rootNamespace && sidecar.spec.workloadSelector === undefined,
    );
  if (chosen === undefined) {
    return { outboundTrafficPolicy: options.outboundTrafficPolicy, isVisible: () => true };
  }
  const egress = chosen.spec.egress ?? [];
  // A Sidecar without egress listeners inherits the default egress (everything visible), as
  // Istio does; it may still set the outbound traffic policy.
  const entries =
    egress.length === 0
      ? [{ namespace: '*', host: '*' }]
      : egress.flatMap((listener) => listener.hosts.map(splitNamespacedHost));
  const sidecarNamespace = chosen.metadata.namespace;
  return {
    sidecar: `Sidecar/${sidecarNamespace}/${chosen.metadata.name}`,
    outboundTrafficPolicy: chosen.spec.outboundTrafficPolicy?.mode ?? options.outboundTrafficPolicy,
    isVisible: (namespace, host) =>
      entries.some((entry) => {
        if (entry.namespace === '~') return false;
        const namespaceMatches =
          entry.namespace === '*' ||
          (entry.namespace === '.' ? namespace === source.namespace : entry.namespace === namespace);
        return namespaceMatches && hostMatches(entry.host, host);
      }),
  };
}
