import { isExportedTo, type StoredResource } from '@weft/core';

export interface ScopeOptions {
  /** Namespace whose policies apply mesh-wide (Istio's `istio-system`). */
  readonly rootNamespace: string;
  /** `exportTo` of resources that set none (Istio's default: `*`). */
  readonly defaultExportTo: readonly string[];
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
 * words. Everything else (PeerAuthentication — a caller needs its destination's mTLS mode —,
 * WorkloadEntry, Gateway, and registered workloads) goes to every client.
 */
export function isVisibleTo(resource: StoredResource, namespace: string, options: ScopeOptions): boolean {
  const owner = resource.metadata.namespace;
  if (EXPORTED_KINDS.has(resource.kind)) {
    return isExportedTo(exportToOf(resource.spec), owner, namespace, options.defaultExportTo);
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
