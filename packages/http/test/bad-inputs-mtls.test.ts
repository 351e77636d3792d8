/**
 * ../shared/reference/bad-inputs.md section E, the rows that belong to the outbound mTLS transport
 * (the identity and CA rows are in packages/control-agent/test/bad-inputs-identity.test.ts):
 * E1 (an expired peer: a non-retryable authentication failure, and a metric), E4 (the server
 * refuses our certificate; under TLS 1.3 the client learns it on its first read, and it is still an
 * authentication failure, not a reset to retry), E10 (a wildcard SAN covers exactly one label) and
 * E12 (no TLS session survives a trust change). Real handshakes on 127.0.0.1.
 *
 * A node:tls server that refuses a client certificate it cannot verify closes the connection
 * without a TLS alert (only a missing certificate gets CERTIFICATE_REQUIRED from OpenSSL), so the
 * client sees a reset there: that case cannot be told apart from a crash and is not tested as E4.
 */

import { dnsNameCovers, serverTlsOptions } from '@weft/core';
import { createTestCa, TestIdentity } from '@weft/core/testing';
import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { destinationRule, joinDocuments } from '../../core/test/support/istio-yaml.ts';
import { startTestSdk, type TestSdk } from '../../core/test/support/otel-test-sdk.ts';
import { ERROR_CODE_HEADER } from '../src/index.ts';
import { createMtlsHarness, meshWorkload } from './support/mtls-harness.ts';
import { pemFiles } from './support/pem-files.ts';

const URL = 'http://reviews:9080/reviews/1';
const CLUSTER = 'outbound|9080||reviews.default.svc.cluster.local';
/** Retries on everything a transport failure could be mistaken for. */
const RETRY_ALL = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
  - route: [{ destination: { host: reviews } }]
    retries: { attempts: 4, retryOn: "connect-failure,reset,reset-before-request,5xx,gateway-error" }
`;

const harness = createMtlsHarness();
let sdk: TestSdk | undefined;
afterEach(async () => {
  await harness.close();
  await sdk?.shutdown();
  sdk = undefined;
});

describe('E1: peer certificate expired', () => {
  it('is a non-retryable authentication failure, counted in weft_tls_handshake_failures_total', async () => {
    sdk = startTestSdk();
    const expired = harness.ca.workload('default', 'reviews', {
      notBefore: new Date(Date.now() - 7_200_000),
      notAfter: new Date(Date.now() - 60_000),
    });
    const upstream = await harness.tlsUpstream('reviews-0', 'reviews', expired);
    const client = harness.client(
      joinDocuments(RETRY_ALL, destinationRule('reviews', 'tls: { mode: ISTIO_MUTUAL }')),
      [meshWorkload('reviews', upstream.port)],
      { telemetry: { meterProvider: sdk.meterProvider } },
    );
    const result = await client.get(URL);
    expect(result).toMatchObject({ status: 503, flags: ['UF'] });
    expect(result.headers[ERROR_CODE_HEADER]).toBe('WEFT_ERR_UNAUTHENTICATED');
    expect(result.body).toMatch(/CERT_HAS_EXPIRED/);
    expect(upstream.connections).toBe(1);
    expect(
      await sdk.counter('weft_tls_handshake_failures_total', {
        cluster: CLUSTER,
        mode: 'ISTIO_MUTUAL',
        reason: 'expired',
      }),
    ).toBe(1);
    const stats = client.mesh.telemetry.stats;
    expect(stats.get(`cluster.${CLUSTER}.ssl.connection_error`)).toBe(1);
    expect(stats.get(`cluster.${CLUSTER}.ssl.fail_verify_error`)).toBe(1);
    expect(stats.get(`cluster.${CLUSTER}.upstream_rq_retry`)).toBe(0);
  });
});

describe('E4: the server refuses our certificate', () => {
  it('under TLS 1.3 the refusal comes on the first read, after the handshake; it is still an authentication failure, not retried', async () => {
    sdk = startTestSdk();
    const files = pemFiles();
    try {
      const upstream = await harness.customUpstream('reviews-0', {
        ...serverTlsOptions(harness.ca.workload('default', 'reviews')),
        minVersion: 'TLSv1.3',
      });
      const caFile = files.write('mesh-ca.pem', harness.ca.rootPem);
      // SIMPLE origination presents no client certificate: the server answers CERTIFICATE_REQUIRED.
      const rule = destinationRule(
        'reviews',
        `tls: { mode: SIMPLE, caCertificates: ${caFile}, subjectAltNames: ["spiffe://cluster.local/ns/default/sa/reviews"] }`,
      );
      const client = harness.client(
        joinDocuments(RETRY_ALL, rule),
        [meshWorkload('reviews', upstream.port)],
        {
          telemetry: { meterProvider: sdk.meterProvider },
        },
      );
      // A POST: the request was written before the alert came, and still it reached no application.
      const result = await client.get(URL, { method: 'POST', body: 'rating=5' });
      expect(result).toMatchObject({ status: 503, flags: ['UF'] });
      expect(result.headers[ERROR_CODE_HEADER]).toBe('WEFT_ERR_UNAUTHENTICATED');
      expect(result.body).toMatch(
        /the server refused this workload's certificate \(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED/,
      );
      expect(upstream.connections).toBe(1);
      expect(upstream.requests).toEqual([]);
      expect(upstream.clientErrors).toEqual(['ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE']);
      // The client's handshake completed before the server's alert arrived.
      expect(client.tlsEvents.map((event) => event.type)).toEqual(['handshake', 'handshake-failed']);
      expect(
        await sdk.counter('weft_tls_handshake_failures_total', { reason: 'peer-refused-certificate' }),
      ).toBe(1);
    } finally {
      files.remove();
    }
  });
});

describe('E10: a wildcard DNS SAN covers exactly one label (TLS origination)', () => {
  const files = pemFiles();
  const ca = createTestCa('external.example');
  const caFile = files.write('ca.pem', ca.rootPem);
  const wildcard = ca.issue(undefined, { dnsNames: ['*.example.com'] });
  beforeAll(() => () => files.remove());

  function external(port: number, tls: string): string {
    return joinDocuments(
      `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ext }
spec:
  hosts: [a.example.com, a.b.example.com, example.com]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: 80, name: http, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.1, ports: { http: ${port} } }]
`,
      ...['a.example.com', 'a.b.example.com', 'example.com'].map(
        (host) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${host.replaceAll('.', '-')} }
spec:
  host: ${host}
  trafficPolicy: { tls: ${tls} }
`,
      ),
    );
  }

  it('subjectAltNames: *.example.com covers a.example.com, not a.b.example.com nor example.com', async () => {
    const server = await harness.customUpstream('ext', { cert: wildcard.pem, key: wildcard.keyPem });
    const verdicts: Record<string, number> = {};
    for (const name of ['a.example.com', 'a.b.example.com', 'example.com']) {
      const client = harness.client(
        external(server.port, `{ mode: SIMPLE, caCertificates: ${caFile}, subjectAltNames: [${name}] }`),
        [],
      );
      verdicts[name] = (await client.get('http://a.example.com/')).status;
    }
    expect(verdicts).toEqual({ 'a.example.com': 200, 'a.b.example.com': 503, 'example.com': 503 });
  });

  it('the SNI host check (no subjectAltNames) follows the same rule', async () => {
    const server = await harness.customUpstream('ext', { cert: wildcard.pem, key: wildcard.keyPem });
    const client = harness.client(external(server.port, `{ mode: SIMPLE, caCertificates: ${caFile} }`), []);
    const statuses = [];
    for (const host of ['a.example.com', 'a.b.example.com', 'example.com'])
      statuses.push((await client.get(`http://${host}/`)).status);
    expect(statuses).toEqual([200, 503, 503]);
    expect(server.requests.map((request) => request.sni)).toEqual(['a.example.com']);
  });

  it('dnsNameCovers: a wildcard never matches zero labels or more than one (fast-check)', () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
    fc.assert(
      fc.property(
        fc.array(label, { minLength: 2, maxLength: 4 }),
        fc.array(label, { minLength: 0, maxLength: 3 }),
        (suffix, prefix) => {
          const base = suffix.join('.');
          const host = [...prefix, base].join('.');
          expect(dnsNameCovers(`*.${base}`, host)).toBe(prefix.length === 1);
        },
      ),
    );
    expect(dnsNameCovers('*.com', 'example.com')).toBe(false);
    expect(dnsNameCovers('a*.example.com', 'ab.example.com')).toBe(false);
    expect(dnsNameCovers('*.*.example.com', 'a.b.example.com')).toBe(false);
  });
});

describe('E12: TLS session resumption after a trust change', () => {
  it('sessions resume within one identity, never across a renewal or new trust bundle', async () => {
    const upstream = await harness.tlsUpstream('reviews-0', 'reviews');
    const identity = new TestIdentity(harness.ca.workload('default', 'productpage'));
    const client = harness.client(
      destinationRule('reviews', 'tls: { mode: ISTIO_MUTUAL }'),
      [meshWorkload('reviews', upstream.port)],
      { identity },
    );
    const newConnection = async () => {
      upstream.drain();
      expect((await client.get(URL)).status).toBe(200);
      expect((await client.get(URL)).status).toBe(200);
    };
    await newConnection();
    await newConnection();
    // Same identity, new connection: the session cache is used (the precondition of this test).
    expect(upstream.resumed).toBeGreaterThan(0);
    const resumedBefore = upstream.resumed;
    identity.set(harness.ca.workload('default', 'productpage'));
    expect((await client.get(URL)).status).toBe(200);
    expect(upstream.resumed).toBe(resumedBefore);
  });
});
