import type { RegisteredWorkload, StoredResource } from '@weft/core';
import { FakeClock } from '@weft/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/agent/agent-logger.ts';
import type { StoreEvent } from '../src/index.ts';
import { MeshCache } from '../src/mesh-view/mesh-cache.ts';
import { divergentKeys, type StoreListing, type ViewUnderCheck } from '../src/mesh-view/store-comparison.ts';
import { MemoryStore } from '../src/store/memory-store.ts';
import { reviewsRoute, reviewsSubsets, reviewsWorkload } from './client-harness.ts';
import { EventDroppingStore } from './support/event-dropping-store.ts';

function resource(name: string, resourceVersion: string): StoredResource {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: {
      name,
      namespace: 'default',
      resourceVersion,
      generation: 1,
      creationTimestamp: '2026-11-25T00:00:00Z',
      uid: name,
    },
    spec: {},
  } as StoredResource;
}

function view(
  resources: readonly StoredResource[],
  workloads: readonly RegisteredWorkload[],
  changedSince: readonly string[] = [],
): ViewUnderCheck {
  const byKey = new Map(resources.map((entry) => [`r:VirtualService/default/${entry.metadata.name}`, entry]));
  const workloadsByKey = new Map(workloads.map((entry) => [`w:${entry.namespace}/${entry.name}`, entry]));
  return {
    resourceAt: (key) => byKey.get(key),
    workloadAt: (key) => workloadsByKey.get(key),
    resourceKeys: () => byKey.keys(),
    workloadKeys: () => workloadsByKey.keys(),
    changedSince: new Set(changedSince),
  };
}

describe('divergentKeys', () => {
  const v1 = reviewsWorkload('v1', 19080);
  const listing: StoreListing = {
    revision: 10,
    resources: [resource('a', '5'), resource('b', '7')],
    workloads: [v1],
  };

  it('finds nothing when the view holds what the store listed', () => {
    expect(divergentKeys(listing, view([resource('a', '5'), resource('b', '7')], [v1]))).toEqual([]);
  });

  it('names a resource at another version, one the view lacks, and one only the view holds', () => {
    const held = view([resource('a', '4'), resource('c', '3')], [v1]);
    expect(divergentKeys(listing, held).sort()).toEqual([
      'r:VirtualService/default/a',
      'r:VirtualService/default/b',
      'r:VirtualService/default/c',
    ]);
  });

  it('names a workload that differs in value, is missing, or is extra', () => {
    const moved = { ...v1, address: '127.0.0.2' };
    const extra = reviewsWorkload('v2', 19081);
    expect(divergentKeys(listing, view(listing.resources, [moved])).sort()).toEqual([`w:default/${v1.name}`]);
    expect(divergentKeys(listing, view(listing.resources, [])).sort()).toEqual([`w:default/${v1.name}`]);
    expect(divergentKeys(listing, view(listing.resources, [v1, extra]))).toEqual([`w:default/${extra.name}`]);
  });

  it('skips what the view changed after the listing was read (either side may be newer)', () => {
    const changed = ['r:VirtualService/default/a', 'r:VirtualService/default/b', `w:default/${v1.name}`];
    expect(divergentKeys(listing, view([resource('a', '11')], [], changed))).toEqual([]);
  });
});

describe('MeshCache self-check', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.reverse()) await close();
    closers.length = 0;
  });

  async function openOn(isLost: (event: StoreEvent) => boolean) {
    const store = await MemoryStore.open({});
    closers.push(() => store.close());
    expect((await store.putResources([reviewsSubsets, reviewsRoute('v1')])).ok).toBe(true);
    const clock = new FakeClock();
    const lossy = new EventDroppingStore(store, isLost);
    const cache = await MeshCache.open(lossy, { maxHistoryEntries: 100, clock, logger: silentLogger });
    closers.push(() => cache.close());
    return { store, cache, lossy, clock };
  }

  const routedSubset = (cache: MeshCache): unknown => {
    const spec = cache.resourceAt('r:VirtualService/default/reviews')?.spec as
      | { http: { route: { destination: { subset: string } }[] }[] }
      | undefined;
    return spec?.http[0]?.route[0]?.destination.subset;
  };

  it('finds nothing while the watch delivers everything', async () => {
    const { store, cache } = await openOn(() => false);
    const put = await store.putResources([reviewsRoute('v2')]);
    if (!put.ok) throw new Error('put refused');
    expect(await cache.checkAgainstStore()).toEqual({ isConsistent: true, keys: [] });
    expect(cache.selfCheck).toMatchObject({ runs: 1, repairs: 0 });
  });

  it('names the entry a lost event left stale, and lists the store again', async () => {
    const { store, cache, lossy } = await openOn(
      (event) => event.type === 'put' && event.resource.metadata.name === 'reviews',
    );
    let resets = 0;
    cache.subscribe({ changed: () => undefined, reset: () => (resets += 1) });
    expect((await store.putResources([reviewsRoute('v2')])).ok).toBe(true);
    // The route's event was lost; a later write (the lost one's successor) reaches the view.
    await store.registerWorkload(reviewsWorkload('v3', 19082), 60_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(lossy.dropped).toBe(1);
    expect(routedSubset(cache)).toBe('v1');

    expect(await cache.checkAgainstStore()).toEqual({
      isConsistent: false,
      reason: '1 entries differ from the store',
      keys: ['r:VirtualService/default/reviews'],
    });
    for (let wait = 0; wait < 100 && resets === 0; wait++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(resets).toBe(1);
    expect(routedSubset(cache)).toBe('v2');
    expect(cache.selfCheck).toMatchObject({ runs: 1, repairs: 1 });
  });

  it('lists again when the watch does not deliver what the store already holds (a silent stall)', async () => {
    const { store, cache, clock } = await openOn((event) => event.type === 'put');
    expect((await store.putResources([reviewsRoute('v2')])).ok).toBe(true);
    const checking = cache.checkAgainstStore(10);
    // The check lists the store, then waits (on the fake clock) for the watch to catch up.
    for (let wait = 0; wait < 100 && clock.pendingTimers === 0; wait++)
      await new Promise((r) => setTimeout(r, 5));
    clock.advance(10);
    const outcome = await checking;
    expect(outcome.isConsistent).toBe(false);
    expect(outcome.reason).toMatch(
      /^the store is at revision \d+ and the watch delivered only \d+ within 10 ms$/,
    );
    expect(outcome.keys).toEqual(['r:VirtualService/default/reviews']);
    for (let wait = 0; wait < 100 && routedSubset(cache) !== 'v2'; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(routedSubset(cache)).toBe('v2');
  });
});
