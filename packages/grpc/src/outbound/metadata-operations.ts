import type { Metadata } from '@grpc/grpc-js';
import type { HttpRouteSpec } from '@weft/core';

/** A VirtualService `headers.request` or `headers.response` block. */
type HeaderOperations = NonNullable<NonNullable<HttpRouteSpec['headers']>['request']>;

/**
 * Applies Istio's header operations to gRPC metadata, in Envoy's order: `set` replaces, `add`
 * appends, `remove` deletes. Pseudo-headers, `host` and binary entries are left alone: grpc-js
 * owns the first two (a route changes the authority with `rewrite.authority` or a `set` of
 * `:authority`, which the call applies), and the last hold bytes Istio's strings cannot describe.
 */
export function applyMetadataOperations(metadata: Metadata, operations: HeaderOperations | undefined): void {
  if (operations === undefined) return;
  for (const [name, value] of Object.entries(operations.set ?? {})) {
    if (isEditable(name)) metadata.set(name.toLowerCase(), value);
  }
  for (const [name, value] of Object.entries(operations.add ?? {})) {
    if (isEditable(name)) metadata.add(name.toLowerCase(), value);
  }
  for (const name of operations.remove ?? []) {
    if (isEditable(name)) metadata.remove(name.toLowerCase());
  }
}

function isEditable(name: string): boolean {
  const lower = name.toLowerCase();
  return !lower.startsWith(':') && lower !== 'host' && !lower.endsWith('-bin');
}
