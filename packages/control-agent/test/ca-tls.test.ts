/**
 * Workloads with identities from a real agent, talking mTLS to each other on 127.0.0.1 with
 * node:tls: each gets its SVID through `connectToAgent({ identity })`, verifies the other's SPIFFE
 * ID, follows the trust bundle the watch carries through a root rotation without a failed
 * request, and shows its certificate in `weft proxy-config secret`. Also: two agents on one store
 * issue SVIDs that trust each other, and an expired SVID is refused.
 */
import { createServer, type Server, type TLSSocket } from 'node:tls';
import {
  type AgentClient,
  acceptTlsPeer,
  clientTlsOptions,
  connectToAgent,
  createMesh,
  followIdentity,
  type IdentityMaterial,
  serverTlsOptions,
  type WorkloadCertificates,
} from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import { exchange } from '../../core/test/identity-fixtures.ts';
import { BufferedSink } from '../src/cli/cli-io.ts';
import { main } from '../src/cli/main.ts';
import { MemoryStore } from '../src/store/memory-store.ts';
import {
  ADMIN_TOKEN,
  call,
  cleanups,
  createToken,
  eventually,
  requestWithToken,
  runCleanups,
  startIdentityAgent,
  TestWall,
  workloadKey,
} from './support/identity-harness.ts';

afterEach(runCleanups);

const HOUR_MS = 3_600_000;
const SERVER_ID = 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews';
const CLIENT_ID = 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage';

/** A workload of `serviceAccount`, connected to `agents` with a join token, its SVID issued. */
async function workload(
  agentUrls: readonly string[],
  serviceAccount: string,
): Promise<{ readonly client: AgentClient; readonly identity: WorkloadCertificates }> {
  const { token } = await createToken(agentUrls[0] as string, 'default', serviceAccount);
  const mesh = createMesh({
    workload: {
      name: `${serviceAccount}-0`,
      namespace: 'default',
      serviceAccount,
      labels: { app: serviceAccount },
    },
  });
  cleanups.push(() => mesh.close());
  const client = connectToAgent(mesh, {
    agents: [...agentUrls],
    backoff: { baseMs: 20, maxMs: 200 },
    identity: { joinToken: token, renewal: { rotationJitterMs: 20, retryBaseMs: 20, retryMaxMs: 200 } },
  });
  cleanups.push(() => client.close());
  const identity = client.identity as WorkloadCertificates;
  await identity.ready;
  return { client, identity };
}

/** An mTLS server presenting `identity` (and following its renewals) that greets its peer by SPIFFE ID. */
async function greetingServer(identity: WorkloadCertificates): Promise<{ server: Server; port: number }> {
  const material = identity.current() as IdentityMaterial;
  const server = createServer(serverTlsOptions(material), (socket: TLSSocket) => {
    try {
      const peer = acceptTlsPeer(socket, identity.current() as IdentityMaterial, { allowedIds: [CLIENT_ID] });
      socket.end(`hello ${peer.spiffeId.uri}`);
    } catch {
      socket.destroy();
    }
  });
  const stop = followIdentity(server, identity);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  cleanups.push(stop);
  return { server, port: (server.address() as { port: number }).port };
}

/** One request as `material`, accepting only the server's identity. */
async function greet(port: number, material: IdentityMaterial): Promise<string> {
  const result = await exchange({
    host: '127.0.0.1',
    port,
    ...clientTlsOptions(material, { allowedIds: [SERVER_ID] }),
  });
  return result.ok ? result.data : `failed: ${result.error.code ?? result.error.message}`;
}

function issuerOf(material: IdentityMaterial | undefined): string {
  return material?.issuer ?? '';
}

describe('workloads with SVIDs from the agent', () => {
  it('talk mutual TLS, each verifying the other by SPIFFE ID', async () => {
    const { url } = await startIdentityAgent();
    const server = await workload([url], 'bookinfo-reviews');
    const client = await workload([url], 'bookinfo-productpage');
    expect(server.identity.current()?.spiffeId).toBe(SERVER_ID);
    const { port } = await greetingServer(server.identity);
    expect(await greet(port, client.identity.current() as IdentityMaterial)).toBe(`hello ${CLIENT_ID}`);
    // The client refuses a server that is not the identity it expects.
    const wrongExpectation = await exchange({
      host: '127.0.0.1',
      port,
      ...clientTlsOptions(client.identity.current() as IdentityMaterial, { allowedIds: [CLIENT_ID] }),
    });
    expect(wrongExpectation.ok).toBe(false);
  });

  it('refuse a peer whose SVID has expired', async () => {
    // One store's CA, reached through an agent whose clock is a day and a half behind (it made
    // the root then): the SVID it issues expired twelve hours ago. A live agent serves the rest.
    const past = await startIdentityAgent({ wall: new TestWall(Date.now() - 36 * HOUR_MS) });
    const live = await startIdentityAgent({ store: past.store });
    const server = await workload([live.url], 'bookinfo-reviews');
    const { port } = await greetingServer(server.identity);
    const { token } = await createToken(past.url, 'default', 'bookinfo-productpage');
    const key = workloadKey([CLIENT_ID]);
    const answer = await requestWithToken(past.url, token, key);
    expect(answer.status).toBe(200);
    const current = server.identity.current() as IdentityMaterial;
    const expired: IdentityMaterial = {
      ...current,
      spiffeId: CLIENT_ID,
      certChainPem: answer.body.certificateChain,
      keyPem: key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    };
    const result = await exchange({ host: '127.0.0.1', port, ...clientTlsOptions(expired) });
    expect(result.ok).toBe(false);
    // The same request with a live SVID goes through: the refusal was the expiry.
    const fresh = await workload([live.url], 'bookinfo-productpage');
    expect(await greet(port, fresh.identity.current() as IdentityMaterial)).toBe(`hello ${CLIENT_ID}`);
  });

  it('show their certificate and trust bundle in weft proxy-config secret', async () => {
    const { url } = await startIdentityAgent();
    const { client, identity } = await workload([url], 'bookinfo-reviews');
    expect(await eventually(() => client.state === 'synced')).toBe(true);
    const stdout = new BufferedSink();
    const stderr = new BufferedSink();
    const io = {
      stdout,
      stderr,
      readStdin: async () => '',
      env: {},
      cwd: process.cwd(),
      now: () => Date.now(),
      shutdown: new AbortController().signal,
    };
    const code = await main(['proxy-config', 'secret', 'bookinfo-reviews-0', '--agent', url], io);
    expect(stderr.text).toBe('');
    expect(code).toBe(0);
    const material = identity.current() as IdentityMaterial;
    const [header, svid, root] = stdout.text.trim().split('\n');
    expect(header).toMatch(
      /^RESOURCE\s+IDENTITY\s+STATUS\s+SERIAL NUMBER\s+NOT BEFORE\s+NOT AFTER\s+ISSUER$/,
    );
    expect(svid).toContain(SERVER_ID);
    expect(svid).toContain('ACTIVE');
    expect(svid).toContain(material.serialNumber);
    expect(svid).toContain(material.notAfter.toISOString());
    expect(root).toMatch(/^ROOTCA\s+O=cluster\.local, CN=Weft root CA .*TRUSTED/);

    // A new trust bundle changes no revision: the client posts its dump unasked, and the next
    // proxy-config shows both roots.
    await call(url, 'POST', '/v1/ca/rotate', { token: ADMIN_TOKEN, body: { activateAfter: '1h' } });
    expect(await eventually(() => identity.current()?.trustBundlePem.length === 2)).toBe(true);
    const rows = async () => {
      const sink = new BufferedSink();
      await main(['proxy-config', 'secret', 'bookinfo-reviews-0', '--agent', url], { ...io, stdout: sink });
      return sink.text
        .trim()
        .split('\n')
        .filter((line) => line.startsWith('ROOTCA')).length;
    };
    expect(await eventually(async () => (await rows()) === 2)).toBe(true);
  });
});

describe('connectToAgent with an identity', () => {
  it('refuses a join token for another identity than the workload, before asking for anything', async () => {
    const { url } = await startIdentityAgent();
    const { token } = await createToken(url, 'default', 'bookinfo-ratings');
    const mesh = createMesh({
      workload: { name: 'reviews-0', namespace: 'default', serviceAccount: 'bookinfo-reviews', labels: {} },
    });
    cleanups.push(() => mesh.close());
    expect(() => connectToAgent(mesh, { agents: [url], identity: { joinToken: token } })).toThrow(
      'the join token is for spiffe://cluster.local/ns/default/sa/bookinfo-ratings, but this workload is spiffe://cluster.local/ns/default/sa/bookinfo-reviews',
    );
  });
});

describe('two agents on one store', () => {
  it('agree on one root: workloads issued by either trust each other', async () => {
    const store = await MemoryStore.open();
    cleanups.push(() => store.close());
    const [first, second] = await Promise.all([startIdentityAgent({ store }), startIdentityAgent({ store })]);
    const bundleA = await call(first?.url ?? '', 'GET', '/v1/ca/bundle');
    const bundleB = await call(second?.url ?? '', 'GET', '/v1/ca/bundle');
    expect(bundleA.body.version).toBe(bundleB.body.version);
    const server = await workload([first?.url ?? ''], 'bookinfo-reviews');
    const client = await workload([second?.url ?? ''], 'bookinfo-productpage');
    const { port } = await greetingServer(server.identity);
    expect(await greet(port, client.identity.current() as IdentityMaterial)).toBe(`hello ${CLIENT_ID}`);
  });
});

describe('root rotation (bad-inputs E13)', () => {
  it('loses no request: old and new roots overlap, workloads renew onto the new one, the old one leaves last', async () => {
    // The agent's clock starts two hours back so that moving it forward through the rotation
    // keeps every SVID valid on the real clock TLS checks against.
    const wall = new TestWall(Date.now() - 2 * HOUR_MS);
    const { url } = await startIdentityAgent({ wall, ca: { refreshIntervalMs: 20 } });
    const server = await workload([url], 'bookinfo-reviews');
    const client = await workload([url], 'bookinfo-productpage');
    const { port } = await greetingServer(server.identity);
    const before = client.identity.current() as IdentityMaterial;
    const failures: string[] = [];
    let requests = 0;
    let isLoading = true;
    const load = (async () => {
      while (isLoading) {
        const answer = await greet(port, client.identity.current() as IdentityMaterial);
        requests += 1;
        if (answer !== `hello ${CLIENT_ID}`) failures.push(answer);
      }
    })();

    // Prepare: the new root is trusted everywhere before it signs anything.
    const rotated = await call(url, 'POST', '/v1/ca/rotate', {
      token: ADMIN_TOKEN,
      body: { activateAfter: '1h', overlap: '25h' },
    });
    expect(rotated.status).toBe(200);
    const hasBothRoots = (identity: WorkloadCertificates) => identity.current()?.trustBundlePem.length === 2;
    expect(await eventually(() => hasBothRoots(server.identity) && hasBothRoots(client.identity))).toBe(true);
    expect(issuerOf(client.identity.current())).toBe(before.issuer);

    // Activate: the new root signs; both workloads renew onto it without being asked.
    wall.advance(HOUR_MS);
    const isOnNewRoot = (identity: WorkloadCertificates) => issuerOf(identity.current()) !== before.issuer;
    expect(await eventually(() => isOnNewRoot(server.identity) && isOnNewRoot(client.identity))).toBe(true);
    const requestsAtActivation = requests;
    expect(await eventually(() => requests > requestsAtActivation + 3)).toBe(true);
    // During the overlap an SVID of the old root is still accepted.
    const oldSvidNewBundle = { ...before, trustBundlePem: client.identity.current()?.trustBundlePem ?? [] };
    expect(await greet(port, oldSvidNewBundle)).toBe(`hello ${CLIENT_ID}`);

    // Retire: after the overlap the old root leaves every bundle, and its SVIDs stop working.
    wall.advance(25 * HOUR_MS);
    const hasOneRoot = (identity: WorkloadCertificates) => identity.current()?.trustBundlePem.length === 1;
    expect(await eventually(() => hasOneRoot(server.identity) && hasOneRoot(client.identity))).toBe(true);
    const requestsAtRetirement = requests;
    expect(await eventually(() => requests > requestsAtRetirement + 3)).toBe(true);
    isLoading = false;
    await load;
    expect(await greet(port, oldSvidNewBundle)).toMatch(/^failed/);
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(10);
  });
});
