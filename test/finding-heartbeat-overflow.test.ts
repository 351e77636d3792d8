/**
 * Was a finding (see properties-watch-decoder.test.ts "heartbeat intervals the client cannot
 * time"); fixed by refusing heartbeat intervals above 10 minutes in the frame reader and in
 * createAgent. Before: a watch stream announcing a heartbeat interval of 1e9 ms (11.6 days; an
 * agent whose `heartbeatMs` is set that high to "turn heartbeats off" sends exactly this) makes
 * the client arm its stall timer at 3e9 ms, which Node's setTimeout runs after 1 ms instead. The
 * client then tears the stream down one millisecond after every chunk and reconnects in a loop.
 * Against a small stand-in agent on 127.0.0.1 that sends a snapshot, that heartbeat, and then a
 * heartbeat every 100 ms, the client should stay connected.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectToAgent, createMesh } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanups, runCleanups, sleep } from './support/chaos.ts';

afterEach(runCleanups);

async function standInAgent(heartbeatMs: number): Promise<string> {
  const streams = new Set<ServerResponse>();
  const server = createServer((request, response) => {
    if (request.url?.startsWith('/v1/watch') !== true) {
      request.resume();
      response.writeHead(204).end();
      return;
    }
    const mark = { epoch: 'stand-in', revision: 1 };
    response.writeHead(200, { 'content-type': 'application/x-ndjson' });
    response.write(`${JSON.stringify({ type: 'snapshot', mark, resources: [], workloads: [] })}\n`);
    response.write(`${JSON.stringify({ type: 'heartbeat', mark, heartbeatMs })}\n`);
    streams.add(response);
    const timer = setInterval(
      () => response.write(`${JSON.stringify({ type: 'heartbeat', mark, heartbeatMs })}\n`),
      100,
    );
    response.on('close', () => {
      clearInterval(timer);
      streams.delete(response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const stream of streams) stream.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function disconnectsWithin(heartbeatMs: number, windowMs: number): Promise<number> {
  const url = await standInAgent(heartbeatMs);
  const mesh = createMesh({
    workload: { name: 'productpage-v1-0', namespace: 'default', serviceAccount: 'productpage', labels: {} },
  });
  cleanups.push(() => mesh.close());
  const client = connectToAgent(mesh, { agents: [url], backoff: { baseMs: 20, maxMs: 100 } });
  cleanups.push(() => client.close());
  let disconnects = 0;
  client.events.connection.on((event) => {
    if (event.type === 'disconnected') disconnects += 1;
  });
  expect(await client.ready).toBe('synced');
  await sleep(windowMs);
  return disconnects;
}

describe('a heartbeat interval past what a timer can hold', () => {
  it('control: with a 1 s heartbeat interval the client stays connected', async () => {
    expect(await disconnectsWithin(1_000, 600)).toBe(0);
  });

  it('refuses a 1e9 ms heartbeat interval as a protocol error naming the limit, instead of timing out every chunk', async () => {
    const url = await standInAgent(1e9);
    const mesh = createMesh({
      workload: { name: 'productpage-v1-0', namespace: 'default', serviceAccount: 'productpage', labels: {} },
    });
    cleanups.push(() => mesh.close());
    const client = connectToAgent(mesh, { agents: [url], backoff: { baseMs: 20, maxMs: 100 } });
    cleanups.push(() => client.close());
    const ended = new Promise<unknown>((resolve) => {
      client.events.connection.on((event) => {
        if (event.type === 'disconnected' || event.type === 'failed') resolve(event.error);
      });
    });
    expect(String(await ended)).toMatch(/heartbeatMs is above 600000/);
  });
});
