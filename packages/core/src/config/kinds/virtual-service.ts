import { z } from 'zod';
import { hostMatches, hostsOverlap, type NameContext, toFqdn } from '../host.ts';
import type { KindDefinition } from '../kind-definition.ts';
import { cappedArray, exportTo } from '../schema-primitives.ts';
import { addProblem, type RefinementContext } from './custom-issue.ts';
import { isIpAddress, wildcardHostOrIp } from './network-address.ts';
import type { Destination } from './virtual-service-destination.ts';
import { httpRouteSchema } from './virtual-service-http-route.ts';
import { tcpRouteSchema, tlsRouteSchema } from './virtual-service-l4-route.ts';
import { gatewayName, isJwtClaimHeader } from './virtual-service-match.ts';

/**
 * VirtualService (networking.istio.io): ordered HTTP, TLS and TCP routing rules for a set of hosts.
 *
 * Normalized output: every google.protobuf.Duration field holds a number of MILLISECONDS under
 * Istio's own field name (`timeout: 1.5s` → `timeout: 1500`); StringMatch fields are tagged unions;
 * wrapper types (UInt32Value, BoolValue) are plain values; deprecated spellings are mapped onto their
 * replacement, so consumers only ever read the replacement.
 *
 * Defaults: only proto3 zero values whose meaning a consumer would otherwise have to re-derive are
 * filled in: `retries.attempts` (0 when `retries` is present: Istio then disables retries),
 * `fault.delay/abort.percentage` (0: "if left unspecified, no request will be delayed") and
 * `redirect.redirectCode` (301). Defaults that MeshConfig can change (the mesh retry policy,
 * `gateways` meaning `mesh`, 100% mirroring) stay with the consumer.
 *
 * The parts of a route live in the virtual-service-*.ts files beside this one.
 */

const virtualServiceFields = z.strictObject({
  hosts: cappedArray(wildcardHostOrIp).optional(),
  gateways: cappedArray(gatewayName).optional(),
  http: cappedArray(httpRouteSchema).optional(),
  tls: cappedArray(tlsRouteSchema).optional(),
  tcp: cappedArray(tcpRouteSchema).optional(),
  exportTo,
});
type VirtualServiceFields = z.output<typeof virtualServiceFields>;

/**
 * Istio accepts a VirtualService without hosts as a delegate (the target of `http[].delegate`).
 * Weft does not implement delegation, so such a resource could never apply: it is refused.
 */
function checkHosts(spec: VirtualServiceFields, isGatewayOnly: boolean, context: RefinementContext): void {
  const hosts = spec.hosts ?? [];
  if (hosts.length === 0) {
    addProblem(
      context,
      'hosts must list at least one host (delegate VirtualServices without hosts are not supported)',
      ['hosts'],
    );
  }
  for (const [index, host] of hosts.entries()) {
    if (host === '*' && !isGatewayOnly) {
      addProblem(context, '"*" is allowed only when the VirtualService is bound to gateways (not "mesh")', [
        'hosts',
        index,
      ]);
    }
    const earlier = hosts.slice(0, index).find((other) => hostsOverlap(other, host));
    if (earlier !== undefined) {
      addProblem(context, `hosts "${earlier}" and "${host}" overlap; list each host once`, ['hosts', index]);
    }
  }
}

/** Istio routes on JWT claims (`@request.auth.claims.*` headers) only at gateways. */
function checkJwtClaimRouting(spec: VirtualServiceFields, context: RefinementContext): void {
  for (const [routeIndex, route] of (spec.http ?? []).entries()) {
    for (const [matchIndex, match] of (route.match ?? []).entries()) {
      for (const field of ['headers', 'withoutHeaders'] as const) {
        for (const name of Object.keys(match[field] ?? {}).filter(isJwtClaimHeader)) {
          addProblem(
            context,
            `routing on JWT claim "${name}" works only in a VirtualService bound to gateways`,
            ['http', routeIndex, 'match', matchIndex, field, name],
          );
        }
      }
    }
  }
}

/** Istio: every SNI host must fall within one of the VirtualService's hosts. */
function checkSniHosts(spec: VirtualServiceFields, context: RefinementContext): void {
  const hosts = spec.hosts ?? [];
  for (const [routeIndex, route] of (spec.tls ?? []).entries()) {
    for (const [matchIndex, match] of route.match.entries()) {
      for (const [index, sni] of match.sniHosts.entries()) {
        if (isIpAddress(sni) || hosts.some((host) => hostMatches(host, sni))) continue;
        addProblem(context, `SNI host "${sni}" is not within the VirtualService hosts; add it to hosts`, [
          'tls',
          routeIndex,
          'match',
          matchIndex,
          'sniHosts',
          index,
        ]);
      }
    }
  }
}

export const virtualServiceSpecSchema = virtualServiceFields
  .superRefine((spec, context) => {
    const gateways = spec.gateways ?? [];
    const isGatewayOnly = gateways.length > 0 && !gateways.includes('mesh');
    checkHosts(spec, isGatewayOnly, context);
    if (!isGatewayOnly) checkJwtClaimRouting(spec, context);
    checkSniHosts(spec, context);
    if ((spec.http ?? []).length + (spec.tls ?? []).length + (spec.tcp ?? []).length === 0) {
      addProblem(context, 'a VirtualService needs at least one http, tls or tcp route', ['http']);
    }
  })
  .transform((spec) => ({ ...spec, hosts: spec.hosts ?? [] }));

export type VirtualServiceSpec = z.output<typeof virtualServiceSpecSchema>;

function resolveDestination<T extends { readonly destination: Destination }>(
  item: T,
  context: NameContext,
): T {
  return { ...item, destination: { ...item.destination, host: toFqdn(item.destination.host, context) } };
}

/** Short hosts become FQDNs relative to the VirtualService's namespace, as Istio reads them. */
export function resolveVirtualServiceNames(
  spec: VirtualServiceSpec,
  context: NameContext,
): VirtualServiceSpec {
  const resolved: VirtualServiceSpec = { ...spec, hosts: spec.hosts.map((host) => toFqdn(host, context)) };
  if (spec.http) {
    resolved.http = spec.http.map((route) => {
      const next = { ...route };
      if (route.route) next.route = route.route.map((item) => resolveDestination(item, context));
      if (route.mirror) next.mirror = { ...route.mirror, host: toFqdn(route.mirror.host, context) };
      if (route.mirrors) next.mirrors = route.mirrors.map((item) => resolveDestination(item, context));
      return next;
    });
  }
  if (spec.tls) {
    resolved.tls = spec.tls.map((route) => ({
      ...route,
      route: route.route.map((item) => resolveDestination(item, context)),
    }));
  }
  if (spec.tcp) {
    resolved.tcp = spec.tcp.map((route) => ({
      ...route,
      route: route.route.map((item) => resolveDestination(item, context)),
    }));
  }
  return resolved;
}

export const virtualServiceKind: KindDefinition<VirtualServiceSpec> = {
  kind: 'VirtualService',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  isSecurity: false,
  specSchema: virtualServiceSpecSchema,
  unsupportedFields: [
    { path: 'tcp', reason: 'opaque TCP routing is L4; Weft routes HTTP and gRPC requests in-process' },
    {
      path: 'tls',
      reason: 'SNI routing of unterminated TLS is L4; Weft routes HTTP and gRPC requests in-process',
    },
    { path: 'http[].delegate', reason: 'route delegation across VirtualServices is not implemented yet' },
    { path: 'http[].corsPolicy', reason: 'CORS is left to the application framework for now' },
    { path: 'http[].match[].statPrefix', reason: 'an Envoy stats prefix; Weft labels metrics by route name' },
  ],
  deprecatedFields: [
    {
      path: 'http[].mirrorPercent',
      replacement: 'http[].mirrorPercentage',
      reason: 'integer percentage deprecated by Istio; mapped to mirrorPercentage.value',
    },
    {
      path: 'http[].mirror_percent',
      replacement: 'http[].mirrorPercentage',
      reason: 'snake_case spelling of the deprecated mirrorPercent; mapped to mirrorPercentage.value',
    },
    {
      path: 'http[].fault.delay.percent',
      replacement: 'http[].fault.delay.percentage',
      reason: 'integer percentage deprecated by Istio; mapped to percentage.value',
    },
    {
      path: 'http[].corsPolicy.allowOrigin',
      replacement: 'http[].corsPolicy.allowOrigins',
      reason: 'exact-string origins deprecated by Istio; mapped to exact matches',
    },
  ],
  resolveNames: resolveVirtualServiceNames,
};
