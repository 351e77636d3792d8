import type { Locality } from '../../registry/workload.ts';

/** One port of a service, as callers address it. */
export interface ServicePort {
  readonly number: number;
  readonly name?: string;
  /** Istio's protocol names upper-cased: HTTP, HTTP2, GRPC, HTTPS, TLS, TCP, … */
  readonly protocol: string;
}

/** One instance behind a service: where to connect for each service port, and what it is. */
export interface ServiceEndpoint {
  readonly address: string;
  /** Service port → the port to connect to. */
  readonly targetPorts: ReadonlyMap<number, number>;
  readonly labels: Readonly<Record<string, string>>;
  readonly namespace: string;
  readonly serviceAccount?: string;
  readonly locality?: Locality;
  readonly weight: number;
  /** `registry:<ns>/<name>`, `WorkloadEntry/<ns>/<name>` or `ServiceEntry/<ns>/<name>#<i>`. */
  readonly origin: string;
}

/** A host the mesh knows, from the registry or from a ServiceEntry. */
export interface MeshService {
  /** Fully qualified, canonical (`reviews.default.svc.cluster.local`); may be a wildcard for SE. */
  readonly host: string;
  readonly namespace: string;
  readonly origin: 'registry' | 'ServiceEntry';
  /** The resource that defined it (for ServiceEntry), for messages and proxy-config. */
  readonly definedBy?: string;
  readonly ports: readonly ServicePort[];
  readonly exportTo?: readonly string[];
  readonly location: 'MESH_INTERNAL' | 'MESH_EXTERNAL';
  readonly resolution: 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN' | 'DYNAMIC_DNS';
  readonly endpoints: readonly ServiceEndpoint[];
  /** Identities the service may run as: its workloads' and the ServiceEntry's subjectAltNames. */
  readonly serviceAccounts: readonly string[];
}

/** Parses Istio's `region/zone/subzone` locality string. */
export function parseLocality(text: string | undefined): Locality | undefined {
  if (text === undefined || text === '') return undefined;
  const [region, zone, subzone] = text.split('/');
  return {
    ...(region ? { region } : {}),
    ...(zone ? { zone } : {}),
    ...(subzone ? { subzone } : {}),
  };
}
