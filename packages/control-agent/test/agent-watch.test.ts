/**
 * The watch API against a real agent on 127.0.0.1 with a MemoryStore: snapshot then deltas,
 * resume, heartbeats, ACK/NACK, scoping, lease lapse. Timers run on a FakeClock shared by the
 * agent and the store wherever time matters; coalescing and backpressure are in
 * agent-watch-flow.test.ts.
 */
import { type RevisionMark, STREAM_TOKEN_HEADER, type WatchFrame } from '@weft/core';
import { FakeClock } from '@weft/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type AgentOptions, createAgent, type Store, type StoreEvent } from '../src/index.ts';
import { MemoryStore } from '../src/store/memory-store.ts';

type Snapshot = Extract<WatchFrame, { type: 'snapshot' }>;
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
  return { agent, store, url: agent.url };
}

async function apply(url: string, yaml: string): Promise<{ status: number; body: { mark: RevisionMark } }> {
  const response = await fetch(`${url}/v1/apply`, {
    method: 'POST',
    headers: { 'content-type': 'application/yaml' },
    body: yaml,
  });
  return { status: response.status, body: (await response.json()) as { mark: RevisionMark } };
}

async function applyOk(url: string, yaml: string): Promise<RevisionMark> {
  const { status, body } = await apply(url, yaml);
  expect(status, JSON.stringify(body)).toBe(200);
  return body.mark;
}

async function postJson(url: string, body: unknown, method = 'POST', streamToken?: string) {
  const response = await fetch(url, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(streamToken === undefined ? {} : { [STREAM_TOKEN_HEADER]: streamToken }),
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

function virtualService(name: string, namespace = 'default', extra = ''): string {
  return [
    'apiVersion: networking.istio.io/v1',
    'kind: VirtualService',
    `metadata: { name: ${name}, namespace: ${namespace} }`,
    'spec:',
    `  hosts: [${name}]`,
    extra,
    '  http:',
    `  - route: [{ destination: { host: ${name} } }]`,
    '',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

/** Reads NDJSON frames from a watch response as they arrive. */
class FrameReader {
  readonly frames: WatchFrame[] = [];
  /** The token the agent named the stream with; status reports for it carry it. */
  streamToken = '';
  #consumed = 0;
  #isDone = false;
  readonly #wakers = new Set<() => void>();
  readonly #abort: AbortController;

  constructor(body: ReadableStream<Uint8Array>, abort: AbortController) {
    this.#abort = abort;
    this.#pump(body)
      .catch(() => undefined)
      .finally(() => {
        this.#isDone = true;
        this.#wake();
      });
  }

  get isDone(): boolean {
    return this.#isDone;
  }

  /** The next frame not yet returned, waiting for it if need be. */
  async next(timeoutMs = 5_000): Promise<WatchFrame> {
    await this.until(() => this.frames.length > this.#consumed, timeoutMs, 'another frame');
    return this.frames[this.#consumed++] as WatchFrame;
  }

  async until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (this.#isDone) throw new Error(`stream ended while waiting for ${what}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0)
        throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#wakers.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.#abort.abort();
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

async function watch(
  url: string,
  query: { clientId: string; namespace?: string; resume?: RevisionMark },
): Promise<FrameReader> {
  const params = new URLSearchParams({
    clientId: query.clientId,
    namespace: query.namespace ?? 'default',
    workload: `${query.clientId}-workload`,
    protocolVersion: '1',
  });
  if (query.resume !== undefined) {
    params.set('epoch', query.resume.epoch);
    params.set('revision', String(query.resume.revision));
  }
  const abort = new AbortController();
  const response = await fetch(`${url}/v1/watch?${params}`, { signal: abort.signal });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
  const reader = new FrameReader(response.body as ReadableStream<Uint8Array>, abort);
  reader.streamToken = response.headers.get(STREAM_TOKEN_HEADER) ?? '';
  cleanups.push(async () => reader.close());
  return reader;
}

function names(frame: Snapshot | Delta): string[] {
  const resources = frame.type === 'snapshot' ? frame.resources : frame.upserts;
  return resources.map((resource) => `${resource.metadata.namespace}/${resource.metadata.name}`).sort();
}

async function nextOfType<T extends WatchFrame['type']>(
  reader: FrameReader,
  type: T,
): Promise<Extract<WatchFrame, { type: T }>> {
  const frame = await reader.next();
  expect(frame.type, JSON.stringify(frame)).toBe(type);
  return frame as Extract<WatchFrame, { type: T }>;
}

describe('watch: snapshot, then ordered deltas', () => {
  it('sends a snapshot first, then one delta per change with growing revisions', async () => {
    const { url } = await start();
    await applyOk(url, virtualService('ratings'));
    const reader = await watch(url, { clientId: 'c1' });
    const snapshot = await nextOfType(reader, 'snapshot');
    expect(names(snapshot)).toEqual(['default/ratings']);
    expect(snapshot.resources[0]?.spec).toMatchObject({ hosts: ['ratings'] });

    const created = await applyOk(url, virtualService('reviews'));
    const first = await nextOfType(reader, 'delta');
    expect(first.mark).toEqual(created);
    expect(first.mark.revision).toBeGreaterThan(snapshot.mark.revision);
    expect(names(first)).toEqual(['default/reviews']);
    expect(first.deletes).toEqual([]);

    const deleted = await fetch(`${url}/v1/resources/VirtualService/default/ratings`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    const second = await nextOfType(reader, 'delta');
    expect(second.mark.revision).toBeGreaterThan(first.mark.revision);
    expect(second.deletes).toEqual([{ kind: 'VirtualService', namespace: 'default', name: 'ratings' }]);
    expect(second.upserts).toEqual([]);
  });

  it('delivers the resources of one apply in one delta', async () => {
    const { url } = await start();
    const reader = await watch(url, { clientId: 'c1' });
    await nextOfType(reader, 'snapshot');
    await applyOk(url, [virtualService('a'), virtualService('b'), virtualService('c')].join('\n---\n'));
    const delta = await nextOfType(reader, 'delta');
    expect(names(delta)).toEqual(['default/a', 'default/b', 'default/c']);
  });

  it('refuses an unknown or missing protocolVersion with 400 and the supported versions', async () => {
    const { url } = await start();
    for (const version of ['2', 'one', '']) {
      const response = await fetch(
        `${url}/v1/watch?clientId=c&namespace=default&workload=w&protocolVersion=${version}`,
      );
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: { code: string; supported: number[] } };
      expect(body.error.code).toBe('unsupported-protocol-version');
      expect(body.error.supported).toEqual([1]);
    }
    const missing = await fetch(`${url}/v1/watch?clientId=c&namespace=default&workload=w`);
    expect(missing.status).toBe(400);
  });

  it('refuses a watch without clientId, with a bad namespace, or with a half resume point', async () => {
    const { url } = await start();
    const base = 'protocolVersion=1&workload=w';
    for (const query of [
      `${base}&namespace=default`,
      `${base}&clientId=c&namespace=Not_A_Label`,
      `${base}&clientId=c&namespace=default&epoch=abc`,
      `${base}&clientId=c&namespace=default&epoch=abc&revision=-1`,
    ]) {
      const response = await fetch(`${url}/v1/watch?${query}`);
      expect(response.status, query).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('bad-request');
    }
  });

  it('replaces the stream of a client id that connects again', async () => {
    const { url } = await start();
    const old = await watch(url, { clientId: 'same' });
    await nextOfType(old, 'snapshot');
    const fresh = await watch(url, { clientId: 'same' });
    await nextOfType(fresh, 'snapshot');
    await old.until(() => old.isDone, 5_000, 'the replaced stream to end');
    const clients = (await getJson(`${url}/v1/clients`)) as {
      clients: { clientId: string; connected: boolean }[];
    };
    expect(clients.clients).toEqual([expect.objectContaining({ clientId: 'same', connected: true })]);
  });
});

describe('watch: resume', () => {
  it('resumes with only the changes after the client mark', async () => {
    const { url } = await start();
    const first = await applyOk(url, virtualService('a'));
    const second = await applyOk(url, virtualService('b'));
    const reader = await watch(url, { clientId: 'c1', resume: first });
    const delta = await nextOfType(reader, 'delta');
    expect(delta.mark).toEqual(second);
    expect(names(delta)).toEqual(['default/b']);
  });

  it('starts with a heartbeat when the client is already current', async () => {
    const { url } = await start();
    const mark = await applyOk(url, virtualService('a'));
    const reader = await watch(url, { clientId: 'c1', resume: mark });
    const heartbeat = await nextOfType(reader, 'heartbeat');
    expect(heartbeat.mark).toEqual(mark);
    const later = await applyOk(url, virtualService('b'));
    const delta = await nextOfType(reader, 'delta');
    expect(delta.mark).toEqual(later);
    expect(names(delta)).toEqual(['default/b']);
  });

  it('sends a full snapshot for another epoch (a wiped store)', async () => {
    const { url } = await start();
    const mark = await applyOk(url, virtualService('a'));
    const reader = await watch(url, {
      clientId: 'c1',
      resume: { epoch: 'another-store', revision: mark.revision },
    });
    const snapshot = await nextOfType(reader, 'snapshot');
    expect(snapshot.mark).toEqual(mark);
    expect(names(snapshot)).toEqual(['default/a']);
  });

  it('sends a full snapshot for a revision from the future (revisions went backwards)', async () => {
    const { url } = await start();
    const mark = await applyOk(url, virtualService('a'));
    const reader = await watch(url, {
      clientId: 'c1',
      resume: { epoch: mark.epoch, revision: mark.revision + 5 },
    });
    expect((await nextOfType(reader, 'snapshot')).mark).toEqual(mark);
  });

  it('sends a full snapshot for a revision older than the history reaches', async () => {
    const { url } = await start({ limits: { maxHistoryEntries: 2 } });
    const first = await applyOk(url, virtualService('a'));
    for (const name of ['b', 'c', 'd']) await applyOk(url, virtualService(name));
    const old = await watch(url, { clientId: 'old', resume: first });
    const snapshot = await nextOfType(old, 'snapshot');
    expect(names(snapshot)).toEqual(['default/a', 'default/b', 'default/c', 'default/d']);
    // A client within the history still gets a delta.
    const recent = await watch(url, {
      clientId: 'recent',
      resume: { ...first, revision: first.revision + 2 },
    });
    expect(names(await nextOfType(recent, 'delta'))).toEqual(['default/d']);
  });
});

describe('watch: heartbeats', () => {
  it('sends a heartbeat after heartbeatMs without other frames, and not before', async () => {
    const clock = new FakeClock();
    const { url } = await start({ clock, heartbeatMs: 1_000 });
    const reader = await watch(url, { clientId: 'c1' });
    const snapshot = await nextOfType(reader, 'snapshot');
    clock.advance(999);
    const mark = await applyOk(url, virtualService('a'));
    // Had a heartbeat been written at 999 ms, it would be the next frame.
    expect((await nextOfType(reader, 'delta')).mark).toEqual(mark);
    expect(mark.revision).toBeGreaterThan(snapshot.mark.revision);
    clock.advance(999);
    clock.advance(1);
    const heartbeat = await nextOfType(reader, 'heartbeat');
    expect(heartbeat).toEqual({ type: 'heartbeat', mark, heartbeatMs: 1_000 });
    clock.advance(1_000);
    expect((await nextOfType(reader, 'heartbeat')).mark).toEqual(mark);
  });
});

describe('watch: status reports', () => {
  it('records ACK and NACK per client and shows them in /v1/clients', async () => {
    const { url } = await start();
    const reader = await watch(url, { clientId: 'reviews-1' });
    const snapshot = await nextOfType(reader, 'snapshot');
    const ack = await postJson(
      `${url}/v1/status`,
      {
        clientId: 'reviews-1',
        mark: snapshot.mark,
        status: 'ack',
        configDump: { routes: ['reviews'] },
      },
      'POST',
      reader.streamToken,
    );
    expect(ack).toEqual({
      status: 200,
      body: { clientId: 'reviews-1', recorded: 'ack', mark: snapshot.mark },
    });
    let view = (await getJson(`${url}/v1/clients`)) as {
      clients: Record<string, unknown>[];
      totals: unknown;
    };
    expect(view.clients[0]).toMatchObject({
      clientId: 'reviews-1',
      workload: 'reviews-1-workload',
      namespace: 'default',
      connected: true,
      status: 'SYNCED',
      sent: snapshot.mark,
      acked: snapshot.mark,
      nacked: null,
    });
    expect(await getJson(`${url}/v1/clients/reviews-1/config`)).toEqual({
      clientId: 'reviews-1',
      acked: snapshot.mark,
      dumpMark: snapshot.mark,
      isCurrent: true,
      configDump: { routes: ['reviews'] },
    });

    const mark = await applyOk(url, virtualService('reviews'));
    await nextOfType(reader, 'delta');
    view = (await getJson(`${url}/v1/clients`)) as typeof view;
    expect(view.clients[0]).toMatchObject({ status: 'STALE', sent: mark, acked: snapshot.mark });

    const nack = await postJson(
      `${url}/v1/status`,
      {
        clientId: 'reviews-1',
        mark,
        status: 'nack',
        error: 'VirtualService/default/reviews: subset v9 not found',
      },
      'POST',
      reader.streamToken,
    );
    expect(nack.status).toBe(200);
    view = (await getJson(`${url}/v1/clients`)) as typeof view;
    expect(view.clients[0]).toMatchObject({
      status: 'NACKED',
      acked: snapshot.mark,
      nacked: mark,
      error: 'VirtualService/default/reviews: subset v9 not found',
      acks: 1,
      nacks: 1,
    });
    expect(view.totals).toEqual({ acks: 1, nacks: 1, connected: 1 });
  });

  it('refuses reports from unknown clients, for marks never sent, and malformed ones', async () => {
    const { url } = await start();
    const reader = await watch(url, { clientId: 'c1' });
    const { mark } = await nextOfType(reader, 'snapshot');
    const unknown = await postJson(`${url}/v1/status`, { clientId: 'nobody', mark, status: 'ack' });
    expect(unknown.status).toBe(404);
    // B9: only the holder of the client's current stream may report for it.
    const ack = { clientId: 'c1', mark, status: 'ack' };
    const withoutToken = await postJson(`${url}/v1/status`, ack);
    expect(withoutToken.status).toBe(403);
    expect((withoutToken.body.error as { code: string }).code).toBe('not-stream-holder');
    expect(reader.streamToken).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect((await postJson(`${url}/v1/status`, ack, 'POST', `${reader.streamToken.slice(1)}x`)).status).toBe(
      403,
    );
    const future = await postJson(
      `${url}/v1/status`,
      {
        clientId: 'c1',
        mark: { ...mark, revision: mark.revision + 1 },
        status: 'ack',
      },
      'POST',
      reader.streamToken,
    );
    expect(future.status).toBe(409);
    expect((future.body.error as { code: string }).code).toBe('not-sent');
    const otherEpoch = await postJson(
      `${url}/v1/status`,
      {
        clientId: 'c1',
        mark: { ...mark, epoch: 'x' },
        status: 'ack',
      },
      'POST',
      reader.streamToken,
    );
    expect(otherEpoch.status).toBe(409);
    for (const body of [
      { clientId: 'c1', mark, status: 'maybe' },
      { clientId: 'c1', mark: { epoch: mark.epoch, revision: -1 }, status: 'ack' },
      { clientId: 'c1', status: 'ack' },
      { clientId: 'c1', mark, status: 'nack', error: 42 },
      [1, 2],
    ]) {
      expect((await postJson(`${url}/v1/status`, body)).status, JSON.stringify(body)).toBe(400);
    }
    const view = (await getJson(`${url}/v1/clients`)) as { totals: { acks: number; nacks: number } };
    expect(view.totals).toMatchObject({ acks: 0, nacks: 0 });
  });

  it('asks a client for its config dump over its watch when a caller wants it, and serves what it posts', async () => {
    const { url } = await start();
    const reader = await watch(url, { clientId: 'c1' });
    const { mark } = await nextOfType(reader, 'snapshot');
    const ack = await postJson(
      `${url}/v1/status`,
      { clientId: 'c1', mark, status: 'ack' },
      'POST',
      reader.streamToken,
    );
    expect(ack.status).toBe(200);

    const asked = getJson(`${url}/v1/clients/c1/config`);
    expect(await nextOfType(reader, 'heartbeat')).toMatchObject({ mark, configDumpRequested: true });
    const dump = { mark, configDump: { routes: ['a'] } };
    expect((await postJson(`${url}/v1/clients/c1/config`, dump)).status).toBe(403);
    expect((await postJson(`${url}/v1/clients/c1/config`, { mark }, 'POST', reader.streamToken)).status).toBe(
      400,
    );
    expect((await postJson(`${url}/v1/clients/c1/config`, dump, 'POST', reader.streamToken)).status).toBe(
      200,
    );
    expect(await asked).toEqual({
      clientId: 'c1',
      acked: mark,
      dumpMark: mark,
      isCurrent: true,
      configDump: { routes: ['a'] },
    });
    // Current now: the next caller is served without asking the client again.
    expect(await getJson(`${url}/v1/clients/c1/config`)).toMatchObject({ configDump: { routes: ['a'] } });
    expect(reader.frames.filter((frame) => frame.type === 'heartbeat')).toHaveLength(1);
  });

  it('answers 504 when a connected client does not send the config dump it was asked for', async () => {
    const { url } = await start();
    const reader = await watch(url, { clientId: 'c1' });
    await nextOfType(reader, 'snapshot');
    const response = await fetch(`${url}/v1/clients/c1/config`);
    expect(response.status).toBe(504);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('client-did-not-answer');
  });

  it('refuses a report carrying the token of a stream the client has since replaced (B9)', async () => {
    const { url } = await start();
    const first = await watch(url, { clientId: 'c1' });
    const { mark } = await nextOfType(first, 'snapshot');
    const second = await watch(url, { clientId: 'c1' });
    await nextOfType(second, 'snapshot');
    expect(second.streamToken).not.toBe(first.streamToken);
    const report = { clientId: 'c1', mark, status: 'ack' };
    expect((await postJson(`${url}/v1/status`, report, 'POST', first.streamToken)).status).toBe(403);
    expect((await postJson(`${url}/v1/status`, report, 'POST', second.streamToken)).status).toBe(200);
  });

  it('does not resend a NACKed revision to a client that reconnects (B6)', async () => {
    const { url } = await start();
    const good = await applyOk(url, virtualService('a'));
    const reader = await watch(url, { clientId: 'c1', resume: good });
    await nextOfType(reader, 'heartbeat');
    const bad = await applyOk(url, virtualService('b'));
    const delta = await nextOfType(reader, 'delta');
    expect(delta.mark).toEqual(bad);
    expect(
      (
        await postJson(
          `${url}/v1/status`,
          { clientId: 'c1', mark: bad, status: 'nack', error: 'no' },
          'POST',
          reader.streamToken,
        )
      ).status,
    ).toBe(200);
    reader.close();

    // Reconnecting from its last good mark, the client is not sent the refused revision again…
    const again = await watch(url, { clientId: 'c1', resume: good });
    expect(await nextOfType(again, 'heartbeat')).toMatchObject({ mark: good });
    // …but gets it, with what came after, once the config moves on.
    const next = await applyOk(url, virtualService('c'));
    const combined = await nextOfType(again, 'delta');
    expect(combined.mark).toEqual(next);
    expect(names(combined)).toEqual(['default/b', 'default/c']);

    // Another client, which never refused it, does get the current revision at once.
    const other = await watch(url, { clientId: 'c2', resume: good });
    expect(names(await nextOfType(other, 'delta'))).toEqual(['default/b', 'default/c']);
  });
});

describe('watch: scoping', () => {
  const scoped = [
    virtualService('public', 'a'),
    virtualService('private', 'a', '  exportTo: ["."]'),
    virtualService('for-b', 'a', '  exportTo: ["b"]'),
    [
      'apiVersion: networking.istio.io/v1',
      'kind: DestinationRule',
      'metadata: { name: hidden, namespace: a }',
      'spec: { host: hidden, exportTo: ["~"] }',
    ].join('\n'),
    [
      'apiVersion: security.istio.io/v1',
      'kind: AuthorizationPolicy',
      'metadata: { name: local-policy, namespace: a }',
      'spec: { action: ALLOW, rules: [{ to: [{ operation: { methods: [GET] } }] }] }',
    ].join('\n'),
    [
      'apiVersion: security.istio.io/v1',
      'kind: AuthorizationPolicy',
      'metadata: { name: mesh-policy, namespace: istio-system }',
      'spec: { action: DENY, rules: [{ to: [{ operation: { paths: [/admin] } }] }] }',
    ].join('\n'),
    [
      'apiVersion: security.istio.io/v1',
      'kind: PeerAuthentication',
      'metadata: { name: strict, namespace: a }',
      'spec: { mtls: { mode: STRICT } }',
    ].join('\n'),
  ].join('\n---\n');

  it('sends each namespace only what is exported or applies to it', async () => {
    const { url } = await start();
    await applyOk(url, scoped);
    const inA = await watch(url, { clientId: 'in-a', namespace: 'a' });
    const inB = await watch(url, { clientId: 'in-b', namespace: 'b' });
    const inC = await watch(url, { clientId: 'in-c', namespace: 'c' });
    expect(names(await nextOfType(inA, 'snapshot'))).toEqual([
      'a/local-policy',
      'a/private',
      'a/public',
      'a/strict',
      'istio-system/mesh-policy',
    ]);
    expect(names(await nextOfType(inB, 'snapshot'))).toEqual([
      'a/for-b',
      'a/public',
      'a/strict',
      'istio-system/mesh-policy',
    ]);
    expect(names(await nextOfType(inC, 'snapshot'))).toEqual([
      'a/public',
      'a/strict',
      'istio-system/mesh-policy',
    ]);
  });

  it('turns a narrowed exportTo into a delete for the namespaces that lost it', async () => {
    const { url } = await start();
    await applyOk(url, scoped);
    const inA = await watch(url, { clientId: 'in-a', namespace: 'a' });
    const inB = await watch(url, { clientId: 'in-b', namespace: 'b' });
    await nextOfType(inA, 'snapshot');
    await nextOfType(inB, 'snapshot');

    await applyOk(url, virtualService('public', 'a', '  exportTo: ["."]'));
    const forA = await nextOfType(inA, 'delta');
    expect(names(forA)).toEqual(['a/public']);
    expect(forA.deletes).toEqual([]);
    const forB = await nextOfType(inB, 'delta');
    expect(forB.upserts).toEqual([]);
    expect(forB.deletes).toEqual([{ kind: 'VirtualService', namespace: 'a', name: 'public' }]);

    // A change b cannot see sends b nothing: its next frame is the next change it can see.
    await applyOk(url, virtualService('private', 'a', '  exportTo: [".", "c"]'));
    expect(names(await nextOfType(inA, 'delta'))).toEqual(['a/private']);
    await applyOk(url, virtualService('for-b', 'a', '  exportTo: ["b", "c"]'));
    expect(names(await nextOfType(inB, 'delta'))).toEqual(['a/for-b']);
  });

  function sidecar(namespace: string, hosts: string[], extra = ''): string {
    return [
      'apiVersion: networking.istio.io/v1',
      'kind: Sidecar',
      `metadata: { name: scope, namespace: ${namespace} }`,
      'spec:',
      extra,
      `  egress: [{ hosts: ${JSON.stringify(hosts)} }]`,
    ]
      .filter((line) => line !== '')
      .join('\n');
  }

  const services = ['reviews', 'ratings', 'details']
    .map((name) => virtualService(name, 'shop'))
    .join('\n---\n');

  it("sends a namespace only the hosts its Sidecar's egress imports, and everything anew when the Sidecar changes", async () => {
    const { url } = await start();
    await applyOk(url, `${services}\n---\n${sidecar('a', ['shop/reviews.shop.svc.cluster.local', './*'])}`);
    const inA = await watch(url, { clientId: 'in-a', namespace: 'a' });
    const inB = await watch(url, { clientId: 'in-b', namespace: 'b' });
    expect(names(await nextOfType(inA, 'snapshot'))).toEqual(['a/scope', 'shop/reviews']);
    expect(names(await nextOfType(inB, 'snapshot'))).toEqual([
      'shop/details',
      'shop/ratings',
      'shop/reviews',
    ]);

    // A change to a host a does not import reaches b only.
    await applyOk(url, virtualService('ratings', 'shop', '  exportTo: ["*"]'));
    expect(names(await nextOfType(inB, 'delta'))).toEqual(['shop/ratings']);
    await applyOk(url, virtualService('reviews', 'shop', '  exportTo: ["*"]'));
    expect(names(await nextOfType(inA, 'delta'))).toEqual(['shop/reviews']);

    // The Sidecar now imports every host of shop: a gets a snapshot with all of them.
    await applyOk(url, sidecar('a', ['shop/*']));
    expect(names(await nextOfType(inA, 'snapshot'))).toEqual([
      'a/scope',
      'shop/details',
      'shop/ratings',
      'shop/reviews',
    ]);
  });

  it("applies the root namespace's Sidecar where a namespace has none, and scopes nothing when one selects workloads", async () => {
    const { url } = await start();
    await applyOk(url, `${services}\n---\n${sidecar('istio-system', ['*/details.shop.svc.cluster.local'])}`);
    const inA = await watch(url, { clientId: 'in-a', namespace: 'a' });
    expect(names(await nextOfType(inA, 'snapshot'))).toEqual(['istio-system/scope', 'shop/details']);
    await applyOk(url, sidecar('c', ['./*'], '  workloadSelector: { labels: { app: web } }'));
    const inC = await watch(url, { clientId: 'in-c', namespace: 'c' });
    expect(names(await nextOfType(inC, 'snapshot'))).toEqual([
      'c/scope',
      'istio-system/scope',
      'shop/details',
      'shop/ratings',
      'shop/reviews',
    ]);
  });
});

describe('watch: registry', () => {
  const workload = {
    name: 'reviews-v1-1',
    namespace: 'default',
    service: 'reviews',
    serviceAccount: 'bookinfo-reviews',
    labels: { app: 'reviews', version: 'v1' },
    address: '127.0.0.1',
    ports: { 9080: 39080 },
  };

  it('removes a workload from every watch when its lease lapses, and keeps it while renewed', async () => {
    const clock = new FakeClock();
    // No coalescing window: on a clock that stands still it would hold every push after the first.
    const { url } = await start({ clock, coalesceWindowMs: 0, heartbeatMs: 60_000 });
    const reader = await watch(url, { clientId: 'c1' });
    await nextOfType(reader, 'snapshot');
    const registered = await postJson(`${url}/v1/workloads`, { ...workload, ttlMs: 5_000 });
    expect(registered.status).toBe(201);
    const leaseId = registered.body.leaseId as string;
    const added = await nextOfType(reader, 'delta');
    expect(added.workloadUpserts).toEqual([{ ...workload, ports: { '9080': 39080 } }]);

    clock.advance(4_000);
    expect((await postJson(`${url}/v1/leases/${leaseId}`, {}, 'PUT')).status).toBe(200);
    clock.advance(4_000);
    const listed = (await getJson(`${url}/v1/workloads`)) as { items: unknown[] };
    expect(listed.items).toHaveLength(1);

    clock.advance(1_000);
    const removed = await nextOfType(reader, 'delta');
    expect(removed.workloadDeletes).toEqual([{ namespace: 'default', name: 'reviews-v1-1' }]);
    expect(((await getJson(`${url}/v1/workloads`)) as { items: unknown[] }).items).toEqual([]);
    expect((await postJson(`${url}/v1/leases/${leaseId}`, {}, 'PUT')).status).toBe(404);
  });

  it('sends registered workloads in the snapshot and deregistrations as deltas', async () => {
    const { url } = await start();
    expect((await postJson(`${url}/v1/workloads`, { ...workload, ttlMs: 60_000 })).status).toBe(201);
    const reader = await watch(url, { clientId: 'c1', namespace: 'other' });
    expect((await nextOfType(reader, 'snapshot')).workloads.map((entry) => entry.name)).toEqual([
      'reviews-v1-1',
    ]);
    const deleted = await fetch(`${url}/v1/workloads/default/reviews-v1-1`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect((await nextOfType(reader, 'delta')).workloadDeletes).toEqual([
      { namespace: 'default', name: 'reviews-v1-1' },
    ]);
  });
});

/**
 * A MemoryStore whose watch can be made to answer `resync`, as a store does after compaction
 * or when its watcher fell too far behind (bad-inputs H1).
 */
function resyncable(inner: MemoryStore): { store: Store; resync: () => void } {
  const control = { resync: () => {} };
  async function* watchWithResync(from: RevisionMark, signal: AbortSignal): AsyncIterable<StoreEvent> {
    const local = new AbortController();
    let isResync = false;
    control.resync = () => {
      isResync = true;
      local.abort();
    };
    yield* inner.watch(from, AbortSignal.any([signal, local.signal]));
    if (isResync) yield { type: 'resync', mark: await inner.mark() };
  }
  const store = new Proxy(inner, {
    get(target, property) {
      if (property === 'watch') return watchWithResync;
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store, resync: () => control.resync() };
}

describe('watch: store resync', () => {
  it('sends every client a fresh snapshot when the store asks for a resync', async () => {
    const inner = await MemoryStore.open();
    const { store, resync } = resyncable(inner);
    const agent = await createAgent({ store });
    cleanups.push(async () => {
      await agent.close();
      await inner.close();
    });
    const reader = await watch(agent.url, { clientId: 'c1' });
    await nextOfType(reader, 'snapshot');
    const mark = await applyOk(agent.url, virtualService('a'));
    expect(names(await nextOfType(reader, 'delta'))).toEqual(['default/a']);
    resync();
    const snapshot = await nextOfType(reader, 'snapshot');
    expect(snapshot.mark).toEqual(mark);
    expect(names(snapshot)).toEqual(['default/a']);
    // And the agent follows the store again afterwards.
    const next = await applyOk(agent.url, virtualService('b'));
    expect((await nextOfType(reader, 'delta')).mark).toEqual(next);
  });
});

describe('watch: agent shutdown', () => {
  it('ends every stream when the agent closes', async () => {
    const store = await MemoryStore.open();
    cleanups.push(() => store.close());
    const agent = await createAgent({ store });
    const reader = await watch(agent.url, { clientId: 'c1' });
    await nextOfType(reader, 'snapshot');
    await agent.close();
    await reader.until(() => reader.isDone, 5_000, 'the stream to end');
  });
});
