/**
 * The dashboard's merged view across agents on one etcd (PROTOCOL.md §4.9), with real processes
 * where it matters: a real etcd on loopback ports, two agents in this process on it (each
 * announced in the store's agent directory under a lease), a real upstream, and a meshed client on
 * each agent calling it. Each agent alone shows its own client's calls; `?scope=mesh` on either
 * sums both; a peer that does not answer, or refuses, is reported missing within the deadline.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { connectToAgent, EDGE_LATENCY_BUCKETS, systemClock } from '@weft/core';
import { FakeClock } from '@weft/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BufferedSink, type CliIo } from '../src/cli/cli-io.ts';
import { main } from '../src/cli/main.ts';
import type { EdgeView, MergedEdge } from '../src/dashboard/edge-registry.ts';
import type { Agent, EtcdStore, MeshEdgeView } from '../src/index.ts';
import { AgentAnnouncement } from '../src/peers/agent-announcement.ts';
import type { AgentDirectory } from '../src/peers/agent-directory.ts';
import { mergeEdges } from '../src/peers/mesh-edge-view.ts';
import { fetchPeerEdges } from '../src/peers/peer-edges.ts';
import {
  cleanups,
  eventually,
  listen,
  newMesh,
  newStore,
  REVIEWS,
  reviewsEndpoints,
  reviewsRoute,
  reviewsSubsets,
  runCleanups,
  startAgent,
} from './client-harness.ts';
import { meshFetch, openEtcdStore, startUpstream } from './support/control-plane-fixtures.ts';
import { edge } from './support/dashboard-harness.ts';
import { EtcdServer, etcdSkipReason } from './support/etcd-server.ts';

afterEach(runCleanups);

const V1 = { service: REVIEWS, subset: 'v1', version: 'v1' };
const PEER_TIMEOUT_MS = 1_000;

async function weft(args: readonly string[]): Promise<{ code: number; stdout: string }> {
  const stdout = new BufferedSink();
  const io: CliIo = {
    stdout,
    stderr: new BufferedSink(),
    readStdin: async () => '',
    env: {},
    cwd: process.cwd(),
    now: () => Date.now(),
    shutdown: new AbortController().signal,
  };
  const code = await main(args, io);
  return { code, stdout: stdout.text };
}

async function viewOf<T = EdgeView>(agent: Agent, query = ''): Promise<T> {
  return (await (await fetch(`${agent.url}/v1/edges${query}`)).json()) as T;
}

function requestsTo(view: { readonly edges: readonly MergedEdge[] }, service: string): number {
  return view.edges
    .filter((candidate) => candidate.destination.service === service)
    .reduce((sum, candidate) => sum + candidate.requests, 0);
}

describe('two agents on one etcd: each its own clients’ edges, merged on request', () => {
  if (etcdSkipReason !== undefined) {
    it.skip(etcdSkipReason, () => {});
    return;
  }

  let etcd: EtcdServer;
  let storeA: EtcdStore;
  let agentA: Agent;
  let agentB: Agent;

  beforeEach(async () => {
    etcd = await EtcdServer.start();
    cleanups.push(() => etcd.close());
    // Two stores, as two agent processes would have: they share nothing but etcd.
    storeA = await openEtcdStore(etcd.endpoint, '/weft-edges');
    const storeB = await openEtcdStore(etcd.endpoint, '/weft-edges');
    expect((await storeA.putResources([reviewsSubsets, reviewsRoute('v1')])).ok).toBe(true);
    const peers = { timeoutMs: PEER_TIMEOUT_MS, leaseTtlMs: 2_000 };
    agentA = await startAgent(storeA, { peers });
    agentB = await startAgent(storeB, { peers });
  }, 30_000);

  /** `calls` meshed requests to reviews from a productpage client of `agent`. */
  async function callThrough(agent: Agent, clientId: string, port: number, calls: number): Promise<void> {
    const mesh = newMesh();
    const client = connectToAgent(mesh, { agents: [agent.url], clientId, edges: { intervalMs: 100 } });
    cleanups.push(() => client.close());
    expect(await client.ready).toBe('synced');
    expect(await eventually(() => reviewsEndpoints(mesh, 'v1').includes(port), 5_000)).toBe(true);
    const fetchThrough = meshFetch(mesh);
    for (let index = 0; index < calls; index++) {
      const response = await fetchThrough('http://reviews:9080/', { signal: AbortSignal.timeout(5_000) });
      expect(response.status).toBe(200);
      await response.text();
    }
  }

  it('sums both agents’ windows in ?scope=mesh, on either agent, and lists both agents', async () => {
    const upstream = await startUpstream('reviews-v1');
    await storeA.registerWorkload(
      {
        name: 'reviews-v1-0',
        namespace: 'default',
        service: 'reviews',
        serviceAccount: 'bookinfo-reviews',
        labels: { app: 'reviews', version: 'v1' },
        address: '127.0.0.1',
        ports: { 9080: upstream.port },
      },
      60_000,
    );
    await callThrough(agentA, 'productpage-a', upstream.port, 4);
    await callThrough(agentB, 'productpage-b', upstream.port, 6);
    expect(await eventually(async () => requestsTo(await viewOf(agentA), REVIEWS) === 4, 5_000)).toBe(true);
    expect(await eventually(async () => requestsTo(await viewOf(agentB), REVIEWS) === 6, 5_000)).toBe(true);

    for (const asked of [agentA, agentB]) {
      const merged = await viewOf<MeshEdgeView>(asked, '?scope=mesh');
      expect(merged).toMatchObject({ scope: 'mesh', partial: false, missing: [], directoryError: null });
      expect(merged.agents.map((agent) => [agent.url, agent.self]).sort()).toEqual(
        [
          [agentA.url, asked === agentA],
          [agentB.url, asked === agentB],
        ].sort(),
      );
      const [sum] = merged.edges.filter((candidate) => candidate.destination.service === REVIEWS);
      // One edge (same source workload, same destination), both agents' counts and buckets summed.
      expect(merged.edges.filter((candidate) => candidate.destination.service === REVIEWS)).toHaveLength(1);
      expect(sum).toMatchObject({
        source: { workload: 'productpage-v1-0' },
        destination: V1,
        reporter: 'source',
        requests: 10,
        errors: 0,
        codes: { '200': 10 },
        reporters: 2,
      });
      expect(sum?.latencyMs.reduce((total, bucket) => total + bucket, 0)).toBe(10);
      expect(sum?.p50Ms).not.toBeNull();
      expect(merged.clients.map((client) => client.clientId).sort()).toEqual([
        'productpage-a',
        'productpage-b',
      ]);
    }
    // The dashboard's graph draws the merged counts when asked.
    const state = (await (await fetch(`${agentB.url}/v1/dashboard/state?scope=mesh`)).json()) as {
      scope: string;
      peers: { agents: unknown[]; partial: boolean };
      graph: { edges: { to: string; requests: number }[] };
    };
    expect(state.scope).toBe('mesh');
    expect(state.peers).toMatchObject({ partial: false });
    expect(state.peers.agents).toHaveLength(2);
    expect(state.graph.edges.find((graphEdge) => graphEdge.to === `svc:${REVIEWS}:v1`)?.requests).toBe(10);
    // Without the scope, each agent still serves its own clients' edges only.
    expect(requestsTo(await viewOf(agentA), REVIEWS)).toBe(4);
  });

  it('reports a peer that does not answer, or refuses, as missing within the deadline, and one that closed not at all', async () => {
    // A peer that accepts connections and never answers, and one that answers 500.
    const held: Socket[] = [];
    const silent = createTcpServer((socket) => held.push(socket));
    const silentPort = await listen(silent);
    cleanups.push(() => {
      for (const socket of held) socket.destroy();
    });
    const failing = createHttpServer((_request, response) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { message: 'the peer is broken' } }));
    });
    const failingPort = await listen(failing as unknown as Parameters<typeof listen>[0]);
    await storeA.agents.announce({ id: 'silent-agent', url: `http://127.0.0.1:${silentPort}` }, 10_000);
    await storeA.agents.announce({ id: 'failing-agent', url: `http://127.0.0.1:${failingPort}` }, 10_000);

    const startedAt = performance.now();
    const merged = await viewOf<MeshEdgeView>(agentA, '?scope=mesh');
    const elapsedMs = performance.now() - startedAt;
    // Bounded by the peer deadline (1 s), with room for a slow, shared machine.
    expect(elapsedMs).toBeLessThan(PEER_TIMEOUT_MS * 5);
    expect(merged.partial).toBe(true);
    expect(merged.agents.map((agent) => agent.url).sort()).toEqual([agentA.url, agentB.url].sort());
    expect(merged.missing.map((agent) => [agent.id, agent.reason]).sort()).toEqual([
      ['failing-agent', 'answered 500: the peer is broken'],
      ['silent-agent', `no answer within ${PEER_TIMEOUT_MS} ms`],
    ]);

    // `weft dashboard --mesh --check` says the same.
    const cli = await weft(['dashboard', '--mesh', '--check', '--agent', agentA.url]);
    expect(cli.code).toBe(0);
    expect(cli.stdout.split('\n')[0]).toBe(`${agentA.url}/dashboard?scope=mesh`);
    expect(cli.stdout).toMatch(/^agents: 2 merged, 2 missing \(.*no answer within 1000 ms.*\)$/m);

    // An agent that closes withdraws its record: it is no longer asked, so not missing either.
    await agentB.close();
    const after = await viewOf<MeshEdgeView>(agentA, '?scope=mesh');
    expect(after.agents.map((agent) => agent.url)).toEqual([agentA.url]);
    expect(after.missing.map((agent) => agent.id).sort()).toEqual(['failing-agent', 'silent-agent']);
  });
});

describe('merging and asking peers (no etcd)', () => {
  it('sums the counts, buckets and rates of one edge across agents, and keeps other edges apart', () => {
    const source = {
      namespace: 'default',
      workload: 'productpage-v1',
      app: 'productpage',
      version: 'v1',
    };
    const merged = (
      requests: number,
      bucket: number,
      reporter: 'source' | 'destination' = 'source',
    ): MergedEdge => ({
      ...edge(V1, requests, { errors: 1, bucket }),
      source,
      reporter,
      requestsPerSecond: requests / 10,
      errorRate: 0,
      p50Ms: null,
      p99Ms: null,
      reporters: 1,
    });
    const edges = mergeEdges([
      { edges: [merged(10, 3)] },
      { edges: [merged(30, 5), merged(2, 3, 'destination')] },
    ]);
    expect(edges).toHaveLength(2);
    const [sum, other] = edges;
    expect(sum).toMatchObject({
      reporter: 'source',
      requests: 40,
      errors: 2,
      codes: { '200': 38, '503': 2 },
      requestsPerSecond: 4,
      errorRate: 0.05,
      reporters: 2,
      requestBytes: 400,
    });
    expect(sum?.latencyMs[3]).toBe(10);
    expect(sum?.latencyMs[5]).toBe(30);
    expect(sum?.latencyMs).toHaveLength(EDGE_LATENCY_BUCKETS);
    // 40 requests, 10 in (5, 10] ms and 30 in (25, 50] ms: the median is in the upper bucket.
    expect(sum?.p50Ms).toBeGreaterThan(25);
    expect(other).toMatchObject({ reporter: 'destination', requests: 2 });
  });

  it('asks a peer with the admin token, refuses an answer that is not an edge view, and one too large', async () => {
    const token = 'peer-admin-token-0123456789';
    const answers: { authorization: string | undefined; url: string | undefined }[] = [];
    let body = JSON.stringify({ windowMs: 60_000, bucketMs: 5_000, edges: [], clients: [] });
    const peer = createHttpServer((request, response) => {
      answers.push({ authorization: request.headers.authorization, url: request.url });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(body);
    });
    const port = await listen(peer as unknown as Parameters<typeof listen>[0]);
    cleanups.push(() => peer.closeAllConnections());
    const record = { id: 'peer', url: `http://127.0.0.1:${port}` };
    const options = {
      adminToken: token,
      timeoutMs: 2_000,
      maxBytes: 10_000,
      clock: systemClock,
    };
    expect(await fetchPeerEdges(record, 30_000, options)).toEqual({
      windowMs: 60_000,
      edges: [],
      clients: [],
    });
    expect(answers[0]).toEqual({
      authorization: `Bearer ${token}`,
      url: '/v1/edges?scope=local&windowMs=30000',
    });
    body = JSON.stringify({ windowMs: 60_000, edges: [{ requests: -1 }] });
    await expect(fetchPeerEdges(record, 30_000, options)).rejects.toThrow(
      /edges\[0\]\.destination must be a JSON object/,
    );
    body = 'x'.repeat(20_000);
    await expect(fetchPeerEdges(record, 30_000, options)).rejects.toThrow(/more than 10000 bytes/);
  });

  it('renews its record, announces again once the lease lapsed or after a failure, and withdraws on close', async () => {
    const clock = new FakeClock(0);
    const calls: string[] = [];
    const warnings: string[] = [];
    let leases = 0;
    let isLive = true;
    let failNext = false;
    const directory: AgentDirectory = {
      announce: async (record, ttlMs) => {
        calls.push(`announce ${record.id} ${ttlMs}`);
        if (failNext) {
          failNext = false;
          throw new Error('etcd is down');
        }
        leases++;
        isLive = true;
        return `lease-${leases}`;
      },
      renew: async (leaseId) => {
        calls.push(`renew ${leaseId}`);
        return isLive;
      },
      withdraw: async (leaseId) => {
        calls.push(`withdraw ${leaseId}`);
      },
      list: async () => ({ agents: [], unreadable: 0 }),
    };
    const announcement = new AgentAnnouncement({
      directory,
      record: { id: 'agent-a', url: 'http://127.0.0.1:7070' },
      ttlMs: 3_000,
      clock,
      logger: { warn: (message) => warnings.push(message) },
    });
    const tick = async () => {
      clock.advance(1_000);
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    };
    await announcement.start();
    await tick(); // renewed
    isLive = false;
    failNext = true;
    await tick(); // lapsed: announcing again fails, and is logged
    await tick(); // announced again
    await announcement.close();
    expect(calls).toEqual([
      'announce agent-a 3000',
      'renew lease-1',
      'renew lease-1',
      'announce agent-a 3000',
      'announce agent-a 3000',
      'withdraw lease-2',
    ]);
    expect(warnings).toEqual(['could not announce the agent to its peers; retrying']);
  });

  it('refuses an unknown scope (400) and serves a mesh view of one agent on a store without peers', async () => {
    const agent = await startAgent(await newStore());
    const refused = await fetch(`${agent.url}/v1/edges?scope=everywhere`);
    expect(refused.status).toBe(400);
    const answer = (await refused.json()) as { error: { message: string } };
    expect(answer.error.message).toMatch(/scope must be "local"/);
    const alone = await viewOf<MeshEdgeView>(agent, '?scope=mesh');
    expect(alone).toMatchObject({ scope: 'mesh', partial: false, missing: [], directoryError: null });
    expect(alone.agents).toEqual([
      expect.objectContaining({ url: agent.url, self: true, edges: 0, clients: 0 }),
    ]);
  });
});
