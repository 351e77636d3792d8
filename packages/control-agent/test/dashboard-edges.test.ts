/**
 * Edge reports at the agent (PROTOCOL.md §3.8): the sliding window on explicit times, the merge
 * across clients with rates and percentiles, the report's checks, and `POST /v1/clients/{id}/edges`
 * and `GET /v1/edges` on a real agent on 127.0.0.1 — fed by hand, and by a real agent client whose
 * mesh makes telemetry calls.
 */
import { connectToAgent, EDGE_LATENCY_BUCKETS, type Mesh } from '@weft/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EdgeRegistry, type EdgeSource, type EdgeView } from '../src/dashboard/edge-registry.ts';
import { parseEdgeReport } from '../src/dashboard/edge-report-input.ts';
import { EdgeWindow } from '../src/dashboard/edge-window.ts';
import { latencyQuantileMs } from '../src/dashboard/latency-quantile.ts';
import { HttpError } from '../src/http/http-error.ts';
import type { Agent } from '../src/index.ts';
import {
  cleanups,
  eventually,
  newMesh,
  newStore,
  REVIEWS,
  runCleanups,
  seed,
  startAgent,
} from './client-harness.ts';
import { edge, edgeReport, postEdges, rawWatch } from './support/dashboard-harness.ts';

afterEach(runCleanups);

const V1 = { service: REVIEWS, subset: 'v1', version: 'v1' };
const V2 = { service: REVIEWS, subset: 'v2', version: 'v2' };
const PRODUCTPAGE: EdgeSource = {
  namespace: 'default',
  workload: 'productpage-v1',
  app: 'productpage',
  version: 'v1',
  service: 'productpage.default.svc.cluster.local',
};

describe('the sliding window (5 s buckets, 60 s)', () => {
  it('adds reports into the bucket of their arrival and sums the buckets a window covers', () => {
    const window = new EdgeWindow({ bucketMs: 5_000, buckets: 12 });
    window.add(1_000, edgeReport([edge(V1, 10)]));
    window.add(4_999, edgeReport([edge(V1, 5), edge(V2, 1)]));
    window.add(5_000, edgeReport([edge(V1, 7)]));

    const both = window.totals(9_000, 10_000);
    expect(both?.edges.get('http|reviews.default.svc.cluster.local|v1|v1')?.requests).toBe(22);
    expect(both?.edges.get('http|reviews.default.svc.cluster.local|v2|v2')?.requests).toBe(1);
    expect(both?.coveredMs).toBe(15_000);
    // A 5 s window at 9 s is the bucket [5 s, 10 s) only.
    expect(
      window.totals(9_000, 5_000)?.edges.get('http|reviews.default.svc.cluster.local|v1|v1')?.requests,
    ).toBe(7);
    // 60 s later the buckets have left every window.
    expect(window.totals(70_000, 60_000)).toBeUndefined();
  });

  it('reuses a bucket for a later time without keeping what it held', () => {
    const window = new EdgeWindow({ bucketMs: 5_000, buckets: 12 });
    window.add(0, edgeReport([edge(V1, 3)]));
    // 60 s later: the same ring slot, a new bucket.
    window.add(60_000, edgeReport([edge(V2, 4)]));
    const totals = window.totals(60_000, 60_000);
    expect([...(totals?.edges.keys() ?? [])]).toEqual(['http|reviews.default.svc.cluster.local|v2|v2']);
  });

  it('adds up latency buckets, codes, bytes, mTLS, faults and drops', () => {
    const window = new EdgeWindow({ bucketMs: 5_000, buckets: 12 });
    window.add(
      100,
      edgeReport([edge(V1, 4, { errors: 1, mtls: true })], {
        dropped: { edges: 1, requests: 9, reports: 2 },
        faults: [{ route: 'r', delays: 1, aborts: 2, overflows: 0 }],
      }),
    );
    window.add(
      200,
      edgeReport([edge(V1, 6, { errors: 2 })], {
        faults: [{ route: 'r', delays: 0, aborts: 1, overflows: 1 }],
      }),
    );
    const totals = window.totals(300, 60_000);
    const sum = totals?.edges.get('http|reviews.default.svc.cluster.local|v1|v1');
    expect(sum).toMatchObject({
      requests: 10,
      errors: 3,
      codes: { '200': 7, '503': 3 },
      requestBytes: 100,
      responseBytes: 1000,
      mtlsRequests: 4,
    });
    expect(sum?.latencyMs[3]).toBe(10);
    expect(totals?.faults.get('r')).toEqual({ delays: 1, aborts: 3, overflows: 1 });
    expect(totals).toMatchObject({ droppedEdges: 1, droppedRequests: 9, droppedReports: 2 });
  });
});

describe('latency quantiles', () => {
  it('interpolates within the bucket a quantile falls in', () => {
    const histogram = new Array<number>(EDGE_LATENCY_BUCKETS).fill(0);
    histogram[3] = 100; // (5, 10] ms
    expect(latencyQuantileMs(histogram, 0.5)).toBe(7.5);
    expect(latencyQuantileMs(histogram, 0.99)).toBeCloseTo(9.95);
    histogram[EDGE_LATENCY_BUCKETS - 1] = 100; // > 10 s
    expect(latencyQuantileMs(histogram, 0.99)).toBe(10_000);
    expect(latencyQuantileMs(new Array<number>(EDGE_LATENCY_BUCKETS).fill(0), 0.5)).toBeUndefined();
  });
});

describe('the edge registry', () => {
  it('merges the clients of one workload per edge, with rates over the time their reports cover', () => {
    const registry = new EdgeRegistry({ maxClients: 10 });
    registry.record('pp-1', PRODUCTPAGE, edgeReport([edge(V1, 50)]), 10_000);
    registry.record('pp-2', PRODUCTPAGE, edgeReport([edge(V1, 25, { errors: 5 }), edge(V2, 10)]), 10_000);
    const view = registry.view(10_000, 60_000);
    const v1 = view.edges.find((candidate) => candidate.destination.version === 'v1');
    expect(v1).toMatchObject({
      source: PRODUCTPAGE,
      requests: 75,
      errors: 5,
      reporters: 2,
      // 50 and 25 requests in 5 s each: 10 + 5 per second.
      requestsPerSecond: 15,
      errorRate: 0.0667,
      p50Ms: 7.5,
    });
    expect(view.edges.map((candidate) => candidate.destination.version)).toEqual(['v1', 'v2']);
    expect(view.clients.map((client) => [client.clientId, client.requests])).toEqual([
      ['pp-1', 50],
      ['pp-2', 35],
    ]);
  });

  it('lets the rate of a client that went silent decay, and forgets it after the window', () => {
    const registry = new EdgeRegistry({ maxClients: 10 });
    registry.record('pp-1', PRODUCTPAGE, edgeReport([edge(V1, 50)]), 10_000);
    expect(registry.view(12_000, 60_000).edges[0]?.requestsPerSecond).toBe(10);
    // Silent for 20 s past its 5 s interval: 50 requests over 25 s.
    expect(registry.view(35_000, 60_000).edges[0]?.requestsPerSecond).toBe(2);
    expect(registry.view(80_000, 60_000).edges).toEqual([]);
    expect(registry.view(80_000, 60_000).clients).toHaveLength(0);
  });

  it('keeps at most maxClients, forgetting the one silent longest', () => {
    const registry = new EdgeRegistry({ maxClients: 2 });
    registry.record('a', PRODUCTPAGE, edgeReport([edge(V1, 1)]), 1_000);
    registry.record('b', PRODUCTPAGE, edgeReport([edge(V1, 1)]), 2_000);
    registry.record('a', PRODUCTPAGE, edgeReport([edge(V1, 1)]), 3_000);
    registry.record('c', PRODUCTPAGE, edgeReport([edge(V1, 1)]), 4_000);
    expect(registry.view(4_000, 60_000).clients.map((client) => client.clientId)).toEqual(['a', 'c']);
  });

  it('keeps the latest ejections and certificate of each client', () => {
    const registry = new EdgeRegistry({ maxClients: 2 });
    const ejection = {
      cluster: `outbound|9080|v1|${REVIEWS}`,
      endpoint: '127.0.0.1:1',
      reason: 'consecutive-5xx',
      ejectedForMs: 10,
      times: 1,
    };
    registry.record(
      'a',
      PRODUCTPAGE,
      edgeReport([], { ejections: [ejection], certificate: { notAfter: '2030-01-01T00:00:00.000Z' } }),
      1_000,
    );
    expect(registry.view(1_000, 60_000).clients[0]).toMatchObject({
      ejections: [ejection],
      certificate: { notAfter: '2030-01-01T00:00:00.000Z' },
    });
    registry.record('a', PRODUCTPAGE, edgeReport([]), 2_000);
    expect(registry.view(2_000, 60_000).clients[0]).toMatchObject({ ejections: [], certificate: null });
  });
});

describe('edge report checks', () => {
  const refusal = (body: unknown): string => {
    try {
      parseEdgeReport(body);
    } catch (error) {
      if (error instanceof HttpError && error.status === 400) return error.message;
      throw error;
    }
    return 'accepted';
  };

  it('accepts a well-formed report and ignores fields it does not know', () => {
    const report = { ...edgeReport([edge(V1, 3)]), futureField: { x: 1 } };
    expect(parseEdgeReport(report)).toEqual(edgeReport([edge(V1, 3)]));
  });

  it('refuses inconsistent counts, wrong histograms, unknown codes and oversized lists, naming the field', () => {
    const good = edge(V1, 3);
    expect(refusal(edgeReport([{ ...good, errors: 4 }]))).toMatch(/edges\[0\]\.errors cannot exceed/);
    expect(refusal(edgeReport([{ ...good, latencyMs: [3] }]))).toMatch(/latencyMs must have 14 buckets/);
    expect(refusal(edgeReport([{ ...good, latencyMs: good.latencyMs.map(() => 1) }]))).toMatch(/add up to/);
    expect(refusal(edgeReport([{ ...good, codes: { __proto__x: 1 } }]))).toMatch(/codes keys/);
    expect(refusal(edgeReport([{ ...good, requests: -1 }]))).toMatch(/requests must be an integer/);
    expect(refusal(edgeReport([{ ...good, requestBytes: 1.5 }]))).toMatch(/requestBytes/);
    expect(refusal(edgeReport([{ ...good, protocol: 'tcp' as 'http' }]))).toMatch(/protocol/);
    expect(refusal(edgeReport(new Array(501).fill(good)))).toMatch(/at most 500/);
    expect(refusal(edgeReport([{ ...good, destination: { ...V1, service: 'x'.repeat(254) } }]))).toMatch(
      /destination\.service/,
    );
    expect(refusal({ ...edgeReport([]), certificate: { notAfter: 'soon' } })).toMatch(/notAfter/);
    expect(refusal([])).toMatch(/JSON object/);
  });
});

describe('POST /v1/clients/{id}/edges and GET /v1/edges on a real agent', () => {
  let agent: Agent;

  beforeEach(async () => {
    const store = await newStore();
    await seed(store);
    agent = await startAgent(store);
  });

  const view = async (windowMs?: number): Promise<EdgeView> =>
    (await (
      await fetch(`${agent.url}/v1/edges${windowMs === undefined ? '' : `?windowMs=${windowMs}`}`)
    ).json()) as EdgeView;

  it('records a report carrying the stream token under the watch’s workload, and serves the merged view', async () => {
    const watch = await rawWatch(agent, 'productpage-v1-abc', { workload: 'productpage-v1' });
    const answer = await postEdges(
      agent,
      watch.clientId,
      watch.token,
      edgeReport([edge(V1, 20, { errors: 2, mtls: true })]),
    );
    expect(answer).toEqual({ status: 200, body: { clientId: 'productpage-v1-abc', recorded: 1 } });
    const edges = await view();
    expect(edges.windowMs).toBe(60_000);
    expect(edges.edges).toHaveLength(1);
    expect(edges.edges[0]).toMatchObject({
      source: { namespace: 'default', workload: 'productpage-v1', app: 'productpage', version: 'v1' },
      destination: V1,
      requests: 20,
      errors: 2,
      mtlsRequests: 20,
      errorRate: 0.1,
    });
    expect((await view(10_000)).windowMs).toBe(10_000);
  });

  it('refuses a report without the current stream token (403), for an unknown client (404), and a bad body (400)', async () => {
    const watch = await rawWatch(agent, 'pp-1');
    expect((await postEdges(agent, 'pp-1', undefined, edgeReport([]))).status).toBe(403);
    expect((await postEdges(agent, 'pp-1', 'x'.repeat(24), edgeReport([]))).status).toBe(403);
    expect((await postEdges(agent, 'nobody', watch.token, edgeReport([]))).status).toBe(404);
    const bad = await postEdges(agent, 'pp-1', watch.token, { source: {} });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/source\.app/);
    expect((await postEdges(agent, 'pp-1', watch.token, '{')).status).toBe(400);
    // A replaced stream's token is refused too.
    const again = await rawWatch(agent, 'pp-1');
    expect((await postEdges(agent, 'pp-1', watch.token, edgeReport([]))).status).toBe(403);
    expect((await postEdges(agent, 'pp-1', again.token, edgeReport([]))).status).toBe(200);
    expect((await view()).edges).toEqual([]);
  });

  it('refuses a body over maxRequestBytes (413) and a window outside the buckets (400)', async () => {
    const store = await newStore();
    const small = await startAgent(store, { limits: { maxRequestBytes: 2_000 } });
    const watch = await rawWatch(small, 'pp-1');
    const big = edgeReport(new Array(40).fill(edge(V1, 1)));
    const answer = await fetch(`${small.url}/v1/clients/pp-1/edges`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-weft-stream-token': watch.token },
      body: JSON.stringify(big),
    });
    expect(answer.status).toBe(413);
    await answer.body?.cancel();
    for (const windowMs of ['1000', '120000', 'abc']) {
      const refused = await fetch(`${agent.url}/v1/edges?windowMs=${windowMs}`);
      expect(refused.status).toBe(400);
      await refused.body?.cancel();
    }
  });
});

describe('a real agent client reports its mesh’s outbound calls', () => {
  it('sends what the mesh’s telemetry saw, with no SDK installed, to the agent it streams from', async () => {
    const store = await newStore();
    await seed(store);
    const agent = await startAgent(store);
    const mesh: Mesh = newMesh();
    const client = connectToAgent(mesh, { agents: [agent.url], edges: { intervalMs: 100 } });
    cleanups.push(() => client.close());
    expect(await client.ready).toBe('synced');
    const route = mesh.outbound.routeTable(REVIEWS, 9080)?.routes[0];
    const destination = route?.destinations[0];
    const cluster = destination === undefined ? undefined : mesh.outbound.cluster(destination);
    const endpoint = cluster?.endpoints[0];
    expect(endpoint).toBeDefined();
    if (cluster === undefined || endpoint === undefined) return;
    for (let index = 0; index < 7; index++) {
      const call = mesh.telemetry.startClientCall({
        path: '/reviews/0',
        method: 'GET',
        authority: 'reviews:9080',
        scheme: 'http',
        port: 9080,
        header: () => undefined,
      });
      call?.attemptStarted(cluster, endpoint);
      call?.responded(index === 0 ? 503 : 200);
      call?.end();
    }
    let edges: EdgeView | undefined;
    expect(
      await eventually(async () => {
        edges = (await (await fetch(`${agent.url}/v1/edges`)).json()) as EdgeView;
        return edges.edges.length > 0;
      }),
    ).toBe(true);
    expect(edges?.edges[0]).toMatchObject({
      source: {
        namespace: 'default',
        workload: 'productpage-v1-0',
        app: 'productpage',
        version: 'v1',
        service: 'productpage.default.svc.cluster.local',
      },
      destination: { service: REVIEWS, subset: 'v1', version: 'v1' },
      requests: 7,
      errors: 1,
      codes: { '200': 6, '503': 1 },
    });
    expect(edges?.clients.map((entry) => entry.clientId)).toEqual([client.clientId]);
  });

  it('reports nothing with `edges: false`', async () => {
    const store = await newStore();
    await seed(store);
    const agent = await startAgent(store);
    const mesh = newMesh();
    const client = connectToAgent(mesh, { agents: [agent.url], edges: false });
    cleanups.push(() => client.close());
    await client.ready;
    expect(
      mesh.telemetry.startClientCall({
        path: '/',
        method: 'GET',
        authority: 'reviews:9080',
        scheme: 'http',
        port: 9080,
        header: () => undefined,
      }),
    ).toBeUndefined();
  });
});
