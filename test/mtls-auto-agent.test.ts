/**
 * Auto-mTLS end to end (issue 5): two workloads get their SVIDs from a real agent's CA with join
 * tokens (`connectToAgent(mesh, { identity })`), which fills each mesh's identity slot. The server
 * registers, and its registration says it takes mTLS (Istio's tlsMode label, added because it has
 * an identity); the caller learns it from the watch and, with no DestinationRule at all, calls it
 * through @weft/http over mTLS, verifying it is `bookinfo-reviews`. All on 127.0.0.1.
 */
import { createServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { createAgent, MemoryStore } from '@weft/control-agent';
import {
  type AgentClient,
  connectToAgent,
  createMesh,
  followIdentity,
  type IdentityMaterial,
  type Mesh,
  secureContextOptions,
  TLS_MODE_LABEL,
  type WorkloadCertificates,
} from '@weft/core';
import { createMeshDispatcher } from '@weft/http';
import { request } from 'undici';
import { afterEach, expect, it } from 'vitest';

const ADMIN_TOKEN = 'mtls-admin-token-0123456789abcdef';
const cleanups: (() => unknown)[] = [];

async function runCleanups(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

async function startAgent(): Promise<string> {
  const store = await MemoryStore.open();
  cleanups.push(() => store.close());
  const agent = await createAgent({ store, adminToken: ADMIN_TOKEN, heartbeatMs: 100, coalesceWindowMs: 0 });
  cleanups.push(() => agent.close());
  return agent.url;
}

/** A join token for `serviceAccount` (what `weft token create` prints). */
async function createToken(url: string, serviceAccount: string): Promise<string> {
  const response = await fetch(`${url}/v1/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ namespace: 'default', serviceAccount, ttl: '1h' }),
  });
  if (response.status !== 201) throw new Error(`token create failed: ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}

/** Polls `condition` every 10 ms for at most `limitMs`; the test asserts the result. */
async function eventually(condition: () => boolean, limitMs = 5_000): Promise<boolean> {
  for (let round = 0; round < limitMs / 10 && !condition(); round++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return condition();
}

afterEach(runCleanups);

async function join(
  url: string,
  serviceAccount: string,
  workload: Partial<Parameters<typeof createMesh>[0]['workload']>,
  register?: { readonly port: number },
): Promise<{ mesh: Mesh; client: AgentClient; identity: WorkloadCertificates }> {
  const token = await createToken(url, serviceAccount);
  const mesh = createMesh({
    workload: { name: `${serviceAccount}-0`, namespace: 'default', serviceAccount, labels: {}, ...workload },
  });
  cleanups.push(() => mesh.close());
  const client = connectToAgent(mesh, {
    agents: [url],
    adminToken: ADMIN_TOKEN,
    backoff: { baseMs: 20, maxMs: 200 },
    identity: { joinToken: token },
    ...(register === undefined
      ? {}
      : { register: { address: '127.0.0.1', ports: { 9080: register.port }, ttlMs: 10_000 } }),
  });
  cleanups.push(() => client.close());
  const identity = client.identity as WorkloadCertificates;
  await identity.ready;
  return { mesh, client, identity };
}

it('a caller with an agent-issued SVID talks mTLS to a registered workload, with no DestinationRule', async () => {
  const url = await startAgent();
  // The server listens first (its port goes into the registration) and gets its certificate once
  // its SVID is issued; until then no handshake can complete.
  const seen: { peer: string | undefined; host: string | undefined }[] = [];
  const server = createServer({ requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerX509Certificate()?.subjectAltName;
    seen.push({ peer, host: req.headers.host });
    res.end('reviews-v1');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as { port: number }).port;
  const reviews = await join(
    url,
    'bookinfo-reviews',
    { service: 'reviews', labels: { app: 'reviews' } },
    { port },
  );
  server.setSecureContext(secureContextOptions(reviews.identity.current() as IdentityMaterial));
  cleanups.push(followIdentity(server, reviews.identity));

  const productpage = await join(url, 'bookinfo-productpage', { labels: { app: 'productpage' } });
  expect(productpage.mesh.identity).toBe(productpage.client.identity);
  expect(productpage.mesh.readiness.evaluate().conditions).toContainEqual(
    expect.objectContaining({ name: 'certificate', isReady: true }),
  );
  const host = 'reviews.default.svc.cluster.local';
  expect(await eventually(() => productpage.mesh.snapshot.services.get(host)?.endpoints.length === 1)).toBe(
    true,
  );
  expect(productpage.mesh.snapshot.services.get(host)?.endpoints[0]?.labels[TLS_MODE_LABEL]).toBe('istio');

  const dispatcher = createMeshDispatcher(productpage.mesh);
  cleanups.push(() => dispatcher.close());
  const response = await request('http://reviews:9080/reviews/0', { dispatcher });
  expect(response.statusCode).toBe(200);
  expect(await response.body.text()).toBe('reviews-v1');
  expect(seen).toEqual([
    { peer: 'URI:spiffe://cluster.local/ns/default/sa/bookinfo-productpage', host: 'reviews:9080' },
  ]);
});
