/**
 * What only the embedded store does: lease expiry on an injected clock, bounded watch history,
 * persistence to a data directory (restart, torn writes, damage, wiped directory → new epoch).
 */
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegisteredWorkload, RevisionMark } from '@weft/core';
import { FakeClock } from '@weft/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore, type MemoryStoreOptions } from '../src/store/memory-store.ts';
import type { ResourceWrite, StoreEvent } from '../src/store/store.ts';
import { StoreCorruptError } from '../src/store/store-errors.ts';

function write(name: string, spec: unknown = { hosts: [name] }): ResourceWrite {
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
    labels: { app: 'reviews', version: 'v1' },
    address: '127.0.0.1',
    ports: { 9080: 39080 },
  };
}

async function take(
  events: AsyncIterable<StoreEvent>,
  count: number,
): Promise<{ events: StoreEvent[]; isDone: boolean }> {
  const iterator = events[Symbol.asyncIterator]();
  const taken: StoreEvent[] = [];
  while (taken.length < count) {
    const next = await iterator.next();
    if (next.done === true) return { events: taken, isDone: true };
    taken.push(next.value);
  }
  return { events: taken, isDone: false };
}

let dataDir: string;
const opened: MemoryStore[] = [];
const aborts: AbortController[] = [];

async function open(options: MemoryStoreOptions = {}): Promise<MemoryStore> {
  const store = await MemoryStore.open({
    dataDir,
    wallClock: () => new Date('2025-01-02T03:04:05.678Z'),
    ...options,
  });
  opened.push(store);
  return store;
}

function signal(): AbortSignal {
  const controller = new AbortController();
  aborts.push(controller);
  return controller.signal;
}

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'weft-memory-store-'));
});

afterEach(async () => {
  for (const controller of aborts.splice(0)) controller.abort();
  for (const store of opened.splice(0)) await store.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('MemoryStore leases', () => {
  it('deletes a workload whose lease lapses and emits workload-delete', async () => {
    const clock = new FakeClock();
    const store = await open({ clock });
    const start = await store.mark();
    await store.registerWorkload(workload('reviews-v1-a'), 10_000);
    clock.advance(9_999);
    expect(await store.listWorkloads()).toHaveLength(1);
    clock.advance(1);
    expect(await store.listWorkloads()).toEqual([]);
    const { events } = await take(store.watch(start, signal()), 2);
    expect(events.map((event) => event.type)).toEqual(['workload-put', 'workload-delete']);
    expect(events[1]).toMatchObject({ namespace: 'default', name: 'reviews-v1-a', mark: { revision: 2 } });
  });

  it('keeps a renewed lease alive and lets it lapse a full TTL after the last renewal', async () => {
    const clock = new FakeClock();
    const store = await open({ clock });
    const { leaseId } = await store.registerWorkload(workload('reviews-v1-a'), 10_000);
    clock.advance(8_000);
    expect(await store.renewLease(leaseId)).toBe(true);
    clock.advance(8_000);
    expect(await store.listWorkloads()).toHaveLength(1);
    clock.advance(2_000);
    expect(await store.listWorkloads()).toEqual([]);
    expect(await store.renewLease(leaseId)).toBe(false);
  });

  it('retires the old lease when a workload registers again', async () => {
    const clock = new FakeClock();
    const store = await open({ clock });
    const first = await store.registerWorkload(workload('reviews-v1-a'), 10_000);
    clock.advance(5_000);
    const second = await store.registerWorkload(workload('reviews-v1-a'), 10_000);
    expect(second.leaseId).not.toBe(first.leaseId);
    expect(await store.renewLease(first.leaseId)).toBe(false);
    clock.advance(9_000);
    expect(await store.listWorkloads()).toHaveLength(1);
    clock.advance(1_000);
    expect(await store.listWorkloads()).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('gives restored registrations a full TTL and keeps their lease ids', async () => {
    const first = await open({ clock: new FakeClock() });
    const { leaseId } = await first.registerWorkload(workload('reviews-v1-a'), 10_000);
    await first.close();
    const clock = new FakeClock();
    const second = await open({ clock });
    clock.advance(9_000);
    expect(await second.renewLease(leaseId)).toBe(true);
    clock.advance(9_000);
    expect(await second.listWorkloads()).toHaveLength(1);
    clock.advance(1_000);
    expect(await second.listWorkloads()).toEqual([]);
  });
});

describe('MemoryStore watch history', () => {
  it('replays within the history and answers resync (then ends) beyond it', async () => {
    const store = await open({ historyLimit: 3 });
    const start = await store.mark();
    for (const name of ['a', 'b', 'c', 'd', 'e']) await store.putResources([write(name)]);
    const recent = await take(store.watch({ ...start, revision: 2 }, signal()), 3);
    expect(recent.events.map((event) => event.mark.revision)).toEqual([3, 4, 5]);
    const old = await take(store.watch(start, signal()), 2);
    expect(old).toEqual({ events: [{ type: 'resync', mark: await store.mark() }], isDone: true });
  });

  it('never splits one revision of a multi-put when trimming the history', async () => {
    const store = await open({ historyLimit: 3 });
    await store.putResources([write('a'), write('b')]); // revision 1
    await store.putResources([write('c'), write('d')]); // revision 2
    // Keeping 3 events would keep half of revision 1: the whole of revision 1 is dropped.
    const fromOne = await take(store.watch({ ...(await store.mark()), revision: 1 }, signal()), 2);
    expect(fromOne.events.map((event) => event.type)).toEqual(['put', 'put']);
    const fromZero = await take(store.watch({ ...(await store.mark()), revision: 0 }, signal()), 1);
    expect(fromZero.events[0]?.type).toBe('resync');
  });

  it('answers resync to a watcher that falls too far behind, and ends its iteration', async () => {
    const store = await open({ historyLimit: 2 });
    const iterator = store.watch(await store.mark(), signal())[Symbol.asyncIterator]();
    const first = iterator.next(); // starts the watch
    await store.putResources([write('a')]);
    expect((await first).value).toMatchObject({ type: 'put', mark: { revision: 1 } });
    for (const name of ['b', 'c', 'd']) await store.putResources([write(name)]);
    expect((await iterator.next()).value).toEqual({ type: 'resync', mark: await store.mark() });
    expect((await iterator.next()).done).toBe(true);
  });
});

describe('MemoryStore persistence', () => {
  it('loses nothing across a restart: resources, generations, workloads, revision and epoch', async () => {
    const first = await open();
    await first.putResources([write('a'), write('b')]);
    await first.putResources([write('a', { hosts: ['changed'] })]);
    await first.deleteResource({ kind: 'VirtualService', namespace: 'default', name: 'b' });
    await first.registerWorkload(workload('reviews-v1-a'), 60_000);
    const before = await first.listResources();
    await first.close();

    const second = await open();
    expect(await second.listResources()).toEqual(before);
    expect(before.mark.revision).toBe(4);
    expect(before.resources[0]?.metadata.generation).toBe(2);
    expect(await second.listWorkloads()).toEqual([workload('reviews-v1-a')]);
  });

  it('replays the log of a store that crashed without closing, and resumes watches from it', async () => {
    const first = await open({ compactAfterChanges: 1_000 });
    await first.putResources([write('a')]);
    const middle = await first.mark();
    await first.putResources([write('b')]);
    // No close(): the log was fsync'd per write, the snapshot never rewritten.
    expect(await readFile(join(dataDir, 'changes.log'), 'utf8')).toMatch(/"revision":2/);
    const second = await open();
    expect((await second.listResources()).resources.map((r) => r.metadata.name)).toEqual(['a', 'b']);
    const { events } = await take(second.watch(middle, signal()), 1);
    expect(events[0]).toMatchObject({
      type: 'put',
      mark: { revision: 2 },
      resource: { metadata: { name: 'b' } },
    });
  });

  it('compacts the log into the snapshot after the configured number of changes', async () => {
    const store = await open({ compactAfterChanges: 3 });
    for (const name of ['a', 'b', 'c', 'd']) await store.putResources([write(name)]);
    const snapshot = JSON.parse(await readFile(join(dataDir, 'snapshot.json'), 'utf8')) as {
      revision: number;
    };
    expect(snapshot.revision).toBe(3);
    const log = await readFile(join(dataDir, 'changes.log'), 'utf8');
    expect(log.trim().split('\n')).toHaveLength(1);
  });

  it('cuts off a torn last log line (a crash mid-append) and keeps everything before it', async () => {
    const first = await open();
    await first.putResources([write('a')]);
    await appendFile(join(dataDir, 'changes.log'), '0badf00d {"revision":2,"ops":[{"op":"put"');
    const second = await open();
    expect((await second.mark()).revision).toBe(1);
    await second.putResources([write('b')]);
    const third = await open();
    expect((await third.listResources()).resources.map((r) => r.metadata.name)).toEqual(['a', 'b']);
  });

  it('refuses a log damaged before its last line instead of skipping changes', async () => {
    const first = await open();
    await first.putResources([write('a')]);
    await first.putResources([write('b')]);
    const logPath = join(dataDir, 'changes.log');
    const lines = (await readFile(logPath, 'utf8')).split('\n');
    lines[0] = lines[0]?.replace('"a"', '"x"') ?? '';
    await writeFile(logPath, lines.join('\n'));
    await expect(open()).rejects.toThrow(StoreCorruptError);
    await expect(open()).rejects.toThrow(/changes\.log line 1 is damaged/);
  });

  it('refuses a log without its snapshot rather than starting a new, partial store', async () => {
    const first = await open();
    await first.putResources([write('a')]);
    await rm(join(dataDir, 'snapshot.json'));
    await expect(open()).rejects.toThrow(/exists but .*snapshot\.json does not/);
  });

  it('starts a new epoch when the data directory is wiped, and old marks get resync (B3/H5)', async () => {
    const first = await open();
    await first.putResources([write('a'), write('b')]);
    const oldMark = await first.mark();
    await first.close();
    await rm(dataDir, { recursive: true });
    const second = await open();
    const newMark = await second.mark();
    expect(newMark.epoch).not.toBe(oldMark.epoch);
    expect(newMark.revision).toBe(0);
    await second.putResources([write('c'), write('d'), write('e')]);
    // The old mark's revision is now "in range" again: only the epoch tells them apart.
    const { events, isDone } = await take(second.watch(oldMark, signal()), 2);
    expect(events).toEqual([{ type: 'resync', mark: await second.mark() }]);
    expect(isDone).toBe(true);
  });

  it('answers resync to a mark ahead of the store (a data directory restored from an old copy)', async () => {
    const store = await open();
    await store.putResources([write('a')]);
    const { epoch } = await store.mark();
    const ahead: RevisionMark = { epoch, revision: 7 };
    const { events } = await take(store.watch(ahead, signal()), 1);
    expect(events[0]?.type).toBe('resync');
  });

  it('refuses a data directory locked by another live process, and takes over a dead one', async () => {
    await writeFile(join(dataDir, 'LOCK'), String(process.ppid));
    await expect(open()).rejects.toThrow(`in use by process ${process.ppid}`);
    await writeFile(join(dataDir, 'LOCK'), '999999999'); // no such process: a crashed agent
    const store = await open();
    expect(await readFile(join(dataDir, 'LOCK'), 'utf8')).toBe(String(process.pid));
    await store.close();
    await expect(readFile(join(dataDir, 'LOCK'))).rejects.toThrow(/ENOENT/);
  });

  it('gives a store without a data directory a fresh epoch every time', async () => {
    const a = await MemoryStore.open();
    const b = await MemoryStore.open();
    opened.push(a, b);
    expect((await a.mark()).epoch).not.toBe((await b.mark()).epoch);
    expect(a.dataDir).toBeUndefined();
  });
});
