/**
 * The control plane end to end, across processes (issue 4, Checks): one real etcd, two real
 * `weft agent` processes on it (the package's bin, SIGKILLed like a crash), and workload clients
 * (`connectToAgent`, with @weft/http's meshed fetch calling a real upstream) in this process.
 *   - a write through agent A reaches a client of agent B within a second;
 *   - killing agent A mid-stream under load loses no request, and the client moves to B;
 *   - killing and restarting etcd loses nothing applied, and agents and clients recover.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  connect,
  eventually,
  newMesh,
  reviewsSubsetsRouted,
  reviewsWorkload,
  runCleanups,
} from './client-harness.ts';
import { AgentProcess, killAgentProcesses } from './support/agent-process.ts';
import {
  applyYaml,
  hostRouteYaml,
  loadLoop,
  meshFetch,
  registerWorkload,
  reviewsYaml,
  startUpstream,
  storedSummary,
} from './support/control-plane-fixtures.ts';
import { EtcdServer, etcdSkipReason } from './support/etcd-server.ts';

/** The bound for "a write through agent A reaches a client of agent B". */
const PROPAGATION_BOUND_MS = 1_000;

describe('two weft agent processes on one etcd', () => {
  if (etcdSkipReason !== undefined) {
    it.skip(etcdSkipReason, () => {});
    return;
  }

  let etcd: EtcdServer;
  let agentA: AgentProcess;
  let agentB: AgentProcess;

  beforeEach(async () => {
    etcd = await EtcdServer.start();
    const store = ['--store', `etcd://127.0.0.1:${etcd.clientPort}`];
    [agentA, agentB] = await Promise.all([AgentProcess.start(store), AgentProcess.start(store)]);
  }, 20_000);
  afterEach(async () => {
    await runCleanups();
    await killAgentProcesses();
    await etcd.close();
  });

  it('delivers an apply through agent A to a client of agent B within a second', async () => {
    expect((await applyYaml(agentA.url, reviewsYaml('v1'))).status).toBe(200);
    const mesh = newMesh();
    const { client } = connect(mesh, { agents: [agentB.url] });
    expect(await client.ready).toBe('synced');
    // B may be serving the revision before the apply when the client connects (its etcd watch
    // delivers the apply moments later); the client then gets it as a delta.
    expect(await eventually(() => reviewsSubsetsRouted(mesh).join() === 'v1')).toBe(true);

    const appliedAt: { revision: number; atMs: number }[] = [];
    client.events.applied.on((event) =>
      appliedAt.push({ revision: event.mark.revision, atMs: performance.now() }),
    );
    const elapsed: number[] = [];
    for (const subset of ['v2', 'v1', 'v2']) {
      const startedAt = performance.now();
      const answer = await applyYaml(agentA.url, reviewsYaml(subset));
      expect(answer.status).toBe(200);
      const revision = answer.body.mark?.revision ?? Number.POSITIVE_INFINITY;
      expect(
        await eventually(() => appliedAt.some((entry) => entry.revision >= revision), PROPAGATION_BOUND_MS),
      ).toBe(true);
      const reached = appliedAt.find((entry) => entry.revision >= revision);
      elapsed.push((reached?.atMs ?? Number.POSITIVE_INFINITY) - startedAt);
      expect(reviewsSubsetsRouted(mesh)).toEqual([subset]);
    }
    // Apply (HTTP, validation, etcd txn) → etcd watch → agent B → delta → client compiled it.
    expect(Math.max(...elapsed)).toBeLessThan(PROPAGATION_BOUND_MS);
    expect(client.agent).toBe(agentB.url);
  });

  it('loses no request when agent A is SIGKILLed mid-stream under load, and the client moves to B', async () => {
    const upstream = await startUpstream('reviews-v1');
    expect((await applyYaml(agentA.url, reviewsYaml('v1'))).status).toBe(200);
    expect((await registerWorkload(agentA.url, reviewsWorkload('v1', upstream.port))).status).toBe(201);
    const mesh = newMesh();
    const { client, seen } = connect(mesh, { agents: [agentA.url, agentB.url] });
    expect(await client.ready).toBe('synced');
    expect(
      await eventually(
        () => mesh.outbound.routeTable('reviews.default.svc.cluster.local', 9080) !== undefined,
      ),
    ).toBe(true);
    expect(client.agent).toBe(agentA.url);
    const fetchThrough = meshFetch(mesh);

    let completedAtKill = -1;
    const startedAt = performance.now();
    const load = loadLoop(fetchThrough, 'http://reviews:9080/reviews/1', {
      concurrency: 4,
      shouldStop: (completed) => {
        if (completedAtKill < 0 && completed >= 300) {
          completedAtKill = completed;
          void agentA.kill();
        }
        return completed >= 2_000 || performance.now() - startedAt > 2_000;
      },
    });
    const result = await load;

    expect(agentA.isRunning).toBe(false);
    expect(completedAtKill).toBeGreaterThan(0);
    // Traffic went on after the kill, and not one request failed: the snapshot kept serving.
    expect(result.completed - completedAtKill).toBeGreaterThan(100);
    expect(result.failures).toEqual([]);
    expect([...result.bodies]).toEqual(['reviews-v1']);
    expect(upstream.served()).toBe(result.completed);

    expect(await eventually(() => client.agent === agentB.url && client.state === 'synced', 5_000)).toBe(
      true,
    );
    expect(seen.connections).toContain(`disconnected ${agentA.url}`);
    // Both agents serve one etcd (one epoch): the client resumed at B, it did not start over.
    expect(seen.applied.filter((entry) => entry.startsWith('snapshot'))).toHaveLength(1);
    expect((await applyYaml(agentB.url, reviewsYaml('v2'))).status).toBe(200);
    expect(await eventually(() => reviewsSubsetsRouted(mesh).join() === 'v2')).toBe(true);
  });

  it('loses no applied config when etcd is SIGKILLed and restarted on its data; agents and clients recover', async () => {
    for (let index = 0; index < 5; index += 1) {
      expect((await applyYaml(agentA.url, hostRouteYaml(`svc-${index}`))).status).toBe(200);
    }
    expect((await applyYaml(agentA.url, reviewsYaml('v1'))).status).toBe(200);
    expect((await applyYaml(agentA.url, reviewsYaml('v2'))).status).toBe(200); // generation 2
    expect((await registerWorkload(agentA.url, reviewsWorkload('v2', 19082))).status).toBe(201);
    const before = await storedSummary(agentA.url);
    expect(before).toHaveLength(7);
    expect(await storedSummary(agentB.url)).toEqual(before);
    const mesh = newMesh();
    const { client } = connect(mesh, { agents: [agentB.url] });
    expect(await client.ready).toBe('synced');
    expect(reviewsSubsetsRouted(mesh)).toEqual(['v2']);

    await etcd.kill();
    // Writes fail visibly; the client keeps serving what it had.
    const refused = await applyYaml(agentA.url, hostRouteYaml('while-down'));
    expect(refused.status).toBe(503);
    expect(refused.body.error?.code).toBe('store-unavailable');
    expect(reviewsSubsetsRouted(mesh)).toEqual(['v2']);

    await etcd.restart();
    expect(
      await eventually(async () => {
        try {
          return (await storedSummary(agentB.url)).join() === before.join();
        } catch {
          return false;
        }
      }, 10_000),
    ).toBe(true);
    expect(await storedSummary(agentA.url)).toEqual(before);
    const workloads = (await (await fetch(`${agentB.url}/v1/workloads`)).json()) as { items: unknown[] };
    expect(workloads.items).toEqual([reviewsWorkload('v2', 19082)]);

    // Both agents follow etcd again: a write through A reaches B's client.
    expect(
      await eventually(async () => (await applyYaml(agentA.url, reviewsYaml('v1'))).status === 200, 5_000),
    ).toBe(true);
    expect(await eventually(() => reviewsSubsetsRouted(mesh).join() === 'v1', 5_000)).toBe(true);
    expect(client.state).toBe('synced');
    expect(agentA.isRunning && agentB.isRunning).toBe(true);
  });
});
