/**
 * Chaos, control agent (issue 10): the agent is a real process — `weft agent` (the package's bin)
 * or support/agent-child.ts where the test must choose its heartbeat — the upstreams are real
 * processes, and a caller in this process sends closed-loop traffic through @weft/http while the
 * agent is killed, wiped or stalled. Each scenario asserts what was lost (nothing, unless it says
 * otherwise) and bounds how long recovery took; the measured times go into the test annotation.
 *
 * Related package tests (not repeated here): bad-inputs-control-plane.test.ts B2 (SIGKILL, 20
 * sequential requests), B3 (in-process agent on an empty store), B4 (in-process relay stall);
 * e2e-agents-on-etcd.test.ts (SIGKILL of one of two agents under load, with failover).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Mesh } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentProcess, killAgentProcesses } from '../packages/control-agent/test/support/agent-process.ts';
import {
  admin,
  applyYaml,
  callerMesh,
  cleanups,
  disruptionMs,
  isSuccess,
  meshDispatcher,
  recordFigures,
  registerWorkload,
  runCleanups,
  sleep,
  startLoad,
  summarize,
  timeUntil,
  watchAgent,
  workloadMesh,
  workloadOf,
} from './support/chaos.ts';
import { killChildren, startAgentChild, startUpstreamChild } from './support/child.ts';
import { FaultProxy } from './support/fault-proxy.ts';

afterEach(async () => {
  await runCleanups();
  await killAgentProcesses();
  await killChildren();
});

const REVIEWS_URL = 'http://reviews:9080/reviews/1';
const REVIEWS_HOST = 'reviews.default.svc.cluster.local';

function reviewsYaml(subset: 'v1' | 'v2'): string {
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: default }
spec:
  host: reviews
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: default }
spec:
  hosts: [reviews]
  http:
  - name: to-${subset}
    route: [{ destination: { host: reviews, subset: ${subset} } }]
`;
}

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'weft-chaos-'));
  cleanups.push(() => rm(directory, { recursive: true, force: true }));
  return directory;
}

/** reviews v1 (two endpoints) and v2 (one), in one child process; name → port. */
async function reviewsUpstreams(): Promise<ReadonlyMap<string, number>> {
  const { ports } = await startUpstreamChild(['reviews-v1-0', 'reviews-v1-1', 'reviews-v2-0']);
  return ports;
}

function reviewsWorkloads(ports: ReadonlyMap<string, number>) {
  return [...ports].map(([name, port]) =>
    workloadOf('reviews', name, port, name.includes('v2') ? 'v2' : 'v1'),
  );
}

function routedSubset(mesh: Mesh): string | undefined {
  return mesh.outbound.routeTable(REVIEWS_HOST, 9080)?.routes[0]?.destinations[0]?.subset;
}

/** How many endpoints the first route's destination has, as the caller sees it now. */
function routedEndpoints(mesh: Mesh): number {
  const destination = mesh.outbound.routeTable(REVIEWS_HOST, 9080)?.routes[0]?.destinations[0];
  return destination === undefined ? 0 : (mesh.outbound.cluster(destination)?.endpoints.length ?? 0);
}

describe('chaos: the agent is SIGKILLed and restarted under load', () => {
  it('loses no request, keeps every registration, and the client resumes from its mark once the agent is back', async ({
    annotate,
  }) => {
    const dataDir = await temporaryDirectory();
    const first = await AgentProcess.start(['--data-dir', dataDir]);
    const ports = await reviewsUpstreams();
    expect((await applyYaml(first.url, reviewsYaml('v1'))).status).toBe(200);
    for (const workload of reviewsWorkloads(ports)) {
      expect((await registerWorkload(first.url, workload, 60_000)).status).toBe(201);
    }
    const mesh = callerMesh();
    const watched = watchAgent(mesh, { agents: [first.url], backoff: { baseMs: 50, maxMs: 500 } });
    expect(await watched.client.ready).toBe('synced');
    const dispatcher = meshDispatcher(mesh);
    const load = startLoad(dispatcher, REVIEWS_URL, { concurrency: 8, maxMs: 30_000 });
    await sleep(300);

    const killedAtMs = performance.now();
    await first.kill();
    // While the agent is down: writes cannot happen, traffic goes on from the snapshot.
    expect((await applyYaml(first.url, reviewsYaml('v2'))).status).toBe(0);
    await sleep(1_000);
    expect(watched.client.state).toBe('stale');

    const second = await AgentProcess.start(['--data-dir', dataDir, '--port', String(first.port)]);
    const restartedAtMs = performance.now();
    const resyncMs = await timeUntil(() => watched.client.state === 'synced', 10_000);
    // Same data, same epoch: every registration survived, and a change reaches the client.
    const workloads = (await (await fetch(`${second.url}/v1/workloads`)).json()) as { items: unknown[] };
    expect(workloads.items).toHaveLength(3);
    const appliedAtMs = performance.now();
    expect((await applyYaml(second.url, reviewsYaml('v2'))).status).toBe(200);
    const isPropagated = (await timeUntil(() => routedSubset(mesh) === 'v2', 5_000)) !== undefined;
    const propagationMs = isPropagated ? performance.now() - appliedAtMs : undefined;
    await sleep(300);
    const outcomes = await load.stop();
    const summary = summarize(outcomes);

    await recordFigures(annotate, 'agent SIGKILLed and restarted under load', {
      ...summary,
      downMs: Math.round(restartedAtMs - killedAtMs),
      restartToSyncedMs: Math.round(resyncMs ?? -1),
      applyToClientMs: Math.round(propagationMs ?? -1),
    });
    // Nothing lost: every request before, during and after the outage was answered 200.
    expect(summary.failureKinds).toEqual({});
    expect(summary.requests).toBeGreaterThan(200);
    expect(
      outcomes.filter((outcome) => outcome.startMs > killedAtMs && outcome.endMs < restartedAtMs).length,
    ).toBeGreaterThan(50);
    expect(new Set(outcomes.filter(isSuccess).map((outcome) => outcome.answer))).toEqual(
      new Set(['reviews-v1-0', 'reviews-v1-1', 'reviews-v2-0']),
    );
    // Recovery: bounded by the back-off cap (500 ms) plus start-up slack; the resume sent deltas only.
    expect(resyncMs).toBeDefined();
    expect(resyncMs).toBeLessThan(3_000);
    expect(propagationMs).toBeLessThan(2_000);
    expect(watched.applied.filter((entry) => entry.label.startsWith('snapshot'))).toHaveLength(1);
    expect(watched.connections.some((entry) => entry.type === 'disconnected')).toBe(true);
  }, 40_000);
});

describe("chaos: the agent's store is wiped (restart on an empty data directory)", () => {
  /**
   * Self-registering endpoints (leases renewed every ttl/3) re-register on their own when the
   * agent has forgotten them; the VirtualService and DestinationRule must be applied again.
   */
  async function selfRegisteringReviews(agentUrl: string, ports: ReadonlyMap<string, number>): Promise<void> {
    for (const workload of reviewsWorkloads(ports)) {
      const mesh = workloadMesh(workload);
      const watched = watchAgent(mesh, {
        agents: [agentUrl],
        register: { address: '127.0.0.1', ports: workload.ports, ttlMs: 1_500 },
        backoff: { baseMs: 50, maxMs: 300 },
      });
      await watched.client.ready;
    }
  }

  it('default policy: the client applies the new, empty epoch; requests fail fast and clearly until the operator restores config and registrations', async ({
    annotate,
  }) => {
    // Endpoints registered by the operator (as WorkloadEntries would be): the wipe loses them too.
    const dataDir = await temporaryDirectory();
    const first = await AgentProcess.start(['--data-dir', dataDir]);
    const ports = await reviewsUpstreams();
    const restore = async (agentUrl: string) => {
      expect((await applyYaml(agentUrl, reviewsYaml('v1'))).status).toBe(200);
      for (const workload of reviewsWorkloads(ports)) {
        expect((await registerWorkload(agentUrl, workload)).status).toBe(201);
      }
    };
    await restore(first.url);
    const mesh = callerMesh();
    const watched = watchAgent(mesh, { agents: [first.url], backoff: { baseMs: 50, maxMs: 300 } });
    await watched.client.ready;
    const load = startLoad(meshDispatcher(mesh), REVIEWS_URL, { concurrency: 4, maxMs: 30_000 });
    await sleep(300);

    await first.kill();
    await rm(dataDir, { recursive: true, force: true });
    const wipedAtMs = performance.now();
    const second = await AgentProcess.start(['--data-dir', dataDir, '--port', String(first.port)]);
    const emptiedMs = await timeUntil(
      () => watched.applied.some((entry) => entry.label.endsWith(':new-epoch')),
      5_000,
    );
    await sleep(500); // the operator notices
    const restoredAtMs = performance.now();
    await restore(second.url);
    const isRecovered = (await timeUntil(() => routedEndpoints(mesh) === 2, 5_000)) !== undefined;
    const recoveredAtMs = performance.now();
    const recoveredMs = isRecovered ? recoveredAtMs - restoredAtMs : undefined;
    await sleep(500);
    const outcomes = await load.stop();
    const afterRecovery = outcomes.filter((outcome) => outcome.startMs > recoveredAtMs);
    const failed = outcomes.filter((outcome) => !isSuccess(outcome));

    await recordFigures(annotate, 'agent store wiped, default policy', {
      ...summarize(outcomes),
      wipeToEmptiedMs: Math.round(emptiedMs ?? -1),
      failingWindowMs: disruptionMs(outcomes, wipedAtMs),
      restoreToServingMs: Math.round(recoveredMs ?? -1),
    });
    // What was lost, by design (the agent's truth is now empty): requests between the empty epoch
    // and the restore. They failed at once with a mesh answer (no hang, no timeout), and
    // nothing failed before the wipe.
    expect(emptiedMs).toBeLessThan(3_000);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((outcome) => outcome.startMs >= wipedAtMs)).toBe(true);
    expect(failed.every((outcome) => outcome.endMs < recoveredAtMs + 100)).toBe(true);
    expect(failed.every((outcome) => outcome.endMs - outcome.startMs < 1_000)).toBe(true);
    expect(failed.every((outcome) => outcome.status >= 500 || outcome.error !== undefined)).toBe(true);
    // Recovery: once restored, the next revision brings the routes back and every request succeeds.
    expect(recoveredMs).toBeLessThan(2_000);
    expect(afterRecovery.length).toBeGreaterThan(20);
    expect(afterRecovery.every(isSuccess)).toBe(true);
    expect(restoredAtMs).toBeGreaterThan(wipedAtMs);
  }, 40_000);

  it("emptyConfigPolicy 'keep-last-good': the client refuses the empty epoch and loses no request; a re-apply moves it on", async ({
    annotate,
  }) => {
    const dataDir = await temporaryDirectory();
    const first = await AgentProcess.start(['--data-dir', dataDir]);
    const ports = await reviewsUpstreams();
    expect((await applyYaml(first.url, reviewsYaml('v1'))).status).toBe(200);
    await selfRegisteringReviews(first.url, ports);
    const mesh = callerMesh();
    const watched = watchAgent(mesh, {
      agents: [first.url],
      backoff: { baseMs: 50, maxMs: 300 },
      emptyConfigPolicy: 'keep-last-good',
    });
    await watched.client.ready;
    const load = startLoad(meshDispatcher(mesh), REVIEWS_URL, { concurrency: 4, maxMs: 30_000 });
    await sleep(300);

    await first.kill();
    await rm(dataDir, { recursive: true, force: true });
    const second = await AgentProcess.start(['--data-dir', dataDir, '--port', String(first.port)]);
    const nackMs = await timeUntil(() => watched.nacks.length > 0, 5_000);
    // The endpoints register again on their own (their lease is unknown to the new store).
    const reregisteredMs = await timeUntil(async () => {
      const answer = await admin(second.url, 'GET', '/v1/workloads');
      return (answer.body.items as unknown[] | undefined)?.length === 3;
    }, 5_000);
    expect((await applyYaml(second.url, reviewsYaml('v2'))).status).toBe(200);
    const movedOnMs = await timeUntil(
      () => routedSubset(mesh) === 'v2' && watched.client.state === 'synced',
      5_000,
    );
    const movedOnAtMs = performance.now();
    await sleep(300);
    const outcomes = await load.stop();
    const summary = summarize(outcomes);

    await recordFigures(annotate, "agent store wiped, 'keep-last-good'", {
      ...summary,
      restartToNackMs: Math.round(nackMs ?? -1),
      restartToReregisteredMs: Math.round((nackMs ?? 0) + (reregisteredMs ?? -1)),
      reapplyToClientMs: Math.round(movedOnMs ?? -1),
    });
    expect(watched.nacks[0]).toMatch(/refused by emptyConfigPolicy 'keep-last-good'/);
    expect(reregisteredMs).toBeDefined();
    expect(summary.failureKinds).toEqual({});
    expect(summary.requests).toBeGreaterThan(100);
    expect(movedOnMs).toBeLessThan(3_000);
    const late = outcomes.filter((outcome) => outcome.startMs > movedOnAtMs);
    expect(late.length).toBeGreaterThan(20);
    expect(new Set(late.map((outcome) => outcome.answer))).toEqual(new Set(['reviews-v2-0']));
  }, 40_000);
});

describe('chaos: the watch stream stalls (TCP alive, no bytes)', () => {
  it('detects the stall within three heartbeats, reconnects, receives what changed meanwhile, and loses no request', async ({
    annotate,
  }) => {
    const HEARTBEAT_MS = 200;
    const agent = await startAgentChild({ heartbeatMs: HEARTBEAT_MS });
    const proxy = await FaultProxy.start({ targetPort: agent.port });
    cleanups.push(() => proxy.close());
    const ports = await reviewsUpstreams();
    expect((await applyYaml(agent.url, reviewsYaml('v1'))).status).toBe(200);
    for (const workload of reviewsWorkloads(ports)) {
      expect((await registerWorkload(agent.url, workload)).status).toBe(201);
    }
    const mesh = callerMesh();
    const watched = watchAgent(mesh, { agents: [proxy.url], backoff: { baseMs: 50, maxMs: 300 } });
    expect(await watched.client.ready).toBe('synced');
    await sleep(2 * HEARTBEAT_MS); // the client learns the agent's heartbeat interval
    const load = startLoad(meshDispatcher(mesh), REVIEWS_URL, { concurrency: 4, maxMs: 30_000 });
    await sleep(200);

    // Stall the stream the client holds; new connections still pass (a half-dead path).
    const stalledAtMs = performance.now();
    for (const connection of proxy.openConnections) connection.blackhole();
    expect((await applyYaml(agent.url, reviewsYaml('v2'))).status).toBe(200);
    const disconnectedAfterStall = () =>
      watched.connections.find((entry) => entry.atMs > stalledAtMs && entry.type === 'disconnected');
    await timeUntil(() => disconnectedAfterStall() !== undefined, 5_000);
    const detectedAt = disconnectedAfterStall()?.atMs;
    const detectedMs = detectedAt === undefined ? undefined : detectedAt - stalledAtMs;
    const hasConverged = (await timeUntil(() => routedSubset(mesh) === 'v2', 5_000)) !== undefined;
    const convergedMs = hasConverged ? performance.now() - stalledAtMs : undefined;
    await sleep(300);
    const outcomes = await load.stop();
    const summary = summarize(outcomes);

    await recordFigures(annotate, 'watch stream stalled', {
      ...summary,
      stallToDetectedMs: Math.round(detectedMs ?? -1),
      stallToConvergedMs: Math.round(convergedMs ?? -1),
    });
    expect(summary.failureKinds).toEqual({});
    expect(detectedMs).toBeDefined();
    // Not before a heartbeat's worth of silence (the last byte came up to one heartbeat before).
    expect(detectedMs).toBeGreaterThanOrEqual(HEARTBEAT_MS);
    expect(detectedMs).toBeLessThan(3 * HEARTBEAT_MS + 1_000);
    expect(convergedMs).toBeLessThan(3 * HEARTBEAT_MS + 2_000);
    // The change made during the stall arrived as a delta on the resumed stream, not a snapshot.
    expect(watched.applied.filter((entry) => entry.label.startsWith('snapshot'))).toHaveLength(1);
  }, 30_000);
});
