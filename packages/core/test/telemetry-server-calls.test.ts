/**
 * The server-side telemetry API, as the inbound pipeline (node:http, express, fastify, gRPC)
 * will call it: one server span continuing the caller's trace, Istio's metrics with
 * reporter=destination (the caller as source, this workload as destination), the access-log
 * line with the downstream addresses, and denials counted.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import type { Mesh } from '../src/index.ts';
import { startTestSdk, type TestSdk } from './support/otel-test-sdk.ts';
import { logLines, routeRequest, telemetryMesh } from './support/telemetry-fixtures.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN_ID = '00f067aa0ba902b7';

let sdk: TestSdk;
let mesh: Mesh | undefined;
afterEach(async () => {
  mesh?.close();
  mesh = undefined;
  await sdk.shutdown();
});

function setUp() {
  sdk = startTestSdk();
  const log = logLines();
  const fixture = telemetryMesh({
    telemetry: {
      tracerProvider: sdk.tracerProvider,
      meterProvider: sdk.meterProvider,
      accessLog: { stream: log, isEnabledByDefault: true },
      clusterId: 'Kubernetes',
    },
  });
  mesh = fixture.mesh;
  return { ...fixture, log };
}

describe('startServerCall', () => {
  it('records a server span that continues the caller’s trace, and exposes its context for the handler', async () => {
    const { mesh, clock } = setUp();
    const call = mesh.telemetry.startServerCall(
      routeRequest(
        { traceparent: `00-${TRACE_ID}-${CALLER_SPAN_ID}-01` },
        { authority: 'productpage:9080', path: '/p' },
      ),
    );
    if (call === undefined) throw new Error('no call');
    clock.advance(4);
    call.responded(500);
    call.end();

    const [span] = await sdk.spans();
    expect(span?.kind).toBe(SpanKind.SERVER);
    expect(span?.spanContext().traceId).toBe(TRACE_ID);
    expect(span?.parentSpanContext?.spanId).toBe(CALLER_SPAN_ID);
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes).toMatchObject({
      'http.response.status_code': 500,
      'error.type': '500',
      'weft.destination.workload': 'productpage-v1',
      'weft.destination.service': 'productpage.default.svc.cluster.local',
    });
    expect(call.context).toBeDefined();
  });

  it('does not mark a 4xx as a server error (OpenTelemetry’s server-span rule)', async () => {
    const { mesh } = setUp();
    const call = mesh.telemetry.startServerCall(routeRequest());
    call?.responded(404);
    call?.end();
    const [span] = await sdk.spans();
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
    expect(span?.attributes['error.type']).toBeUndefined();
  });

  it('labels metrics from the destination’s side: the caller as source, mTLS as Istio names it', async () => {
    const { mesh } = setUp();
    const call = mesh.telemetry.startServerCall(routeRequest());
    if (call === undefined) throw new Error('no call');
    call.peer = {
      workload: 'gateway',
      namespace: 'ingress',
      principal: 'spiffe://cluster.local/ns/ingress/sa/gateway',
      app: 'gateway',
      version: 'unknown',
      cluster: 'Kubernetes',
    };
    call.connectionSecurityPolicy = 'mutual_tls';
    call.responded(200);
    call.end();

    const [count] = await sdk.points('istio_requests_total');
    expect(count?.attributes).toEqual({
      reporter: 'destination',
      source_workload: 'gateway',
      source_workload_namespace: 'ingress',
      source_principal: 'spiffe://cluster.local/ns/ingress/sa/gateway',
      source_app: 'gateway',
      source_version: 'unknown',
      source_cluster: 'Kubernetes',
      destination_workload: 'productpage-v1',
      destination_workload_namespace: 'default',
      destination_principal: 'unknown',
      destination_app: 'productpage',
      destination_version: 'v1',
      destination_service: 'productpage.default.svc.cluster.local',
      destination_service_name: 'productpage',
      destination_service_namespace: 'default',
      destination_cluster: 'Kubernetes',
      request_protocol: 'http',
      response_code: '200',
      grpc_response_status: '',
      response_flags: '-',
      connection_security_policy: 'mutual_tls',
    });
  });

  it('reports an unknown caller and connection_security_policy none without mTLS', async () => {
    const { mesh } = setUp();
    const call = mesh.telemetry.startServerCall(routeRequest());
    call?.responded(200);
    call?.end();
    const [count] = await sdk.points('istio_requests_total');
    expect(count?.attributes).toMatchObject({
      source_workload: 'unknown',
      source_principal: 'unknown',
      connection_security_policy: 'none',
    });
  });

  it('logs the downstream addresses the inbound server knows', () => {
    const { mesh, log } = setUp();
    const call = mesh.telemetry.startServerCall(routeRequest());
    if (call === undefined) throw new Error('no call');
    call.downstreamRemoteAddress = '10.1.0.9:52100';
    call.downstreamLocalAddress = '10.1.0.5:9080';
    call.requestedServerName = 'outbound_.9080_._.productpage.default.svc.cluster.local';
    call.responded(200);
    call.end();
    expect(log.records()[0]).toMatchObject({
      downstream_remote_address: '10.1.0.9:52100',
      downstream_local_address: '10.1.0.5:9080',
      requested_server_name: 'outbound_.9080_._.productpage.default.svc.cluster.local',
    });
  });

  it('records gRPC calls with the rpc conventions and grpc_response_status', async () => {
    const { mesh } = setUp();
    const call = mesh.telemetry.startServerCall(
      routeRequest({}, { method: 'POST', path: '/bookinfo.Ratings/Get' }),
      'grpc',
    );
    if (call === undefined) throw new Error('no call');
    call.responded(200);
    call.grpcStatus = 5;
    call.end();
    const [span] = await sdk.spans();
    expect(span?.name).toBe('bookinfo.Ratings/Get');
    expect(span?.attributes).toMatchObject({
      'rpc.system': 'grpc',
      'rpc.service': 'bookinfo.Ratings',
      'rpc.method': 'Get',
      'rpc.grpc.status_code': 5,
    });
    const [count] = await sdk.points('istio_requests_total');
    expect(count?.attributes).toMatchObject({ request_protocol: 'grpc', grpc_response_status: '5' });
  });
});

describe('recordDenial', () => {
  it('counts denials by reason and policy, with or without an SDK', async () => {
    const { mesh } = setUp();
    mesh.telemetry.recordDenial({ reason: 'authorization', policy: 'AuthorizationPolicy/default/deny-all' });
    mesh.telemetry.recordDenial({ reason: 'request-authentication' });
    expect(
      await sdk.counter('weft_denials_total', {
        reason: 'authorization',
        policy: 'AuthorizationPolicy/default/deny-all',
      }),
    ).toBe(1);
    expect(await sdk.counter('weft_denials_total', { reason: 'request-authentication' })).toBe(1);
    expect(mesh.telemetry.stats.get('weft.denials.authorization')).toBe(1);
  });
});
