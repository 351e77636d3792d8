/**
 * The Store contract, run against both stores: the embedded MemoryStore (persisting to a temp
 * directory) and EtcdStore on a real etcd (each test under its own key prefix). What differs
 * between them (leases on a fake clock vs real TTLs, persistence, compaction) is tested in
 * store-memory.test.ts and store-etcd.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigValidationError, type RegisteredWorkload, type StoredResource } from '@weft/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EtcdStore } from '../src/store/etcd-store.ts';
import { MemoryStore } from '../src/store/memory-store.ts';
import type { ResourceWrite, Store, StoreEvent } from '../src/store/store.ts';
import { StoreUnavailableError } from '../src/store/store-errors.ts';
import { EtcdServer, etcdSkipReason } from './support/etcd-server.ts';

const NOW = new Date('2025-01-02T03:04:05.678Z');

interface StoreKind {
  readonly name: string;
  readonly skipReason: string | undefined;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  open(): Promise<Store>;
}

let dataDir = '';
const memory: StoreKind = {
  name: 'MemoryStore',
  skipReason: undefined,
  async setUp() {},
  async tearDown() {},
  async open() {
    dataDir = await mkdtemp(join(tmpdir(), 'weft-store-contract-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    return MemoryStore.open({ dataDir, wallClock: () => NOW });
  },
};

let etcd: EtcdServer | undefined;
let prefixNumber = 0;
const etcdKind: StoreKind = {
  name: 'EtcdStore',
  skipReason: etcdSkipReason,
  async setUp() {
    etcd = await EtcdServer.start();
  },
  async tearDown() {
    await etcd?.close();
  },
  open() {
    prefixNumber += 1;
    return EtcdStore.open({
      endpoints: (etcd as EtcdServer).endpoint,
      prefix: `/weft-contract-${prefixNumber}`,
      wallClock: () => NOW,
    });
  },
};

const cleanups: (() => Promise<unknown>)[] = [];
const aborts: AbortController[] = [];

afterEach(async () => {
  for (const controller of aborts.splice(0)) controller.abort();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function signal(): AbortSignal {
  const controller = new AbortController();
  aborts.push(controller);
  return controller.signal;
}

function vs(name: string, spec: unknown = { hosts: [name] }, labels?: Record<string, string>): ResourceWrite {
  return {
    resource: {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name, namespace: 'default', ...(labels === undefined ? {} : { labels }) },
      spec,
    },
  };
}

function guarded(write: ResourceWrite, expectedResourceVersion: string): ResourceWrite {
  return { ...write, expectedResourceVersion };
}

function workload(name: string, version = 'v1'): RegisteredWorkload {
  return {
    name,
    namespace: 'default',
    service: 'reviews',
    serviceAccount: 'bookinfo-reviews',
    labels: { app: 'reviews', version },
    address: '127.0.0.1',
    ports: { 9080: 39080 },
  };
}

function ref(name: string) {
  return { kind: 'VirtualService', namespace: 'default', name };
}

/** Reads `count` events (or until the iteration ends), failing after `timeoutMs`. */
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

function names(events: readonly StoreEvent[]): string[] {
  return events.map(describeEvent);
}

function describeEvent(event: StoreEvent): string {
  switch (event.type) {
    case 'put':
      return `put ${event.resource.metadata.name}`;
    case 'delete':
      return `delete ${event.ref.name}`;
    case 'workload-put':
      return `workload-put ${event.workload.name}`;
    case 'workload-delete':
      return `workload-delete ${event.name}`;
    case 'resync':
      return 'resync';
  }
}

function stored(result: Awaited<ReturnType<Store['putResources']>>): readonly StoredResource[] {
  if (!result.ok) throw new Error(`unexpected conflict on ${result.conflict.name}`);
  return result.stored;
}

describe.each([memory, etcdKind])('$name', (kind) => {
  const skip = kind.skipReason;
  if (skip !== undefined) {
    it.skip(skip, () => {});
    return;
  }
  let store: Store;
  beforeAll(() => kind.setUp(), 20_000);
  afterAll(() => kind.tearDown());
  afterEach(async () => {
    await store.close();
  });
  async function open(): Promise<Store> {
    store = await kind.open();
    return store;
  }

  describe('resources', () => {
    it('creates a resource with generation 1, a uid, a creationTimestamp and resourceVersion = its revision', async () => {
      await open();
      expect(await store.listResources()).toMatchObject({ resources: [] });
      const result = await store.putResources([vs('reviews', { hosts: ['reviews'] }, { team: 'a' })]);
      expect(result.ok).toBe(true);
      const [created] = stored(result);
      expect(created).toMatchObject({
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'reviews', namespace: 'default', labels: { team: 'a' }, generation: 1 },
        spec: { hosts: ['reviews'] },
      });
      expect(created?.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(created?.metadata.creationTimestamp).toBe('2025-01-02T03:04:05Z');
      expect(result.ok && created?.metadata.resourceVersion).toBe(String(result.ok && result.mark.revision));
      expect(await store.getResource(ref('reviews'))).toEqual(created);
      expect(await store.getResource(ref('ratings'))).toBeUndefined();
      expect((await store.listResources()).resources).toEqual([created]);
    });

    it('grows generation only when spec changes; keeps uid and creationTimestamp', async () => {
      await open();
      const [first] = stored(await store.putResources([vs('reviews', { hosts: ['a'] })]));
      const [relabelled] = stored(await store.putResources([vs('reviews', { hosts: ['a'] }, { team: 'b' })]));
      expect(relabelled?.metadata.generation).toBe(1);
      expect(Number(relabelled?.metadata.resourceVersion)).toBeGreaterThan(
        Number(first?.metadata.resourceVersion),
      );
      const [respecced] = stored(await store.putResources([vs('reviews', { hosts: ['b'] }, { team: 'b' })]));
      expect(respecced?.metadata).toMatchObject({
        generation: 2,
        uid: first?.metadata.uid,
        creationTimestamp: first?.metadata.creationTimestamp,
      });
    });

    it('treats a write that changes nothing as a no-op: no new revision, no event', async () => {
      await open();
      const first = await store.putResources([vs('reviews', { hosts: ['a'], http: [{ timeout: '1s' }] })]);
      const before = await store.mark();
      // Same content, keys in another order.
      const again = await store.putResources([vs('reviews', { http: [{ timeout: '1s' }], hosts: ['a'] })]);
      expect(again).toEqual({ ok: true, mark: before, stored: stored(first) });
      expect(await store.mark()).toEqual(before);
    });

    it('refuses a write whose expectedResourceVersion is stale, and says what it is now', async () => {
      await open();
      const [v1] = stored(await store.putResources([vs('reviews')]));
      const [v2] = stored(
        await store.putResources([
          guarded(vs('reviews', { hosts: ['x'] }), v1?.metadata.resourceVersion ?? ''),
        ]),
      );
      const stale = await store.putResources([
        guarded(vs('reviews', { hosts: ['y'] }), v1?.metadata.resourceVersion ?? ''),
      ]);
      expect(stale).toEqual({
        ok: false,
        conflict: ref('reviews'),
        actualResourceVersion: v2?.metadata.resourceVersion,
      });
      expect((await store.getResource(ref('reviews')))?.spec).toEqual({ hosts: ['x'] });
      const missing = await store.putResources([guarded(vs('ratings'), '1')]);
      expect(missing).toEqual({ ok: false, conflict: ref('ratings'), actualResourceVersion: undefined });
    });

    it('applies a multi-resource put all or none, at one revision', async () => {
      await open();
      const [reviews] = stored(await store.putResources([vs('reviews')]));
      const before = await store.listResources();
      const refused = await store.putResources([
        vs('ratings'),
        guarded(vs('reviews', { hosts: ['changed'] }), '999999'),
        vs('details'),
      ]);
      expect(refused).toMatchObject({ ok: false, conflict: ref('reviews') });
      expect(await store.listResources()).toEqual(before);

      const applied = await store.putResources([
        vs('ratings'),
        guarded(vs('reviews', { hosts: ['changed'] }), reviews?.metadata.resourceVersion ?? ''),
        vs('details'),
      ]);
      const versions = new Set(stored(applied).map((resource) => resource.metadata.resourceVersion));
      expect(versions).toEqual(new Set([String(applied.ok && applied.mark.revision)]));
      expect((await store.listResources()).resources.map((resource) => resource.metadata.name)).toEqual([
        'details',
        'ratings',
        'reviews',
      ]);
    });

    it('refuses a batch naming a resource twice, and names that would make another key', async () => {
      await open();
      await expect(store.putResources([vs('reviews'), vs('reviews')])).rejects.toThrow(ConfigValidationError);
      await expect(store.putResources([vs('a/b')])).rejects.toThrow(/without '\/'/);
      await expect(store.putResources([vs('')])).rejects.toThrow(ConfigValidationError);
      expect((await store.listResources()).resources).toEqual([]);
    });

    it('deletes, conditionally when asked, and says whether anything existed', async () => {
      await open();
      const [reviews] = stored(await store.putResources([vs('reviews')]));
      expect(await store.deleteResource(ref('reviews'), '1234567')).toEqual({
        ok: false,
        conflict: ref('reviews'),
        actualResourceVersion: reviews?.metadata.resourceVersion,
      });
      const deleted = await store.deleteResource(ref('reviews'), reviews?.metadata.resourceVersion);
      expect(deleted).toMatchObject({ ok: true, existed: true });
      expect(await store.getResource(ref('reviews'))).toBeUndefined();
      const again = await store.deleteResource(ref('reviews'));
      expect(again).toEqual({ ok: true, existed: false, mark: await store.mark() });
    });

    it('hands out frozen objects: a caller cannot change what is stored', async () => {
      await open();
      const input = vs('reviews', { hosts: ['a'] });
      const [created] = stored(await store.putResources([input]));
      (input.resource.spec as { hosts: string[] }).hosts.push('b');
      expect(Object.isFrozen(created?.spec)).toBe(true);
      expect((await store.getResource(ref('reviews')))?.spec).toEqual({ hosts: ['a'] });
    });
  });

  describe('watch', () => {
    it('replays changes after a mark in revision order, one revision per multi-put, then goes live', async () => {
      await open();
      const start = await store.mark();
      await store.putResources([vs('a')]);
      await store.putResources([vs('b'), vs('c')]);
      await store.deleteResource(ref('a'));
      const iterator = store.watch(start, signal())[Symbol.asyncIterator]();
      const { events } = await take(iterator, 4);
      expect(names(events)).toEqual(['put a', 'put b', 'put c', 'delete a']);
      const revisions = events.map((event) => event.mark.revision);
      expect(revisions[1]).toBe(revisions[2]);
      expect(revisions[0]).toBeLessThan(revisions[1] as number);
      expect(revisions[2]).toBeLessThan(revisions[3] as number);
      await store.putResources([vs('d')]);
      expect(names((await take(iterator, 1)).events)).toEqual(['put d']);
    });

    it('resumes from a mark without repeating or skipping anything', async () => {
      await open();
      await store.putResources([vs('a')]);
      const middle = (await store.putResources([vs('b')])) as { mark: { epoch: string; revision: number } };
      await store.putResources([vs('c')]);
      const { events } = await take(store.watch(middle.mark, signal())[Symbol.asyncIterator](), 1);
      expect(names(events)).toEqual(['put c']);
      expect(events[0]).toMatchObject({
        type: 'put',
        resource: { metadata: { resourceVersion: String(events[0]?.mark.revision) } },
      });
    });

    it('answers a mark from another epoch with resync, and ends', async () => {
      await open();
      await store.putResources([vs('a')]);
      const result = await take(
        store.watch({ epoch: 'some-other-store', revision: 1 }, signal())[Symbol.asyncIterator](),
        2,
      );
      expect(result).toEqual({ events: [{ type: 'resync', mark: await store.mark() }], isDone: true });
    });

    it('answers a mark ahead of the store with resync (the store went backwards)', async () => {
      await open();
      const { epoch, revision } = await store.mark();
      const result = await take(
        store.watch({ epoch, revision: revision + 1_000 }, signal())[Symbol.asyncIterator](),
        1,
      );
      expect(result.events[0]?.type).toBe('resync');
    });

    it('answers a mark with a revision that is not a whole number with resync', async () => {
      await open();
      const { epoch } = await store.mark();
      const result = await take(store.watch({ epoch, revision: 1.5 }, signal())[Symbol.asyncIterator](), 2);
      expect(result.events.map((event) => event.type)).toEqual(['resync']);
      expect(result.isDone).toBe(true);
    });

    it('ends the iteration when the signal aborts', async () => {
      await open();
      const controller = new AbortController();
      const iterator = store.watch(await store.mark(), controller.signal)[Symbol.asyncIterator]();
      const pending = iterator.next();
      controller.abort();
      expect(await pending).toEqual({ done: true, value: undefined });
    });
  });

  describe('workloads', () => {
    it('registers, lists, renews and deregisters workloads, with events', async () => {
      await open();
      const start = await store.mark();
      const { leaseId } = await store.registerWorkload(workload('reviews-v1-a'), 30_000);
      await store.registerWorkload(workload('reviews-v2-b', 'v2'), 30_000);
      expect(await store.listWorkloads()).toEqual([workload('reviews-v1-a'), workload('reviews-v2-b', 'v2')]);
      expect(await store.renewLease(leaseId)).toBe(true);
      expect(await store.renewLease('12345')).toBe(false);
      expect(await store.renewLease('not-a-lease')).toBe(false);
      expect(await store.renewLease('99999999999999999999')).toBe(false);
      await store.deregisterWorkload('default', 'reviews-v1-a');
      await store.deregisterWorkload('default', 'never-registered');
      expect(await store.listWorkloads()).toEqual([workload('reviews-v2-b', 'v2')]);
      expect(await store.renewLease(leaseId)).toBe(false);
      const { events } = await take(store.watch(start, signal())[Symbol.asyncIterator](), 3);
      expect(names(events)).toEqual([
        'workload-put reviews-v1-a',
        'workload-put reviews-v2-b',
        'workload-delete reviews-v1-a',
      ]);
    });

    it('replaces a registration and its lease when a workload registers again', async () => {
      await open();
      const first = await store.registerWorkload(workload('reviews-v1-a'), 30_000);
      const second = await store.registerWorkload(workload('reviews-v1-a', 'v1b'), 30_000);
      expect(second.leaseId).not.toBe(first.leaseId);
      expect(await store.renewLease(first.leaseId)).toBe(false);
      expect(await store.renewLease(second.leaseId)).toBe(true);
      expect(await store.listWorkloads()).toEqual([workload('reviews-v1-a', 'v1b')]);
    });

    it('refuses a non-positive TTL and names that would make another key', async () => {
      await open();
      await expect(store.registerWorkload(workload('a'), 0)).rejects.toThrow(ConfigValidationError);
      await expect(store.registerWorkload({ ...workload('x'), name: 'a/b' }, 1_000)).rejects.toThrow(
        ConfigValidationError,
      );
    });
  });

  it('rejects every call after close with StoreUnavailableError', async () => {
    await open();
    await store.close();
    await expect(store.mark()).rejects.toThrow(StoreUnavailableError);
    await expect(store.putResources([vs('a')])).rejects.toThrow(StoreUnavailableError);
  });
});
