import { notFound } from '../http/http-error.ts';
import { readJsonBody } from '../http/read-body.ts';
import { sendJson } from '../http/respond.ts';
import type { Route } from '../http/router.ts';
import type { AdminDeps } from './admin-deps.ts';
import { parseRegistration } from './workload-input.ts';

/** The registry: list, register under a lease, renew the lease, deregister. */
export function workloadRoutes(deps: AdminDeps): Route[] {
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
      handle: async ({ request, response }) => {
        const { workload, ttlMs } = parseRegistration(
          await readJsonBody(request, deps.maxRequestBytes),
          deps.maxLeaseTtlMs,
        );
        const { leaseId } = await deps.store.registerWorkload(workload, ttlMs);
        sendJson(response, 201, { leaseId, ttlMs, workload });
      },
    },
    {
      method: 'PUT',
      path: '/v1/leases/{leaseId}',
      isWrite: true,
      handle: async ({ response, params }) => {
        const leaseId = params.leaseId ?? '';
        if (!(await deps.store.renewLease(leaseId))) {
          throw notFound(`lease ${leaseId} is unknown or has lapsed; register the workload again`);
        }
        sendJson(response, 200, { leaseId, renewed: true });
      },
    },
    {
      method: 'DELETE',
      path: '/v1/workloads/{namespace}/{name}',
      isWrite: true,
      handle: async ({ response, params }) => {
        const namespace = params.namespace ?? '';
        const name = params.name ?? '';
        const workloads = await deps.store.listWorkloads();
        if (!workloads.some((workload) => workload.namespace === namespace && workload.name === name)) {
          throw notFound(`workload ${namespace}/${name} is not registered`);
        }
        await deps.store.deregisterWorkload(namespace, name);
        sendJson(response, 200, { deleted: { namespace, name } });
      },
    },
  ];
}
