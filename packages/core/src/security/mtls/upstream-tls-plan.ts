import type { Cluster, ClusterEndpoint } from '../../config/compile/cluster.ts';
import type { MeshSnapshot } from '../../config/compile/mesh-snapshot.ts';
import { istioMutualSni } from './istio-sni.ts';
import { isMeshTlsEndpoint } from './mesh-tls-label.ts';
import { explicitIdentities, type ServiceIdentities, serviceIdentities } from './service-identities.ts';

/**
 * How a connection to one endpoint of a cluster is secured, from the cluster's DestinationRule
 * `tls` and, when it has none, Istio's auto-mTLS. Protocol-neutral: the HTTP and gRPC transports
 * turn a plan into sockets. A tagged union: the transport handles each kind, and a plan never
 * turns into another (TLS that fails is never retried as plaintext).
 */
export type UpstreamTlsPlan = PlaintextPlan | IstioMutualPlan | OriginationPlan | RefusedPlan;

export interface PlaintextPlan {
  readonly kind: 'plaintext';
  /**
   * `disabled`: the DestinationRule says `tls.mode: DISABLE`. Under auto-mTLS: `external`, a
   * MESH_EXTERNAL service; `not-mesh-workload`, an endpoint without Istio's tlsMode label;
   * `peer-authentication-disable`, the destination's PeerAuthentication is DISABLE on that port.
   */
  readonly reason: 'disabled' | 'external' | 'not-mesh-workload' | 'peer-authentication-disable';
}

/** mTLS with the workload's SVID, accepting only the SPIFFE IDs the destination may run as. */
export interface IstioMutualPlan {
  readonly kind: 'istio-mutual';
  /** Chosen by auto-mTLS, not by a DestinationRule: a caller without an identity sends plaintext. */
  readonly isAuto: boolean;
  readonly cluster: string;
  readonly sni: string;
  readonly identities: ServiceIdentities;
}

/** TLS origination with the DestinationRule's own certificates (files), usually to an external host. */
export interface OriginationPlan {
  readonly kind: 'origination';
  readonly mode: 'SIMPLE' | 'MUTUAL';
  readonly cluster: string;
  /** The DestinationRule's `sni`; when absent, the request's host name is sent (Istio's auto SNI). */
  readonly sni?: string;
  /** Names the server's certificate must carry one of; empty: it must be valid for the SNI host. */
  readonly subjectAltNames: readonly string[];
  /** PEM file of the roots to trust; the system's roots when absent (Istio ≥ 1.20). */
  readonly caCertificates?: string;
  readonly caCrl?: string;
  /** MUTUAL: the client certificate chain and key files. */
  readonly clientCertificate?: string;
  readonly privateKey?: string;
  /** No chain, name or date check at all: the connection is encrypted, not authenticated. */
  readonly insecureSkipVerify: boolean;
}

/** Settings Weft cannot honour; requests to the cluster are refused with `message`. */
export interface RefusedPlan {
  readonly kind: 'refused';
  readonly cluster: string;
  readonly message: string;
}

const PLAINTEXT = {
  disabled: Object.freeze({ kind: 'plaintext', reason: 'disabled' }),
  external: Object.freeze({ kind: 'plaintext', reason: 'external' }),
  notMeshWorkload: Object.freeze({ kind: 'plaintext', reason: 'not-mesh-workload' }),
  peerAuthenticationDisable: Object.freeze({ kind: 'plaintext', reason: 'peer-authentication-disable' }),
} as const satisfies Record<string, PlaintextPlan>;

/**
 * The DestinationRule part of a cluster's plan, decided once per cluster of a snapshot; `auto`
 * when the rule has no `tls` (Istio's auto-mTLS, decided per endpoint).
 */
type ClusterTls = { readonly kind: 'auto'; readonly mutual: IstioMutualPlan } | UpstreamTlsPlan;

const clusterPlans = new WeakMap<Cluster, ClusterTls>();

/**
 * The plan for `endpoint` of `cluster`. With a DestinationRule `tls`, its mode decides for every
 * endpoint. Without one (auto-mTLS, Istio's semantics): mTLS when the service is in the mesh
 * (not MESH_EXTERNAL), the endpoint is a mesh workload with an identity (Istio's tlsMode label,
 * see mesh-tls-label.ts), and the destination accepts mTLS on that port (its PeerAuthentication,
 * resolved from `snapshot` as the destination resolves it, is STRICT or PERMISSIVE); plaintext
 * otherwise. Plans are shared objects: the same for every endpoint with the same outcome.
 */
export function upstreamTlsPlan(
  cluster: Cluster,
  endpoint: ClusterEndpoint,
  snapshot: MeshSnapshot,
): UpstreamTlsPlan {
  let decided = clusterPlans.get(cluster);
  if (decided === undefined) {
    decided = clusterTls(cluster);
    clusterPlans.set(cluster, decided);
  }
  if (decided.kind !== 'auto') return decided;
  const service = cluster.service;
  if (service.location === 'MESH_EXTERNAL') return PLAINTEXT.external;
  if (!isMeshTlsEndpoint(endpoint.labels)) return PLAINTEXT.notMeshWorkload;
  const inbound = snapshot.inboundFor({
    namespace: service.namespace,
    labels: endpoint.labels,
    ...(service.origin === 'registry' ? { service: service.host.split('.', 1)[0] as string } : {}),
  });
  if (inbound.peerAuthentication.modeForPort(endpoint.port) === 'DISABLE') {
    return PLAINTEXT.peerAuthenticationDisable;
  }
  return decided.mutual;
}

function clusterTls(cluster: Cluster): ClusterTls {
  const tls = cluster.policy.tls;
  const mutual = (isAuto: boolean): IstioMutualPlan => ({
    kind: 'istio-mutual',
    isAuto,
    cluster: cluster.name,
    sni: tls?.sni ?? istioMutualSni(cluster.host, cluster.port, cluster.subset),
    identities:
      tls?.subjectAltNames !== undefined && tls.subjectAltNames.length > 0
        ? explicitIdentities(tls.subjectAltNames)
        : serviceIdentities(cluster.service),
  });
  if (tls === undefined) return { kind: 'auto', mutual: mutual(true) };
  switch (tls.mode) {
    case 'DISABLE':
      return PLAINTEXT.disabled;
    case 'ISTIO_MUTUAL':
      return mutual(false);
    case 'SIMPLE':
    case 'MUTUAL':
      if (tls.credentialName !== undefined && tls.credentialName !== '') {
        return {
          kind: 'refused',
          cluster: cluster.name,
          message:
            `${cluster.name}: tls.credentialName (${tls.credentialName}) is not supported — Weft reads ` +
            'certificates from files: set caCertificates, and for MUTUAL clientCertificate and privateKey',
        };
      }
      return {
        kind: 'origination',
        mode: tls.mode,
        cluster: cluster.name,
        ...(tls.sni === undefined || tls.sni === '' ? {} : { sni: tls.sni }),
        subjectAltNames: tls.subjectAltNames ?? [],
        ...optionalFile('caCertificates', tls.caCertificates),
        ...optionalFile('caCrl', tls.caCrl),
        ...optionalFile('clientCertificate', tls.clientCertificate),
        ...optionalFile('privateKey', tls.privateKey),
        insecureSkipVerify: tls.insecureSkipVerify === true,
      };
  }
}

function optionalFile<K extends string>(key: K, path: string | undefined): { [P in K]?: string } {
  return (path === undefined || path === '' ? {} : { [key]: path }) as { [P in K]?: string };
}
