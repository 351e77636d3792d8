/**
 * Outbound mTLS (issue 5): DestinationRule `tls.mode: ISTIO_MUTUAL` and auto-mTLS, against real
 * TLS servers on 127.0.0.1 that present SVIDs of a test CA and require the client's (node:https with
 * the identity module's serverTlsOptions). The server's SPIFFE ID must be one the destination
 * service runs as; every refusal is a 503 with flag UF and WEFT_ERR_UNAUTHENTICATED, sent nowhere
 * else and never retried as plaintext.
 */

import { createTestCa, spiffeIdOf, TestIdentity } from '@weft/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { destinationRule, joinDocuments } from '../../core/test/support/istio-yaml.ts';
import { startTestSdk, type TestSdk } from '../../core/test/support/otel-test-sdk.ts';
import { ERROR_CODE_HEADER } from '../src/index.ts';
import { CALLER_ID, createMtlsHarness, meshWorkload } from './support/mtls-harness.ts';

const URL = 'http://reviews:9080/reviews/1';
const REVIEWS = 'reviews.default.svc.cluster.local';
const ISTIO_MUTUAL = destinationRule('reviews', 'tls: { mode: ISTIO_MUTUAL }');

const harness = createMtlsHarness();
let sdk: TestSdk | undefined;
afterEach(async () => {
  await harness.close();
  await sdk?.shutdown();
  sdk = undefined;
});

describe('ISTIO_MUTUAL', () => {
  it("presents the workload's SVID, accepts a server reviews runs as, and keeps the Host with Istio's SNI", async () => {
    const upstream = await harness.tlsUpstream('reviews-0', 'reviews');
    const client = harness.client(ISTIO_MUTUAL, [meshWorkload('reviews', upstream.port)]);
    const result = await client.get(URL);
    expect(result).toMatchObject({ status: 200, body: 'reviews-0' });
    expect(upstream.requests).toEqual([
      {
        path: '/reviews/1',
        host: 'reviews:9080',
        clientId: CALLER_ID,
        clientSerial: client.identity?.current()?.serialNumber,
        sni: `outbound_.9080_._.${REVIEWS}`,
      },
    ]);
    expect(client.tlsEvents).toEqual([
      expect.objectContaining({
        type: 'handshake',
        cluster: `outbound|9080||${REVIEWS}`,
        mode: 'ISTIO_MUTUAL',
        isAuto: false,
        peer: spiffeIdOf('cluster.local', 'default', 'reviews'),
      }),
    ]);
  });

  it('sends the subset in the SNI and reuses connections for the next requests', async () => {
    const upstream = await harness.tlsUpstream('reviews-v2', 'reviews');
    const rule = destinationRule('reviews', 'tls: { mode: ISTIO_MUTUAL }\n').replace(
      'spec:\n',
      'spec:\n  subsets: [{ name: v2, labels: { version: v2 } }]\n',
    );
    const routeToV2 = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http: [{ route: [{ destination: { host: reviews, subset: v2 } }] }]
`;
    const client = harness.client(joinDocuments(rule, routeToV2), [
      meshWorkload('reviews', upstream.port, { labels: { version: 'v2' } }),
    ]);
    for (let index = 0; index < 6; index++) expect((await client.get(URL)).status).toBe(200);
    expect(upstream.requests.map((request) => request.sni)).toEqual(
      Array(6).fill(`outbound_.9080_.v2_.${REVIEWS}`),
    );
    // Sequential requests: undici may open a second connection while the first is being released
    // (it does for plaintext too), never one per request.
    expect(upstream.connections).toBeLessThanOrEqual(2);
    expect(client.tlsEvents.filter((event) => event.type === 'handshake')).toHaveLength(upstream.connections);
  });

  it('refuses requests when the workload has no identity, and sends nothing', async () => {
    const upstream = await harness.tlsUpstream('reviews-0', 'reviews');
    const client = harness.client(ISTIO_MUTUAL, [meshWorkload('reviews', upstream.port)], {
      identity: null,
    });
    const result = await client.get(URL);
    expect(result).toMatchObject({ status: 503, flags: ['UF'] });
    expect(result.headers[ERROR_CODE_HEADER]).toBe('WEFT_ERR_IDENTITY_UNAVAILABLE');
    expect(result.body).toMatch(/ISTIO_MUTUAL and this workload has no identity/);
    expect(upstream.connections).toBe(0);
  });
});

describe('a server that is not who the destination runs as', () => {
  const foreign = createTestCa('cluster.local');
  const cases = [
    {
      what: 'a valid SVID of another service account',
      material: () => harness.ca.workload('default', 'ratings'),
      message: /spiffe:\/\/cluster\.local\/ns\/default\/sa\/ratings is not an identity allowed here/,
    },
    {
      what: 'a valid SVID of another namespace',
      material: () => harness.ca.workload('staging', 'reviews'),
      message: /ns\/staging\/sa\/reviews is not an identity allowed here/,
    },
    {
      what: 'an SVID of a foreign trust domain, signed by the mesh CA',
      material: () => {
        const id = spiffeIdOf('evil.example', 'default', 'reviews');
        const leaf = harness.ca.issue(id);
        return { ...harness.ca.workload('default', 'reviews'), certChainPem: leaf.pem, keyPem: leaf.keyPem };
      },
      message: /is of trust domain evil\.example; accepted: cluster\.local/,
    },
    {
      what: 'an SVID of the right identity from a CA outside the trust bundle',
      material: () => foreign.workload('default', 'reviews'),
      message: /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/,
    },
    {
      what: 'an expired SVID',
      material: () =>
        harness.ca.workload('default', 'reviews', {
          notBefore: new Date(Date.now() - 7_200_000),
          notAfter: new Date(Date.now() - 3_600_000),
        }),
      message: /CERT_HAS_EXPIRED/,
    },
  ];
  for (const { what, material, message } of cases) {
    it(`is refused: ${what} (503 UF, unauthenticated, one connection, no retry)`, async () => {
      const upstream = await harness.tlsUpstream('reviews-0', 'reviews', material());
      const client = harness.client(ISTIO_MUTUAL, [meshWorkload('reviews', upstream.port)]);
      const result = await client.get(URL);
      expect(result).toMatchObject({ status: 503, flags: ['UF'] });
      expect(result.headers[ERROR_CODE_HEADER]).toBe('WEFT_ERR_UNAUTHENTICATED');
      expect(result.body).toMatch(/transport failure reason: TLS error: ISTIO_MUTUAL to 127\.0\.0\.1:/);
      expect(result.body).toMatch(message);
      expect(upstream.requests).toEqual([]);
      // Istio's default retry policy covers connect failures; an authentication failure is not one.
      expect(upstream.connections).toBe(1);
      expect(client.tlsEvents).toEqual([expect.objectContaining({ type: 'handshake-failed' })]);
    });
  }
});

describe('auto-mTLS (no DestinationRule tls)', () => {
  it('uses mTLS to a mesh workload and plaintext to a workload outside the mesh', async () => {
    const mtls = await harness.tlsUpstream('reviews-0', 'reviews');
    const legacy = await harness.plainUpstream('legacy-0');
    const client = harness.client('', [
      meshWorkload('reviews', mtls.port),
      meshWorkload('legacy', legacy.port, { isMesh: false }),
    ]);
    expect(await client.get(URL)).toMatchObject({ status: 200, body: 'reviews-0' });
    expect(await client.get('http://legacy:9080/x')).toMatchObject({ status: 200, body: 'legacy-0' });
    expect(mtls.requests.map((request) => request.clientId)).toEqual([CALLER_ID]);
    expect(legacy.seen.map((request) => request.path)).toEqual(['/x']);
    expect(client.tlsEvents).toEqual([expect.objectContaining({ type: 'handshake', isAuto: true })]);
  });

  it('verifies the server identity as ISTIO_MUTUAL does', async () => {
    const upstream = await harness.tlsUpstream(
      'reviews-0',
      'reviews',
      harness.ca.workload('default', 'ratings'),
    );
    const client = harness.client('', [meshWorkload('reviews', upstream.port)]);
    const result = await client.get(URL);
    expect(result).toMatchObject({ status: 503, flags: ['UF'] });
    expect(result.body).toMatch(/sa\/ratings is not an identity allowed here/);
    expect(upstream.requests).toEqual([]);
  });

  it("sends plaintext when the destination's PeerAuthentication is DISABLE on its port", async () => {
    const plain = await harness.plainUpstream('reviews-0');
    const disable = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: reviews, namespace: default }
spec:
  selector: { matchLabels: { app: reviews } }
  mtls: { mode: DISABLE }
`;
    const client = harness.client(disable, [meshWorkload('reviews', plain.port)]);
    expect(await client.get(URL)).toMatchObject({ status: 200, body: 'reviews-0' });
    expect(client.tlsEvents).toEqual([]);
  });

  it('keeps mTLS when the PeerAuthentication is STRICT, and when only another port is DISABLE', async () => {
    const upstream = await harness.tlsUpstream('reviews-0', 'reviews');
    const policy = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: reviews, namespace: default }
spec:
  selector: { matchLabels: { app: reviews } }
  mtls: { mode: STRICT }
  portLevelMtls: { ${upstream.port + 1}: { mode: DISABLE } }
`;
    const client = harness.client(policy, [meshWorkload('reviews', upstream.port)]);
    expect(await client.get(URL)).toMatchObject({ status: 200, body: 'reviews-0' });
    expect(upstream.requests.map((request) => request.clientId)).toEqual([CALLER_ID]);
  });

  it('sends plaintext when the caller has no identity, as a pod without a sidecar does', async () => {
    const plain = await harness.plainUpstream('reviews-0');
    const client = harness.client('', [meshWorkload('reviews', plain.port)], { identity: null });
    expect(await client.get(URL)).toMatchObject({ status: 200, body: 'reviews-0' });
  });

  it('answers 503 rather than plaintext while an identity has no certificate yet', async () => {
    const upstream = await harness.tlsUpstream('reviews-0', 'reviews');
    const client = harness.client('', [meshWorkload('reviews', upstream.port)], {
      identity: new TestIdentity(),
    });
    const result = await client.get(URL);
    expect(result).toMatchObject({ status: 503, flags: ['UF'] });
    expect(result.headers[ERROR_CODE_HEADER]).toBe('WEFT_ERR_IDENTITY_UNAVAILABLE');
    expect(upstream.connections).toBe(0);
  });
});

describe('tls.mode DISABLE', () => {
  it('sends plaintext to a mesh workload', async () => {
    const plain = await harness.plainUpstream('reviews-0');
    const client = harness.client(destinationRule('reviews', 'tls: { mode: DISABLE }'), [
      meshWorkload('reviews', plain.port),
    ]);
    expect(await client.get(URL)).toMatchObject({ status: 200, body: 'reviews-0' });
    expect(client.tlsEvents).toEqual([]);
  });
});

describe('telemetry', () => {
  it('labels mTLS requests mutual_tls with both principals, and plaintext ones none', async () => {
    sdk = startTestSdk();
    const upstream = await harness.tlsUpstream('reviews-0', 'reviews');
    const legacy = await harness.plainUpstream('legacy-0');
    const client = harness.client(
      '',
      [meshWorkload('reviews', upstream.port), meshWorkload('legacy', legacy.port, { isMesh: false })],
      { telemetry: { tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider } },
    );
    expect((await client.get(URL)).status).toBe(200);
    expect((await client.get('http://legacy:9080/x')).status).toBe(200);
    const reviewsId = spiffeIdOf('cluster.local', 'default', 'reviews');
    expect(
      await sdk.counter('istio_requests_total', {
        destination_service_name: 'reviews',
        connection_security_policy: 'mutual_tls',
        source_principal: CALLER_ID,
        destination_principal: reviewsId,
      }),
    ).toBe(1);
    expect(
      await sdk.counter('istio_requests_total', {
        destination_service_name: 'legacy',
        connection_security_policy: 'none',
        source_principal: 'unknown',
        destination_principal: 'unknown',
      }),
    ).toBe(1);
    const [mtlsSpan, plainSpan] = await sdk.spans();
    expect(mtlsSpan?.attributes).toMatchObject({
      'weft.connection_security_policy': 'mutual_tls',
      'weft.destination.principal': reviewsId,
    });
    expect(plainSpan?.attributes).toMatchObject({ 'weft.connection_security_policy': 'none' });
    expect(plainSpan?.attributes['weft.destination.principal']).toBeUndefined();
  });
});
