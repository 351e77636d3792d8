import { MESH_GATEWAY } from '../../config/compile/workload-view.ts';
import { resourceKey } from '../../config/resource.ts';
import type { VirtualServiceResource } from '../../config/resources.ts';
import type { AnalysisCheck } from '../analysis-check.ts';

type HttpRoute = NonNullable<VirtualServiceResource['spec']['http']>[number];
type MatchBlock = NonNullable<HttpRoute['match']>[number];

/**
 * A route after one that matches every request is never reached. Within one VirtualService this
 * is a plain mistake; across VirtualServices merged for one host (sidecars merge them in resource
 * order), a later resource's routes are dead behind an earlier one's catch-all (bad-inputs A10:
 * keep only one).
 */
export const routeShadowed: AnalysisCheck = {
  code: 'route-shadowed',
  severity: 'warning',
  summary:
    'A route can never match because an earlier route, or a VirtualService merged before it, matches everything.',
  *run({ snapshot }) {
    const catchAllByHost = new Map<string, string>();
    for (const virtualService of snapshot.resources.VirtualService) {
      const gateways = virtualService.spec.gateways ?? [];
      // Only sidecar VirtualServices are merged per host; a gateway's routes shadow nothing here.
      if (gateways.length > 0 && !gateways.includes(MESH_GATEWAY)) continue;
      const routes = virtualService.spec.http ?? [];
      const hosts = virtualService.spec.hosts;
      const earlier = hosts.map((host) => catchAllByHost.get(host)).find((owner) => owner !== undefined);
      if (earlier !== undefined && routes.length > 0) {
        yield {
          resource: virtualService,
          path: 'spec.http',
          message: `every route here is shadowed: ${earlier} comes first in resource order, claims the same host and has a route that matches every request; merge the routes into one VirtualService, or give that route a match`,
        };
        continue;
      }
      const catchAll = routes.findIndex((route) => isCatchAll(route.match));
      if (catchAll === -1) continue;
      const shadowing = routeLabel(routes, catchAll);
      for (let index = catchAll + 1; index < routes.length; index++) {
        yield {
          resource: virtualService,
          path: `spec.http[${index}]`,
          message: `never matches: ${shadowing} before it matches every request; move this route above it, or give ${shadowing} a match`,
        };
      }
      for (const host of hosts)
        if (!catchAllByHost.has(host)) catchAllByHost.set(host, resourceKey(virtualService));
    }
  },
};

function routeLabel(routes: readonly HttpRoute[], index: number): string {
  const name = routes[index]?.name;
  return name === undefined ? `route ${index}` : `route ${index} ("${name}")`;
}

/** No match blocks, or a block with no condition at all, matches every request. */
function isCatchAll(matches: readonly MatchBlock[] | undefined): boolean {
  if (matches === undefined || matches.length === 0) return true;
  return matches.some((block) => !hasCondition(block));
}

/**
 * `name` and `statPrefix` only label telemetry, and `ignoreUriCase` only qualifies `uri`; an
 * empty map constrains nothing. Everything else in a match block is a condition.
 */
const NOT_CONDITIONS: ReadonlySet<string> = new Set(['name', 'statPrefix', 'ignoreUriCase']);

function hasCondition(block: MatchBlock): boolean {
  for (const [key, value] of Object.entries(block)) {
    if (NOT_CONDITIONS.has(key) || value === undefined) continue;
    if (
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      Object.keys(value).length === 0
    ) {
      continue;
    }
    if (Array.isArray(value) && value.length === 0) continue;
    return true;
  }
  return false;
}
