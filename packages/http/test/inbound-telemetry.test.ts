/**
 * What an inbound request reports (issue 6), through a real Weft server on 127.0.0.1 and an
 * in-memory OpenTelemetry SDK: the server span, Istio's metrics with reporter=destination and the
 * access-log line for a request the application answered, one AuthorizationPolicy denied (403,
 * counted in weft_denials_total), one authentication refused (401), one refused before any
 * policy (400), a caller identified by mTLS, and a caller that went away (DC).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Mesh } from '@weft/core';
import { createTestCa, spiffeIdOf, TestIdentity } from '@weft/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestSdk, type TestSdk } from '../../core/test/support/otel-test-sdk.ts';
import { createInboundHarness, type InboundHarness, registered } from './support/inbound-harness.ts';
import { type LogLines, logLines } from './support/log-lines.ts';
import { rawGet } from './support/raw-request.ts';
import { eventually } from './support/waiting.ts';

const POLICIES = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: deny-admin
  namespace: default
spec:
  action: DENY
  rules:
  - to:
    - operation:
        paths: ["/admin"]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: jwt
  namespace: default
spec:
  jwtRules:
  - issuer: https://issuer.example.com
    jwks: '{"keys":[]}'
`;

const ca = createTestCa();
let harness: InboundHarness;
let sdk: TestSdk;
let log: LogLines;
let mesh: Mesh;
let port: number;
let release: (() => void) | undefined;

/** Answers 200 with a fixed body, or (on /slow) never, until the test lets it. */
function handler(request: IncomingMessage, response: ServerResponse): void {
  if (request.url === '/slow') {
    release = () => response.end('late');
    return;
  }
  if (request.url === '/streamed') {
    // Headers given to writeHead, a chunked body in two writes: no content-length anywhere.
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.write('héllo, ');
    response.end(Buffer.from('world'));
    return;
  }
  // Set, not given to writeHead: node keeps setHeader's headers readable after the response.
  response.setHeader('content-type', 'text/plain');
  response.setHeader('content-length', 5);
  response.end('hello');
}

beforeEach(async () => {
  harness = createInboundHarness();
  sdk = startTestSdk();
  log = logLines();
  mesh = harness.mesh('reviews', {
    yaml: POLICIES,
    telemetry: {
      tracerProvider: sdk.tracerProvider,
      meterProvider: sdk.meterProvider,
      accessLog: { stream: log, isEnabledByDefault: true },
      clusterId: 'Kubernetes',
    },
  });
  ({ port } = await harness.serve(mesh, handler, {
    identity: new TestIdentity(ca.workload('default', 'reviews')),
  }));
});
afterEach(async () => {
  release?.();
  release = undefined;
  await harness.close();
  await sdk.shutdown();
});

const DESTINATION = {
  reporter: 'destination',
  destination_workload: 'reviews-v1',
  destination_workload_namespace: 'default',
  destination_app: 'reviews',
  destination_version: 'v1',
  destination_service: 'reviews.default.svc.cluster.local',
  destination_service_name: 'reviews',
  request_protocol: 'http',
};

async function serverSpans() {
  return (await sdk.spans()).filter((span) => span.kind === SpanKind.SERVER);
}

describe('a request the application answered', () => {
  it('is one server span, one count with reporter=destination and one log line', async () => {
    const outcome = await harness
      .plain()
      .get(port, '/reviews/1?x=y', { 'x-request-id': 'r-1', 'user-agent': 'test/1' });
    expect(outcome).toMatchObject({ kind: 'response', status: 200 });
    const [span] = await serverSpans();
    expect(span?.name).toBe('GET');
    expect(span?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'url.full': `http://127.0.0.1:${port}/reviews/1?x=y`,
      'weft.destination.workload': 'reviews-v1',
      'weft.response_flags': '-',
    });
    expect(
      await sdk.counter('istio_requests_total', {
        ...DESTINATION,
        response_code: '200',
        response_flags: '-',
        connection_security_policy: 'none',
        source_workload: 'unknown',
        source_principal: 'unknown',
      }),
    ).toBe(1);
    const [bytes] = await sdk.pointsWhere('istio_response_bytes', { response_code: '200' });
    expect(bytes?.value).toMatchObject({ sum: 5, count: 1 });
    expect(log.records()).toEqual([
      expect.objectContaining({
        method: 'GET',
        path: '/reviews/1?x=y',
        response_code: 200,
        response_code_details: 'via_upstream',
        bytes_sent: 5,
        request_id: 'r-1',
        user_agent: 'test/1',
        authority: `127.0.0.1:${port}`,
        downstream_local_address: `127.0.0.1:${port}`,
      }),
    ]);
    expect(String(log.records()[0]?.downstream_remote_address)).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('counts the body bytes sent when the headers went to writeHead and the body was chunked', async () => {
    const outcome = await harness.plain().get(port, '/streamed');
    expect(outcome).toMatchObject({ kind: 'response', status: 200 });
    // 'héllo, ' is 8 bytes in UTF-8 (é is two), 'world' 5.
    const [bytes] = await sdk.pointsWhere('istio_response_bytes', { response_code: '200' });
    expect(bytes?.value).toMatchObject({ sum: 13, count: 1 });
    expect(log.records()).toEqual([expect.objectContaining({ path: '/streamed', bytes_sent: 13 })]);
  });

  it('over mTLS names the caller: principal and namespace from its SVID, workload from the registry', async () => {
    mesh.setWorkloads([{ ...registered('productpage', 1), serviceAccount: 'productpage' }]);
    const outcome = await harness.mtls(ca.workload('default', 'productpage')).get(port, '/reviews/1');
    expect(outcome).toMatchObject({ kind: 'response', status: 200 });
    expect(
      await sdk.counter('istio_requests_total', {
        ...DESTINATION,
        connection_security_policy: 'mutual_tls',
        source_principal: spiffeIdOf(ca.trustDomain, 'default', 'productpage'),
        source_workload: 'productpage-v1',
        source_workload_namespace: 'default',
        source_app: 'productpage',
      }),
    ).toBe(1);
  });
});

describe('the principals and clusters of an inbound request', () => {
  it('over mTLS are both SPIFFE IDs, and the verified caller is of this cluster', async () => {
    const outcome = await harness.mtls(ca.workload('default', 'productpage')).get(port, '/reviews/1');
    expect(outcome).toMatchObject({ kind: 'response', status: 200 });
    expect(
      await sdk.counter('istio_requests_total', {
        ...DESTINATION,
        connection_security_policy: 'mutual_tls',
        source_principal: spiffeIdOf(ca.trustDomain, 'default', 'productpage'),
        source_cluster: 'Kubernetes',
        destination_principal: spiffeIdOf(ca.trustDomain, 'default', 'reviews'),
        destination_cluster: 'Kubernetes',
      }),
    ).toBe(1);
  });

  it('over plaintext are unknown, all but the destination cluster', async () => {
    const outcome = await harness.plain().get(port, '/reviews/1');
    expect(outcome).toMatchObject({ kind: 'response', status: 200 });
    expect(
      await sdk.counter('istio_requests_total', {
        ...DESTINATION,
        connection_security_policy: 'none',
        source_principal: 'unknown',
        source_cluster: 'unknown',
        destination_principal: 'unknown',
        destination_cluster: 'Kubernetes',
      }),
    ).toBe(1);
  });
});

describe('requests the pipeline refused', () => {
  it('denied by AuthorizationPolicy: 403 with reporter=destination, weft_denials_total and rbac_access_denied', async () => {
    expect(await harness.plain().get(port, '/admin')).toMatchObject({
      status: 403,
      body: 'RBAC: access denied',
    });
    const [span] = await serverSpans();
    expect(span?.attributes).toMatchObject({
      'http.response.status_code': 403,
      'error.type': 'WEFT_ERR_PERMISSION_DENIED',
    });
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(await sdk.counter('istio_requests_total', { ...DESTINATION, response_code: '403' })).toBe(1);
    expect(
      await sdk.counter('weft_denials_total', {
        reason: 'authorization',
        policy: 'AuthorizationPolicy/default/deny-admin',
      }),
    ).toBe(1);
    expect(mesh.telemetry.stats.get('weft.denials.authorization')).toBe(1);
    expect(log.records()[0]).toMatchObject({
      response_code: 403,
      response_code_details: 'rbac_access_denied',
      bytes_sent: 'RBAC: access denied'.length,
    });
  });

  it('refused by RequestAuthentication: 401, counted, weft_unauthenticated', async () => {
    expect(
      await harness.plain().get(port, '/reviews/1', { authorization: 'Bearer not.a.jwt' }),
    ).toMatchObject({
      status: 401,
    });
    expect(await sdk.counter('istio_requests_total', { ...DESTINATION, response_code: '401' })).toBe(1);
    expect(await sdk.counter('weft_denials_total', { reason: 'request-authentication' })).toBe(1);
    expect(log.records()[0]).toMatchObject({
      response_code: 401,
      response_code_details: 'weft_unauthenticated',
    });
  });

  it('refused before any policy: 400 with weft_bad_request, and no denial counted', async () => {
    expect(await rawGet(port, '/a%zz')).toMatchObject({ status: 400 });
    expect(await sdk.counter('istio_requests_total', { ...DESTINATION, response_code: '400' })).toBe(1);
    expect(await sdk.counter('weft_denials_total')).toBe(0);
    expect(log.records()[0]).toMatchObject({ response_code: 400, response_code_details: 'weft_bad_request' });
  });
});

describe('a caller that goes away', () => {
  it('is reported with flag DC when it closes before the response', async () => {
    const request = harness.plain().get(port, '/slow');
    expect(await eventually(() => release !== undefined)).toBe(true);
    await harness.close();
    await request;
    expect(await eventually(() => log.lines.length === 1)).toBe(true);
    expect(log.records()[0]).toMatchObject({
      response_flags: 'DC',
      response_code_details: 'downstream_remote_disconnect',
    });
  });
});
