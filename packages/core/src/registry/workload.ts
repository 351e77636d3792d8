/**
 * What the registry knows of one running workload (one process): what a Kubernetes pod plus its
 * Service would tell Istio. Workloads register with the agent, or are declared in-process.
 */
export interface Locality {
  readonly region?: string;
  readonly zone?: string;
  readonly subzone?: string;
}

export interface RegisteredWorkload {
  /** Unique within its namespace, e.g. `reviews-v2-7f9c`. */
  readonly name: string;
  readonly namespace: string;
  /** The service it serves, by short name in its namespace (`reviews`). */
  readonly service: string;
  readonly serviceAccount: string;
  /** `app`, `version` and any other labels subsets and selectors match on. */
  readonly labels: Readonly<Record<string, string>>;
  readonly address: string;
  /** Service port → the port the process really listens on (Kubernetes' port → targetPort). */
  readonly ports: Readonly<Record<number, number>>;
  /** Optional protocol per service port (`http`, `grpc`, `http2`, `tcp`); `http` when absent. */
  readonly protocols?: Readonly<Record<number, string>>;
  readonly locality?: Locality;
  /** Relative load-balancing weight; 1 when absent. */
  readonly weight?: number;
}

/** The registry snapshot compile() reads; the agent builds it from registrations and leases. */
export interface Registry {
  readonly workloads: readonly RegisteredWorkload[];
}

export const EMPTY_REGISTRY: Registry = Object.freeze({ workloads: Object.freeze([]) });
