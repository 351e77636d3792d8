/**
 * Registration with the workload's own identity (PROTOCOL.md §4.2.1), against a real agent with a
 * CA and an admin token on 127.0.0.1: a join token or an SVID proof registers, renews and
 * deregisters only workloads of its own namespace and service account; stale, tampered, revoked
 * or foreign proofs are refused; the admin token still writes anything.
 */
import { X509Certificate } from 'node:crypto';
import { createSvidProof } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  type Answer,
  call,
  createToken,
  type IdentityAgent,
  REVIEWS_ID,
  requestWithToken,
  runCleanups,
  startIdentityAgent,
  workloadKey,
} from './support/identity-harness.ts';

afterEach(runCleanups);

const MINUTE_MS = 60_000;

function registration(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'reviews-v1-0',
    namespace: 'default',
    service: 'reviews',
    serviceAccount: 'bookinfo-reviews',
    labels: { app: 'reviews', version: 'v1' },
    address: '127.0.0.1',
    ports: { 9080: 39080 },
    ttlMs: 60_000,
    ...overrides,
  };
}

/** One request with exactly this Authorization header and body text. */
async function send(
  url: string,
  method: string,
  path: string,
  authorization: string | undefined,
  bodyText?: string,
): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== undefined) headers.authorization = authorization;
  const response = await fetch(`${url}${path}`, {
    method,
    headers,
    ...(bodyText === undefined ? {} : { body: bodyText }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

interface Svid {
  readonly chainPem: string;
  readonly privateKey: ReturnType<typeof workloadKey>['privateKey'];
}

/** An SVID for `namespace/serviceAccount`, obtained as a workload does: a join token, then a CSR. */
async function obtainSvid(
  url: string,
  namespace = 'default',
  serviceAccount = 'bookinfo-reviews',
): Promise<Svid> {
  const { token, spiffeId } = await createToken(url, namespace, serviceAccount);
  const key = workloadKey([spiffeId]);
  const answer = await requestWithToken(url, token, key);
  expect(answer.status).toBe(200);
  return { chainPem: answer.body.certificateChain, privateKey: key.privateKey };
}

/** A request signed with `svid` (the proof over `signed`, sent with `sent` unless told otherwise). */
function sendWithProof(
  identity: IdentityAgent,
  svid: Svid,
  method: string,
  path: string,
  body?: unknown,
  options: { readonly timestampMs?: number; readonly sentBody?: string; readonly signedPath?: string } = {},
): Promise<Answer> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const proof = createSvidProof(
    svid,
    {
      method,
      path: options.signedPath ?? path,
      body: text === undefined ? undefined : Buffer.from(text),
    },
    options.timestampMs ?? identity.wall.now(),
  );
  return send(identity.url, method, path, proof, options.sentBody ?? text);
}

async function registeredNames(url: string): Promise<string[]> {
  const answer = await call(url, 'GET', '/v1/workloads');
  return (answer.body.items as { namespace: string; name: string }[]).map(
    (workload) => `${workload.namespace}/${workload.name}`,
  );
}

describe('registration with a join token', () => {
  it('registers, renews and deregisters a workload of the token’s own identity', async () => {
    const { url } = await startIdentityAgent();
    const { token } = await createToken(url);
    const bearer = `Bearer ${token}`;

    const registered = await send(url, 'POST', '/v1/workloads', bearer, JSON.stringify(registration()));
    expect(registered.status).toBe(201);
    expect(await registeredNames(url)).toEqual(['default/reviews-v1-0']);

    const renewed = await send(url, 'PUT', `/v1/leases/${registered.body.leaseId}`, bearer);
    expect(renewed.status).toBe(200);
    expect(renewed.body).toEqual({ leaseId: registered.body.leaseId, renewed: true });

    const deleted = await send(url, 'DELETE', '/v1/workloads/default/reviews-v1-0', bearer);
    expect(deleted.status).toBe(200);
    expect(await registeredNames(url)).toEqual([]);
  });

  it('refuses (403) a workload of another namespace or service account, naming both identities', async () => {
    const { url } = await startIdentityAgent();
    const { token } = await createToken(url);
    const bearer = `Bearer ${token}`;

    const otherAccount = await send(
      url,
      'POST',
      '/v1/workloads',
      bearer,
      JSON.stringify(registration({ serviceAccount: 'bookinfo-ratings' })),
    );
    expect(otherAccount.status).toBe(403);
    expect(otherAccount.body.error.code).toBe('forbidden-identity');
    expect(otherAccount.body.error.message).toContain(REVIEWS_ID);
    expect(otherAccount.body.error.message).toContain(
      'spiffe://cluster.local/ns/default/sa/bookinfo-ratings',
    );

    const otherNamespace = await send(
      url,
      'POST',
      '/v1/workloads',
      bearer,
      JSON.stringify(registration({ namespace: 'istio-system' })),
    );
    expect(otherNamespace.status).toBe(403);
    expect(otherNamespace.body.error.message).toContain(
      'spiffe://cluster.local/ns/istio-system/sa/bookinfo-reviews',
    );
    expect(await registeredNames(url)).toEqual([]);
  });

  it('refuses (401) a missing credential, a wrong token, an expired or revoked join token', async () => {
    const { url, wall } = await startIdentityAgent();
    const body = JSON.stringify(registration());
    const missing = await send(url, 'POST', '/v1/workloads', undefined, body);
    expect(missing.status).toBe(401);
    expect(missing.body.error.message).toMatch(/Weft-SVID/);

    const wrong = await send(url, 'POST', '/v1/workloads', 'Bearer not-a-token-of-any-kind', body);
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.message).toMatch(/neither the admin token nor a valid join token/);

    const { token, tokenId } = await createToken(url, 'default', 'bookinfo-reviews', '10m');
    expect(
      await call(url, 'POST', '/v1/tokens/revocations', { token: ADMIN_TOKEN, body: { tokenId } }),
    ).toMatchObject({ status: 200 });
    const revoked = await send(url, 'POST', '/v1/workloads', `Bearer ${token}`, body);
    expect(revoked.status).toBe(401);
    expect(revoked.body.error.message).toMatch(/revoked/);

    const { token: expiring } = await createToken(url, 'default', 'bookinfo-reviews', '10m');
    wall.advance(11 * MINUTE_MS);
    const expired = await send(url, 'POST', '/v1/workloads', `Bearer ${expiring}`, body);
    expect(expired.status).toBe(401);
    expect(await registeredNames(url)).toEqual([]);
  });

  it('is not let through for coming from loopback when the agent has an admin token', async () => {
    const { url } = await startIdentityAgent();
    const lease = await send(url, 'PUT', '/v1/leases/anything', undefined);
    expect(lease.status).toBe(401);
    const deleted = await send(url, 'DELETE', '/v1/workloads/default/reviews-v1-0', undefined);
    expect(deleted.status).toBe(401);
  });
});

describe('registration with an SVID proof', () => {
  it('registers, renews and deregisters with the SVID long after the join token expired', async () => {
    const identity = await startIdentityAgent();
    const svid = await obtainSvid(identity.url);
    // The join token (1 h) is long expired; the SVID (24 h) is still current.
    identity.wall.advance(2 * 60 * MINUTE_MS);

    const registered = await sendWithProof(identity, svid, 'POST', '/v1/workloads', registration());
    expect(registered.status).toBe(201);
    expect(await registeredNames(identity.url)).toEqual(['default/reviews-v1-0']);

    const renewed = await sendWithProof(identity, svid, 'PUT', `/v1/leases/${registered.body.leaseId}`);
    expect(renewed.status).toBe(200);

    const deleted = await sendWithProof(identity, svid, 'DELETE', '/v1/workloads/default/reviews-v1-0');
    expect(deleted.status).toBe(200);
    expect(await registeredNames(identity.url)).toEqual([]);
  });

  it('refuses a proof whose timestamp is more than 5 minutes off, either way', async () => {
    const identity = await startIdentityAgent();
    const svid = await obtainSvid(identity.url);
    const now = identity.wall.now();
    for (const timestampMs of [now - 6 * MINUTE_MS, now + 6 * MINUTE_MS]) {
      const answer = await sendWithProof(identity, svid, 'POST', '/v1/workloads', registration(), {
        timestampMs,
      });
      expect(answer.status).toBe(401);
      expect(answer.body.error.message).toMatch(/more than 5 minutes from the agent's clock/);
    }
    const withinWindow = await sendWithProof(identity, svid, 'POST', '/v1/workloads', registration(), {
      timestampMs: now - 4 * MINUTE_MS,
    });
    expect(withinWindow.status).toBe(201);
  });

  it('refuses a proof for another body, path or method', async () => {
    const identity = await startIdentityAgent();
    const svid = await obtainSvid(identity.url);
    const tampered = await sendWithProof(identity, svid, 'POST', '/v1/workloads', registration(), {
      sentBody: JSON.stringify(registration({ ports: { 9080: 1 } })),
    });
    expect(tampered.status).toBe(401);
    expect(tampered.body.error.message).toMatch(/signature is not the SVID key's over this request/);

    const registered = await sendWithProof(identity, svid, 'POST', '/v1/workloads', registration());
    expect(registered.status).toBe(201);
    const otherPath = await sendWithProof(
      identity,
      svid,
      'PUT',
      `/v1/leases/${registered.body.leaseId}`,
      undefined,
      {
        signedPath: '/v1/leases/another-lease',
      },
    );
    expect(otherPath.status).toBe(401);

    // A renewal's proof replayed as a deregistration.
    const renewal = createSvidProof(
      svid,
      { method: 'PUT', path: '/v1/workloads/default/reviews-v1-0', body: undefined },
      identity.wall.now(),
    );
    const otherMethod = await send(identity.url, 'DELETE', '/v1/workloads/default/reviews-v1-0', renewal);
    expect(otherMethod.status).toBe(401);
    expect(await registeredNames(identity.url)).toEqual(['default/reviews-v1-0']);
  });

  it('refuses the SVID of a revoked identity', async () => {
    const identity = await startIdentityAgent();
    const svid = await obtainSvid(identity.url);
    identity.wall.advance(1_000);
    const revocation = await call(identity.url, 'POST', '/v1/tokens/revocations', {
      token: ADMIN_TOKEN,
      body: { namespace: 'default', serviceAccount: 'bookinfo-reviews' },
    });
    expect(revocation.status).toBe(200);
    const answer = await sendWithProof(identity, svid, 'POST', '/v1/workloads', registration());
    expect(answer.status).toBe(401);
    expect(answer.body.error.message).toMatch(/was revoked after this certificate was issued/);
  });

  it('refuses an SVID from another CA, and a malformed proof', async () => {
    const identity = await startIdentityAgent();
    const foreign = await startIdentityAgent();
    const svid = await obtainSvid(foreign.url);
    // Same trust domain and identity, another root: only the chain tells them apart.
    const answer = await sendWithProof(identity, svid, 'POST', '/v1/workloads', registration());
    expect(answer.status).toBe(401);
    expect(answer.body.error.message).toMatch(/not a current SVID of this CA/);

    for (const proof of [
      'Weft-SVID v2.1.AAAA.AAAA',
      'Weft-SVID v1.soon.AAAA.AAAA',
      'Weft-SVID v1.1.A+A.AAAA',
    ]) {
      const malformed = await send(
        identity.url,
        'POST',
        '/v1/workloads',
        proof,
        JSON.stringify(registration()),
      );
      expect(malformed.status).toBe(401);
      expect(malformed.body.error.message).toMatch(/^Weft-SVID: /);
    }
    expect(await registeredNames(identity.url)).toEqual([]);
  });

  it('refuses an expired SVID', async () => {
    const identity = await startIdentityAgent();
    const svid = await obtainSvid(identity.url);
    const leaf = new X509Certificate(svid.chainPem);
    identity.wall.advance(Date.parse(leaf.validTo) - identity.wall.now() + MINUTE_MS);
    const answer = await sendWithProof(identity, svid, 'POST', '/v1/workloads', registration());
    expect(answer.status).toBe(401);
    expect(answer.body.error.message).toMatch(/not a current SVID of this CA/);
  });
});

describe('leases and deregistration belong to their identity', () => {
  it('lets another identity neither renew the lease nor deregister the workload (403)', async () => {
    const identity = await startIdentityAgent();
    const reviews = await obtainSvid(identity.url);
    const registered = await sendWithProof(identity, reviews, 'POST', '/v1/workloads', registration());
    expect(registered.status).toBe(201);
    const leasePath = `/v1/leases/${registered.body.leaseId}`;

    const ratings = await obtainSvid(identity.url, 'default', 'bookinfo-ratings');
    const renewal = await sendWithProof(identity, ratings, 'PUT', leasePath);
    expect(renewal.status).toBe(403);
    expect(renewal.body.error.message).toContain('spiffe://cluster.local/ns/default/sa/bookinfo-ratings');
    expect(renewal.body.error.message).toContain(REVIEWS_ID);

    const { token: ratingsToken } = await createToken(identity.url, 'default', 'bookinfo-ratings');
    const deletion = await send(
      identity.url,
      'DELETE',
      '/v1/workloads/default/reviews-v1-0',
      `Bearer ${ratingsToken}`,
    );
    expect(deletion.status).toBe(403);
    expect(deletion.body.error.code).toBe('forbidden-identity');

    const gateway = await obtainSvid(identity.url, 'istio-system', 'bookinfo-reviews');
    const otherNamespace = await sendWithProof(
      identity,
      gateway,
      'DELETE',
      '/v1/workloads/default/reviews-v1-0',
    );
    expect(otherNamespace.status).toBe(403);

    // Nor may it take the name over by registering it as itself.
    const takeover = await sendWithProof(
      identity,
      ratings,
      'POST',
      '/v1/workloads',
      registration({ serviceAccount: 'bookinfo-ratings' }),
    );
    expect(takeover.status).toBe(403);
    expect(takeover.body.error.message).toContain(REVIEWS_ID);

    expect(await registeredNames(identity.url)).toEqual(['default/reviews-v1-0']);
    expect((await sendWithProof(identity, reviews, 'PUT', leasePath)).status).toBe(200);
  });

  it('answers 404 to a workload renewing a lease this agent did not grant, so it registers again', async () => {
    const identity = await startIdentityAgent();
    const svid = await obtainSvid(identity.url);
    const admin = await call(identity.url, 'POST', '/v1/workloads', {
      token: ADMIN_TOKEN,
      body: registration(),
    });
    expect(admin.status).toBe(201);
    // A second agent on the same store never granted that lease.
    const second = await startIdentityAgent({ store: identity.store, wall: identity.wall });
    const renewal = await sendWithProof(second, svid, 'PUT', `/v1/leases/${admin.body.leaseId}`);
    expect(renewal.status).toBe(404);
    expect(renewal.body.error.message).toMatch(/register the workload again/);
    // The first agent granted it (to an admin registration of this identity): the workload renews it.
    expect((await sendWithProof(identity, svid, 'PUT', `/v1/leases/${admin.body.leaseId}`)).status).toBe(200);
  });

  it('still lets the admin token register, renew and deregister any workload', async () => {
    const { url } = await startIdentityAgent();
    const registered = await call(url, 'POST', '/v1/workloads', {
      token: ADMIN_TOKEN,
      body: registration({ namespace: 'istio-system', serviceAccount: 'anyone' }),
    });
    expect(registered.status).toBe(201);
    expect(
      (await call(url, 'PUT', `/v1/leases/${registered.body.leaseId}`, { token: ADMIN_TOKEN })).status,
    ).toBe(200);
    expect(
      (await call(url, 'DELETE', '/v1/workloads/istio-system/reviews-v1-0', { token: ADMIN_TOKEN })).status,
    ).toBe(200);
  });

  it('keeps loopback registrations without a credential on an agent without an admin token', async () => {
    const { url } = await startIdentityAgent({ adminToken: undefined });
    const registered = await send(url, 'POST', '/v1/workloads', undefined, JSON.stringify(registration()));
    expect(registered.status).toBe(201);
    expect((await send(url, 'PUT', `/v1/leases/${registered.body.leaseId}`, undefined)).status).toBe(200);
    expect((await send(url, 'DELETE', '/v1/workloads/default/reviews-v1-0', undefined)).status).toBe(200);
  });
});
