import type { Attributes } from '@opentelemetry/api';
import type { Cluster, ClusterEndpoint } from '../config/compile/cluster.ts';
import type { MeshService } from '../config/compile/mesh-service.ts';
import { NO_RESPONSE_FLAGS, type Reporter, UNKNOWN } from './istio-metrics.ts';

/** One side of a request as Istio's labels describe it. */
export interface PeerLabels {
  readonly workload: string;
  readonly namespace: string;
  /** The SPIFFE id the peer proved over mTLS; `unknown` without mTLS. */
  readonly principal: string;
  readonly app: string;
  readonly version: string;
  readonly cluster: string;
}

export const UNKNOWN_PEER: PeerLabels = Object.freeze({
  workload: UNKNOWN,
  namespace: UNKNOWN,
  principal: UNKNOWN,
  app: UNKNOWN,
  version: UNKNOWN,
  cluster: UNKNOWN,
});

/** The destination service labels: the FQDN, its short name and namespace. */
export interface ServiceLabels {
  readonly service: string;
  readonly name: string;
  readonly namespace: string;
}

export const UNKNOWN_SERVICE: ServiceLabels = Object.freeze({
  service: UNKNOWN,
  name: UNKNOWN,
  namespace: UNKNOWN,
});

export interface WorkloadFacts {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** A workload's labels (Istio reads `app` and `version`, falling back to `unknown`). */
export function peerLabels(workload: WorkloadFacts, cluster: string, principal = UNKNOWN): PeerLabels {
  return {
    workload: workload.name,
    namespace: workload.namespace,
    principal,
    app: workload.labels.app ?? UNKNOWN,
    version: workload.labels.version ?? UNKNOWN,
    cluster,
  };
}

const endpointPeers = new WeakMap<ClusterEndpoint, PeerLabels>();
const servicePeers = new WeakMap<MeshService, ServiceLabels>();

/**
 * The labels of the endpoint a request went to, computed once per endpoint of a snapshot. The
 * workload name and namespace come from the registration that made the endpoint
 * (`registry:<ns>/<name>`, `WorkloadEntry/<ns>/<name>`); a ServiceEntry address has no workload.
 */
export function endpointPeerLabels(endpoint: ClusterEndpoint, cluster: string): PeerLabels {
  let labels = endpointPeers.get(endpoint);
  if (labels === undefined) {
    const origin = parseOrigin(endpoint.origin);
    labels = {
      workload: origin?.name ?? UNKNOWN,
      namespace: origin?.namespace ?? UNKNOWN,
      // Filled by the transport when it proved the peer's identity (mTLS); plaintext says unknown.
      principal: UNKNOWN,
      app: endpoint.labels.app ?? UNKNOWN,
      version: endpoint.labels.version ?? UNKNOWN,
      cluster,
    };
    endpointPeers.set(endpoint, labels);
  }
  return labels;
}

const principalPeers = new WeakMap<PeerLabels, PeerLabels>();

/**
 * `labels` with the principal the transport proved (mTLS: the peer's SPIFFE ID). Kept per labels
 * object, so a connection's requests share one object instead of each copying the labels.
 */
export function peerWithPrincipal(labels: PeerLabels, principal: string): PeerLabels {
  const cached = principalPeers.get(labels);
  if (cached !== undefined && cached.principal === principal) return cached;
  const made = { ...labels, principal };
  principalPeers.set(labels, made);
  return made;
}

const clusterPeers = new WeakMap<PeerLabels, PeerLabels>();

/** `labels` in `cluster`, kept per labels object as peerWithPrincipal is. */
export function peerInCluster(labels: PeerLabels, cluster: string): PeerLabels {
  if (labels.cluster === cluster) return labels;
  const cached = clusterPeers.get(labels);
  if (cached !== undefined && cached.cluster === cluster) return cached;
  const made = { ...labels, cluster };
  clusterPeers.set(labels, made);
  return made;
}

/** `reviews.default.svc.cluster.local` → name `reviews`, namespace `default`; a ServiceEntry host is its own name. */
export function serviceLabels(cluster: Cluster): ServiceLabels {
  const service = cluster.service;
  let labels = servicePeers.get(service);
  if (labels === undefined) {
    const host = service.host;
    const name = service.origin === 'registry' ? (host.split('.', 1)[0] ?? host) : host;
    labels = { service: host, name, namespace: service.namespace };
    servicePeers.set(service, labels);
  }
  return labels;
}

function parseOrigin(origin: string): { namespace: string; name: string } | undefined {
  const slash = origin.indexOf('/');
  if (origin.startsWith('registry:') && slash !== -1)
    return { namespace: origin.slice('registry:'.length, slash), name: origin.slice(slash + 1) };
  if (origin.startsWith('WorkloadEntry/')) {
    const [, namespace, name] = origin.split('/');
    if (namespace !== undefined && name !== undefined) return { namespace, name };
  }
  return undefined;
}

export interface RequestLabelFacts {
  readonly reporter: Reporter;
  readonly source: PeerLabels;
  readonly destination: PeerLabels;
  readonly service: ServiceLabels;
  readonly protocol: string;
  readonly responseCode: number;
  /** gRPC status code for gRPC requests; HTTP requests report an empty value, as Istio does. */
  readonly grpcStatus: number | undefined;
  readonly responseFlags: string;
  readonly connectionSecurityPolicy: string;
}

/** Istio's label set for one request, always in Istio's order (one object shape for every request). */
export function istioLabels(facts: RequestLabelFacts): Attributes {
  const { source, destination, service } = facts;
  return {
    reporter: facts.reporter,
    source_workload: source.workload,
    source_workload_namespace: source.namespace,
    source_principal: source.principal,
    source_app: source.app,
    source_version: source.version,
    source_cluster: source.cluster,
    destination_workload: destination.workload,
    destination_workload_namespace: destination.namespace,
    destination_principal: destination.principal,
    destination_app: destination.app,
    destination_version: destination.version,
    destination_service: service.service,
    destination_service_name: service.name,
    destination_service_namespace: service.namespace,
    destination_cluster: destination.cluster,
    request_protocol: facts.protocol,
    response_code: String(facts.responseCode),
    grpc_response_status: facts.grpcStatus === undefined ? '' : String(facts.grpcStatus),
    response_flags: facts.responseFlags === '' ? NO_RESPONSE_FLAGS : facts.responseFlags,
    connection_security_policy: facts.connectionSecurityPolicy,
  };
}
