import { MESH_GATEWAY } from '../../config/compile/workload-view.ts';
import type { AnalysisCheck } from '../analysis-check.ts';

/** `gateways:` entries are `name` (the VirtualService's namespace) or `namespace/name`. */
export const gatewayNotFound: AnalysisCheck = {
  code: 'gateway-not-found',
  severity: 'error',
  summary: 'A VirtualService binds to a Gateway that does not exist.',
  *run({ snapshot }) {
    const known = new Set(
      snapshot.resources.Gateway.map((gateway) => `${gateway.metadata.namespace}/${gateway.metadata.name}`),
    );
    for (const virtualService of snapshot.resources.VirtualService) {
      const references = [
        ...(virtualService.spec.gateways ?? []).map((name, index) => ({
          name,
          path: `spec.gateways[${index}]`,
        })),
        ...(virtualService.spec.http ?? []).flatMap((route, i) =>
          (route.match ?? []).flatMap((block, j) =>
            (block.gateways ?? []).map((name, k) => ({
              name,
              path: `spec.http[${i}].match[${j}].gateways[${k}]`,
            })),
          ),
        ),
      ];
      for (const { name, path } of references) {
        if (name === MESH_GATEWAY) continue;
        const qualified = name.includes('/') ? name : `${virtualService.metadata.namespace}/${name}`;
        if (known.has(qualified)) continue;
        yield {
          resource: virtualService,
          path,
          message: `no Gateway "${qualified}" exists, so these routes serve no traffic; create the Gateway, or fix the name (write "namespace/name" for a Gateway in another namespace)`,
        };
      }
    }
  },
};
