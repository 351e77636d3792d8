import type { Locality } from '../registry/workload.ts';

/** Who this process is in the mesh: what a pod's labels and service account tell Istio. */
export interface WorkloadIdentity {
  /** The workload's name, unique in its namespace (e.g. `productpage-v1-0`). */
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** `app` and `version` at least; subsets and selectors match on these. */
  readonly labels: Readonly<Record<string, string>>;
  /** The service this workload serves, if any (short name in its namespace). */
  readonly service?: string;
  readonly locality?: Locality;
  /** The workload's own address: what consistent hashing on `useSourceIp` hashes for its calls. */
  readonly address?: string;
}
