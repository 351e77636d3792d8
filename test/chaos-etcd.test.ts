/**
 * Chaos, etcd (issue 10): a real etcd (Debian's etcd-server, on loopback), a real `weft agent`
 * process on it, real upstream processes, and a caller in this process under load, while etcd is
 * stopped (SIGTERM) and started again on its data. What must hold: no request is lost (the agent
 * serves its in-memory view), writes fail visibly while etcd is down and succeed again soon after
 * it is back, nothing applied before is lost, and a write after recovery reaches the client.
 *
 * Related package tests (not repeated here): e2e-agents-on-etcd.test.ts (etcd SIGKILLed and
 * restarted with two agents, no load), bad-inputs-control-plane.test.ts H2 (partition through a
 * relay), B10 (admission while the store is down), H5 (etcd wiped).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AgentProcess, killAgentProcesses } from '../packages/control-agent/test/support/agent-process.ts';
import { EtcdServer, etcdSkipReason } from '../packages/control-agent/test/support/etcd-server.ts';
import {
  admin,
  applyYaml,
  callerMesh,
  meshDispatcher,
  recordFigures,
  registerWorkload,
  runCleanups,
  sleep,
  startLoad,
  summarize,
  timeUntil,
  virtualServiceYaml,
  watchAgent,
  workloadOf,
} from './support/chaos.ts';
import { killChildren, startUpstreamChild } from './support/child.ts';

let etcd: EtcdServer | undefined;

afterEach(async () => {
  await runCleanups();
  await killAgentProcesses();
  await killChildren();
});
afterAll(async () => {
  await etcd?.close();
});

const REVIEWS_HOST = 'reviews.default.svc.cluster.local';

/** kind/name@resourceVersion of everything the agent stores. */
async function stored(agentUrl: string): Promise<string[]> {
  const answer = await admin(agentUrl, 'GET', '/v1/resources');
  if (answer.status !== 200) throw new Error(`GET /v1/resources answered ${answer.status}`);
  return (answer.body.items as { kind: string; metadata: { name: string; resourceVersion: string } }[])
    .map((item) => `${item.kind}/${item.metadata.name}@${item.metadata.resourceVersion}`)
    .sort();
}

describe('chaos: etcd is stopped and started again under load', () => {
  if (etcdSkipReason !== undefined) {
    it.skip(etcdSkipReason, () => {});
    return;
  }

  it('loses no request and nothing applied; writes fail visibly (503) while it is down and succeed again soon after', async ({
    annotate,
  }) => {
    etcd = await EtcdServer.start();
    const agent = await AgentProcess.start(['--store', `etcd://127.0.0.1:${etcd.clientPort}`]);
    const { ports } = await startUpstreamChild(['reviews-v1-0', 'reviews-v1-1']);
    expect((await applyYaml(agent.url, virtualServiceYaml('reviews', '', 'before'))).status).toBe(200);
    for (const [name, port] of ports) {
      expect((await registerWorkload(agent.url, workloadOf('reviews', name, port), 120_000)).status).toBe(
        201,
      );
    }
    const before = await stored(agent.url);
    const mesh = callerMesh();
    const watched = watchAgent(mesh, { agents: [agent.url] });
    expect(await watched.client.ready).toBe('synced');
    const load = startLoad(meshDispatcher(mesh), 'http://reviews:9080/reviews/1', {
      concurrency: 6,
      maxMs: 40_000,
    });
    await sleep(300);

    const stoppedAtMs = performance.now();
    await etcd.stop();
    const refusedStartMs = performance.now();
    const refused = await applyYaml(agent.url, virtualServiceYaml('reviews', '', 'while-down'));
    const refusalMs = performance.now() - refusedStartMs;
    // A client that connects now is served the agent's view (stale but consistent).
    const late = callerMesh();
    const lateClient = watchAgent(late, { agents: [agent.url] });
    expect(await lateClient.client.ready).toBe('synced');
    expect(late.outbound.routeTable(REVIEWS_HOST, 9080)?.routes[0]?.name).toBe('before');
    await sleep(1_000);

    const restartedAtMs = performance.now();
    await etcd.restart();
    const etcdUpMs = performance.now() - restartedAtMs;
    let firstWriteAtMs = 0;
    const writableMs = await timeUntil(async () => {
      const answer = await applyYaml(agent.url, virtualServiceYaml('reviews', '', 'after'));
      if (answer.status === 200) firstWriteAtMs = performance.now();
      return answer.status === 200;
    }, 15_000);
    const propagationMs = await timeUntil(
      () => mesh.outbound.routeTable(REVIEWS_HOST, 9080)?.routes[0]?.name === 'after',
      5_000,
    );
    await sleep(300);
    const outcomes = await load.stop();
    const summary = summarize(outcomes);
    const after = await stored(agent.url);

    await recordFigures(annotate, 'etcd stopped and restarted under load', {
      ...summary,
      downMs: Math.round(restartedAtMs - stoppedAtMs),
      writeRefusedInMs: Math.round(refusalMs),
      etcdStartMs: Math.round(etcdUpMs),
      etcdBackToWritableMs: Math.round(writableMs ?? -1),
      writeToClientMs: Math.round(propagationMs ?? -1),
      clientReconnects: watched.connections.filter((entry) => entry.type === 'disconnected').length,
    });
    expect(summary.failureKinds).toEqual({});
    expect(summary.requests).toBeGreaterThan(200);
    expect(refused.status).toBe(503);
    expect(refused.body.error?.code).toBe('store-unavailable');
    expect(refusalMs).toBeLessThan(10_000);
    // Nothing applied before was lost: the same resources (the VirtualService has a new version
    // now), and both registrations.
    expect(after.map((entry) => entry.split('@')[0])).toEqual(before.map((entry) => entry.split('@')[0]));
    const workloads = await admin(agent.url, 'GET', '/v1/workloads');
    expect((workloads.body.items as unknown[]).length).toBe(2);
    expect(writableMs).toBeLessThan(10_000);
    expect(propagationMs).toBeLessThan(2_000);
    expect(firstWriteAtMs).toBeGreaterThan(restartedAtMs);
    // The agent kept the client's stream through the outage: no reconnect was needed.
    expect(watched.connections.filter((entry) => entry.type === 'disconnected')).toEqual([]);
    expect(watched.client.state).toBe('synced');
  }, 60_000);
});
