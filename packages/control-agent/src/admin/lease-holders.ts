/** Whose registration a lease belongs to: what a workload's renewal is checked against. */
export interface LeaseHolder {
  readonly namespace: string;
  readonly name: string;
  readonly serviceAccount: string;
}

/** Leases remembered at most; past it the oldest grants are forgotten (their workloads register again). */
const MAX_LEASES = 50_000;

/**
 * The leases this agent granted, and to which workload: the store renews a lease by id alone and
 * cannot say whose it is, yet a workload may renew only its own (PROTOCOL.md §4.2). A lease this
 * agent did not grant (another agent on the store did, or this one before a restart) is unknown
 * here, and a workload renewing it is told to register again, which its client does on any 404.
 * Bounded: a grant replaces its workload's previous one, a deregistration or a lapse forgets it,
 * and past MAX_LEASES the oldest go.
 */
export class LeaseHolders {
  readonly #holders = new Map<string, LeaseHolder>();
  /** `namespace/name` → its current lease id. */
  readonly #leaseOf = new Map<string, string>();

  granted(leaseId: string, holder: LeaseHolder): void {
    const key = workloadKey(holder.namespace, holder.name);
    const previous = this.#leaseOf.get(key);
    if (previous !== undefined) this.#holders.delete(previous);
    this.#holders.set(leaseId, {
      namespace: holder.namespace,
      name: holder.name,
      serviceAccount: holder.serviceAccount,
    });
    this.#leaseOf.set(key, leaseId);
    while (this.#holders.size > MAX_LEASES) {
      const oldest = this.#holders.keys().next().value as string;
      this.forget(oldest);
    }
  }

  holderOf(leaseId: string): LeaseHolder | undefined {
    return this.#holders.get(leaseId);
  }

  /** The lease lapsed or its workload was deregistered. */
  forget(leaseId: string): void {
    const holder = this.#holders.get(leaseId);
    if (holder === undefined) return;
    this.#holders.delete(leaseId);
    const key = workloadKey(holder.namespace, holder.name);
    if (this.#leaseOf.get(key) === leaseId) this.#leaseOf.delete(key);
  }

  forgetWorkload(namespace: string, name: string): void {
    const leaseId = this.#leaseOf.get(workloadKey(namespace, name));
    if (leaseId !== undefined) this.forget(leaseId);
  }
}

function workloadKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
