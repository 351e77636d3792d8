import {
  type Cluster,
  type ClusterEndpoint,
  type IstioMutualPlan,
  type MeshSnapshot,
  upstreamTlsPlan,
} from '@weft/core';

/**
 * How a connection to one endpoint of one cluster is made, as a gRPC channel needs it: a small
 * tagged union built from @weft/core's UpstreamTlsPlan, with a `key` that names it. Connections
 * (grpc-js subchannels) are kept per endpoint *and* key, so a DestinationRule `tls` change, a
 * subset with its own TLS settings, or the workload's first certificate gives new calls new
 * connections, never a plaintext one where mTLS is due.
 *
 * - `plaintext`: the application's channel credentials (insecure by default);
 * - `mtls`: ISTIO_MUTUAL with the workload's SVID, accepting only the destination's identities;
 * - `refused`: settings this adapter cannot honour; every connection attempt fails with `message`.
 */
export type EndpointTransport =
  | { readonly kind: 'plaintext'; readonly key: string }
  | {
      readonly kind: 'mtls';
      readonly key: string;
      readonly cluster: string;
      readonly sni: string;
      readonly isAuto: boolean;
      /** The accepted SPIFFE IDs, as ServiceIdentities' fingerprint (`*` for the whole trust domain). */
      readonly identities: string;
    }
  | { readonly kind: 'refused'; readonly key: string; readonly cluster: string; readonly message: string };

export type MutualTransport = Extract<EndpointTransport, { kind: 'mtls' }>;

export const PLAINTEXT: EndpointTransport = Object.freeze({ kind: 'plaintext', key: 'plaintext' });

/** Per endpoint of a snapshot's cluster: the transport with and without a workload identity. */
const byEndpoint = new WeakMap<ClusterEndpoint, [EndpointTransport, EndpointTransport]>();
const mutualByPlan = new WeakMap<IstioMutualPlan, MutualTransport>();

/**
 * The transport of `endpoint` of `cluster` under `snapshot`. Under auto-mTLS (no DestinationRule
 * `tls`) a workload without an identity speaks plaintext, as Istio's; a DestinationRule that says
 * ISTIO_MUTUAL asks for mTLS whatever happens, and a connection without a certificate fails.
 * Computed once per endpoint object (one per cluster and snapshot), so an attempt pays two
 * WeakMap reads.
 */
export function endpointTransport(
  cluster: Cluster,
  endpoint: ClusterEndpoint,
  snapshot: MeshSnapshot,
  hasIdentity: boolean,
): EndpointTransport {
  let pair = byEndpoint.get(endpoint);
  if (pair === undefined) {
    const plan = upstreamTlsPlan(cluster, endpoint, snapshot);
    let withIdentity: EndpointTransport;
    let withoutIdentity: EndpointTransport;
    switch (plan.kind) {
      case 'plaintext':
        withIdentity = withoutIdentity = PLAINTEXT;
        break;
      case 'istio-mutual':
        withIdentity = mutualOf(plan);
        withoutIdentity = plan.isAuto ? PLAINTEXT : withIdentity;
        break;
      case 'refused':
        withIdentity = withoutIdentity = refused(plan.cluster, plan.message);
        break;
      case 'origination':
        withIdentity = withoutIdentity = refused(
          plan.cluster,
          `${plan.cluster}: DestinationRule tls.mode ${plan.mode} (TLS origination with the rule's own ` +
            'certificates) is not supported by @weft/grpc; give the client TLS channel credentials and ' +
            'transportSecurity: PLAINTEXT_TRANSPORT, or use ISTIO_MUTUAL',
        );
        break;
    }
    pair = [withIdentity, withoutIdentity];
    byEndpoint.set(endpoint, pair);
  }
  return hasIdentity ? pair[0] : pair[1];
}

function mutualOf(plan: IstioMutualPlan): MutualTransport {
  let transport = mutualByPlan.get(plan);
  if (transport === undefined) {
    const identities = plan.identities.fingerprint;
    transport = Object.freeze({
      kind: 'mtls',
      key: JSON.stringify(['mtls', plan.cluster, plan.sni, identities, plan.isAuto]),
      cluster: plan.cluster,
      sni: plan.sni,
      isAuto: plan.isAuto,
      identities,
    });
    mutualByPlan.set(plan, transport);
  }
  return transport;
}

function refused(cluster: string, message: string): EndpointTransport {
  return Object.freeze({
    kind: 'refused',
    key: JSON.stringify(['refused', cluster, message]),
    cluster,
    message,
  });
}

/**
 * The transport a key names: what a subchannel's connector reads back from its arguments (grpc-js
 * hands a connector only strings and numbers it can compare). Undefined for a key it did not make.
 */
export function transportOfKey(key: string): EndpointTransport | undefined {
  if (key === PLAINTEXT.key) return PLAINTEXT;
  let parsed: unknown;
  try {
    parsed = JSON.parse(key);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  const [kind, cluster, third, identities, isAuto] = parsed as unknown[];
  if (typeof cluster !== 'string' || typeof third !== 'string') return undefined;
  if (kind === 'refused') return { kind: 'refused', key, cluster, message: third };
  if (kind === 'mtls' && typeof identities === 'string' && typeof isAuto === 'boolean') {
    return { kind: 'mtls', key, cluster, sni: third, identities, isAuto };
  }
  return undefined;
}

/**
 * The id of one connection of a channel: an endpoint reached with one transport. What the mesh
 * interceptor names in an attempt's endpoint hint and the balancer keys its subchannels by.
 */
export function connectionId(endpointKey: string, transport: EndpointTransport): string {
  return transport === PLAINTEXT ? endpointKey : `${endpointKey} ${transport.key}`;
}
