/**
 * The sync status the agent shows for a change that concerns some clients only (PROTOCOL.md §3.5
 * "In sync without a frame", §4.3): against a real agent on 127.0.0.1 with a MemoryStore, clients
 * in different namespaces (and one scoped by a Sidecar) see a change sent to the others only, and
 * still show SYNCED at its revision in /v1/clients, `weft proxy-status` and the dashboard; a
 * client that has not acked, or refused, what concerns it stays STALE or NACKED.
 */
import { createMesh, type Mesh, type RevisionMark, STREAM_TOKEN_HEADER, type WatchFrame } from '@weft/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BufferedSink, type CliIo } from '../src/cli/cli-io.ts';
import { main } from '../src/cli/main.ts';
import { ClientRegistry, inSyncAt, syncStatusOf } from '../src/clients/client-registry.ts';
import type { Agent, ResourceWrite } from '../src/index.ts';
import type { MemoryStore } from '../src/store/memory-store.ts';
import { cleanups, connect, eventually, newStore, runCleanups, seed, startAgent } from './client-harness.ts';

afterEach(runCleanups);

/** One client as `GET /v1/clients` shows it (the fields these tests read). */
interface ClientView {
  readonly clientId: string;
  readonly namespace: string;
  readonly status: string;
  readonly inSyncAt: RevisionMark | null;
  readonly sent: RevisionMark | null;
  readonly acked: RevisionMark | null;
  readonly nacked: RevisionMark | null;
  readonly error: string | null;
  readonly deltasSent: number;
  readonly snapshotsSent: number;
}

async function clientsOf(agent: Agent): Promise<ClientView[]> {
  const response = await fetch(`${agent.url}/v1/clients`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { clients: ClientView[] }).clients;
}

async function viewOf(agent: Agent, clientId: string): Promise<ClientView> {
  const view = (await clientsOf(agent)).find((client) => client.clientId === clientId);
  if (view === undefined) throw new Error(`the agent does not list client ${clientId}`);
  return view;
}

/** Waits (bounded) until the client shows SYNCED in sync at `mark`; fails naming what it shows. */
async function expectInSyncAt(agent: Agent, clientId: string, mark: RevisionMark): Promise<ClientView> {
  const isInSync = async () => {
    const view = await viewOf(agent, clientId);
    return view.status === 'SYNCED' && view.inSyncAt?.revision === mark.revision;
  };
  if (!(await eventually(isInSync, 10_000))) {
    expect(await viewOf(agent, clientId)).toMatchObject({ status: 'SYNCED', inSyncAt: mark });
  }
  return viewOf(agent, clientId);
}

/** Writes to the store, and waits (bounded) until the agent's view has caught up with the write. */
async function put(agent: Agent, store: MemoryStore, ...writes: ResourceWrite[]): Promise<RevisionMark> {
  const result = await store.putResources(writes);
  if (!result.ok) throw new Error(`the store refused the write: ${JSON.stringify(result)}`);
  const { mark } = result;
  expect(await eventually(() => agent.mark().revision >= mark.revision, 5_000)).toBe(true);
  return mark;
}

/** Istio's allow-nothing policy for one namespace: it concerns that namespace's clients only. */
function allowNothing(namespace: string): ResourceWrite {
  return {
    resource: {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'allow-nothing', namespace },
      spec: {},
    },
  };
}

function meshIn(namespace: string, name: string): Mesh {
  const mesh = createMesh({
    workload: {
      name: `${name}-0`,
      namespace,
      serviceAccount: name,
      labels: { app: name, version: 'v1' },
      service: name,
    },
  });
  cleanups.push(() => mesh.close());
  return mesh;
}

/** `weft proxy-status` run in-process; the table's row for `clientId`, split into cells. */
async function proxyStatusRow(agent: Agent, clientId: string): Promise<Record<string, string>> {
  const stdout = new BufferedSink();
  const io: CliIo = {
    stdout,
    stderr: new BufferedSink(),
    readStdin: async () => '',
    env: {},
    cwd: process.cwd(),
    now: () => Date.now(),
    shutdown: new AbortController().signal,
  };
  expect(await main(['proxy-status', clientId, '--agent', agent.url], io)).toBe(0);
  const [header = '', row = ''] = stdout.text.split('\n');
  // Columns are separated by two spaces or more; a header may hold one (`IN SYNC AT`).
  const names = header.trim().split(/\s{2,}/);
  const cells = row.trim().split(/\s{2,}/);
  return Object.fromEntries(names.map((name, index) => [name, cells[index] ?? '']));
}

/** The dashboard's entry for `clientId` (GET /v1/dashboard/state, from loopback). */
async function dashboardEntry(agent: Agent, clientId: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${agent.url}/v1/dashboard/state`);
  expect(response.status).toBe(200);
  const state = (await response.json()) as { workloads: Record<string, unknown>[] };
  const entry = state.workloads.find((workload) => workload.clientId === clientId);
  if (entry === undefined) throw new Error(`the dashboard does not list client ${clientId}`);
  return entry;
}

/**
 * A client under the test's control: a raw watch whose frames are kept, and status reports sent
 * only when the test says (a real client ACKs everything it can apply).
 */
class RawClient {
  readonly frames: WatchFrame[] = [];
  readonly clientId: string;
  #streamToken = '';
  readonly #abort = new AbortController();
  #isDone = false;

  constructor(clientId: string) {
    this.clientId = clientId;
  }

  async open(agent: Agent, namespace: string): Promise<void> {
    const query = new URLSearchParams({
      clientId: this.clientId,
      namespace,
      workload: `${this.clientId}-workload`,
      protocolVersion: '1',
    });
    const response = await fetch(`${agent.url}/v1/watch?${query}`, { signal: this.#abort.signal });
    expect(response.status).toBe(200);
    this.#streamToken = response.headers.get(STREAM_TOKEN_HEADER) ?? '';
    cleanups.push(() => this.#abort.abort());
    void this.#read(response.body as ReadableStream<Uint8Array>);
  }

  /** The first frame of `type` carrying `mark` or a later revision; bounded wait. */
  async frameAt(type: WatchFrame['type'], mark: RevisionMark): Promise<WatchFrame> {
    const find = () =>
      this.frames.find((frame) => frame.type === type && frame.mark.revision >= mark.revision);
    await eventually(() => find() !== undefined || this.#isDone, 10_000);
    const frame = find();
    if (frame === undefined)
      throw new Error(`no ${type} at ${mark.revision}: ${JSON.stringify(this.frames)}`);
    return frame;
  }

  framesOfType(type: WatchFrame['type']): WatchFrame[] {
    return this.frames.filter((frame) => frame.type === type);
  }

  async report(agent: Agent, mark: RevisionMark, status: 'ack' | 'nack', error?: string): Promise<void> {
    const response = await fetch(`${agent.url}/v1/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [STREAM_TOKEN_HEADER]: this.#streamToken },
      body: JSON.stringify({
        clientId: this.clientId,
        mark,
        status,
        ...(error === undefined ? {} : { error }),
      }),
    });
    expect(response.status, await response.text()).toBe(200);
  }

  async #read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of body) {
        buffered += decoder.decode(chunk, { stream: true });
        for (let end = buffered.indexOf('\n'); end !== -1; end = buffered.indexOf('\n')) {
          this.frames.push(JSON.parse(buffered.slice(0, end)) as WatchFrame);
          buffered = buffered.slice(end + 1);
        }
      }
    } catch {
      // aborted at the end of the test
    } finally {
      this.#isDone = true;
    }
  }
}

describe('sync status: a change that concerns other clients only', () => {
  let store: MemoryStore;
  let agent: Agent;

  beforeEach(async () => {
    store = await newStore();
    await seed(store);
    agent = await startAgent(store);
  });

  it('shows both agent clients SYNCED at the new revision, the unconcerned one without a frame', async () => {
    const { client: productpage } = connect(meshIn('default', 'productpage'), { agents: [agent.url] });
    const { client: gateway } = connect(meshIn('istio-system', 'istio-ingressgateway'), {
      agents: [agent.url],
    });
    expect(await productpage.ready).toBe('synced');
    expect(await gateway.ready).toBe('synced');
    const before = agent.mark();
    await expectInSyncAt(agent, productpage.clientId, before);
    const gatewayBefore = await expectInSyncAt(agent, gateway.clientId, before);

    const mark = await put(agent, store, allowNothing('default'));
    const concerned = await expectInSyncAt(agent, productpage.clientId, mark);
    expect(concerned).toMatchObject({ sent: mark, acked: mark });
    const unconcerned = await expectInSyncAt(agent, gateway.clientId, mark);
    // Nothing was sent to it, and it acked nothing new: only its in-sync mark moved.
    expect(unconcerned).toMatchObject({
      namespace: 'istio-system',
      sent: before,
      acked: before,
      nacked: null,
      deltasSent: gatewayBefore.deltasSent,
      snapshotsSent: gatewayBefore.snapshotsSent,
    });
    // The client itself took the new mark from a heartbeat, as the agent counts it.
    expect(await eventually(() => gateway.appliedMark?.revision === mark.revision, 5_000)).toBe(true);
    // Its config dump of that mark is current: the view it acked, at the revision it is in sync at.
    const dump = await fetch(`${agent.url}/v1/clients/${gateway.clientId}/config`);
    expect(await dump.json()).toMatchObject({ acked: before, dumpMark: mark, isCurrent: true });

    expect(await proxyStatusRow(agent, gateway.clientId)).toMatchObject({
      STATUS: 'SYNCED',
      'IN SYNC AT': String(mark.revision),
      SENT: String(before.revision),
      ACKED: String(before.revision),
    });
    expect(await dashboardEntry(agent, gateway.clientId)).toMatchObject({
      status: 'SYNCED',
      inSyncAt: mark,
      acked: before,
    });
  });

  it('counts a client whose Sidecar does not import the changed host in sync at the new revision', async () => {
    // Clients in `ratings-ns` import only their own namespace's hosts.
    await put(agent, store, {
      resource: {
        apiVersion: 'networking.istio.io/v1',
        kind: 'Sidecar',
        metadata: { name: 'default', namespace: 'ratings-ns' },
        spec: { egress: [{ hosts: ['./*'] }] },
      },
    });
    const scoped = new RawClient('ratings-1');
    const open = new RawClient('productpage-1');
    await scoped.open(agent, 'ratings-ns');
    await open.open(agent, 'default');
    const start = agent.mark();
    await scoped.report(agent, (await scoped.frameAt('snapshot', start)).mark, 'ack');
    await open.report(agent, (await open.frameAt('snapshot', start)).mark, 'ack');

    // A VirtualService in `default`, exported everywhere: `ratings-ns` does not import its host.
    const mark = await put(agent, store, {
      resource: {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'details', namespace: 'default' },
        spec: { hosts: ['details'], http: [{ route: [{ destination: { host: 'details' } }] }] },
      },
    });
    const delta = await open.frameAt('delta', mark);
    await open.report(agent, delta.mark, 'ack');
    await expectInSyncAt(agent, open.clientId, mark);
    expect(await expectInSyncAt(agent, scoped.clientId, mark)).toMatchObject({ sent: start, acked: start });
    expect(scoped.framesOfType('delta')).toEqual([]);
  });

  it('shows STALE a client that has not acked what concerns it, until it acks, whatever changes elsewhere', async () => {
    const reviews = new RawClient('reviews-1');
    await reviews.open(agent, 'default');
    const start = agent.mark();
    await reviews.report(agent, (await reviews.frameAt('snapshot', start)).mark, 'ack');
    await expectInSyncAt(agent, reviews.clientId, start);

    const concerning = await put(agent, store, allowNothing('default'));
    await reviews.frameAt('delta', concerning);
    // Not acked: the agent must not count it in sync at the revision it has not applied…
    expect(await eventually(async () => (await viewOf(agent, reviews.clientId)).status === 'STALE')).toBe(
      true,
    );
    // …nor at a later one that concerns other namespaces only.
    const elsewhere = await put(agent, store, allowNothing('other'));
    await reviews.frameAt('heartbeat', elsewhere);
    expect(await viewOf(agent, reviews.clientId)).toMatchObject({
      status: 'STALE',
      inSyncAt: null,
      sent: concerning,
      acked: start,
    });
    expect(await proxyStatusRow(agent, reviews.clientId)).toMatchObject({
      STATUS: 'STALE',
      'IN SYNC AT': '-',
      SENT: String(concerning.revision),
    });
    expect(await dashboardEntry(agent, reviews.clientId)).toMatchObject({ status: 'STALE', inSyncAt: null });

    // Its ACK of the change that concerned it makes it in sync at the later revision too.
    await reviews.report(agent, concerning, 'ack');
    await expectInSyncAt(agent, reviews.clientId, elsewhere);
  });

  it('shows NACKED a client that refused what concerns it, whatever changes elsewhere', async () => {
    const reviews = new RawClient('reviews-1');
    await reviews.open(agent, 'default');
    const start = agent.mark();
    await reviews.report(agent, (await reviews.frameAt('snapshot', start)).mark, 'ack');

    const concerning = await put(agent, store, allowNothing('default'));
    await reviews.frameAt('delta', concerning);
    const reason = 'allow-nothing: refused by this build';
    await reviews.report(agent, concerning, 'nack', reason);
    const elsewhere = await put(agent, store, allowNothing('other'));
    await reviews.frameAt('heartbeat', elsewhere);
    expect(await viewOf(agent, reviews.clientId)).toMatchObject({
      status: 'NACKED',
      inSyncAt: null,
      sent: concerning,
      acked: start,
      nacked: concerning,
      error: reason,
    });
    expect(await proxyStatusRow(agent, reviews.clientId)).toMatchObject({
      STATUS: 'NACKED',
      'IN SYNC AT': '-',
      NACK: `${concerning.revision}: ${reason}`,
    });
    expect(await dashboardEntry(agent, reviews.clientId)).toMatchObject({
      status: 'NACKED',
      inSyncAt: null,
      nacked: concerning,
      error: reason,
    });
  });
});

describe('ClientRegistry: in sync without a frame', () => {
  const at = (revision: number, epoch = 'e1'): RevisionMark => ({ epoch, revision });

  function syncedAt(revision: number) {
    const registry = new ClientRegistry(10, () => 0);
    const record = registry.connect('c1', 'default', 'w', 1);
    registry.recordSent(record, at(revision), 'snapshot');
    registry.recordAck(record, at(revision));
    return { registry, record };
  }

  it('moves the in-sync mark along an unbroken chain of unchanged revisions from the last frame', () => {
    const { registry, record } = syncedAt(5);
    registry.recordUnchanged(record, at(5), at(7));
    registry.recordUnchanged(record, at(6), at(9)); // from inside [5, 7]: the view is the same there
    expect(inSyncAt(record)).toEqual(at(9));
    registry.recordUnchanged(record, at(9), at(8)); // never backwards
    expect(inSyncAt(record)).toEqual(at(9));
    registry.recordSent(record, at(10), 'delta');
    expect(syncStatusOf(record)).toBe('STALE');
    expect(inSyncAt(record)).toBeUndefined();
  });

  it('takes nothing from a stream that started from a mark the client was not known to hold', () => {
    const { registry, record } = syncedAt(5);
    registry.recordUnchanged(record, at(4), at(8)); // before the last frame
    registry.recordUnchanged(record, at(6), at(8)); // past what is known unchanged (5)
    registry.recordUnchanged(record, at(5, 'e2'), at(8, 'e2')); // another epoch
    expect(inSyncAt(record)).toEqual(at(5));
    const fresh = registry.connect('c2', 'default', 'w', 1);
    registry.recordUnchanged(fresh, at(5), at(8)); // never sent anything
    expect(syncStatusOf(fresh)).toBe('NOT SENT');
    expect(inSyncAt(fresh)).toBeUndefined();
  });
});
