import { hostMatches } from '../../config/host.ts';
import type { VirtualServiceResource } from '../../config/resources.ts';
import type { AnalysisContext } from '../analysis-check.ts';

/** Every `destination` of a VirtualService's HTTP routes and mirrors, with its field path. */
export function* routeDestinations(virtualService: VirtualServiceResource): Iterable<{
  readonly path: string;
  readonly host: string;
  readonly subset?: string;
  readonly port?: number;
}> {
  const routes = virtualService.spec.http ?? [];
  for (const [i, route] of routes.entries()) {
    for (const [j, entry] of (route.route ?? []).entries()) {
      yield { path: `spec.http[${i}].route[${j}].destination`, ...flatten(entry.destination) };
    }
    if (route.mirror !== undefined) yield { path: `spec.http[${i}].mirror`, ...flatten(route.mirror) };
    for (const [j, mirror] of (route.mirrors ?? []).entries()) {
      yield { path: `spec.http[${i}].mirrors[${j}].destination`, ...flatten(mirror.destination) };
    }
  }
}

function flatten(destination: { host: string; subset?: string; port?: { number?: number } }) {
  return {
    host: destination.host,
    ...(destination.subset === undefined ? {} : { subset: destination.subset }),
    ...(destination.port?.number === undefined ? {} : { port: destination.port.number }),
  };
}

/** Whether the mesh knows `host` as a service or a ServiceEntry host (wildcards included). */
export function isKnownHost(context: AnalysisContext, host: string): boolean {
  const { services } = context.snapshot;
  if (services.has(host)) return true;
  for (const known of services.keys()) if (hostMatches(known, host)) return true;
  return false;
}
