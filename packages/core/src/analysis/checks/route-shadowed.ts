import type { AnalysisCheck } from '../analysis-check.ts';

/**
 * A route after one that matches every request is never reached. Within one VirtualService this
 * is a plain mistake; across VirtualServices merged for one host, the later resource's routes are
 * dead because an older resource ends with a catch-all (bad-inputs A10: keep only one).
 */
export const routeShadowed: AnalysisCheck = {
  code: 'route-shadowed',
  severity: 'warning',
  summary:
    'A route can never match because an earlier route (or an older VirtualService) matches everything.',
  *run({ snapshot }) {
    const catchAllByHost = new Map<string, string>();
    for (const virtualService of snapshot.resources.VirtualService) {
      const routes = virtualService.spec.http ?? [];
      const hosts = virtualService.spec.hosts;
      const earlier = hosts.map((host) => catchAllByHost.get(host)).find((owner) => owner !== undefined);
      if (earlier !== undefined && routes.length > 0) {
        yield {
          resource: virtualService,
          path: 'spec.http',
          message: `every route here is shadowed: ${earlier} is older, claims the same host and ends with a catch-all route; merge the routes into one VirtualService, or remove the catch-all from the older one`,
        };
        continue;
      }
      const catchAll = routes.findIndex((route) => isCatchAll(route.match));
      if (catchAll === -1) continue;
      for (let index = catchAll + 1; index < routes.length; index++) {
        yield {
          resource: virtualService,
          path: `spec.http[${index}]`,
          message: `never matches: route ${catchAll} before it matches every request; move this route above it, or give route ${catchAll} a match`,
        };
      }
      for (const host of hosts)
        if (!catchAllByHost.has(host))
          catchAllByHost.set(
            host,
            `VirtualService/${virtualService.metadata.namespace}/${virtualService.metadata.name}`,
          );
    }
  },
};

type Matches = NonNullable<
  NonNullable<import('../../config/resources.ts').VirtualServiceResource['spec']['http']>[number]['match']
>;

/** No match blocks, or a block with no condition at all (`- {}`), matches everything. */
function isCatchAll(matches: Matches | undefined): boolean {
  if (matches === undefined || matches.length === 0) return true;
  return matches.some((block) =>
    Object.values(block).every((value) => value === undefined || value === false),
  );
}
