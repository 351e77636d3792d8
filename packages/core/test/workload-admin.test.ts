/**
 * The per-workload admin endpoint on 127.0.0.1 (port 0): readiness with its hooks, the config
 * dump, clusters with live endpoint state, stats, certificates and the route explainer, each
 * read over real HTTP from a mesh created with `admin`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMesh, type Mesh, type RegisteredWorkload } from '../src/index.ts';
import { FakeClock } from '../src/testing.ts';
import { PRODUCTPAGE, REVIEWS_WORKLOADS } from './support/telemetry-fixtures.ts';

const REVIEWS = 'reviews.default.svc.cluster.local';

const CONFIG = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
  - name: jason
    match: [{ headers: { end-user: { exact: jason } }, uri: { prefix: /reviews } }]
    route: [{ destination: { host: reviews, subset: v2 } }]
    timeout: 3s
  - name: split
    route:
    - { destination: { host: reviews, subset: v1 }, weight: 75 }
    - { destination: { host: reviews, subset: v2 }, weight: 25 }
    retries: { attempts: 2, perTryTimeout: 1s, retryOn: 5xx }
    fault: { delay: { fixedDelay: 1s, percentage: { value: 1 } } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  trafficPolicy:
    outlierDetection: { consecutive5xxErrors: 2, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 100 }
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
`;

let mesh: Mesh | undefined;
afterEach(async () => {
  const closing = mesh?.admin?.close();
  mesh?.close();
  await closing;
  mesh = undefined;
});

async function adminMesh(
  options: { config?: string; workloads?: readonly RegisteredWorkload[]; clock?: FakeClock } = {},
): Promise<{ mesh: Mesh; url: string }> {
  mesh = createMesh({
    workload: PRODUCTPAGE,
    workloads: options.workloads ?? REVIEWS_WORKLOADS,
    ...(options.config === undefined ? {} : { config: { yaml: options.config } }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    admin: { port: 0 },
  });
  const url = await mesh.admin?.url();
  if (url === undefined) throw new Error('admin did not start');
  return { mesh, url };
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('the server', () => {
  it('listens on 127.0.0.1 only when asked, and lists its endpoints at /', async () => {
    const { url } = await adminMesh();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const index = await (await fetch(`${url}/`)).text();
    for (const path of [
      '/ready',
      '/config_dump',
      '/clusters',
      '/stats',
      '/stats/prometheus',
      '/certs',
      '/debug/route',
    ])
      expect(index).toContain(path);
    expect(createMesh({ workload: PRODUCTPAGE }).admin).toBeUndefined();
  });

  it('is read-only: 405 for POST, 404 for unknown paths, no body for HEAD', async () => {
    const { url } = await adminMesh();
    expect((await fetch(`${url}/ready`, { method: 'POST' })).status).toBe(405);
    expect((await getJson(`${url}/quitquitquit`)).status).toBe(404);
    const head = await fetch(`${url}/config_dump`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('reports a taken port through `listening` instead of crashing', async () => {
    const { mesh: first } = await adminMesh();
    const port = (await first.admin?.listening)?.port;
    const second = createMesh({ workload: PRODUCTPAGE, admin: { port } });
    await expect(second.admin?.listening).rejects.toThrow(/EADDRINUSE/);
    second.close();
  });
});

describe('/ready', () => {
  it('is 503 until a configuration arrives, then 200', async () => {
    const { mesh, url } = await adminMesh();
    const before = await getJson(`${url}/ready`);
    expect(before.status).toBe(503);
    expect(before.body).toEqual({
      isReady: false,
      conditions: [{ name: 'config', isReady: false, detail: 'no configuration received yet' }],
    });
    mesh.applyConfig({ yaml: CONFIG }, 'epoch/7');
    const after = await getJson(`${url}/ready`);
    expect(after.status).toBe(200);
    expect(after.body.conditions).toEqual([
      { name: 'config', isReady: true, detail: 'serving revision epoch/7' },
    ]);
  });

  it('waits for conditions others add (the certificate) and counts a throwing check as not ready', async () => {
    const { mesh, url } = await adminMesh({ config: CONFIG });
    let hasCertificate = false;
    const remove = mesh.readiness.add('certificate', () => ({
      isReady: hasCertificate,
      detail: hasCertificate ? 'issued' : 'waiting for the CA',
    }));
    expect((await getJson(`${url}/ready`)).status).toBe(503);
    hasCertificate = true;
    expect((await getJson(`${url}/ready`)).status).toBe(200);
    mesh.readiness.add('broken', () => {
      throw new Error('boom');
    });
    const broken = await getJson(`${url}/ready`);
    expect(broken.status).toBe(503);
    expect(broken.body.conditions).toContainEqual({
      name: 'broken',
      isReady: false,
      detail: 'check failed: boom',
    });
    remove();
    const names = ((await getJson(`${url}/ready`)).body.conditions as { name: string }[]).map(
      ({ name }) => name,
    );
    expect(names).toEqual(['config', 'broken']);
  });
});

describe('/config_dump', () => {
  it('shows the revision, the route tables and clusters, the workload and its Telemetry policy', async () => {
    const { mesh, url } = await adminMesh({ config: CONFIG });
    mesh.applyConfig({ yaml: CONFIG }, 'epoch/9');
    const { status, body } = await getJson(`${url}/config_dump`);
    expect(status).toBe(200);
    expect(body.revision).toBe('epoch/9');
    expect(body.routeTables).toContainEqual({
      host: REVIEWS,
      port: 9080,
      routes: [
        { name: 'jason', destinations: [{ cluster: `outbound|9080|v2|${REVIEWS}`, weight: 1 }] },
        {
          name: 'split',
          destinations: [
            { cluster: `outbound|9080|v1|${REVIEWS}`, weight: 75 },
            { cluster: `outbound|9080|v2|${REVIEWS}`, weight: 25 },
          ],
        },
      ],
    });
    expect(body.workload).toMatchObject({ name: 'productpage-v1', namespace: 'default' });
    expect(body.telemetry).toMatchObject({
      sources: [],
      accessLog: { client: false, server: false },
      issues: [],
    });
  });
});

describe('/clusters', () => {
  it('lists every endpoint with its health, ejection, active requests and weight', async () => {
    const clock = new FakeClock(0);
    const { mesh, url } = await adminMesh({ config: CONFIG, clock });
    const host = mesh.outbound.resolveHost('reviews') ?? '';
    const route = mesh.outbound.routeTable(host, 9080)?.routes[1];
    const v2 = route?.destinations.find((destination) => destination.subset === 'v2');
    const cluster = v2 === undefined ? undefined : mesh.outbound.cluster(v2);
    if (cluster === undefined) throw new Error('no v2 cluster');
    const runtime = mesh.clusters.forCluster(cluster);
    const picked = runtime.balancer.picker().pick();
    picked?.load.onStart();
    const lease = runtime.pool.tryStartRequest();
    runtime.recordStatus('10.0.0.2:9080', 503);
    runtime.recordStatus('10.0.0.2:9080', 503);
    clock.advance(1000);

    const { body } = await getJson(`${url}/clusters`);
    const clusters = body.clusters as Record<string, unknown>[];
    expect(clusters.map((entry) => entry.name)).toEqual([
      `outbound|9080|v1|${REVIEWS}`,
      `outbound|9080|v2|${REVIEWS}`,
    ]);
    expect(clusters[0]).toMatchObject({ isInUse: false, activeRequests: 0 });
    expect(clusters[1]).toMatchObject({
      host: REVIEWS,
      port: 9080,
      subset: 'v2',
      isInUse: true,
      loadBalancer: 'least_request',
      activeRequests: 1,
      destinationRules: ['DestinationRule/default/reviews'],
      endpoints: [
        {
          address: '10.0.0.2',
          port: 9080,
          weight: 1,
          labels: { app: 'reviews', version: 'v2' },
          origin: 'registry:default/reviews-v2',
          health: 'ejected',
          ejectedForMs: 29000,
          ejectionCount: 1,
          consecutive5xx: 0,
          // 503 is also a gateway error; only the 5xx run that reached its threshold restarts.
          consecutiveGatewayErrors: 2,
          consecutiveLocalOriginFailures: 0,
          activeRequests: 1,
        },
      ],
    });
    if (lease.kind === 'admitted') lease.release();
  });
});

describe('/stats', () => {
  it('lists the mesh’s counters and live cluster state as name: value lines, filterable', async () => {
    const { mesh, url } = await adminMesh({ config: CONFIG });
    const cluster = `outbound|9080|v1|${REVIEWS}`;
    mesh.events.retry.emit({
      type: 'retry-scheduled',
      route: 'split',
      cluster,
      attempt: 2,
      condition: '5xx',
      delayMs: 25,
      delaySource: 'backoff',
      atMs: 0,
    });
    const text = await (await fetch(`${url}/stats`)).text();
    expect(text).toContain(`cluster.${cluster}.upstream_rq_retry: 1\n`);
    expect(text).toContain('weft.config.updates_applied: 1\n');
    expect(text).toContain('weft.config.revision: 1\n');
    const filtered = await (await fetch(`${url}/stats?filter=upstream_rq_retry`)).text();
    expect(filtered.trim().split('\n')).toEqual([`cluster.${cluster}.upstream_rq_retry: 1`]);
    const json = await getJson(`${url}/stats?format=json&filter=config.revision`);
    expect(json.body).toEqual({ stats: [{ name: 'weft.config.revision', value: 1 }] });
  });

  it('answers 404 at /stats/prometheus without an exporter, saying how to add one', async () => {
    const { url } = await adminMesh();
    const { status, body } = await getJson(`${url}/stats/prometheus`);
    expect(status).toBe(404);
    expect(body.error).toContain('admin.prometheus');
  });
});

describe('/certs', () => {
  it('shows what the identity provides, and says when there is nothing', async () => {
    const { mesh, url } = await adminMesh();
    expect((await getJson(`${url}/certs`)).body).toEqual({
      certificates: [],
      note: 'no identity provides certificates to this workload (no mTLS yet)',
    });
    const report = {
      certificates: [
        {
          name: 'workload',
          spiffeId: 'spiffe://cluster.local/ns/default/sa/productpage',
          notBeforeMs: 1,
          notAfterMs: 2,
        },
      ],
    };
    mesh.certificateReport.provide(() => report);
    expect((await getJson(`${url}/certs`)).body).toEqual(report);
  });
});

describe('/debug/route', () => {
  it('explains a header match: each condition, the destination, its cluster and the route’s policies', async () => {
    const { url } = await adminMesh({ config: CONFIG });
    const { status, body } = await getJson(
      `${url}/debug/route?host=reviews:9080&path=/reviews/1&header=end-user:jason`,
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({
      resolvedHost: REVIEWS,
      outcome: 'routed',
      summary: `route "jason" (VirtualService/default/reviews) matches and sends the request to outbound|9080|v2|${REVIEWS} (100%)`,
      evaluated: [
        {
          name: 'jason',
          isMatched: true,
          blocks: [
            {
              index: 0,
              isMatched: true,
              conditions: [
                { field: 'uri', wants: { prefix: '/reviews' }, got: '/reviews/1', isMatched: true },
                { field: 'headers.end-user', wants: { exact: 'jason' }, got: 'jason', isMatched: true },
              ],
            },
          ],
        },
      ],
      route: { name: 'jason', timeoutMs: 3000 },
      clusters: [
        {
          name: `outbound|9080|v2|${REVIEWS}`,
          endpoints: 1,
          destinationRules: ['DestinationRule/default/reviews'],
        },
      ],
    });
  });

  it('shows why earlier routes did not match, and the weights and policies of the one that did', async () => {
    const { body } = await getJson(
      `${(await adminMesh({ config: CONFIG })).url}/debug/route?host=reviews&port=9080&path=/reviews/1&header=end-user:bill`,
    );
    const evaluated = body.evaluated as Record<string, unknown>[];
    expect(evaluated.map((route) => [route.name, route.isMatched])).toEqual([
      ['jason', false],
      ['split', true],
    ]);
    const blocks = (evaluated[0]?.blocks ?? []) as Record<string, unknown>[];
    expect(blocks[0]?.conditions).toContainEqual({
      field: 'headers.end-user',
      wants: { exact: 'jason' },
      got: 'bill',
      isMatched: false,
    });
    expect(body.route).toMatchObject({
      name: 'split',
      destinations: [
        { subset: 'v1', weight: 75, percent: 75 },
        { subset: 'v2', weight: 25, percent: 25 },
      ],
      retry: { attempts: 2, perTryTimeoutMs: 1000, retryOn: ['5xx'] },
      policies: { fault: { delay: { fixedDelay: 1000, percentage: { value: 1 } } } },
    });
  });

  it('says when the host is not in the mesh, and refuses a question without a host', async () => {
    const { url } = await adminMesh({ config: CONFIG });
    expect((await getJson(`${url}/debug/route?host=example.com&path=/`)).body).toMatchObject({
      resolvedHost: null,
      outcome: 'passthrough',
    });
    const missing = await getJson(`${url}/debug/route?path=/`);
    expect(missing.status).toBe(400);
    expect(missing.body.error).toContain('host is required');
    expect((await getJson(`${url}/debug/route?host=reviews&header=nocolon`)).status).toBe(400);
  });
});
