import type { RegisteredWorkload } from '@weft/core';
import { singleRoute } from '../../../core/test/support/istio-yaml.ts';
import { type MeshClient, type MeshClientOptions, meshClient } from './mesh-client.ts';
import {
  closeAll,
  type ServiceUpstreams,
  startService,
  startUpstream,
  startUpstreams,
  type Upstream,
} from './upstream.ts';
import { workloadsFor } from './workloads.ts';

/**
 * What one test starts against one service — its upstreams and a meshed client — so that a
 * single `afterEach(() => scenario.close())` ends all of it. Upstreams close before the client,
 * so that a request still hanging fails instead of holding the client open.
 */
export interface Scenario {
  /** Starts `count` upstreams named `<service>-<i>`; `open` registers them by default. */
  start(count: number): Promise<Upstream[]>;
  /** Starts one upstream per version, named `<service>-<version>` (register them with `workloadsOf`). */
  startVersions(versions: readonly string[]): Promise<ServiceUpstreams>;
  /** Starts an upstream outside the service, e.g. a host the mesh does not know. */
  startUpstream(name: string): Promise<Upstream>;
  /** The upstreams `start` gave, as workloads of the service (version v1). */
  workloads(): RegisteredWorkload[];
  /** The productpage caller's mesh over `yaml`; `workloads` defaults to `workloads()`. */
  open(yaml: string, workloads?: readonly RegisteredWorkload[], options?: MeshClientOptions): MeshClient;
  /** Starts one upstream and opens a client whose only route (to the service) carries `routeFields`. */
  withRoute(routeFields?: string, options?: MeshClientOptions): Promise<MeshClient & { upstream: Upstream }>;
  close(): Promise<void>;
}

export function createScenario(service: string): Scenario {
  let numbered: Upstream[] = [];
  let others: Upstream[] = [];
  let client: MeshClient | undefined;
  const scenario: Scenario = {
    async start(count) {
      const started = await startUpstreams(service, count);
      numbered.push(...started);
      return started;
    },
    async startVersions(versions) {
      const started = await startService(service, versions);
      others.push(...started.byVersion.values());
      return started;
    },
    async startUpstream(name) {
      const started = await startUpstream(name);
      others.push(started);
      return started;
    },
    workloads: () => workloadsFor(service, numbered),
    open(yaml, workloads = scenario.workloads(), options = {}) {
      if (client !== undefined) throw new Error('a scenario opens one mesh client');
      client = meshClient(yaml, workloads, options);
      return client;
    },
    async withRoute(routeFields = '', options = {}) {
      const [upstream] = await scenario.start(1);
      if (upstream === undefined) throw new Error('no upstream started');
      return { ...scenario.open(singleRoute(service, routeFields), undefined, options), upstream };
    },
    async close() {
      client?.events.stop();
      await closeAll([...numbered, ...others]);
      await client?.close();
      numbered = [];
      others = [];
      client = undefined;
    },
  };
  return scenario;
}
