import type { RegisteredWorkload } from '@weft/core';
import type { WorkloadCaller } from '../http/admin-auth.ts';
import { HttpError, notFound } from '../http/http-error.ts';
import { parseJson, readTextBody } from '../http/read-body.ts';
import { sendJson } from '../http/respond.ts';
import type { Route, RouteContext } from '../http/router.ts';
import { workloadViewKey } from '../mesh-view/view-keys.ts';
import type { AdminDeps } from './admin-deps.ts';
import { type LeaseHolder, LeaseHolders } from './lease-holders.ts';
import { parseRegistration } from './workload-input.ts';

/**
 * The registry: list, register under a lease, renew the lease, deregister. The three writes take
 * the admin token, or a workload's own credential (PROTOCOL.md §4.2): a workload registers,
 * renews and deregisters only workloads of its own namespace and service account.
 */
export function workloadRoutes(deps: AdminDeps): Route[] {
  const leases = new LeaseHolders();
  return [
    {
      method: 'GET',
      path: '/v1/workloads',
      isWrite: false,
      handle: async ({ response }) => {
        const workloads = await deps.store.listWorkloads();
        sendJson(response, 200, { items: workloads });
      },
    },
    {
      method: 'POST',
      path: '/v1/workloads',
      isWrite: true,
      writers: 'admin-or-workload',
      handle: async (context) => {
        const { caller } = context;
        const { workload, ttlMs } = parseRegistration(
          parseJson(await bodyText(context, deps.maxRequestBytes)),
          deps.maxLeaseTtlMs,
        );
        if (caller?.kind === 'workload') {
          checkOwnIdentity(caller, workload, `register workload ${workload.namespace}/${workload.name}`);
          // A name held by another service account of the namespace is not taken over: that
          // workload deregisters, or its lease lapses, first. (Read from the agent's view, so a
          // race with its own registration is possible; the identity check above is not.)
          const current = deps.cache.workloadAt(workloadViewKey(workload.namespace, workload.name));
          if (current !== undefined && current.serviceAccount !== workload.serviceAccount) {
            checkOwnIdentity(caller, current, `replace workload ${workload.namespace}/${workload.name}`);
          }
        }
        const { leaseId } = await deps.store.registerWorkload(workload, ttlMs);
        leases.granted(leaseId, workload);
        sendJson(context.response, 201, { leaseId, ttlMs, workload });
      },
    },
    {
      method: 'PUT',
      path: '/v1/leases/{leaseId}',
      isWrite: true,
      writers: 'admin-or-workload',
      handle: async ({ response, params, caller }) => {
        const leaseId = params.leaseId ?? '';
        if (caller?.kind === 'workload') {
          const holder = leases.holderOf(leaseId);
          if (holder === undefined) {
            throw notFound(
              `lease ${leaseId} was not granted by this agent to ${caller.spiffeId.uri}; register the workload again`,
            );
          }
          checkOwnIdentity(caller, holder, `renew lease ${leaseId}`);
        }
        if (!(await deps.store.renewLease(leaseId))) {
          leases.forget(leaseId);
          throw notFound(`lease ${leaseId} is unknown or has lapsed; register the workload again`);
        }
        sendJson(response, 200, { leaseId, renewed: true });
      },
    },
    {
      method: 'DELETE',
      path: '/v1/workloads/{namespace}/{name}',
      isWrite: true,
      writers: 'admin-or-workload',
      handle: async ({ response, params, caller }) => {
        const namespace = params.namespace ?? '';
        const name = params.name ?? '';
        const what = `deregister workload ${namespace}/${name}`;
        // Another namespace is refused before the lookup: its workloads are none of the caller's business.
        if (caller?.kind === 'workload' && caller.namespace !== namespace) {
          throw forbidden(caller, `${namespace}/${name} is in namespace ${namespace}`, what);
        }
        const workloads = await deps.store.listWorkloads();
        const workload = workloads.find((each) => each.namespace === namespace && each.name === name);
        if (workload === undefined) throw notFound(`workload ${namespace}/${name} is not registered`);
        if (caller?.kind === 'workload') checkOwnIdentity(caller, workload, what);
        await deps.store.deregisterWorkload(namespace, name);
        leases.forgetWorkload(namespace, name);
        sendJson(response, 200, { deleted: { namespace, name } });
      },
    },
  ];
}

/** The body: as the credential check read it (an SVID proof hashes it), or read now. */
async function bodyText(context: RouteContext, maxBytes: number): Promise<string> {
  const { caller } = context;
  if (caller?.kind === 'workload' && caller.body !== undefined) return caller.body;
  return readTextBody(context.request, maxBytes);
}

/** 403 unless the workload runs as the caller's identity: same namespace, same service account. */
function checkOwnIdentity(
  caller: WorkloadCaller,
  workload: Pick<RegisteredWorkload, 'namespace' | 'serviceAccount' | 'name'> | LeaseHolder,
  what: string,
): void {
  if (workload.namespace === caller.namespace && workload.serviceAccount === caller.serviceAccount) return;
  const runsAs = `spiffe://${caller.spiffeId.trustDomain}/ns/${workload.namespace}/sa/${workload.serviceAccount}`;
  throw forbidden(caller, `${workload.namespace}/${workload.name} runs as ${runsAs}`, what);
}

function forbidden(caller: WorkloadCaller, whose: string, what: string): HttpError {
  return new HttpError(
    403,
    'forbidden-identity',
    `the credential is for ${caller.spiffeId.uri}, which may not ${what}: ${whose}`,
    { details: { credential: caller.spiffeId.uri } },
  );
}
