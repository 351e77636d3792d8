/**
 * What only the etcd store does, against a real etcd on loopback: real lease TTLs, compaction
 * (H1), crash and restart (H2), fencing between agents (H4), wiped and restored etcd (H5), a
 * stalled etcd (H3/B4). The Store contract itself is in store-contract.test.ts.
 */
import { cp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { RegisteredWorkload } from '@weft/core';
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EtcdStore, type EtcdStoreOptions } from '../src/store/etcd-store.ts';
import type { ResourceWrite, StoreEvent } from '../src/store/store.ts';
import { StoreCorruptError, StoreUnavailableError } from '../src/store/store-errors.ts';
import { EtcdServer, etcdSkipReason } from './support/etcd-server.ts';

function vs(name: string, spec: unknown = { hosts: [name] }): ResourceWrite {
  return {
    resource: {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name, namespace: 'default' },
      spec,
    },
  };
}

function workload(name: string): RegisteredWorkload {
  return {
    name,
    namespace: 'default',
    service: 'reviews',
    serviceAccount: 'bookinfo-reviews',
    labels: { app: 'reviews' },
    address: '127.0.0.1',
    ports: { 9080: 39080 },
  };
}

async function take(
  iterator: AsyncIterator<StoreEvent>,
  count: number,
  timeoutMs = 5_000,
): Promise<{ events: StoreEvent[]; isDone: boolean }> {
  const events: StoreEvent[] = [];
  const deadline = AbortSignal.timeout(timeoutMs);
  while (events.length < count) {
    const next = await Promise.race([
      iterator.next(),
      new Promise<never>((_, reject) =>
        deadline.addEventListener('abort', () => reject(new Error(`only ${events.length}/${count} events`))),
      ),
    ]);
    if (next.done === true) return { events, isDone: true };
    events.push(next.value);
  }
  return { events, isDone: false };
}

function summary(events: readonly StoreEvent[]): string[] {
  return events.map((event) =>
    event.type === 'put'
      ? `put ${event.resource.metadata.name}@${event.mark.revision}`
      : event.type === 'workload-delete'
        ? `workload-delete ${event.name}`
        : event.type,
  );
}

describe('EtcdStore on a real etcd', () => {
  if (etcdSkipReason !== undefined) {
    it.skip(etcdSkipReason, () => {});
    return;
  }

  let etcd: EtcdServer;
  let prefixNumber = 0;
  const stores: EtcdStore[] = [];
  const aborts: AbortController[] = [];
  let backgroundErrors: unknown[] = [];

  beforeAll(async () => {
    etcd = await EtcdServer.start();
  }, 20_000);
  afterAll(async () => {
    await etcd.close();
  });
  afterEach(async () => {
    for (const controller of aborts.splice(0)) controller.abort();
    for (const store of stores.splice(0)) await store.close();
    backgroundErrors = [];
    if (!etcd.isRunning) await etcd.restart();
  });

  async function open(options: Partial<EtcdStoreOptions> = {}, samePrefix = false): Promise<EtcdStore> {
    if (!samePrefix) prefixNumber += 1;
    const store = await EtcdStore.open({
      endpoints: etcd.endpoint,
      prefix: `/weft-etcd-${prefixNumber}`,
      requestTimeoutMs: 1_000,
      reconnectDelayMs: { initial: 50, max: 200 },
      onBackgroundError: (error) => backgroundErrors.push(error),
      ...options,
    });
    stores.push(store);
    return store;
  }

  function watch(store: EtcdStore, from: { epoch: string; revision: number }): AsyncIterator<StoreEvent> {
    const controller = new AbortController();
    aborts.push(controller);
    return store.watch(from, controller.signal)[Symbol.asyncIterator]();
  }

  it('deletes a workload when its etcd lease lapses (1 s TTL) and emits workload-delete', async () => {
    const store = await open();
    const events = watch(store, await store.mark());
    await store.registerWorkload(workload('reviews-v1-a'), 1_000);
    const { events: seen } = await take(events, 2, 6_000);
    expect(summary(seen)).toEqual(['workload-put', 'workload-delete reviews-v1-a']);
    expect(await store.listWorkloads()).toEqual([]);
  });

  it('answers resync when the watched revision was compacted (H1); list at R + watch from R misses nothing', async () => {
    const store = await open();
    await store.putResources([vs('a')]);
    const old = await store.mark();
    await store.putResources([vs('b')]);
    await store.putResources([vs('c')]);
    const admin = new Etcd3({ hosts: etcd.endpoint });
    try {
      await admin.kv.compact({ revision: (await store.mark()).revision, physical: true });
    } finally {
      admin.close();
    }
    const resynced = await take(watch(store, old), 2);
    expect(resynced.events.map((event) => event.type)).toEqual(['resync']);
    expect(resynced.isDone).toBe(true);

    const listed = await store.listResources();
    expect(listed.resources.map((resource) => resource.metadata.name)).toEqual(['a', 'b', 'c']);
    const resumed = watch(store, listed.mark);
    await store.putResources([vs('d')]);
    expect(summary((await take(resumed, 1)).events)).toEqual([`put d@${listed.mark.revision + 1}`]);
  });

  it('survives an etcd crash (H2): calls fail naming the endpoint, the watch resumes without gap or duplicate, nothing applied (resources, workloads, leases) is lost', async () => {
    const store = await open();
    const events = watch(store, await store.mark());
    await store.putResources([vs('a')]);
    expect(summary((await take(events, 1)).events)).toEqual([expect.stringMatching(/^put a@/)]);
    const { leaseId } = await store.registerWorkload(workload('reviews-v1-a'), 30_000);
    expect(summary((await take(events, 1)).events)).toEqual(['workload-put']);

    await etcd.kill();
    await expect(store.putResources([vs('b')])).rejects.toThrow(StoreUnavailableError);
    await expect(store.mark()).rejects.toThrow(`at ${etcd.endpoint} failed`);

    await etcd.restart();
    await vi.waitFor(() => store.putResources([vs('b')]), { timeout: 5_000, interval: 100 });
    await store.putResources([vs('c')]);
    const after = await take(events, 2);
    expect(summary(after.events).map((line) => line.split('@')[0])).toEqual(['put b', 'put c']);
    expect((await store.listResources()).resources.map((resource) => resource.metadata.name)).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(await store.listWorkloads()).toEqual([workload('reviews-v1-a')]);
    expect(await store.renewLease(leaseId)).toBe(true);
    expect(backgroundErrors.some((error) => error instanceof StoreUnavailableError)).toBe(true);
  });

  it('fences concurrent writers by revision (H4): of two agents writing the same version, one wins', async () => {
    const agentA = await open();
    const agentB = await open({}, true);
    const created = await agentA.putResources([vs('reviews')]);
    const version = created.ok ? created.stored[0]?.metadata.resourceVersion : undefined;
    const results = await Promise.all([
      agentA.putResources([{ ...vs('reviews', { hosts: ['from-a'] }), expectedResourceVersion: version }]),
      agentB.putResources([{ ...vs('reviews', { hosts: ['from-b'] }), expectedResourceVersion: version }]),
    ]);
    expect(results.map((result) => result.ok).sort()).toEqual([false, true]);
    const winner = results.findIndex((result) => result.ok);
    expect(
      (await agentB.getResource({ kind: 'VirtualService', namespace: 'default', name: 'reviews' }))?.spec,
    ).toEqual({
      hosts: [winner === 0 ? 'from-a' : 'from-b'],
    });
  });

  it('starts a new epoch when etcd is wiped (H5); running and resuming watchers resync', async () => {
    const store = await open();
    await store.putResources([vs('a'), vs('b')]);
    const before = await store.mark();
    const running = watch(store, before);
    await etcd.wipe();
    await etcd.restart();
    const after = await vi.waitFor(() => store.mark(), { timeout: 5_000, interval: 100 });
    expect(after.epoch).not.toBe(before.epoch);
    expect((await store.listResources()).resources).toEqual([]);
    expect((await take(running, 2)).events.map((event) => event.type)).toEqual(['resync']);
    expect((await take(watch(store, before), 1)).events.map((event) => event.type)).toEqual(['resync']);
  });

  it('starts a new epoch when etcd comes back at a lower revision (restored from a backup, H5)', async () => {
    const store = await open();
    await store.putResources([vs('a')]);
    await etcd.stop();
    const backup = `${etcd.dataDir}.backup`;
    await cp(etcd.dataDir, backup, { recursive: true });
    await etcd.restart();
    await vi.waitFor(() => store.putResources([vs('b')]), { timeout: 5_000, interval: 100 });
    await store.putResources([vs('c')]);
    const before = await store.mark();
    await etcd.stop();
    await rm(etcd.dataDir, { recursive: true });
    await cp(backup, etcd.dataDir, { recursive: true });
    await rm(backup, { recursive: true });
    await etcd.restart();

    const after = await vi.waitFor(() => store.mark(), { timeout: 5_000, interval: 100 });
    expect(after.epoch).not.toBe(before.epoch);
    expect(
      backgroundErrors.some((error) => error instanceof StoreCorruptError && /went back/.test(error.message)),
    ).toBe(true);
    expect((await take(watch(store, before), 1)).events.map((event) => event.type)).toEqual(['resync']);
  });

  it('replaces a watch stream that goes silent (SIGSTOP, H3/B4) and resumes when etcd answers again', async () => {
    const store = await open({ progressIntervalMs: 200, requestTimeoutMs: 500 });
    const events = watch(store, await store.mark());
    await store.putResources([vs('a')]);
    await take(events, 1);
    etcd.pause();
    try {
      await vi.waitFor(
        () =>
          expect(backgroundErrors.map(String).join('\n')).toMatch(
            /no answer from etcd for 400 ms \(stalled\)/,
          ),
        { timeout: 5_000, interval: 50 },
      );
    } finally {
      etcd.resume();
    }
    await vi.waitFor(() => store.putResources([vs('b')]), { timeout: 5_000, interval: 100 });
    expect(summary((await take(events, 1)).events)[0]).toMatch(/^put b@/);
  });

  it('refuses up front a put larger than one etcd transaction may be', async () => {
    const store = await open();
    const writes = Array.from({ length: 128 }, (_, index) => vs(`vs-${index}`));
    await expect(store.putResources(writes)).rejects.toThrow(/at most 127 resources/);
    expect(await store.putResources(writes.slice(0, 127))).toMatchObject({ ok: true });
  });

  it('rejects open() with an error naming the endpoint when nothing listens there', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    const endpoint = `http://127.0.0.1:${port}`;
    await expect(EtcdStore.open({ endpoints: endpoint, requestTimeoutMs: 1_000 })).rejects.toThrow(
      new RegExp(`etcd read at ${endpoint} failed`),
    );
  });
});
