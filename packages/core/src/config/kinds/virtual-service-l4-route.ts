import { z } from 'zod';
import { cappedArray } from '../schema-primitives.ts';
import { addProblem, type RefinementContext } from './custom-issue.ts';
import { wildcardHostOrIp } from './network-address.ts';
import { checkTotalWeight, routeDestinationSchema } from './virtual-service-destination.ts';
import { l4MatchFields } from './virtual-service-match.ts';

/** VirtualService `tls[]` (SNI) and `tcp[]` routes: L4 matches and weighted destinations. */

/** An L4 route can only forward: it needs destinations, and not all of them with weight 0. */
function checkForwarding(protocol: 'TLS' | 'TCP') {
  return (
    route: { readonly route?: readonly { readonly weight?: number }[] },
    context: RefinementContext,
  ): void => {
    if (route.route === undefined || route.route.length === 0)
      addProblem(context, `a ${protocol} route needs a route`, ['route']);
    checkTotalWeight(route.route, context);
  };
}

export const tlsRouteSchema = z
  .strictObject({
    match: cappedArray(
      z.strictObject({
        sniHosts: cappedArray(wildcardHostOrIp).min(1, 'a TLS match needs at least one sniHosts entry'),
        ...l4MatchFields,
      }),
    ).min(1, 'a TLS route needs at least one match'),
    route: cappedArray(routeDestinationSchema).optional(),
  })
  .superRefine(checkForwarding('TLS'))
  .transform((route) => ({ ...route, route: route.route ?? [] }));

export const tcpRouteSchema = z
  .strictObject({
    match: cappedArray(z.strictObject({ ...l4MatchFields, sourceSubnet: z.string().optional() })).optional(),
    route: cappedArray(routeDestinationSchema).optional(),
  })
  .superRefine(checkForwarding('TCP'))
  .transform((route) => ({ ...route, route: route.route ?? [] }));
