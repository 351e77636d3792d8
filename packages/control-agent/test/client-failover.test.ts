/**
 * The agent client when agents fail: failover between agents (B7), a stalled stream (B4), and
 * start-up with no agent — from the last-good file, or in the `unavailable` state, never hanging
 * (B1).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { FakeClock } from '@weft/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cleanups,
  clientView,
  connect,
  eventually,
  freePort,
  HEARTBEAT_MS,
  listen,
  newMesh,
  newStore,
  REVIEWS,
  reviewsRoute,
  reviewsSubsetsRouted,
  runCleanups,
  seed,
  stallableRelay,
  startAgent,
  temporaryDirectory,
} from './client-harness.ts';

afterEach(runCleanups);

describe('agent client: failover (B7)', () => {
  it('moves to the second agent when the first goes away, without a new snapshot', async () => {
    const store = await newStore();
    await seed(store);
    const primary = await startAgent(store);
    const secondary = await startAgent(store);
    const mesh = newMesh();
    const { client, seen } = connect(mesh, { agents: [primary.url, secondary.url] });
    expect(await client.ready).toBe('synced');
    expect(client.agent).toBe(primary.url);

    await primary.close();
    expect(await eventually(() => client.agent === secondary.url && client.state === 'synced')).toBe(true);
    await store.putResources([reviewsRoute('v2')]);
    expect(await eventually(() => reviewsSubsetsRouted(mesh).join() === 'v2')).toBe(true);
    // Both agents follow one store (one epoch): the client resumed, it did not start over.
    expect(seen.applied.filter((entry) => entry.startsWith('snapshot'))).toHaveLength(1);
    expect(
      await eventually(async () => (await clientView(secondary, client.clientId))?.status === 'SYNCED'),
    ).toBe(true);
  });

  it('skips an agent that is down at start-up and syncs from the next', async () => {
    const store = await newStore();
    await seed(store);
    const agent = await startAgent(store);
    const mesh = newMesh();
    const { client, seen } = connect(mesh, { agents: [`http://127.0.0.1:${await freePort()}`, agent.url] });
    expect(await client.ready).toBe('synced');
    expect(client.agent).toBe(agent.url);
    expect(seen.connections[0]).toMatch(/^failed http:\/\/127\.0\.0\.1:\d+$/);
    expect(reviewsSubsetsRouted(mesh)).toEqual(['v1']);
  });
});

describe('agent client: stalled streams (B4)', () => {
  it('tears down a stream silent for 3 heartbeats (TCP alive, no bytes) and reconnects', async () => {
    const store = await newStore();
    await seed(store);
    const agent = await startAgent(store);
    const relay = await stallableRelay(agent);
    const mesh = newMesh();
    const { client, seen } = connect(mesh, { agents: [relay.url] });
    await client.ready;
    // The client learns the agent's heartbeat interval from its first heartbeat.
    const errors: string[] = [];
    client.events.connection.on((event) => {
      if (event.type === 'disconnected') errors.push(String((event.error as Error).message));
    });
    await new Promise((resolve) => setTimeout(resolve, 2 * HEARTBEAT_MS));

    const stalledAt = performance.now();
    relay.stall();
    expect(await eventually(() => errors.length > 0, 2_000)).toBe(true);
    const detectedAfterMs = performance.now() - stalledAt;
    expect(errors[0]).toMatch(/silent for 300 ms \(stalled\)/);
    // 3 heartbeats after the last byte, which came at most one heartbeat before the stall.
    expect(detectedAfterMs).toBeGreaterThanOrEqual(2 * HEARTBEAT_MS - 20);
    expect(detectedAfterMs).toBeLessThan(3 * HEARTBEAT_MS + 500);
    // Meanwhile the data path served on; then a new connection through the relay resyncs.
    expect(reviewsSubsetsRouted(mesh)).toEqual(['v1']);
    expect(await eventually(() => client.state === 'synced', 2_000)).toBe(true);
    await store.putResources([reviewsRoute('v2')]);
    expect(await eventually(() => reviewsSubsetsRouted(mesh).join() === 'v2')).toBe(true);
    expect(seen.states).toContain('stale');
  });

  it('detects an agent process stopped with SIGSTOP, and syncs again after SIGCONT', async () => {
    const child = await spawnAgentProcess();
    const mesh = newMesh();
    const { client } = connect(mesh, { agents: [child.url], connectTimeoutMs: 200 });
    expect(await client.ready).toBe('synced');
    expect(reviewsSubsetsRouted(mesh)).toEqual(['v1']);
    await new Promise((resolve) => setTimeout(resolve, 2 * HEARTBEAT_MS));

    child.process.kill('SIGSTOP');
    const stoppedAt = performance.now();
    expect(await eventually(() => client.state === 'stale', 2_000)).toBe(true);
    expect(performance.now() - stoppedAt).toBeLessThan(3 * HEARTBEAT_MS + 500);
    // Reconnect attempts time out against the stopped process (the kernel accepts, nobody answers).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(client.state).toBe('stale');
    expect(reviewsSubsetsRouted(mesh)).toEqual(['v1']);

    child.process.kill('SIGCONT');
    expect(await eventually(() => client.state === 'synced', 3_000)).toBe(true);
  });
});

describe('agent client: start-up without an agent (B1)', () => {
  it('serves the last-good file when no agent answers, then resumes from its mark', async () => {
    const store = await newStore();
    await seed(store);
    const file = join(await temporaryDirectory(), 'state', 'last-good.json');
    const first = await startAgent(store);
    const earlierMesh = newMesh();
    const earlier = connect(earlierMesh, { agents: [first.url], lastGoodFile: file });
    await earlier.client.ready;
    await store.putResources([reviewsRoute('v2')]);
    expect(await eventually(() => reviewsSubsetsRouted(earlierMesh).join() === 'v2')).toBe(true);
    await earlier.client.close(); // waits for the file to be written
    const saved = JSON.parse(await readFile(file, 'utf8')) as { type: string; mark: unknown };
    expect(saved.type).toBe('snapshot');
    expect(saved.mark).toEqual(first.mark());
    await first.close();

    const mesh = newMesh();
    const startedAt = performance.now();
    const { client, seen } = connect(mesh, {
      agents: [first.url],
      lastGoodFile: file,
      startupTimeoutMs: 5_000,
    });
    expect(await client.ready).toBe('stale');
    // Every agent refused at once: start-up did not wait out startupTimeoutMs.
    expect(performance.now() - startedAt).toBeLessThan(1_000);
    expect(seen.applied).toEqual([`last-good-file@${first.mark().revision}`]);
    expect(reviewsSubsetsRouted(mesh)).toEqual(['v2']);

    const second = await startAgent(store, { port: first.port });
    expect(await eventually(() => client.state === 'synced')).toBe(true);
    // Resumed from the file's mark: the agent had nothing new to send.
    expect(seen.applied).toHaveLength(1);
    expect((await clientView(second, client.clientId))?.snapshotsSent).toBe(0);
  });

  it('is `unavailable` at once when no agent answers and there is no file, and closes promptly', async () => {
    const mesh = newMesh();
    const startedAt = performance.now();
    const { client, seen } = connect(mesh, {
      agents: [`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`],
    });
    expect(await client.ready).toBe('unavailable');
    expect(performance.now() - startedAt).toBeLessThan(1_000);
    expect(client.appliedMark).toBeUndefined();
    expect(seen.connections.every((entry) => entry.startsWith('failed'))).toBe(true);
    // The mesh holds no config from the control plane: no mesh host is known, and unknown hosts
    // follow the outbound traffic policy.
    expect(mesh.outbound.routeTable(REVIEWS, 9080)).toBeUndefined();
    expect(mesh.outbound.outboundTrafficPolicy).toBe('ALLOW_ANY');
    const closing = performance.now();
    await client.close();
    expect(performance.now() - closing).toBeLessThan(200);
    expect(client.state).toBe('closed');
  });

  it('gives up waiting on a blackholed agent after startupTimeoutMs', async () => {
    const sockets = new Set<Socket>();
    // Accepts and reads, never answers.
    const blackhole = createServer((socket) => sockets.add(socket.resume()));
    cleanups.push(() => {
      for (const socket of sockets) socket.destroy();
    });
    const port = await listen(blackhole);
    const startedAt = performance.now();
    const { client } = connect(newMesh(), { agents: [`http://127.0.0.1:${port}`], startupTimeoutMs: 300 });
    expect(await client.ready).toBe('unavailable');
    const waitedMs = performance.now() - startedAt;
    expect(waitedMs).toBeGreaterThanOrEqual(290);
    expect(waitedMs).toBeLessThan(1_000);
  });

  it('waits for start-up on the injected clock, not on wall time', async () => {
    const sockets = new Set<Socket>();
    const blackhole = createServer((socket) => sockets.add(socket.resume()));
    const port = await listen(blackhole);
    cleanups.push(() => {
      for (const socket of sockets) socket.destroy();
    });
    const clock = new FakeClock();
    const { client } = connect(newMesh(), {
      agents: [`http://127.0.0.1:${port}`],
      clock,
      startupTimeoutMs: 60_000,
      connectTimeoutMs: 120_000,
    });
    let state: string | undefined;
    void client.ready.then((ready) => {
      state = ready;
    });
    expect(await eventually(() => sockets.size === 1)).toBe(true);
    clock.advance(59_999);
    await new Promise((resolve) => setImmediate(resolve));
    expect(state).toBeUndefined();
    expect(client.state).toBe('connecting');
    clock.advance(1);
    expect(await eventually(() => state === 'unavailable', 500)).toBe(true);
  });

  it('refuses a corrupt last-good file, says why, and is `unavailable`', async () => {
    const file = join(await temporaryDirectory(), 'last-good.json');
    await writeFile(
      file,
      '{"type":"snapshot","mark":{"epoch":"e","revision":1},"resources":[{"kind":"Virtual',
    );
    const { client } = connect(newMesh(), {
      agents: [`http://127.0.0.1:${await freePort()}`],
      lastGoodFile: file,
    });
    const problems: string[] = [];
    client.events.problem.on((event) =>
      problems.push(`${event.operation}: ${(event.error as Error).message}`),
    );
    expect(await client.ready).toBe('unavailable');
    expect(problems).toEqual([expect.stringMatching(/^last-good-read: the last-good file .* is unusable/)]);
    expect((await stat(file)).size).toBeGreaterThan(0); // left for the operator to inspect
  });

  it('refuses a last-good file whose config is invalid, serving nothing from it', async () => {
    const file = join(await temporaryDirectory(), 'last-good.json');
    const bad = {
      type: 'snapshot',
      mark: { epoch: 'e', revision: 1 },
      resources: [
        {
          apiVersion: 'networking.istio.io/v1',
          kind: 'VirtualService',
          metadata: { name: 'reviews', namespace: 'default' },
          spec: { hosts: 'reviews' },
        },
      ],
      workloads: [],
    };
    await writeFile(file, JSON.stringify(bad));
    const { client } = connect(newMesh(), {
      agents: [`http://127.0.0.1:${await freePort()}`],
      lastGoodFile: file,
    });
    const problems: string[] = [];
    client.events.problem.on((event) => problems.push(String((event.error as Error).message)));
    expect(await client.ready).toBe('unavailable');
    expect(problems[0]).toMatch(/VirtualService\/default\/reviews spec\.hosts/);
  });
});

/**
 * An agent in a child process (so that it can be stopped with SIGSTOP), on a MemoryStore seeded
 * like the in-process ones. It prints its URL on its first line of output.
 */
async function spawnAgentProcess(): Promise<{ url: string; process: ChildProcess }> {
  const source = (path: string) => JSON.stringify(fileURLToPath(new URL(path, import.meta.url)));
  const script = `
    import { createAgent } from ${source('../src/index.ts')};
    import { MemoryStore } from ${source('../src/store/memory-store.ts')};
    import { seed } from ${source('./client-harness.ts')};
    const store = await MemoryStore.open();
    await seed(store);
    const agent = await createAgent({ store, heartbeatMs: ${HEARTBEAT_MS}, coalesceWindowMs: 0 });
    console.log(agent.url);
  `;
  const child = spawn(
    process.execPath,
    ['--conditions=@weft/source', '--no-warnings', '--input-type=module', '--eval', script],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  cleanups.push(() => {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the agent process did not start: ${stderr}`)), 10_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line.trim());
    });
    child.once('exit', (code) => reject(new Error(`the agent process exited (${code}): ${stderr}`)));
  });
  return { url, process: child };
}
