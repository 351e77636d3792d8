/**
 * Destination-reported edges at the agent (PROTOCOL.md §3.8.2), end to end on 127.0.0.1: a real
 * agent, a `reviews` workload serving with @weft/http's createMeshServer and reporting edges, a
 * meshed `productpage` calling it through the mesh, and a plain fetch from outside the mesh. The
 * outside calls appear from the graph's `unknown` node; the meshed calls once, from productpage.
 */
import { connectToAgent, createMesh, type Mesh } from '@weft/core';
import { createMeshServer } from '@weft/http';
import { afterEach, describe, expect, it } from 'vitest';
import type { EdgeView, MergedEdge } from '../src/dashboard/edge-registry.ts';
import { parseEdgeReport } from '../src/dashboard/edge-report-input.ts';
import { UNKNOWN_NODE_ID } from '../src/dashboard/service-graph.ts';
import type { Agent } from '../src/index.ts';
import {
  cleanups,
  eventually,
  listen,
  newMesh,
  newStore,
  REVIEWS,
  reviewsRoute,
  reviewsSubsets,
  reviewsWorkload,
  runCleanups,
  startAgent,
} from './client-harness.ts';
import { meshFetch } from './support/control-plane-fixtures.ts';

afterEach(runCleanups);

const REPORT_INTERVAL_MS = 100;

/** A `reviews` v1 workload: its own mesh reporting to `agent`, serving with createMeshServer. */
async function startReviews(agent: Agent): Promise<{ readonly mesh: Mesh; readonly port: number }> {
  const mesh = createMesh({
    workload: {
      name: 'reviews-v1-0',
      namespace: 'default',
      serviceAccount: 'bookinfo-reviews',
      labels: { app: 'reviews', version: 'v1' },
      service: 'reviews',
    },
  });
  cleanups.push(() => mesh.close());
  const client = connectToAgent(mesh, {
    agents: [agent.url],
    clientId: 'reviews-v1-0',
    edges: { intervalMs: REPORT_INTERVAL_MS },
  });
  cleanups.push(() => client.close());
  expect(await client.ready).toBe('synced');
  const server = createMeshServer(mesh, (request, response) => {
    const status = request.url === '/fail' ? 503 : 200;
    response.writeHead(status, { 'content-type': 'text/plain' });
    response.end(status === 200 ? 'reviews' : 'down');
  });
  const port = await listen(server);
  cleanups.push(() => server.closeAllConnections());
  return { mesh, port };
}

async function edgesOf(agent: Agent): Promise<EdgeView> {
  return (await (await fetch(`${agent.url}/v1/edges`)).json()) as EdgeView;
}

function into(view: EdgeView, service: string): MergedEdge[] {
  return view.edges.filter((edge) => edge.destination.service === service);
}

describe('edges of calls no meshed client reports', () => {
  it('shows a plain caller as the unknown source, and a meshed caller’s calls once, from its own report', async () => {
    const store = await newStore();
    const agent = await startAgent(store);
    const reviews = await startReviews(agent);
    expect((await store.putResources([reviewsSubsets, reviewsRoute('v1')])).ok).toBe(true);
    await store.registerWorkload(reviewsWorkload('v1', reviews.port), 60_000);

    const productpage = newMesh();
    const caller = connectToAgent(productpage, {
      agents: [agent.url],
      clientId: 'productpage-v1-0',
      edges: { intervalMs: REPORT_INTERVAL_MS },
    });
    cleanups.push(() => caller.close());
    expect(await caller.ready).toBe('synced');
    expect(await eventually(() => productpage.outbound.resolveHost('reviews') !== undefined)).toBe(true);
    const meshed = meshFetch(productpage);
    for (let index = 0; index < 3; index++) {
      const response = await meshed('http://reviews:9080/', { signal: AbortSignal.timeout(5_000) });
      expect(response.status).toBe(200);
      await response.text();
    }
    // From outside the mesh: a plain client (curl, a browser, a service without Weft).
    for (const path of ['/', '/fail']) {
      const response = await fetch(`http://127.0.0.1:${reviews.port}${path}`, {
        signal: AbortSignal.timeout(5_000),
      });
      await response.text();
    }

    const settled = () =>
      eventually(async () => {
        const edges = into(await edgesOf(agent), REVIEWS);
        return edges.reduce((sum, edge) => sum + edge.requests, 0) >= 5;
      }, 5_000);
    expect(await settled()).toBe(true);
    // Several more reports later, nothing was counted twice.
    await new Promise((resolve) => setTimeout(resolve, REPORT_INTERVAL_MS * 4));
    const edges = into(await edgesOf(agent), REVIEWS);
    expect(edges.reduce((sum, edge) => sum + edge.requests, 0)).toBe(5);
    const outside = edges.find((edge) => edge.reporter === 'destination');
    expect(outside).toMatchObject({
      source: { namespace: 'unknown', workload: 'unknown' },
      destination: { service: REVIEWS, version: 'v1' },
      protocol: 'http',
      requests: 2,
      errors: 1,
      codes: { '200': 1, '503': 1 },
      mtlsRequests: 0,
    });
    expect(edges.find((edge) => edge.reporter === 'source')).toMatchObject({
      source: { workload: 'productpage-v1-0', service: 'productpage.default.svc.cluster.local' },
      destination: { service: REVIEWS, subset: 'v1', version: 'v1' },
      requests: 3,
      errors: 0,
    });

    const state = (await (await fetch(`${agent.url}/v1/dashboard/state`)).json()) as {
      graph: {
        nodes: { id: string; kind: string }[];
        edges: { from: string; to: string; requests: number; reportedBy: string[] }[];
      };
    };
    expect(state.graph.nodes.find((node) => node.id === UNKNOWN_NODE_ID)?.kind).toBe('unknown');
    const reviewsNode = `svc:${REVIEWS}:v1`;
    expect(
      state.graph.edges
        .filter((edge) => edge.to === reviewsNode)
        .map((edge) => [edge.from, edge.requests, edge.reportedBy.join()])
        .sort(),
    ).toEqual([
      [`svc:productpage.default.svc.cluster.local:v1`, 3, 'source'],
      [UNKNOWN_NODE_ID, 2, 'destination'],
    ]);
  });

  it('refuses a malformed inbound edge, naming the field', () => {
    const good = {
      protocol: 'http',
      requests: 1,
      errors: 0,
      codes: { '200': 1 },
      latencyMs: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      durationMsSum: 1,
      requestBytes: 0,
      responseBytes: 0,
      mtlsRequests: 0,
      faults: 0,
    };
    const report = (inbound: unknown[]) => ({
      source: { app: 'reviews', version: 'v1', service: REVIEWS },
      intervalMs: 100,
      edges: [],
      inbound,
    });
    expect(parseEdgeReport(report([{ ...good, caller: { kind: 'unknown' } }])).inbound).toHaveLength(1);
    expect(() => parseEdgeReport(report([{ ...good, caller: { kind: 'someone' } }]))).toThrow(
      /inbound\[0\]\.caller\.kind/,
    );
    expect(() =>
      parseEdgeReport(
        report([
          { ...good, caller: { kind: 'peer', namespace: 'default', workload: 'x', app: 'x', version: 'v1' } },
        ]),
      ),
    ).toThrow(/inbound\[0\]\.caller\.principal/);
    expect(() => parseEdgeReport(report([{ ...good, errors: 2, caller: { kind: 'unknown' } }]))).toThrow(
      /inbound\[0\]\.errors cannot exceed/,
    );
  });
});
