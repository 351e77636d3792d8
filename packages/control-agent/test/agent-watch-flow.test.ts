/**
 * How the agent paces a watch: coalescing of bursts without delaying a lone change, and
 * backpressure from a client that does not read (pending changes merge into one frame, a client
 * too far behind gets a snapshot, one that stalls for good is disconnected). Real agent on
 * 127.0.0.1, MemoryStore, FakeClock where the pacing timers must be driven.
 */
import type { RevisionMark, WatchFrame } from '@weft/core';
import { FakeClock } from '@weft/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type AgentOptions, createAgent } from '../src/index.ts';
import { MemoryStore } from '../src/store/memory-store.ts';

type Delta = Extract<WatchFrame, { type: 'delta' }>;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Partial<AgentOptions> & { readonly clock?: FakeClock } = {}) {
  const store = await MemoryStore.open(options.clock === undefined ? {} : { clock: options.clock });
  const agent = await createAgent({ store, ...options });
  cleanups.push(async () => {
    await agent.close();
    await store.close();
  });
  return { agent, url: agent.url };
}

async function applyOk(url: string, yaml: string): Promise<RevisionMark> {
  const response = await fetch(`${url}/v1/apply`, {
    method: 'POST',
    headers: { 'content-type': 'application/yaml' },
    body: yaml,
  });
  const body = (await response.json()) as { mark: RevisionMark };
  expect(response.status, JSON.stringify(body)).toBe(200);
  return body.mark;
}

/** A VirtualService whose annotation carries `value` (so each apply is a real change). */
function annotated(name: string, value: string): string {
  return [
    'apiVersion: networking.istio.io/v1',
    'kind: VirtualService',
    `metadata: { name: ${name}, namespace: default, annotations: { weft.dev/value: "${value}" } }`,
    `spec: { hosts: [${name}], http: [{ route: [{ destination: { host: ${name} } }] }] }`,
  ].join('\n');
}

async function clientView(url: string, clientId: string): Promise<Record<string, unknown> | undefined> {
  const response = await fetch(`${url}/v1/clients`);
  const body = (await response.json()) as { clients: Record<string, unknown>[] };
  return body.clients.find((client) => client.clientId === clientId);
}

/** Runs `count` calls with at most `concurrency` in flight. */
async function burst(
  count: number,
  concurrency: number,
  call: (index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await call(next++);
    }),
  );
}

async function eventually(
  condition: () => Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Reads NDJSON frames from a watch, starting when told to (so a test can leave it unread). */
class FrameReader {
  readonly frames: WatchFrame[] = [];
  #consumed = 0;
  #isDone = false;
  readonly #wakers = new Set<() => void>();
  readonly #abort = new AbortController();
  #body: ReadableStream<Uint8Array> | undefined;
  /** Held so that undici does not cancel the unread body when the Response is collected. */
  #response: Response | undefined;

  static async open(url: string, clientId: string, isReading = true): Promise<FrameReader> {
    const reader = new FrameReader();
    const query = new URLSearchParams({
      clientId,
      namespace: 'default',
      workload: 'w',
      protocolVersion: '1',
    });
    const response = await fetch(`${url}/v1/watch?${query}`, { signal: reader.#abort.signal });
    expect(response.status).toBe(200);
    reader.#response = response;
    expect(reader.#response.ok).toBe(true);
    reader.#body = response.body as ReadableStream<Uint8Array>;
    cleanups.push(async () => reader.#abort.abort());
    if (isReading) reader.startReading();
    return reader;
  }

  get isDone(): boolean {
    return this.#isDone;
  }

  startReading(): void {
    const body = this.#body;
    if (body === undefined) return;
    this.#body = undefined;
    this.#pump(body)
      .catch(() => undefined)
      .finally(() => {
        this.#isDone = true;
        this.#wake();
      });
  }

  async next(timeoutMs = 10_000): Promise<WatchFrame> {
    await this.until(() => this.frames.length > this.#consumed, timeoutMs, 'another frame');
    return this.frames[this.#consumed++] as WatchFrame;
  }

  /** Frames until (and including) the first one that satisfies `predicate`. */
  async through(predicate: (frame: WatchFrame) => boolean, timeoutMs = 10_000): Promise<WatchFrame[]> {
    const seen: WatchFrame[] = [];
    for (;;) {
      const frame = await this.next(timeoutMs);
      seen.push(frame);
      if (predicate(frame)) return seen;
    }
  }

  async until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (this.#isDone) throw new Error(`stream ended while waiting for ${what}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#wakers.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async #pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of body) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf('\n'); end !== -1; end = buffer.indexOf('\n')) {
        this.frames.push(JSON.parse(buffer.slice(0, end)) as WatchFrame);
        buffer = buffer.slice(end + 1);
      }
      this.#wake();
    }
  }

  #wake(): void {
    const wakers = [...this.#wakers];
    this.#wakers.clear();
    for (const wake of wakers) wake();
  }
}

describe('coalescing', () => {
  it('pushes a lone change at once and merges a burst of 1,000 applies into one delta', async () => {
    const clock = new FakeClock();
    const { url, agent } = await start({ clock, coalesceWindowMs: 5, heartbeatMs: 60_000 });
    const reader = await FrameReader.open(url, 'c1');
    expect((await reader.next()).type).toBe('snapshot');
    clock.advance(5);

    // Lone change: out at once, with no time passing on the agent's clock.
    const lone = await applyOk(url, annotated('reviews', 'lone'));
    const loneDelta = (await reader.next()) as Delta;
    expect(loneDelta).toMatchObject({ type: 'delta', mark: lone });

    // Burst within the window that push opened: nothing is written until the window ends…
    await burst(1_000, 20, (index) => applyOk(url, annotated('reviews', `burst-${index}`)));
    const last = agent.mark();
    expect(last.revision - lone.revision).toBe(1_000);
    clock.advance(5);
    // …and then one delta brings the client from the lone change to the last write. Had any
    // other delta been written in between, it would be this next frame.
    const merged = (await reader.next()) as Delta;
    expect(merged.type).toBe('delta');
    expect(merged.mark).toEqual(last);
    expect(merged.upserts).toHaveLength(1);
    expect(merged.upserts[0]?.metadata.resourceVersion).toBe(String(last.revision));
    expect(merged.upserts[0]?.metadata.annotations).toEqual({ 'weft.dev/value': 'burst-999' });

    // Once the window has passed, a lone change is again pushed at once.
    clock.advance(5);
    const after = await applyOk(url, annotated('reviews', 'after'));
    expect(await reader.next()).toMatchObject({ type: 'delta', mark: after });
    expect(await clientView(url, 'c1')).toMatchObject({ deltasSent: 3, snapshotsSent: 1 });
  });

  it('on the real clock, sends far fewer deltas than writes in a burst and ends current', async () => {
    const { url, agent } = await start({ coalesceWindowMs: 5 });
    const reader = await FrameReader.open(url, 'c1');
    expect((await reader.next()).type).toBe('snapshot');
    await burst(1_000, 20, (index) => applyOk(url, annotated('reviews', `burst-${index}`)));
    const last = agent.mark();
    const frames = await reader.through((frame) => frame.mark.revision === last.revision);
    const deltas = frames.filter((frame): frame is Delta => frame.type === 'delta');
    expect(deltas.length).toBeLessThan(250);
    expect(deltas.at(-1)?.upserts[0]?.metadata.annotations).toEqual({ 'weft.dev/value': 'burst-999' });
    // Revisions only grow.
    const revisions = deltas.map((delta) => delta.mark.revision);
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));

    // A lone change after the burst arrives promptly.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = performance.now();
    const lone = await applyOk(url, annotated('reviews', 'lone'));
    expect(await reader.next()).toMatchObject({ type: 'delta', mark: lone });
    expect(performance.now() - started).toBeLessThan(200);
  });
});

describe('backpressure', () => {
  /** 1 MiB of annotation: a few of these fill loopback socket buffers. */
  const bulky = (index: number) => `${index}-${'x'.repeat(1024 * 1024)}`;

  async function fillUntilBackpressured(url: string, clientId: string): Promise<number> {
    let applies = 0;
    for (; applies < 64; applies++) {
      await applyOk(url, annotated('bulky', bulky(applies)));
      if ((await clientView(url, clientId))?.backpressured === true) return applies + 1;
    }
    throw new Error('the client never became backpressured');
  }

  it('coalesces while a client does not read, and sends a snapshot once it is too far behind', async () => {
    const clock = new FakeClock();
    const { url, agent } = await start({
      clock,
      coalesceWindowMs: 0,
      heartbeatMs: 60_000,
      limits: { maxHistoryEntries: 20 },
    });
    const reader = await FrameReader.open(url, 'slow', false);
    const bulkyApplies = await fillUntilBackpressured(url, 'slow');
    // 30 more changes while blocked: more than the 20 the history keeps.
    for (let index = 0; index < 30; index++) await applyOk(url, annotated(`small-${index}`, 'v'));
    const last = agent.mark();

    reader.startReading();
    const frames = await reader.through((frame) => frame.mark.revision === last.revision, 30_000);
    const snapshots = frames.filter((frame) => frame.type === 'snapshot');
    const deltas = frames.filter((frame) => frame.type === 'delta');
    // The first snapshot, then the fresh one for the client that fell too far behind.
    expect(snapshots).toHaveLength(2);
    const fresh = snapshots[1] as Extract<WatchFrame, { type: 'snapshot' }>;
    expect(fresh.mark).toEqual(last);
    expect(fresh.resources).toHaveLength(31);
    // What was written while blocked was merged: fewer frames than changes.
    expect(deltas.length).toBeLessThan(bulkyApplies + 30);
    await eventually(
      async () => (await clientView(url, 'slow'))?.backpressured === false,
      'the socket to drain',
    );
  });

  it('merges what piles up while blocked into one delta when the history still reaches', async () => {
    const clock = new FakeClock();
    const { url, agent } = await start({ clock, coalesceWindowMs: 0, heartbeatMs: 60_000 });
    const reader = await FrameReader.open(url, 'slow', false);
    const bulkyApplies = await fillUntilBackpressured(url, 'slow');
    for (let index = 0; index < 30; index++) await applyOk(url, annotated(`small-${index}`, 'v'));
    const last = agent.mark();
    reader.startReading();
    const frames = await reader.through((frame) => frame.mark.revision === last.revision, 30_000);
    expect(frames.filter((frame) => frame.type === 'snapshot')).toHaveLength(1);
    expect(frames.at(-1)?.type).toBe('delta');
    // The 30 small resources written while the client was blocked arrive merged, not one by one.
    const carrying = frames.filter(
      (frame): frame is Delta =>
        frame.type === 'delta' &&
        frame.upserts.some((resource) => resource.metadata.name.startsWith('small-')),
    );
    const small = new Set(
      carrying.flatMap((delta) => delta.upserts.map((resource) => resource.metadata.name)),
    );
    small.delete('bulky');
    expect(small.size).toBe(30);
    expect(carrying.length).toBeLessThan(30);
    expect(frames.length).toBeLessThan(bulkyApplies + 30);
  });

  it('disconnects a client whose socket has not drained for stalledClientMs', async () => {
    const clock = new FakeClock();
    const { url } = await start({
      clock,
      coalesceWindowMs: 0,
      heartbeatMs: 1_000,
      limits: { stalledClientMs: 3_000 },
    });
    const reader = await FrameReader.open(url, 'stalled', false);
    await fillUntilBackpressured(url, 'stalled');
    clock.advance(2_999);
    expect(await clientView(url, 'stalled')).toMatchObject({ connected: true, backpressured: true });
    clock.advance(1);
    await eventually(async () => (await clientView(url, 'stalled'))?.connected === false, 'the disconnect');
    reader.startReading();
    await reader.until(() => reader.isDone, 10_000, 'the stream to end');
  });
});
