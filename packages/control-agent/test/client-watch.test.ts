/**
 * The workload side of the watch protocol (@weft/core's agent client) against real agents on
 * 127.0.0.1: the first snapshot and its ACK, deltas, NACKs with the last good config serving
 * (B6), and agent restarts: same store → resume; changed store → snapshot; wiped store → new
 * epoch; store restored from a backup → lower revision (B2, B3, H5).
 */
import { cp } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Agent } from '../src/index.ts';
import { MemoryStore } from '../src/store/memory-store.ts';
import {
  cleanups,
  clientView,
  connect,
  eventually,
  HEARTBEAT_MS,
  newMesh,
  newStore,
  REVIEWS,
  reviewsEndpoints,
  reviewsRoute,
  reviewsSubsets,
  reviewsSubsetsRouted,
  reviewsWorkload,
  runCleanups,
  seed,
  startAgent,
  temporaryDirectory,
  virtualService,
} from './client-harness.ts';

afterEach(runCleanups);

// ---- tests ----------------------------------------------------------------------------------------

describe('agent client: sync, ACK and NACK', () => {
  let store: MemoryStore;
  let agent: Agent;

  beforeEach(async () => {
    store = await newStore();
    await seed(store);
    agent = await startAgent(store);
  });

  it('applies the first snapshot (config and registry at once), ACKs it, and sends its config dump when asked', async () => {
    const mesh = newMesh();
    const { client, seen } = connect(mesh, { agents: [agent.url] });
    expect(await client.ready).toBe('synced');
    expect(client.state).toBe('synced');
    expect(client.appliedMark).toEqual(agent.mark());
    expect(seen.applied).toEqual([`snapshot@${agent.mark().revision}`]);
    expect(reviewsSubsetsRouted(mesh)).toEqual(['v1']);
    expect(reviewsEndpoints(mesh, 'v1')).toEqual([19080]);
    expect(client.clientId).toMatch(/^productpage-v1-0\.default-[0-9a-z]{6}$/);

    expect(
      await eventually(async () => (await clientView(agent, client.clientId))?.status === 'SYNCED'),
    ).toBe(true);
    expect((await clientView(agent, client.clientId))?.acked).toEqual(agent.mark());
    const dump = (await (await fetch(`${agent.url}/v1/clients/${client.clientId}/config`)).json()) as {
      dumpMark: unknown;
      isCurrent: boolean;
      configDump: {
        routeTables: { host: string; routes: { name: string }[] }[];
        clusters: { name: string; endpoints: number }[];
      };
    };
    expect(dump).toMatchObject({ dumpMark: agent.mark(), isCurrent: true });
    const table = dump.configDump.routeTables.find((candidate) => candidate.host === REVIEWS);
    expect(table?.routes.map((route) => route.name)).toEqual(['to-v1']);
    expect(dump.configDump.clusters).toContainEqual(
      expect.objectContaining({ name: `outbound|9080|v1|${REVIEWS}`, endpoints: 1 }),
    );
  });

  it('applies deltas: a new route, a deleted resource, a registered and a lapsed workload', async () => {
    const mesh = newMesh();
    const { client, seen } = connect(mesh, { agents: [agent.url] });
    await client.ready;

    await store.putResources([reviewsRoute('v2')]);
    expect(await eventually(() => reviewsSubsetsRouted(mesh).join() === 'v2')).toBe(true);
    await store.registerWorkload(reviewsWorkload('v2', 19082), 60_000);
    expect(await eventually(() => reviewsEndpoints(mesh, 'v2').join() === '19082')).toBe(true);
    await store.deleteResource({ kind: 'VirtualService', namespace: 'default', name: 'reviews' });
    // Without a VirtualService, reviews gets Istio's default route (no subset).
    expect(await eventually(() => reviewsSubsetsRouted(mesh).join() === '-')).toBe(true);

    expect(seen.applied[0]).toMatch(/^snapshot@/);
    expect(seen.applied.slice(1).every((entry) => entry.startsWith('delta@'))).toBe(true);
    expect(client.appliedMark).toEqual(agent.mark());
    expect(mesh.snapshot.revision).toBe(`${agent.mark().epoch}/${agent.mark().revision}`);
    expect(
      await eventually(
        async () => (await clientView(agent, client.clientId))?.acked?.revision === agent.mark().revision,
      ),
    ).toBe(true);
  });

  it('NACKs a bad revision once, with every error, and keeps serving the last good config (B6)', async () => {
    const mesh = newMesh();
    const { client, seen } = connect(mesh, { agents: [agent.url] });
    await client.ready;
    const good = mesh.snapshot;
    const rejected: string[] = [];
    mesh.events.rejected.on((event) => rejected.push(event.revision));

    // Straight to the store, around the agent's admission: two errors in one resource.
    await store.putResources([
      virtualService('reviews', {
        hosts: ['reviews'],
        http: [
          { route: [{ destination: { host: 'reviews', subset: 'v2' }, weight: 'heavy' }], timeout: 'soon' },
        ],
      }),
    ]);
    expect(await eventually(() => seen.nacks.length === 1)).toBe(true);
    const badMark = seen.nackMarks[0];
    expect(badMark).toEqual(agent.mark());
    expect(seen.nacks[0]).toMatch(/2 error\(s\)/);
    expect(seen.nacks[0]).toMatch(/VirtualService\/default\/reviews spec\.http\[0\]\.route\[0\]\.weight/);
    expect(seen.nacks[0]).toMatch(/spec\.http\[0\]\.timeout/);
    expect(client.state).toBe('stale');
    expect(client.appliedMark?.revision).toBeLessThan(badMark?.revision ?? 0);
    expect(mesh.snapshot).toBe(good);
    expect(reviewsSubsetsRouted(mesh)).toEqual(['v1']);
    expect(rejected).toEqual([`${badMark?.epoch}/${badMark?.revision}`]);

    expect(
      await eventually(async () => (await clientView(agent, client.clientId))?.status === 'NACKED'),
    ).toBe(true);
    const view = await clientView(agent, client.clientId);
    expect(view?.nacked).toEqual(badMark);
    expect(view?.error).toMatch(/weight/);
    // Several heartbeats later, still one NACK.
    await new Promise((resolve) => setTimeout(resolve, 3 * HEARTBEAT_MS));
    expect((await clientView(agent, client.clientId))?.nacks).toBe(1);

    // A fixed revision is applied on top of the refused one (the delta builds on what was sent).
    await store.putResources([reviewsRoute('v2')]);
    expect(await eventually(() => client.state === 'synced')).toBe(true);
    expect(reviewsSubsetsRouted(mesh)).toEqual(['v2']);
    expect(seen.nacks).toHaveLength(1);
  });

  it('NACKs a first snapshot that is bad, serving nothing from it', async () => {
    await store.putResources([virtualService('broken', { hosts: 7 })]);
    const mesh = newMesh();
    const { client, seen } = connect(mesh, { agents: [agent.url] });
    expect(await client.ready).toBe('stale');
    expect(seen.nacks[0]).toMatch(/VirtualService\/default\/broken spec\.hosts/);
    expect(client.appliedMark).toBeUndefined();
    expect(mesh.outbound.routeTable(REVIEWS, 9080)).toBeUndefined();
  });
});

describe('agent client: agent restarts (B2, B3)', () => {
  it('resumes from its mark after the agent restarts on the same store: no snapshot, then deltas', async () => {
    const store = await newStore();
    await seed(store);
    const first = await startAgent(store);
    const mesh = newMesh();
    const { client, seen } = connect(mesh, { agents: [first.url] });
    await client.ready;
    const firstMark = client.appliedMark;

    await first.close();
    expect(await eventually(() => client.state === 'stale')).toBe(true);
    expect(reviewsSubsetsRouted(mesh)).toEqual(['v1']); // the last applied config serves on
    const second = await startAgent(store, { port: first.port });
    expect(await eventually(() => client.state === 'synced')).toBe(true);
    await store.putResources([reviewsRoute('v2')]);

    expect(await eventually(() => reviewsSubsetsRouted(mesh).join() === 'v2')).toBe(true);
    expect(seen.applied).toEqual([`snapshot@${firstMark?.revision}`, `delta@${second.mark().revision}`]);
    const view = await clientView(second, client.clientId);
    expect(view?.snapshotsSent).toBe(0);
    expect(view?.deltasSent).toBe(1);
  });

  it('converges when the store changed while the agent was down (the agent answers the resume with a snapshot)', async () => {
    const store = await newStore();
    await seed(store);
    const first = await startAgent(store);
    const mesh = newMesh();
    const { client, seen } = connect(mesh, { agents: [first.url] });
    await client.ready;

    await first.close();
    await store.putResources([reviewsRoute('v2')]);
    const second = await startAgent(store, { port: first.port });

    expect(
      await eventually(() => client.state === 'synced' && reviewsSubsetsRouted(mesh).join() === 'v2'),
    ).toBe(true);
    expect(client.appliedMark).toEqual(second.mark());
    // This agent's change history starts when it started, so a client behind it gets a snapshot.
    expect(seen.applied.at(-1)).toBe(`snapshot@${second.mark().revision}:full-resync`);
  });

  it('resyncs fully when the agent comes back with a wiped store (new epoch), and says it emptied', async () => {
    const store = await newStore();
    await seed(store);
    const first = await startAgent(store);
    const mesh = newMesh();
    const { client, seen } = connect(mesh, { agents: [first.url] });
    await client.ready;
    const before = client.appliedMark;

    await first.close();
    const wiped = await newStore();
    const second = await startAgent(wiped, { port: first.port });
    expect(second.mark().epoch).not.toBe(before?.epoch);

    expect(await eventually(() => client.appliedMark?.epoch === second.mark().epoch)).toBe(true);
    expect(seen.applied.at(-1)).toBe(`snapshot@${second.mark().revision}:new-epoch`);
    expect(seen.emptied).toBe(1);
    expect(mesh.outbound.routeTable(REVIEWS, 9080)).toBeUndefined();
    expect(client.state).toBe('synced');
  });

  it("with emptyConfigPolicy 'keep-last-good', refuses a revision that removes every resource and keeps serving (A13)", async () => {
    const store = await newStore();
    await seed(store);
    const agent = await startAgent(store);
    const mesh = newMesh();
    const { client, seen } = connect(mesh, { agents: [agent.url], emptyConfigPolicy: 'keep-last-good' });
    await client.ready;
    expect(reviewsSubsetsRouted(mesh)).toEqual(['v1']);

    for (const kind of ['VirtualService', 'DestinationRule']) {
      expect((await store.deleteResource({ kind, namespace: 'default', name: 'reviews' })).ok).toBe(true);
    }
    expect(await eventually(() => seen.nacks.length === 1 && client.state === 'stale')).toBe(true);
    expect(seen.nacks[0]).toMatch(
      /removes every resource \(\d served\); refused by emptyConfigPolicy 'keep-last-good'/,
    );
    expect(seen.emptied).toBe(0);
    expect(reviewsSubsetsRouted(mesh)).toEqual(['v1']);
    expect(
      await eventually(async () => (await clientView(agent, client.clientId))?.status === 'NACKED'),
    ).toBe(true);

    // A revision with resources again is applied as usual.
    await store.putResources([reviewsSubsets, reviewsRoute('v2')]);
    expect(
      await eventually(() => client.state === 'synced' && reviewsSubsetsRouted(mesh).join() === 'v2'),
    ).toBe(true);
  });

  it('treats a lower revision of the same epoch (a store restored from a backup) as news, not "nothing new" (H5)', async () => {
    const dataDir = await temporaryDirectory();
    const live = await MemoryStore.open({ dataDir });
    cleanups.push(() => live.close()); // closed in the test already, unless it fails first
    await seed(live);
    const agent = await startAgent(live);
    const mesh = newMesh();
    const { client, seen } = connect(mesh, { agents: [agent.url] });
    await client.ready;
    const backupDir = await temporaryDirectory();
    await cp(dataDir, backupDir, { recursive: true });

    for (const subset of ['v2', 'v1', 'v2'])
      await live.putResources([reviewsRoute(subset, `later-${subset}`)]);
    expect(await eventually(() => client.appliedMark?.revision === agent.mark().revision)).toBe(true);
    const ahead = client.appliedMark;
    await agent.close();
    await live.close();

    const restored = await newStore(backupDir);
    const back = await restored.mark();
    expect(back.epoch).toBe(ahead?.epoch);
    expect(back.revision).toBeLessThan(ahead?.revision ?? 0);
    await startAgent(restored, { port: agent.port });

    expect(await eventually(() => client.appliedMark?.revision === back.revision)).toBe(true);
    expect(seen.applied.at(-1)).toBe(`snapshot@${back.revision}:revision-went-backwards`);
    expect(reviewsSubsetsRouted(mesh)).toEqual(['v1']);
    expect(mesh.outbound.routeTable(REVIEWS, 9080)?.routes[0]?.name).toBe('to-v1');
  });
});
