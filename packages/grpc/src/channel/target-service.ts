import type { WorkloadView } from '@weft/core';

/** A target resolved against one snapshot: the service's FQDN and the port addressed. */
export interface TargetService {
  readonly host: string;
  readonly port: number;
}

/**
 * Resolves a target's host and port in a workload's view: `reviews`, `reviews.default` and the
 * FQDN name the same service. A target without a port uses the service's port when it has
 * exactly one. Undefined when the mesh does not know the host (or the port is ambiguous).
 */
export function resolveTargetService(
  view: WorkloadView,
  hostName: string,
  port: number | undefined,
): TargetService | undefined {
  const host = view.resolveHost(hostName);
  if (host === undefined) return undefined;
  if (port !== undefined) return { host, port };
  const ports = view.services.get(host)?.ports ?? [];
  const only = ports.length === 1 ? ports[0] : undefined;
  return only === undefined ? undefined : { host, port: only.number };
}
