/**
 * Chaos, control agent, long (issue 10; `npm run chaos`, ~1 minute each):
 *   - the `weft agent` process is SIGKILLed again and again under load (a seeded schedule of up
 *     and down times over 40 s), with config applied whenever it is up: no request is lost, no
 *     applied change is lost, and every recovery (restart → client synced) is bounded;
 *   - a watch stream stalls with the agent's default timings (5 s heartbeat, so the client needs
 *     up to 15 s to call it stalled): the data path does not wait for the stall to be found.
 * The seconds-long versions are in ../chaos-agent.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Mesh } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentProcess, killAgentProcesses } from '../../packages/control-agent/test/support/agent-process.ts';
import {
  applyYaml,
  callerMesh,
  cleanups,
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
} from '../support/chaos.ts';
import { killChildren, startUpstreamChild } from '../support/child.ts';
import { FaultProxy, seededUnit } from '../support/fault-proxy.ts';

afterEach(async () => {
  await runCleanups();
  await killAgentProcesses();
  await killChildren();
});

const REVIEWS_HOST = 'reviews.default.svc.cluster.local';
const routeName = (mesh: Mesh) => mesh.outbound.routeTable(REVIEWS_HOST, 9080)?.routes[0]?.name;

describe('chaos (long): the agent is SIGKILLed over and over under load', () => {
  it('loses no request and no applied change across eight crashes; every restart is followed by a bounded resync', async ({
    annotate,
  }) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'weft-chaos-restarts-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    let agent = await AgentProcess.start(['--data-dir', dataDir]);
    const port = agent.port;
    const { ports } = await startUpstreamChild(['reviews-v1-0', 'reviews-v1-1']);
    for (const [name, upstreamPort] of ports) {
      expect(
        (await registerWorkload(agent.url, workloadOf('reviews', name, upstreamPort), 600_000)).status,
      ).toBe(201);
    }
    expect((await applyYaml(agent.url, virtualServiceYaml('reviews', '', 'change-0'))).status).toBe(200);
    const mesh = callerMesh();
    const watched = watchAgent(mesh, { agents: [agent.url], backoff: { baseMs: 100, maxMs: 1_000 } });
    expect(await watched.client.ready).toBe('synced');
    const load = startLoad(meshDispatcher(mesh), 'http://reviews:9080/reviews/1', {
      concurrency: 4,
      maxMs: 120_000,
      pauseMs: 5,
    });

    const random = seededUnit(10);
    const resyncsMs: number[] = [];
    const propagationsMs: number[] = [];
    let lastApplied = 'change-0';
    for (let round = 1; round <= 8; round++) {
      await sleep(1_000 + random() * 2_000); // up
      await agent.kill();
      await sleep(500 + random() * 2_500); // down
      agent = await AgentProcess.start(['--data-dir', dataDir, '--port', String(port)]);
      const resyncMs = await timeUntil(() => watched.client.state === 'synced', 10_000);
      resyncsMs.push(Math.round(resyncMs ?? Number.POSITIVE_INFINITY));
      const name = `change-${round}`;
      const appliedAtMs = performance.now();
      expect((await applyYaml(agent.url, virtualServiceYaml('reviews', '', name))).status).toBe(200);
      await timeUntil(() => routeName(mesh) === name, 5_000);
      propagationsMs.push(Math.round(performance.now() - appliedAtMs));
      lastApplied = name;
    }
    await sleep(500);
    const outcomes = await load.stop();
    const summary = summarize(outcomes);

    await recordFigures(annotate, 'agent SIGKILLed eight times under load', {
      ...summary,
      restartToSyncedMs: resyncsMs,
      applyToClientMs: propagationsMs,
    });
    expect(summary.failureKinds).toEqual({});
    expect(routeName(mesh)).toBe(lastApplied);
    expect(Math.max(...resyncsMs)).toBeLessThan(1_000 + 2_000); // the back-off cap and start-up slack
    expect(Math.max(...propagationsMs)).toBeLessThan(2_000);
    // One epoch throughout (the data directory survives a crash): resumed, never resnapshotted.
    expect(watched.applied.filter((entry) => entry.label.startsWith('snapshot'))).toHaveLength(1);
  }, 120_000);
});

describe('chaos (long): a stalled watch stream with the agent’s default timings', () => {
  it('serves every request from the snapshot during the stall, finds it within three default heartbeats (15 s), and catches up', async ({
    annotate,
  }) => {
    const agent = await AgentProcess.start(['--in-memory']);
    const proxy = await FaultProxy.start({ targetPort: agent.port });
    cleanups.push(() => proxy.close());
    const { ports } = await startUpstreamChild(['reviews-v1-0']);
    for (const [name, upstreamPort] of ports) {
      expect((await registerWorkload(agent.url, workloadOf('reviews', name, upstreamPort))).status).toBe(201);
    }
    expect((await applyYaml(agent.url, virtualServiceYaml('reviews', '', 'before'))).status).toBe(200);
    const mesh = callerMesh();
    // The library's own back-off (500 ms … 30 s) and heartbeat multiplier: nothing tuned.
    const watched = watchAgent(mesh, { agents: [proxy.url], backoff: {} });
    expect(await watched.client.ready).toBe('synced');
    await sleep(6_000); // a first heartbeat (5 s) tells the client the interval
    const load = startLoad(meshDispatcher(mesh), 'http://reviews:9080/reviews/1', {
      concurrency: 2,
      maxMs: 60_000,
      pauseMs: 20,
    });

    const stalledAtMs = performance.now();
    for (const connection of proxy.openConnections) connection.blackhole();
    expect((await applyYaml(agent.url, virtualServiceYaml('reviews', '', 'during'))).status).toBe(200);
    const disconnectedAfterStall = () =>
      watched.connections.find((entry) => entry.atMs > stalledAtMs && entry.type === 'disconnected');
    await timeUntil(() => disconnectedAfterStall() !== undefined, 25_000);
    const detectedAt = disconnectedAfterStall()?.atMs;
    const detectedMs = detectedAt === undefined ? undefined : detectedAt - stalledAtMs;
    const hasConverged = (await timeUntil(() => routeName(mesh) === 'during', 35_000)) !== undefined;
    const convergedMs = hasConverged ? performance.now() - stalledAtMs : undefined;
    const outcomes = await load.stop();
    const summary = summarize(outcomes);

    await recordFigures(annotate, 'watch stream stalled, default timings', {
      ...summary,
      stallToDetectedMs: Math.round(detectedMs ?? -1),
      stallToConvergedMs: Math.round(convergedMs ?? -1),
    });
    expect(summary.failureKinds).toEqual({});
    expect(summary.requests).toBeGreaterThan(300);
    expect(detectedMs).toBeDefined();
    expect(detectedMs).toBeGreaterThanOrEqual(10_000); // two heartbeats of silence are not a stall
    expect(detectedMs).toBeLessThan(15_000 + 2_000);
    expect(convergedMs).toBeLessThan(15_000 + 2_000 + 1_000); // plus the first back-off step
  }, 90_000);
});
