import { clusterName, type HttpRouteSpec, type WorkloadView } from '@weft/core';
import type { Dispatcher } from 'undici';
import type { OutboundContext } from './meshed-request.ts';
import type { ReplayableBody } from './replayable-body.ts';
import type { HeaderRecord } from './request-headers.ts';

/**
 * Istio's mirroring: a copy of the request goes to each mirror destination, fire-and-forget,
 * with `-shadow` appended to its Host; its response is discarded and it can neither slow nor fail
 * the caller's request. Only requests whose body can be sent twice without waiting are mirrored
 * (no body, or bytes); a streamed body is not copied.
 */
export interface MirroredRequest {
  readonly options: Dispatcher.DispatchOptions;
  /** The authority the request carries (after any rewrite); the copy's gets `-shadow`. */
  readonly authority: string;
  /** The request's headers after the route's operations (the copy gets a `-shadow` Host). */
  readonly headers: HeaderRecord;
  readonly body: ReplayableBody;
  /** The path after the route's rewrite. */
  readonly path: string;
}

export function mirrorRequest(
  context: OutboundContext,
  view: WorkloadView,
  spec: HttpRouteSpec,
  { options, authority, headers, body, path }: MirroredRequest,
): void {
  // Most routes mirror nothing: leave before building anything.
  if ((spec.mirror === undefined && spec.mirrors === undefined) || body.isStream) return;
  const mirrors = [
    ...(spec.mirror === undefined
      ? []
      : [{ destination: spec.mirror, percent: spec.mirrorPercentage?.value ?? 100 }]),
    ...(spec.mirrors ?? []).map((mirror) => ({
      destination: mirror.destination,
      percent: mirror.percentage?.value ?? 100,
    })),
  ];
  const { mesh } = context;
  for (const { destination, percent } of mirrors) {
    if (mesh.random.next() * 100 >= percent) continue;
    const service = view.services.get(destination.host);
    const port =
      destination.port?.number ?? (service?.ports.length === 1 ? service.ports[0]?.number : undefined);
    if (port === undefined) continue;
    const target = {
      clusterName: clusterName(destination.host, port, destination.subset),
      host: destination.host,
      port,
      ...(destination.subset === undefined ? {} : { subset: destination.subset }),
      weight: 1,
    };
    const cluster = view.cluster(target);
    if (cluster === undefined) continue;
    const runtime = mesh.clusters.forCluster(cluster);
    const picked = runtime.balancer.picker().pick();
    if (picked === undefined) continue;
    const shadowHost = shadowAuthority(authority);
    // The copy is secured as a request to that destination would be (mTLS, origination); one that
    // may not be sent (mTLS without a certificate) is not sent at all.
    const scheme = options.origin?.toString().startsWith('https:') === true ? 'https' : 'http';
    const transport = context.transport.forAttempt(runtime, picked.endpoint, scheme, shadowHost);
    if (transport.kind === 'refused') continue;
    const shadowHeaders: HeaderRecord = { ...headers, host: shadowHost };
    const copy = { ...options, origin: transport.origin, path, headers: shadowHeaders, body: body.next() };
    if (transport.kind === 'plaintext') context.dispatch(copy, DISCARD);
    else
      transport.pool.dispatch(
        { ...copy, servername: transport.servername } as Dispatcher.DispatchOptions,
        DISCARD,
      );
  }
}

/** `reviews:9080` → `reviews-shadow:9080`, as Envoy names the mirrored authority. */
function shadowAuthority(authority: string): string {
  const colon = authority.lastIndexOf(':');
  return colon === -1 || authority.endsWith(']')
    ? `${authority}-shadow`
    : `${authority.slice(0, colon)}-shadow${authority.slice(colon)}`;
}

/** Reads and drops a mirrored response; errors are the mirror's, never the caller's. */
const DISCARD: Dispatcher.DispatchHandler = {
  onRequestStart() {},
  onResponseStart() {},
  onResponseData() {},
  onResponseError() {},
  onResponseEnd() {},
};

/** An IPv6 address in an origin needs brackets. */
export function formatAddress(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}
