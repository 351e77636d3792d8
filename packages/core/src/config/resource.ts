import type { SourceLocation } from '../errors/config-validation-error.ts';

/** Kubernetes-style object metadata, as much of it as Weft uses. */
export interface ResourceMetadata {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** RFC 3339; orders resources that claim the same host (oldest first), as Istio does. */
  readonly creationTimestamp?: string;
  readonly resourceVersion?: string;
  readonly generation?: number;
  readonly uid?: string;
}

/** One parsed, validated, normalized and deeply frozen Istio resource. */
export interface Resource<Kind extends string = string, Spec = unknown> {
  readonly apiVersion: string;
  readonly kind: Kind;
  readonly metadata: ResourceMetadata;
  readonly spec: Spec;
  /** Where the resource was read from, for messages that point back at it. */
  readonly source: SourceLocation;
}

/** `Kind/namespace/name`, the way every message names a resource. */
export function resourceKey(resource: {
  readonly kind: string;
  readonly metadata: ResourceMetadata;
}): string {
  return `${resource.kind}/${resource.metadata.namespace}/${resource.metadata.name}`;
}
