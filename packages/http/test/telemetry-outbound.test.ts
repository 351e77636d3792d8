/**
 * Outbound telemetry through real upstreams on 127.0.0.1: one client span per logical request
 * (attempts as events), Istio's metrics with reporter=source, an access-log line, and trace
 * context injected into what the upstream receives — for successful, 5xx, retried, ejected,
 * faulted, overflowed and unrouted requests. An in-memory OpenTelemetry SDK is the mesh's provider.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import {
  destinationRule,
  joinDocuments,
  singleRoute as virtualService,
  virtualServiceRoutes,
} from '../../core/test/support/istio-yaml.ts';
import { startTestSdk, type TestSdk } from '../../core/test/support/otel-test-sdk.ts';
import { type LogLines, logLines } from './support/log-lines.ts';
import { call } from './support/mesh-client.ts';
import { createScenario } from './support/scenario.ts';
import { eventually } from './support/waiting.ts';

const URL = 'http://reviews:9080/reviews/1';
const REVIEWS = 'reviews.default.svc.cluster.local';
const CLUSTER = `outbound|9080||${REVIEWS}`;

const scenario = createScenario('reviews');
let sdk: TestSdk;
let log: LogLines;
afterEach(async () => {
  await scenario.close();
  await sdk.shutdown();
});

/** Telemetry options for the scenario's client: the in-memory SDK and an access log. */
function telemetry() {
  sdk = startTestSdk();
  log = logLines();
  return {
    telemetry: {
      tracerProvider: sdk.tracerProvider,
      meterProvider: sdk.meterProvider,
      accessLog: { stream: log, isEnabledByDefault: true },
    },
  };
}

const respond = (status: number) => ({ kind: 'respond', status }) as const;

describe('a successful request', () => {
  it('is one client span whose context the upstream receives, one count and one log line', async () => {
    const { upstream, dispatcher } = await scenario.withRoute('', telemetry());

    const response = await call(dispatcher, URL);

    expect(response.status).toBe(200);
    const [span, ...others] = await sdk.spans();
    expect(others).toEqual([]);
    expect(span?.kind).toBe(SpanKind.CLIENT);
    expect(span?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.full': URL,
      'server.address': 'reviews',
      'server.port': 9080,
      'http.response.status_code': 200,
      'weft.route.name': 'VirtualService/default/reviews#0',
      'weft.retry.count': 0,
      'weft.response_flags': '-',
      'weft.source.workload': 'productpage-v1',
      'weft.destination.workload': 'reviews-0',
      'weft.destination.service': REVIEWS,
      'weft.upstream.cluster': CLUSTER,
    });
    const { traceId, spanId } = span?.spanContext() ?? {};
    expect(upstream.seen[0]?.headers).toMatchObject({
      traceparent: `00-${traceId}-${spanId}-01`,
      'x-b3-traceid': traceId,
      'x-b3-spanid': spanId,
      'x-b3-sampled': '1',
    });
    const [count] = await sdk.points('istio_requests_total');
    expect(count?.value).toBe(1);
    expect(count?.attributes).toEqual({
      reporter: 'source',
      source_workload: 'productpage-v1',
      source_workload_namespace: 'default',
      source_principal: 'unknown',
      source_app: 'productpage',
      source_version: 'v1',
      source_cluster: 'unknown',
      destination_workload: 'reviews-0',
      destination_workload_namespace: 'default',
      destination_principal: 'unknown',
      destination_app: 'reviews',
      destination_version: 'v1',
      destination_service: REVIEWS,
      destination_service_name: 'reviews',
      destination_service_namespace: 'default',
      destination_cluster: 'unknown',
      request_protocol: 'http',
      response_code: '200',
      grpc_response_status: '',
      response_flags: '-',
      // Istio's client side says `unknown`; Weft's client made the (plaintext) connection and knows.
      connection_security_policy: 'none',
    });
    expect((await sdk.points('istio_response_bytes'))[0]?.value).toMatchObject({
      count: 1,
      sum: 'reviews-0'.length,
    });
    expect(log.records()).toEqual([
      expect.objectContaining({
        method: 'GET',
        path: '/reviews/1',
        response_code: 200,
        response_flags: '-',
        response_code_details: 'via_upstream',
        bytes_sent: 'reviews-0'.length,
        authority: 'reviews:9080',
        upstream_host: `127.0.0.1:${upstream.port}`,
        upstream_cluster: CLUSTER,
        route_name: 'VirtualService/default/reviews#0',
      }),
    ]);
  });

  it('counts the request body’s bytes', async () => {
    const { dispatcher } = await scenario.withRoute('', telemetry());
    await call(dispatcher, URL, { method: 'PUT', body: 'twelve bytes' });
    expect((await sdk.points('istio_request_bytes'))[0]?.value).toMatchObject({ count: 1, sum: 12 });
    expect(log.records()[0]).toMatchObject({ method: 'PUT', bytes_received: 12 });
  });
});

describe('failures', () => {
  it('reports an upstream 503 that is not retried as an error with response_code 503', async () => {
    const { upstream, dispatcher } = await scenario.withRoute('retries: { attempts: 0 }', telemetry());
    upstream.behave(() => respond(503));

    expect((await call(dispatcher, URL)).status).toBe(503);

    const [span] = await sdk.spans();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes).toMatchObject({ 'error.type': '503', 'http.response.status_code': 503 });
    expect(await sdk.counter('istio_requests_total', { response_code: '503', response_flags: '-' })).toBe(1);
  });

  it('is one request with two attempt events when a 503 is retried, each attempt carrying the same trace', async () => {
    const { upstream, dispatcher } = await scenario.withRoute(
      'retries: { attempts: 3, retryOn: 5xx }',
      telemetry(),
    );
    upstream.behave((_, index) => (index === 0 ? respond(503) : respond(200)));

    expect((await call(dispatcher, URL)).status).toBe(200);

    const spans = await sdk.spans();
    expect(spans).toHaveLength(1);
    expect(spans[0]?.attributes).toMatchObject({ 'weft.retry.count': 1, 'http.response.status_code': 200 });
    expect(
      spans[0]?.events.map((event) => [
        event.name,
        event.attributes?.['weft.attempt.number'],
        event.attributes?.['http.response.status_code'],
      ]),
    ).toEqual([
      ['weft.attempt', 1, 503],
      ['weft.attempt', 2, 200],
    ]);
    expect(upstream.seen.map((seen) => seen.headers.traceparent)).toEqual([
      upstream.seen[0]?.headers.traceparent,
      upstream.seen[0]?.headers.traceparent,
    ]);
    expect(await sdk.counter('istio_requests_total')).toBe(1);
    expect(await sdk.counter('istio_requests_total', { response_code: '200' })).toBe(1);
    expect(await sdk.counter('weft_retries_total', { cluster: CLUSTER, condition: '5xx' })).toBe(1);
  });

  it('flags URX when the retries are used up and the last 503 is delivered', async () => {
    const { upstream, dispatcher } = await scenario.withRoute(
      'retries: { attempts: 2, retryOn: 5xx }',
      telemetry(),
    );
    upstream.behave(() => respond(503));

    const response = await call(dispatcher, URL);

    expect([response.status, response.flags]).toEqual([503, []]);
    expect(await sdk.counter('istio_requests_total', { response_code: '503', response_flags: 'URX' })).toBe(
      1,
    );
    expect(log.records()[0]).toMatchObject({ response_code: 503, response_flags: 'URX' });
    expect(await sdk.counter('weft_retries_refused_total', { reason: 'attempts-exhausted' })).toBe(1);
  });

  it('counts the ejection, and later requests go to the healthy workload', async () => {
    const [bad, good] = await scenario.start(2);
    bad?.behave(() => respond(503));
    const { dispatcher, events } = scenario.open(
      joinDocuments(
        virtualService('reviews', 'retries: { attempts: 0 }'),
        destinationRule(
          'reviews',
          `loadBalancer: { simple: ROUND_ROBIN }
outlierDetection: { consecutive5xxErrors: 2, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 100 }`,
        ),
      ),
      undefined,
      telemetry(),
    );
    for (let i = 0; i < 10 && events.outlier.length === 0; i++) await call(dispatcher, URL);
    expect(
      await sdk.counter('weft_outlier_ejections_total', { cluster: CLUSTER, reason: 'consecutive-5xx' }),
    ).toBe(1);
    const before = await sdk.counter('istio_requests_total', { destination_workload: good?.name ?? '' });

    for (let i = 0; i < 3; i++) await call(dispatcher, URL);

    expect(await sdk.counter('istio_requests_total', { destination_workload: good?.name ?? '' })).toBe(
      before + 3,
    );
    expect(
      await sdk.counter('istio_requests_total', {
        destination_workload: bad?.name ?? '',
        response_code: '503',
      }),
    ).toBe(2);
  });

  it('reports an injected abort with flag FI, the fault’s code and the fault counter', async () => {
    const { upstream, dispatcher } = await scenario.withRoute(
      'fault: { abort: { httpStatus: 418, percentage: { value: 100 } } }',
      telemetry(),
    );

    expect((await call(dispatcher, URL)).status).toBe(418);

    expect(upstream.seen).toEqual([]);
    const [span] = await sdk.spans();
    expect(span?.attributes).toMatchObject({
      'error.type': 'WEFT_ERR_FAULT_INJECTED',
      'weft.response_flags': 'FI',
      'http.response.status_code': 418,
    });
    expect(await sdk.counter('istio_requests_total', { response_code: '418', response_flags: 'FI' })).toBe(1);
    expect(await sdk.counter('weft_faults_injected_total', { kind: 'abort' })).toBe(1);
    expect(log.records()[0]).toMatchObject({
      response_code_details: 'fault_filter_abort',
      upstream_host: null,
    });
  });

  it('reports a request refused by the connection pool with flag UO and the overflow counter', async () => {
    const [reviews] = await scenario.start(1);
    reviews?.behave((_, index) => (index === 0 ? { kind: 'hang' } : respond(200)));
    const { dispatcher } = scenario.open(
      joinDocuments(
        virtualService('reviews'),
        destinationRule('reviews', 'connectionPool: { http: { http2MaxRequests: 1 } }'),
      ),
      undefined,
      telemetry(),
    );
    const controller = new AbortController();
    const hung = call(dispatcher, URL, { signal: controller.signal });
    hung.catch(() => {});
    expect(await eventually(() => reviews?.heads === 1)).toBe(true);

    expect((await call(dispatcher, URL)).status).toBe(503);
    controller.abort();
    await expect(hung).rejects.toThrow();

    expect(await sdk.counter('istio_requests_total', { response_code: '503', response_flags: 'UO' })).toBe(1);
    expect(await sdk.counter('weft_overflows_total', { cluster: CLUSTER, reason: 'max-requests' })).toBe(1);
    // The request the caller gave up on is recorded too: no response, flag DC.
    expect(await sdk.counter('istio_requests_total', { response_code: '0', response_flags: 'DC' })).toBe(1);
    expect(log.records().map((record) => record.response_code_details)).toContain(
      'upstream_reset_before_response_started{overflow}',
    );
  });

  it('reports a request no route matches with flag NR and an unknown destination', async () => {
    await scenario.start(1);
    const { dispatcher } = scenario.open(
      virtualServiceRoutes(
        'reviews',
        `- match: [{ headers: { end-user: { exact: jason } } }]
  route: [{ destination: { host: reviews } }]`,
      ),
      undefined,
      telemetry(),
    );

    expect((await call(dispatcher, URL)).status).toBe(404);

    expect(
      await sdk.counter('istio_requests_total', {
        response_code: '404',
        response_flags: 'NR',
        destination_service: 'unknown',
        destination_workload: 'unknown',
      }),
    ).toBe(1);
    expect(log.records()[0]).toMatchObject({ response_code_details: 'route_not_found', route_name: null });
  });

  // A request denied by AuthorizationPolicy (reporter=destination, 403, weft_denials_total) is
  // reported by the inbound server: inbound-telemetry.test.ts.
});

describe('without an SDK', () => {
  it('adds no trace headers and passes the application’s own untouched', async () => {
    const { upstream, dispatcher } = await scenario.withRoute();
    sdk = startTestSdk();
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

    await call(dispatcher, URL);
    await call(dispatcher, URL, { headers: { traceparent } });

    expect(upstream.seen[0]?.headers.traceparent).toBeUndefined();
    expect(upstream.seen[0]?.headers['x-b3-traceid']).toBeUndefined();
    expect(upstream.seen[1]?.headers.traceparent).toBe(traceparent);
  });
});

describe('the Telemetry resource', () => {
  it('samples a root request out at 0% and tells the upstream not to sample it', async () => {
    const [upstream] = await scenario.start(1);
    const { dispatcher } = scenario.open(
      joinDocuments(
        virtualService('reviews'),
        `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh-default, namespace: istio-system }
spec:
  tracing: [{ randomSamplingPercentage: 0 }]
`,
      ),
      undefined,
      telemetry(),
    );
    const response = await call(dispatcher, URL);

    expect(response.status).toBe(200);
    expect(await sdk.spans()).toEqual([]);
    expect(upstream?.seen[0]?.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(upstream?.seen[0]?.headers['x-b3-sampled']).toBe('0');
    expect(await sdk.counter('istio_requests_total')).toBe(1);
  });
});
