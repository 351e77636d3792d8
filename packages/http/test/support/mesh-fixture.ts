import { createMesh, type Mesh, type RegisteredWorkload, seededRandom } from '@weft/core';
import { type Dispatcher, request } from 'undici';
import { createMeshDispatcher } from '../../src/index.ts';
import { startUpstream, type Upstream } from './upstream.ts';

/** One upstream process per workload of a service, with the labels subsets select on. */
export interface ServiceUpstreams {
  readonly service: string;
  readonly byVersion: ReadonlyMap<string, Upstream>;
}

export async function startService(service: string, versions: readonly string[]): Promise<ServiceUpstreams> {
  const byVersion = new Map<string, Upstream>();
  for (const version of versions) byVersion.set(version, await startUpstream(`${service}-${version}`));
  return { service, byVersion };
}

export function workloadsOf(...services: readonly ServiceUpstreams[]): RegisteredWorkload[] {
  return services.flatMap(({ service, byVersion }) =>
    [...byVersion].map(([version, upstream]) => ({
      name: `${service}-${version}`,
      namespace: 'default',
      service,
      serviceAccount: service,
      labels: { app: service, version },
      address: '127.0.0.1',
      ports: { 9080: upstream.port },
    })),
  );
}

export interface MeshClient {
  readonly mesh: Mesh;
  readonly dispatcher: Dispatcher;
  get(
    url: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }>;
  send(
    url: string,
    options: { method: string; body?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }>;
  close(): Promise<void>;
}

/** A caller workload (productpage) with a mesh over the given services and YAML. */
export function meshClient(yaml: string, workloads: readonly RegisteredWorkload[], seed = 7): MeshClient {
  const mesh = createMesh({
    workload: {
      name: 'productpage-v1',
      namespace: 'default',
      serviceAccount: 'productpage',
      labels: { app: 'productpage', version: 'v1' },
    },
    config: { yaml },
    workloads,
    random: seededRandom(seed),
  });
  const dispatcher = createMeshDispatcher(mesh);
  const send: MeshClient['send'] = async (url, options) => {
    const response = await request(url, {
      dispatcher,
      method: options.method as Dispatcher.HttpMethod,
      ...(options.body === undefined ? {} : { body: options.body }),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
    });
    return { status: response.statusCode, body: await response.body.text(), headers: response.headers };
  };
  return {
    mesh,
    dispatcher,
    get: (url, headers) => send(url, { method: 'GET', ...(headers === undefined ? {} : { headers }) }),
    send,
    async close() {
      await dispatcher.close();
      mesh.close();
    },
  };
}
