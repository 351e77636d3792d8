/**
 * The telemetry of outbound calls through MeshTelemetry, as every protocol adapter reports them:
 * the client span (OpenTelemetry HTTP semantic conventions plus the mesh's attributes, attempts
 * as events), Istio's metrics with reporter=source, the access-log line, and trace context
 * injected into the outgoing headers. An in-memory SDK is passed as the providers.
 */
import { defaultTextMapSetter, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes, ISTIO_HISTOGRAM_BUCKETS, type Mesh } from '../src/index.ts';
import { startTestSdk, type TestSdk } from './support/otel-test-sdk.ts';
import { logLines, routeRequest, telemetryMesh } from './support/telemetry-fixtures.ts';

const REVIEWS = 'reviews.default.svc.cluster.local';
const CLUSTER = `outbound|9080||${REVIEWS}`;
const WALL_CLOCK_MS = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

let sdk: TestSdk;
let mesh: Mesh | undefined;
afterEach(async () => {
  mesh?.close();
  mesh = undefined;
  await sdk?.shutdown();
});

function setUp(yaml?: string) {
  sdk = startTestSdk();
  const log = logLines();
  const fixture = telemetryMesh({
    ...(yaml === undefined ? {} : { yaml }),
    telemetry: {
      tracerProvider: sdk.tracerProvider,
      meterProvider: sdk.meterProvider,
      accessLog: { stream: log, isEnabledByDefault: true },
      wallClockMs: () => WALL_CLOCK_MS,
    },
  });
  mesh = fixture.mesh;
  return { ...fixture, log };
}

const ISTIO_SUCCESS_LABELS = {
  reporter: 'source',
  source_workload: 'productpage-v1',
  source_workload_namespace: 'default',
  source_principal: 'unknown',
  source_app: 'productpage',
  source_version: 'v1',
  source_cluster: 'unknown',
  destination_workload: 'reviews-v2',
  destination_workload_namespace: 'default',
  destination_principal: 'unknown',
  destination_app: 'reviews',
  destination_version: 'v2',
  destination_service: REVIEWS,
  destination_service_name: 'reviews',
  destination_service_namespace: 'default',
  destination_cluster: 'unknown',
  request_protocol: 'http',
  response_code: '200',
  grpc_response_status: '',
  response_flags: '-',
  connection_security_policy: 'unknown',
};

describe('a successful call', () => {
  it('records one client span with the HTTP conventions, the mesh’s attributes and one attempt event', async () => {
    const { mesh, clock, cluster, endpoint } = setUp();
    const headers: Record<string, string> = {};
    const call = mesh.telemetry.startClientCall(routeRequest(), headers, defaultTextMapSetter);
    expect(call).toBeDefined();
    if (call === undefined) return;
    call.routeName = 'default';
    call.attemptStarted(cluster, endpoint);
    clock.advance(12);
    call.attemptEnded(200);
    call.responded(200);
    call.responseBytes = 42;
    clock.advance(3);
    call.end();

    const [span, ...others] = await sdk.spans();
    expect(others).toEqual([]);
    expect(span?.name).toBe('GET');
    expect(span?.kind).toBe(SpanKind.CLIENT);
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
    expect(span?.attributes).toEqual({
      'http.request.method': 'GET',
      'url.full': 'http://reviews:9080/reviews/1?x=y',
      'server.address': 'reviews',
      'server.port': 9080,
      'network.protocol.version': '1.1',
      'http.response.status_code': 200,
      'weft.route.name': 'default',
      'weft.upstream.cluster': CLUSTER,
      'weft.retry.count': 0,
      'weft.response_flags': '-',
      'weft.source.workload': 'productpage-v1',
      'weft.source.namespace': 'default',
      'weft.destination.workload': 'reviews-v2',
      'weft.destination.namespace': 'default',
      'weft.destination.service': REVIEWS,
    });
    expect(span?.events.map((event) => [event.name, event.attributes])).toEqual([
      [
        'weft.attempt',
        {
          'weft.attempt.number': 1,
          'weft.attempt.duration_ms': 12,
          'network.peer.address': '10.0.0.2',
          'network.peer.port': 9080,
          'http.response.status_code': 200,
        },
      ],
    ]);
    const spanContext = span?.spanContext();
    expect(headers).toEqual({
      traceparent: `00-${spanContext?.traceId}-${spanContext?.spanId}-01`,
      'x-b3-traceid': spanContext?.traceId,
      'x-b3-spanid': spanContext?.spanId,
      'x-b3-sampled': '1',
    });
  });

  it('records Istio’s metrics with every label, Istio’s buckets and the sizes', async () => {
    const { mesh, clock, cluster, endpoint } = setUp();
    const call = mesh.telemetry.startClientCall(routeRequest({ 'content-length': '7' }));
    if (call === undefined) throw new Error('no call');
    call.requestBytes = 7;
    call.attemptStarted(cluster, endpoint);
    clock.advance(15);
    call.responded(200);
    call.responseBytes = 42;
    call.end();

    const [count] = await sdk.points('istio_requests_total');
    expect(count?.attributes).toEqual(ISTIO_SUCCESS_LABELS);
    expect(count?.value).toBe(1);
    const [duration] = await sdk.points('istio_request_duration_milliseconds');
    expect(duration?.attributes).toEqual(ISTIO_SUCCESS_LABELS);
    expect(duration?.value).toMatchObject({
      count: 1,
      sum: 15,
      buckets: { boundaries: ISTIO_HISTOGRAM_BUCKETS },
    });
    expect((await sdk.points('istio_request_bytes'))[0]?.value).toMatchObject({ count: 1, sum: 7 });
    expect((await sdk.points('istio_response_bytes'))[0]?.value).toMatchObject({ count: 1, sum: 42 });
  });

  it('writes one access-log line with the fields of Envoy’s default format', async () => {
    const { mesh, clock, cluster, endpoint, log } = setUp();
    const call = mesh.telemetry.startClientCall(
      routeRequest(
        { 'user-agent': 'curl/8', 'x-request-id': 'r-1', 'x-forwarded-for': '192.0.2.1' },
        { method: 'POST' },
      ),
    );
    if (call === undefined) throw new Error('no call');
    call.routeName = 'reviews-v2';
    call.requestBytes = 5;
    call.attemptStarted(cluster, endpoint);
    clock.advance(9);
    call.attemptEnded(201);
    call.responded(201);
    call.responseBytes = 11;
    clock.advance(2);
    call.end();

    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]?.endsWith('}\n')).toBe(true);
    expect(log.records()[0]).toEqual({
      start_time: '2026-01-02T03:04:05.678Z',
      method: 'POST',
      path: '/reviews/1?x=y',
      protocol: 'HTTP/1.1',
      response_code: 201,
      response_flags: '-',
      response_code_details: 'via_upstream',
      connection_termination_details: null,
      upstream_transport_failure_reason: null,
      bytes_received: 5,
      bytes_sent: 11,
      duration: 11,
      upstream_service_time: 9,
      x_forwarded_for: '192.0.2.1',
      user_agent: 'curl/8',
      request_id: 'r-1',
      authority: 'reviews:9080',
      upstream_host: '10.0.0.2:9080',
      upstream_cluster: CLUSTER,
      upstream_local_address: null,
      downstream_local_address: null,
      downstream_remote_address: null,
      requested_server_name: null,
      route_name: 'reviews-v2',
    });
  });
});

describe('failed, retried and refused calls', () => {
  it('marks an upstream 5xx as an error and a retried one with the retry count and URX', async () => {
    const { mesh, cluster, endpoint, log } = setUp();
    const call = mesh.telemetry.startClientCall(routeRequest());
    if (call === undefined) throw new Error('no call');
    for (let attempt = 0; attempt < 2; attempt++) {
      call.attemptStarted(cluster, endpoint);
      call.attemptEnded(503);
    }
    call.addResponseFlag('URX');
    call.responded(503);
    call.end();

    const [span] = await sdk.spans();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes).toMatchObject({
      'error.type': '503',
      'http.response.status_code': 503,
      'weft.retry.count': 1,
      'weft.response_flags': 'URX',
    });
    expect(span?.events.map((event) => event.attributes?.['weft.attempt.number'])).toEqual([1, 2]);
    const [count] = await sdk.points('istio_requests_total');
    expect(count?.attributes).toMatchObject({ response_code: '503', response_flags: 'URX' });
    expect(count?.value).toBe(1);
    expect(log.records()[0]).toMatchObject({ response_code: 503, response_flags: 'URX' });
  });

  it('reports a response the mesh made with its flags, WeftError code and Envoy’s details', async () => {
    const { mesh, cluster, log } = setUp();
    const call = mesh.telemetry.startClientCall(routeRequest());
    if (call === undefined) throw new Error('no call');
    call.routeName = 'default';
    call.answered(503, ['UO'], ErrorCodes.upstreamOverflow, 81);
    call.end();

    const [span] = await sdk.spans();
    expect(span?.attributes).toMatchObject({
      'error.type': 'WEFT_ERR_UPSTREAM_OVERFLOW',
      'weft.response_flags': 'UO',
      'weft.destination.workload': 'unknown',
    });
    const [count] = await sdk.points('istio_requests_total');
    expect(count?.attributes).toMatchObject({
      response_code: '503',
      response_flags: 'UO',
      destination_workload: 'unknown',
      destination_service: 'unknown',
    });
    expect(log.records()[0]).toMatchObject({
      response_code: 503,
      response_flags: 'UO',
      response_code_details: 'upstream_reset_before_response_started{overflow}',
      bytes_sent: 81,
      upstream_host: null,
      upstream_cluster: null,
    });
    expect(cluster.name).toBe(CLUSTER);
  });

  it('says DC when the caller gave up before any response', async () => {
    const { mesh, cluster, endpoint, log } = setUp();
    const call = mesh.telemetry.startClientCall(routeRequest());
    if (call === undefined) throw new Error('no call');
    call.attemptStarted(cluster, endpoint);
    call.end(Object.assign(new Error('aborted'), { code: 'UND_ERR_ABORTED' }));
    call.end();

    const spans = await sdk.spans();
    expect(spans).toHaveLength(1);
    expect(spans[0]?.attributes).toMatchObject({
      'error.type': 'UND_ERR_ABORTED',
      'weft.response_flags': 'DC',
    });
    expect(log.records()).toMatchObject([{ response_code: 0, response_flags: 'DC' }]);
  });
});

describe('trace context', () => {
  it('continues a trace the application forwarded in the request headers', async () => {
    const { mesh } = setUp();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const headers: Record<string, string> = {};
    const call = mesh.telemetry.startClientCall(
      routeRequest({ traceparent: `00-${traceId}-00f067aa0ba902b7-01` }),
      headers,
      defaultTextMapSetter,
    );
    call?.end();
    const [span] = await sdk.spans();
    expect(span?.spanContext().traceId).toBe(traceId);
    expect(span?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(headers.traceparent).toBe(`00-${traceId}-${span?.spanContext().spanId}-01`);
  });

  it('injects only the configured formats', async () => {
    sdk = startTestSdk();
    const fixture = telemetryMesh({
      telemetry: { tracerProvider: sdk.tracerProvider, propagators: ['b3'] },
    });
    mesh = fixture.mesh;
    const headers: Record<string, string> = {};
    mesh.telemetry.startClientCall(routeRequest(), headers, defaultTextMapSetter)?.end();
    const [span] = await sdk.spans();
    expect(headers).toEqual({ b3: `${span?.spanContext().traceId}-${span?.spanContext().spanId}-1` });
  });
});

describe('when nothing records', () => {
  it('gives no call and touches no header without an SDK or an access log', () => {
    const fixture = telemetryMesh();
    mesh = fixture.mesh;
    sdk = startTestSdk();
    const headers: Record<string, string> = {};
    expect(mesh.telemetry.startClientCall(routeRequest(), headers, defaultTextMapSetter)).toBeUndefined();
    expect(mesh.telemetry.startServerCall(routeRequest())).toBeUndefined();
    expect(headers).toEqual({});
  });

  it('gives no call, even with an SDK, when telemetry is turned off', async () => {
    sdk = startTestSdk();
    const fixture = telemetryMesh({
      telemetry: { enabled: false, tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider },
    });
    mesh = fixture.mesh;
    const headers: Record<string, string> = {};
    expect(mesh.telemetry.startClientCall(routeRequest(), headers, defaultTextMapSetter)).toBeUndefined();
    expect(headers).toEqual({});
    expect(await sdk.spans()).toEqual([]);
  });
});
