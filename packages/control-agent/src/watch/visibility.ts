import { isExportedTo, type StoredResource } from '@weft/core';
import type { EgressScope } from './egress-scope.ts';

export interface ScopeOptions {
  /** Namespace whose policies apply mesh-wide (Istio's `istio-system`). */
  readonly rootNamespace: string;
  /** `exportTo` of resources that set none (Istio's default: `*`). */
  readonly defaultExportTo: readonly string[];
  /** Completes short hosts (`reviews` → `reviews.default.svc.<suffix>`) for Sidecar scoping. */
  readonly domainSuffix: string;
}

/** Kinds scoped by `spec.exportTo`, as Istio scopes them. */
const EXPORTED_KINDS: ReadonlySet<string> = new Set(['VirtualService', 'DestinationRule', 'ServiceEntry']);

/**
 * Kinds that only ever apply to workloads of their own namespace, or to every workload when they
 * sit in the root namespace: a client elsewhere has no use for them (and should not learn them).
 */
const NAMESPACE_POLICY_KINDS: ReadonlySet<string> = new Set([
  'Sidecar',
  'AuthorizationPolicy',
  'RequestAuthentication',
  'Telemetry',
]);

/**
 * Whether a client in `namespace` receives `resource`. PROTOCOL.md ("Scoping") is the rule in
 * words: exported kinds by `exportTo` and by what the namespace's Sidecar imports (`egress`, when
 * there is one). Everything else (PeerAuthentication — a caller needs its destination's mTLS
 * mode —, WorkloadEntry, Gateway, and registered workloads) goes to every client.
 */
export function isVisibleTo(
  resource: StoredResource,
  namespace: string,
  options: ScopeOptions,
  egress: EgressScope | undefined,
): boolean {
  const owner = resource.metadata.namespace;
  if (EXPORTED_KINDS.has(resource.kind)) {
    return (
      isExportedTo(exportToOf(resource.spec), owner, namespace, options.defaultExportTo) &&
      (egress === undefined || egress.imports(resource))
    );
  }
  if (NAMESPACE_POLICY_KINDS.has(resource.kind)) {
    return owner === namespace || owner === options.rootNamespace;
  }
  return true;
}

function exportToOf(spec: unknown): readonly string[] | undefined {
  if (spec === null || typeof spec !== 'object') return undefined;
  const value = (spec as { exportTo?: unknown }).exportTo;
  if (!Array.isArray(value)) return undefined;
  return value.filter((entry): entry is string => typeof entry === 'string');
}
