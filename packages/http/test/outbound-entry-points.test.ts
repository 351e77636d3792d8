import { Writable } from 'node:stream';
import { createMesh, seededRandom } from '@weft/core';
import { getGlobalDispatcher, request, setGlobalDispatcher, stream } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { joinDocuments, subsetsByVersion, virtualServiceRoutes } from '../../core/test/support/istio-yaml.ts';
import { createMeshDispatcher, createMeshFetch, RESPONSE_FLAGS_HEADER } from '../src/index.ts';
import { createScenario } from './support/scenario.ts';
import type { ServiceUpstreams } from './support/upstream.ts';
import { workloadsOf } from './support/workloads.ts';

const CONFIG = joinDocuments(
  subsetsByVersion('reviews', ['v2']),
  virtualServiceRoutes(
    'reviews',
    `
- name: to-v2
  route: [{ destination: { host: reviews, subset: v2 } }]
`,
  ),
);

/** The caller: these tests build their meshes themselves, to hand them to each entry point. */
const CLIENT_WORKLOAD = {
  name: 'client',
  namespace: 'default',
  serviceAccount: 'client',
  labels: { app: 'client' },
};

const scenario = createScenario('reviews');

describe('every undici entry point goes through the mesh', () => {
  let reviews: ServiceUpstreams;
  const closers: (() => Promise<void> | void)[] = [];

  beforeEach(async () => {
    reviews = await scenario.startVersions(['v1', 'v2']);
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await scenario.close();
  });

  const newMesh = (options: { circuitBreakers?: Record<string, object> } = {}) => {
    const mesh = createMesh({
      workload: CLIENT_WORKLOAD,
      config: { yaml: CONFIG },
      workloads: workloadsOf(reviews),
      random: seededRandom(1),
      ...options,
    });
    closers.push(() => mesh.close());
    return mesh;
  };
  const v2 = () => reviews.byVersion.get('v2');

  it('a meshed fetch is a drop-in for the global fetch, POST bodies included', async () => {
    const meshFetch = createMeshFetch(newMesh());
    const response = await meshFetch('http://reviews:9080/reviews/7', { method: 'POST', body: 'hello' });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('reviews-v2');
    // fetch reads the raw header list from the controller; the upstream's headers must survive.
    expect(response.headers.get('x-upstream')).toBe('reviews-v2');
    expect(v2()?.seen[0]).toMatchObject({ method: 'POST', path: '/reviews/7', body: 'hello' });
  });

  it('undici.request and undici.stream accept the mesh dispatcher', async () => {
    const dispatcher = createMeshDispatcher(newMesh());
    closers.push(() => dispatcher.close());
    const { statusCode, body } = await request('http://reviews.default.svc.cluster.local:9080/a', {
      dispatcher,
    });
    expect([statusCode, await body.text()]).toEqual([200, 'reviews-v2']);
    const chunks: Buffer[] = [];
    await stream(
      'http://reviews:9080/b',
      { dispatcher, method: 'GET' },
      () =>
        new Writable({
          write(chunk: Buffer, _encoding, callback) {
            chunks.push(chunk);
            callback();
          },
        }),
    );
    expect(Buffer.concat(chunks).toString()).toBe('reviews-v2');
    expect(v2()?.seen.map((seen) => seen.path)).toEqual(['/a', '/b']);
  });

  it('setGlobalDispatcher meshes code that calls plain global fetch', async () => {
    const previous = getGlobalDispatcher();
    const dispatcher = createMeshDispatcher(newMesh());
    setGlobalDispatcher(dispatcher);
    closers.push(async () => {
      setGlobalDispatcher(previous);
      await dispatcher.close();
    });
    const response = await fetch('http://reviews:9080/global');
    expect(await response.text()).toBe('reviews-v2');
    expect(v2()?.seen[0]?.path).toBe('/global');
  });

  it('a route circuit breaker opens after failures and then answers 503 UO without calling the upstream', async () => {
    v2()?.behave(() => ({ kind: 'respond', status: 500 }));
    const mesh = newMesh({
      circuitBreakers: { 'to-v2': { volumeThreshold: 3, errorThresholdPercentage: 50 } },
    });
    const opened: string[] = [];
    mesh.events.breaker.on((event) => opened.push(event.type));
    const meshFetch = createMeshFetch(mesh);
    for (let i = 0; i < 4; i++) await (await meshFetch('http://reviews:9080/')).text();
    const seenBefore = v2()?.seen.length ?? 0;
    const refused = await meshFetch('http://reviews:9080/');
    expect(refused.status).toBe(503);
    expect(refused.headers.get(RESPONSE_FLAGS_HEADER)).toBe('UO');
    expect(await refused.text()).toBe('circuit open: to-v2');
    expect(v2()?.seen.length).toBe(seenBefore);
    expect(opened).toContain('opened');
  });

  it('refuses bad circuit-breaker settings by route and field', () => {
    expect(() => newMesh({ circuitBreakers: { 'to-v2': { errorThresholdPercentage: 150 } } })).toThrow(
      /circuitBreakers\/to-v2 errorThresholdPercentage: errorThresholdPercentage must be 0–100/,
    );
  });

  it('peak-EWMA can be the default balancer, and requests still land', async () => {
    const mesh = createMesh({
      workload: CLIENT_WORKLOAD,
      workloads: workloadsOf(reviews),
      defaultLoadBalancer: 'peak_ewma',
    });
    closers.push(() => mesh.close());
    const meshFetch = createMeshFetch(mesh);
    for (let i = 0; i < 10; i++) expect((await meshFetch('http://reviews:9080/')).status).toBe(200);
    const cluster = [...mesh.clusters.all()][0];
    expect(cluster?.balancer.name).toBe('peak_ewma');
  });
});
