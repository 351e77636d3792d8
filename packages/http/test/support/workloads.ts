import type { RegisteredWorkload } from '@weft/core';
import type { ServiceUpstreams, Upstream } from './upstream.ts';

/**
 * One workload of `service` on 127.0.0.1, serving the service's port 9080 on `port`, labelled
 * `app: <service>`, `version: v1` unless `labels` say otherwise.
 */
export function workload(
  service: string,
  name: string,
  port: number,
  labels: Record<string, string> = {},
): RegisteredWorkload {
  return {
    name,
    namespace: 'default',
    service,
    serviceAccount: service,
    labels: { app: service, version: 'v1', ...labels },
    address: '127.0.0.1',
    ports: { 9080: port },
  };
}

/** A workload per upstream, all of one service (and so one cluster unless subsets split them). */
export function workloadsFor(
  service: string,
  upstreams: readonly Upstream[],
  labels: Record<string, string> = {},
): RegisteredWorkload[] {
  return upstreams.map((upstream) => workload(service, upstream.name, upstream.port, labels));
}

/** A workload per version of each service, labelled with its version, for subsets to select. */
export function workloadsOf(...services: readonly ServiceUpstreams[]): RegisteredWorkload[] {
  return services.flatMap(({ service, byVersion }) =>
    [...byVersion].map(([version, upstream]) =>
      workload(service, `${service}-${version}`, upstream.port, { version }),
    ),
  );
}
