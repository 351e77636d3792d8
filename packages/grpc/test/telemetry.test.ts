import { status as Status } from '@grpc/grpc-js';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { createMesh, Mesh } from '@weft/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { singleRoute } from '../../core/test/support/istio-yaml.ts';
import { startTestSdk, type TestSdk } from '../../core/test/support/otel-test-sdk.ts';
import { createMeshClient, createMeshServer } from '../src/index.ts';
import { callUnary } from './support/calls.ts';
import { closedAfterEach } from './support/closed-after-each.ts';
import { type EchoServer, startEchoServer } from './support/echo-server.ts';
import { EchoClientConstructor } from './support/echo-service.ts';
import { grpcWorkload } from './support/mesh-scenario.ts';
import { createSecurePair, PRODUCTPAGE_ID, REVIEWS_ID } from './support/secure-pair.ts';

let sdk: TestSdk;
const pair = createSecurePair();
beforeEach(() => {
  sdk = startTestSdk();
});
afterEach(async () => {
  await pair.close();
  await sdk.shutdown();
});

function telemetry() {
  return { tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider };
}

function spansOfKind(spans: readonly ReadableSpan[], kind: SpanKind): ReadableSpan[] {
  return spans.filter((span) => span.kind === kind);
}

const CLIENT_LABELS = { reporter: 'source', request_protocol: 'grpc', response_code: '200' };

describe('telemetry of gRPC calls', () => {
  it('records a client span, a server span that is its child, and Istio’s metrics on both sides (over mTLS)', async () => {
    const reviews = await pair.server({ telemetry: telemetry() });
    const productpage = pair.caller(reviews, { telemetry: telemetry() });

    const result = await callUnary(productpage.client, 'Get', { text: 't' });

    expect(result.code).toBe(Status.OK);
    const spans = await sdk.spans();
    const [client] = spansOfKind(spans, SpanKind.CLIENT);
    const [server] = spansOfKind(spans, SpanKind.SERVER);
    expect(client?.name).toBe('weft.test.Echo/Get');
    expect(client?.attributes).toMatchObject({
      'rpc.system': 'grpc',
      'rpc.service': 'weft.test.Echo',
      'rpc.method': 'Get',
      'rpc.grpc.status_code': 0,
      'server.address': 'reviews',
      'server.port': 9080,
      'weft.retry.count': 0,
      'weft.response_flags': '-',
      'weft.upstream.cluster': 'outbound|9080||reviews.default.svc.cluster.local',
      'weft.connection_security_policy': 'mutual_tls',
      'weft.destination.principal': REVIEWS_ID,
    });
    expect(client?.status.code).toBe(SpanStatusCode.UNSET);
    expect(client?.events.map((event) => event.name)).toEqual(['weft.attempt']);
    // Trace context went in the call's metadata: the server span continues the client's trace.
    expect(server?.name).toBe('weft.test.Echo/Get');
    expect(server?.spanContext().traceId).toBe(client?.spanContext().traceId);
    expect(server?.parentSpanContext?.spanId).toBe(client?.spanContext().spanId);
    expect(server?.attributes).toMatchObject({ 'rpc.grpc.status_code': 0 });

    expect(await sdk.pointsWhere('istio_requests_total', CLIENT_LABELS)).toMatchObject([
      {
        value: 1,
        attributes: {
          grpc_response_status: '0',
          response_flags: '-',
          source_workload: 'productpage-0',
          source_principal: PRODUCTPAGE_ID,
          destination_workload: 'reviews-0',
          destination_principal: REVIEWS_ID,
          destination_service: 'reviews.default.svc.cluster.local',
          connection_security_policy: 'mutual_tls',
        },
      },
    ]);
    expect(await sdk.pointsWhere('istio_requests_total', { reporter: 'destination' })).toMatchObject([
      {
        value: 1,
        attributes: {
          request_protocol: 'grpc',
          response_code: '200',
          grpc_response_status: '0',
          source_principal: PRODUCTPAGE_ID,
          destination_workload: 'reviews-0',
          // The identity the server presented on the connection.
          destination_principal: REVIEWS_ID,
          connection_security_policy: 'mutual_tls',
        },
      },
    ]);
  });

  it('reports an upstream UNAVAILABLE as HTTP 200 with grpc_response_status 14, and fails the spans', async () => {
    const reviews = await pair.server({ telemetry: telemetry(), identity: null });
    reviews.echo.behave(() => ({ kind: 'fail', code: Status.UNAVAILABLE, details: 'down' }));
    const productpage = pair.caller(reviews, { telemetry: telemetry(), identity: null });

    // Post is not idempotent: the UNAVAILABLE is not retried.
    const result = await callUnary(productpage.client, 'Post');

    expect(result.code).toBe(Status.UNAVAILABLE);
    const spans = await sdk.spans();
    const [client] = spansOfKind(spans, SpanKind.CLIENT);
    const [server] = spansOfKind(spans, SpanKind.SERVER);
    expect(client?.attributes).toMatchObject({
      'rpc.grpc.status_code': 14,
      'error.type': '14',
      'weft.connection_security_policy': 'none',
    });
    expect(client?.status.code).toBe(SpanStatusCode.ERROR);
    expect(server?.status.code).toBe(SpanStatusCode.ERROR);
    expect(await sdk.pointsWhere('istio_requests_total', CLIENT_LABELS)).toMatchObject([
      {
        value: 1,
        attributes: { grpc_response_status: '14', response_flags: '-', connection_security_policy: 'none' },
      },
    ]);
  });

  it('reports a retried call once: one span with an event per attempt, weft.retry.count, one request', async () => {
    const reviews = await pair.server({ telemetry: telemetry(), identity: null });
    reviews.echo.behave((_call, index) =>
      index === 0 ? { kind: 'fail', code: Status.UNAVAILABLE } : { kind: 'reply' },
    );
    const productpage = pair.caller(reviews, { telemetry: telemetry(), identity: null });

    const result = await callUnary(productpage.client, 'Get', { text: 'again' });

    expect([result.code, result.reply?.text]).toEqual([Status.OK, 'again']);
    const spans = await sdk.spans();
    const clients = spansOfKind(spans, SpanKind.CLIENT);
    expect(clients).toHaveLength(1);
    expect(clients[0]?.attributes).toMatchObject({ 'weft.retry.count': 1, 'rpc.grpc.status_code': 0 });
    expect(
      clients[0]?.events.map((event) => [event.name, event.attributes?.['weft.attempt.number']]),
    ).toEqual([
      ['weft.attempt', 1],
      ['weft.attempt', 2],
    ]);
    // Both attempts reached the server: two server spans, two inbound requests.
    expect(spansOfKind(spans, SpanKind.SERVER)).toHaveLength(2);
    expect(await sdk.counter('istio_requests_total', CLIENT_LABELS)).toBe(1);
    expect(await sdk.counter('istio_requests_total', { ...CLIENT_LABELS, grpc_response_status: '0' })).toBe(
      1,
    );
    expect(await sdk.counter('istio_requests_total', { reporter: 'destination' })).toBe(2);
    expect(await sdk.counter('weft_retries_total')).toBe(1);
  });

  it('reports a call aborted by a fault with flag FI and the fault’s status, no endpoint reached', async () => {
    const reviews = await pair.server({ telemetry: telemetry() });
    const productpage = pair.caller(reviews, {
      telemetry: telemetry(),
      yaml: singleRoute(
        'reviews',
        'fault: { abort: { grpcStatus: UNAVAILABLE, percentage: { value: 100 } } }',
      ),
    });

    const result = await callUnary(productpage.client, 'Get');

    expect([result.code, result.flags]).toEqual([Status.UNAVAILABLE, ['FI']]);
    const [client] = spansOfKind(await sdk.spans(), SpanKind.CLIENT);
    expect(client?.attributes).toMatchObject({
      'rpc.grpc.status_code': 14,
      'error.type': 'WEFT_ERR_FAULT_INJECTED',
      'weft.response_flags': 'FI',
      'weft.retry.count': 0,
    });
    expect(client?.attributes['weft.route.name']).toBe('VirtualService/default/reviews#0');
    expect(client?.events).toEqual([]);
    expect(await sdk.pointsWhere('istio_requests_total', CLIENT_LABELS)).toMatchObject([
      {
        value: 1,
        attributes: {
          grpc_response_status: '14',
          response_flags: 'FI',
          destination_workload: 'unknown',
          connection_security_policy: 'unknown',
        },
      },
    ]);
    expect(reviews.echo.seen).toEqual([]);
  });

  it('reports a denied call on the server: PERMISSION_DENIED in its span and metrics, and weft_denials_total', async () => {
    const reviews = await pair.server({
      telemetry: telemetry(),
      yaml: `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-post, namespace: default }
spec:
  action: DENY
  rules: [{ to: [{ operation: { paths: ["/weft.test.Echo/Post"] } }] }]
`,
    });
    const productpage = pair.caller(reviews, { telemetry: telemetry() });

    const result = await callUnary(productpage.client, 'Post');

    expect(result.code).toBe(Status.PERMISSION_DENIED);
    const spans = await sdk.spans();
    const [server] = spansOfKind(spans, SpanKind.SERVER);
    expect(server?.attributes).toMatchObject({
      'rpc.grpc.status_code': 7,
      'error.type': 'WEFT_ERR_PERMISSION_DENIED',
    });
    expect(server?.status.code).toBe(SpanStatusCode.ERROR);
    expect(await sdk.pointsWhere('istio_requests_total', { reporter: 'destination' })).toMatchObject([
      { value: 1, attributes: { response_code: '200', grpc_response_status: '7' } },
    ]);
    expect(await sdk.pointsWhere('istio_requests_total', CLIENT_LABELS)).toMatchObject([
      { value: 1, attributes: { grpc_response_status: '7', response_flags: '-' } },
    ]);
    expect(
      await sdk.counter('weft_denials_total', {
        reason: 'authorization',
        policy: 'AuthorizationPolicy/default/deny-post',
      }),
    ).toBe(1);
  });
});

describe('trace context across a meshed gRPC workload', () => {
  const closers = closedAfterEach();
  const meshOf = (name: string, workloads: Parameters<typeof createMesh>[0]['workloads'] = []): Mesh =>
    closers.meshOf(name, workloads, { telemetry: telemetry() });

  async function serverOf(name: string, mesh?: Mesh): Promise<EchoServer> {
    const server = await startEchoServer(name, mesh === undefined ? {} : { server: createMeshServer(mesh) });
    closers.push(() => server.close());
    return server;
  }

  it('makes the calls a handler makes children of its server span, with no context manager', async () => {
    const backend = await serverOf('backend');
    const frontendMesh = meshOf('frontend', [grpcWorkload('backend', 'backend-0', backend.port)]);
    const toBackend = createMeshClient(frontendMesh, EchoClientConstructor, 'backend:9080');
    closers.push(() => toBackend.close());
    const frontend = await serverOf('frontend', frontendMesh);
    frontend.behave(() => ({
      kind: 'custom',
      respond: async () => {
        const reply = await callUnary(toBackend, 'Get', { text: 'inner' });
        return { text: reply.reply?.text ?? '', servedBy: 'frontend' };
      },
    }));
    const caller = createMeshClient(
      meshOf('caller', [grpcWorkload('frontend', 'frontend-0', frontend.port)]),
      EchoClientConstructor,
      'frontend:9080',
    );
    closers.push(() => caller.close());

    const result = await callUnary(caller, 'Get', { text: 'outer' });

    expect(result.reply?.text).toBe('inner');
    const spans = await sdk.spans();
    const frontendServer = spans.find((span) => span.kind === SpanKind.SERVER);
    const [outer, inner] = spansOfKind(spans, SpanKind.CLIENT).sort(
      (a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1],
    );
    const traceId = outer?.spanContext().traceId;
    expect(frontendServer?.parentSpanContext?.spanId).toBe(outer?.spanContext().spanId);
    expect(inner?.spanContext().traceId).toBe(traceId);
    expect(inner?.parentSpanContext?.spanId).toBe(frontendServer?.spanContext().spanId);
    // The backend (a plain server) got the inner client span's context in its metadata.
    expect(backend.seen[0]?.metadata.get('traceparent')).toEqual([
      `00-${traceId}-${inner?.spanContext().spanId}-01`,
    ]);
  });
});
