/**
 * The agent client's registration: the workload registers under a lease, renews it every ttl/3,
 * registers again when the agent has forgotten it, and deregisters on close; the admin token is
 * sent when the agent requires one.
 */
import type { RegisteredWorkload } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { RegistrationEvent } from '../../core/src/agent-client/agent-client-events.ts';
import type { Agent } from '../src/index.ts';
import { connect, eventually, newMesh, newStore, runCleanups, seed, startAgent } from './client-harness.ts';

afterEach(runCleanups);

const TTL_MS = 1_000; // the agent's minimum

async function registered(agent: Agent): Promise<RegisteredWorkload[]> {
  const answer = (await (await fetch(`${agent.url}/v1/workloads`)).json()) as { items: RegisteredWorkload[] };
  return answer.items.filter((workload) => workload.service === 'productpage');
}

function productpageEndpoints(mesh: ReturnType<typeof newMesh>): number[] {
  const table = mesh.outbound.routeTable('productpage.default.svc.cluster.local', 9080);
  const destination = table?.routes[0]?.destinations[0];
  if (destination === undefined) return [];
  return (mesh.outbound.cluster(destination)?.endpoints ?? []).map((endpoint) => endpoint.port);
}

describe('agent client: registration', () => {
  it('registers, keeps the lease past its TTL by renewing every ttl/3, and deregisters on close', async () => {
    const store = await newStore();
    await seed(store);
    const agent = await startAgent(store);
    const mesh = newMesh();
    const { client } = connect(mesh, {
      agents: [agent.url],
      register: { address: '127.0.0.1', ports: { 9080: 29080 }, ttlMs: TTL_MS },
    });
    const events: RegistrationEvent['type'][] = [];
    client.events.registration.on((event) => events.push(event.type));
    await client.ready;

    expect(await eventually(async () => (await registered(agent)).length === 1)).toBe(true);
    expect((await registered(agent))[0]).toMatchObject({
      name: 'productpage-v1-0',
      namespace: 'default',
      service: 'productpage',
      serviceAccount: 'bookinfo-productpage',
      labels: { app: 'productpage', version: 'v1' },
      address: '127.0.0.1',
      ports: { 9080: 29080 },
    });
    // The registry comes back through the watch: the workload sees itself as an endpoint.
    expect(await eventually(() => productpageEndpoints(mesh).join() === '29080')).toBe(true);

    await new Promise((resolve) => setTimeout(resolve, 1.5 * TTL_MS));
    expect((await registered(agent)).length).toBe(1);
    expect(events.filter((type) => type === 'renewed').length).toBeGreaterThanOrEqual(3);
    expect(events).not.toContain('failed');

    await client.close();
    expect(events.at(-1)).toBe('deregistered');
    expect(await registered(agent)).toEqual([]);
  });

  it('registers again when the agent no longer knows the lease (a wiped store)', async () => {
    const first = await startAgent(await newStore());
    const mesh = newMesh();
    const { client } = connect(mesh, {
      agents: [first.url],
      register: { address: '127.0.0.1', ports: { 9080: 29080 }, ttlMs: TTL_MS },
    });
    const events: string[] = [];
    client.events.registration.on((event) => events.push(event.type));
    expect(await eventually(async () => (await registered(first)).length === 1)).toBe(true);

    await first.close();
    const second = await startAgent(await newStore(), { port: first.port });
    expect(await eventually(async () => (await registered(second)).length === 1, 3_000)).toBe(true);
    expect(events).toContain('lease-lost');
    expect(events.filter((type) => type === 'registered')).toHaveLength(2);
  });

  it('sends the admin token the agent requires, and reports a refusal without it', async () => {
    const adminToken = 'a-token-of-sixteen-or-more';
    const agent = await startAgent(await newStore(), { adminToken });

    const refused = connect(newMesh(), {
      agents: [agent.url],
      register: { address: '127.0.0.1', ports: { 9080: 29080 }, ttlMs: TTL_MS },
    });
    const failures: string[] = [];
    refused.client.events.registration.on((event) => {
      if (event.type === 'failed') failures.push(String((event.error as Error).message));
    });
    expect(await eventually(() => failures.length > 0)).toBe(true);
    expect(failures[0]).toMatch(/refused the registration: HTTP 401/);
    await refused.client.close();

    const accepted = connect(newMesh(), {
      agents: [agent.url],
      adminToken,
      register: { address: '127.0.0.1', ports: { 9080: 29080 }, ttlMs: TTL_MS },
    });
    expect(await eventually(async () => (await registered(agent)).length === 1)).toBe(true);
    await accepted.client.close();
    expect(await registered(agent)).toEqual([]);
  });
});
