/**
 * Bookinfo's telemetry as a user sets it up: every process starts the OpenTelemetry Node SDK
 * (OTLP/HTTP trace exporter, Prometheus endpoint) from OTEL_* variables, and Weft records into it
 * through the API. End to end with every process real: a page load through the gateway is one
 * trace in the launcher's collector, and productpage's /metrics carries Istio's request metrics.
 * reviews is pinned to v3 (virtual-service-reviews-v3.yaml), which calls ratings.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { Bookinfo } from '../src/launcher/bookinfo-launcher.ts';
import type { CollectedSpan, SpanKindName } from '../src/launcher/otlp-json-spans.ts';
import type { CollectedTrace } from '../src/launcher/recent-traces.ts';
import { startBookinfoPerFile } from './bookinfo-per-file.ts';
import { loadProductPage } from './product-page-reader.ts';
import { type Exposition, parseExposition, samplesWhere, sumWhere } from './prometheus-text.ts';

/** Envoy's default buckets, which Istio's docs list for its histograms (ms for durations). */
const ISTIO_BUCKETS = [
  ...[
    0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
    3600000,
  ].map(String),
  '+Inf',
];
/** The spans of one page load with reviews v3: two hops per call (client and server), plus the gateway's own. */
const SPANS_PER_LOAD = 9;
const POLL_TIMEOUT_MS = 15_000;

const run = promisify(execFile);
let bookinfo: Bookinfo;
startBookinfoPerFile(async (started) => {
  bookinfo = started;
  await bookinfo.apply('virtual-service-reviews-v3.yaml');
}, 90_000);

async function collectedTraces(): Promise<CollectedTrace[]> {
  const response = await fetch(`${bookinfo.tracesUrl}/traces`, { signal: AbortSignal.timeout(5_000) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { traces: CollectedTrace[] }).traces;
}

/**
 * The traces the collector holds that were not in `before`, once they have `spanCount` spans
 * between them (each process exports in its own batches), or as they are after a bound.
 */
async function newTraces(before: ReadonlySet<string>, spanCount: number): Promise<CollectedTrace[]> {
  const deadline = Date.now() + POLL_TIMEOUT_MS;
  for (;;) {
    const fresh = (await collectedTraces()).filter((trace) => !before.has(trace.traceId));
    const spans = fresh.reduce((sum, trace) => sum + trace.spans.length, 0);
    if (spans >= spanCount || Date.now() > deadline) return fresh;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function scrape(url: string): Promise<Exposition> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  expect(response.status).toBe(200);
  return parseExposition(await response.text());
}

/** A command of the README's Telemetry step, run as a reader runs it. */
async function shell(command: string): Promise<string> {
  return (await run('sh', ['-c', command], { timeout: 15_000 })).stdout;
}

function productPageMetricsUrl(): string {
  const url = bookinfo.metricsUrls['productpage-v1'];
  if (url === undefined)
    throw new Error(`no metrics URL for productpage-v1: ${JSON.stringify(bookinfo.metricsUrls)}`);
  return url;
}

describe('Bookinfo telemetry through the OpenTelemetry Node SDK', () => {
  it('every process serves its own Prometheus endpoint', () => {
    expect(Object.keys(bookinfo.metricsUrls).sort()).toEqual([
      'details-v1',
      'istio-ingressgateway',
      'productpage-v1',
      'ratings-v1',
      'reviews-v1',
      'reviews-v2',
      'reviews-v3',
    ]);
    expect(new Set(Object.values(bookinfo.metricsUrls)).size).toBe(7);
    for (const url of Object.values(bookinfo.metricsUrls))
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  });

  it("one page load is one trace, gateway → productpage → reviews → ratings, each server span the child of its caller's client span", async () => {
    const before = new Set((await collectedTraces()).map((trace) => trace.traceId));
    const page = await loadProductPage(bookinfo.productPageUrl);
    expect(page.status).toBe(200);
    expect(page.starColors).toEqual(['red', 'red']);

    const fresh = await newTraces(before, SPANS_PER_LOAD);
    expect(fresh.map((trace) => trace.spans.length)).toEqual([SPANS_PER_LOAD]);
    const [trace] = fresh as [CollectedTrace];
    const spans = trace.spans;
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([trace.traceId]));
    const only = (service: string, kind: SpanKindName, destination?: string): CollectedSpan => {
      const matching = spans.filter(
        (span) =>
          span.service === service &&
          span.kind === kind &&
          (destination === undefined || span.attributes['weft.destination.service'] === destination),
      );
      expect(matching, `${service} ${kind} ${destination ?? ''}`).toHaveLength(1);
      return matching[0] as CollectedSpan;
    };
    const gatewayServer = only('istio-ingressgateway', 'SERVER');
    const gatewayClient = only('istio-ingressgateway', 'CLIENT');
    const productpageServer = only('productpage', 'SERVER');
    const productpageToDetails = only('productpage', 'CLIENT', 'details.default.svc.cluster.local');
    const detailsServer = only('details', 'SERVER');
    const productpageToReviews = only('productpage', 'CLIENT', 'reviews.default.svc.cluster.local');
    const reviewsServer = only('reviews', 'SERVER');
    const reviewsToRatings = only('reviews', 'CLIENT', 'ratings.default.svc.cluster.local');
    const ratingsServer = only('ratings', 'SERVER');

    expect(gatewayServer.parentSpanId).toBeUndefined();
    expect(gatewayClient.parentSpanId).toBe(gatewayServer.spanId);
    expect(productpageServer.parentSpanId).toBe(gatewayClient.spanId);
    expect(productpageToDetails.parentSpanId).toBe(productpageServer.spanId);
    expect(detailsServer.parentSpanId).toBe(productpageToDetails.spanId);
    expect(productpageToReviews.parentSpanId).toBe(productpageServer.spanId);
    expect(reviewsServer.parentSpanId).toBe(productpageToReviews.spanId);
    expect(reviewsToRatings.parentSpanId).toBe(reviewsServer.spanId);
    expect(ratingsServer.parentSpanId).toBe(reviewsToRatings.spanId);

    // The client span names the workload it reached; every span is Weft's, and succeeded.
    expect(gatewayClient.attributes['weft.destination.workload']).toBe('productpage-v1');
    expect(productpageToReviews.attributes['weft.destination.workload']).toBe('reviews-v3');
    expect(reviewsToRatings.attributes['weft.destination.workload']).toBe('ratings-v1');
    // The client span carries the cluster it used and each attempt as an event.
    expect(productpageToReviews.attributes['weft.upstream.cluster']).toBe(
      'outbound|9080|v3|reviews.default.svc.cluster.local',
    );
    expect(
      productpageToReviews.events.map((event) => [event.name, event.attributes['weft.attempt.number']]),
    ).toEqual([['weft.attempt', 1]]);
    for (const span of spans) {
      expect(span.scope).toBe('@weft/core');
      expect(span.attributes['http.response.status_code']).toBe(200);
      expect(span.status).not.toBe('ERROR');
    }
  }, 60_000);

  it("productpage's /metrics counts the request it received and the calls it made, with Istio's names and labels", async () => {
    const url = productPageMetricsUrl();
    const received = {
      reporter: 'destination',
      // Named from the registry, where the gateway is registered behind its Service.
      source_workload: 'istio-ingressgateway',
      source_workload_namespace: 'istio-system',
      source_principal: 'spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account',
      destination_workload: 'productpage-v1',
      destination_workload_namespace: 'default',
      destination_principal: 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage',
      destination_app: 'productpage',
      destination_version: 'v1',
      destination_service: 'productpage.default.svc.cluster.local',
      destination_service_name: 'productpage',
      destination_service_namespace: 'default',
      request_protocol: 'http',
      response_code: '200',
      response_flags: '-',
      connection_security_policy: 'mutual_tls',
    };
    const caller = {
      reporter: 'source',
      source_workload: 'productpage-v1',
      source_workload_namespace: 'default',
      source_principal: 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage',
      source_app: 'productpage',
      source_version: 'v1',
      request_protocol: 'http',
      response_code: '200',
      response_flags: '-',
    };
    const toReviews = {
      ...caller,
      destination_workload: 'reviews-v3',
      destination_workload_namespace: 'default',
      destination_principal: 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews',
      destination_app: 'reviews',
      destination_version: 'v3',
      destination_service: 'reviews.default.svc.cluster.local',
      destination_service_name: 'reviews',
      destination_service_namespace: 'default',
    };
    const toDetails = {
      ...caller,
      destination_workload: 'details-v1',
      destination_app: 'details',
      destination_version: 'v1',
      destination_service: 'details.default.svc.cluster.local',
      destination_service_name: 'details',
    };
    const before = await scrape(url);
    expect((await loadProductPage(bookinfo.productPageUrl)).status).toBe(200);
    // The inbound request is recorded when productpage's response closes, which may be just
    // after the page reached this test: scrape until it shows (bounded).
    let after = await scrape(url);
    const deadline = Date.now() + POLL_TIMEOUT_MS;
    while (
      sumWhere(after, 'istio_requests_total', received) === sumWhere(before, 'istio_requests_total', received)
    ) {
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await scrape(url);
    }

    expect(after.types.get('istio_requests_total')).toBe('counter');
    expect(after.types.get('istio_request_duration_milliseconds')).toBe('histogram');
    expect(after.types.get('istio_request_bytes')).toBe('histogram');
    expect(after.types.get('istio_response_bytes')).toBe('histogram');
    const increase = (name: string, labels: Record<string, string>) =>
      sumWhere(after, name, labels) - sumWhere(before, name, labels);
    for (const labels of [received, toReviews, toDetails]) {
      expect(increase('istio_requests_total', labels), JSON.stringify(labels)).toBe(1);
      expect(increase('istio_request_duration_milliseconds_count', labels), JSON.stringify(labels)).toBe(1);
    }
    // One histogram series per label set, with Istio's buckets.
    const reviewsBuckets = samplesWhere(after, 'istio_request_duration_milliseconds_bucket', toReviews);
    expect(reviewsBuckets.map((sample) => sample.labels.le)).toEqual(ISTIO_BUCKETS);
    const sizeBuckets = samplesWhere(after, 'istio_response_bytes_bucket', toReviews);
    expect(sizeBuckets.map((sample) => sample.labels.le)).toEqual(ISTIO_BUCKETS);
    expect(reviewsBuckets.at(-1)?.value).toBe(
      sumWhere(after, 'istio_request_duration_milliseconds_count', toReviews),
    );
    // The gateway counts the same request on its own endpoint, from the caller's side.
    const gatewayCall = {
      reporter: 'source',
      source_workload: 'istio-ingressgateway',
      source_workload_namespace: 'istio-system',
      destination_workload: 'productpage-v1',
      destination_service: 'productpage.default.svc.cluster.local',
      response_code: '200',
    };
    const gatewayMetrics = await scrape(bookinfo.metricsUrls['istio-ingressgateway'] ?? '');
    expect(sumWhere(gatewayMetrics, 'istio_requests_total', gatewayCall)).toBeGreaterThanOrEqual(1);
    // The resource the SDK built from OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
    expect(
      samplesWhere(after, 'target_info', {
        service_name: 'productpage',
        service_namespace: 'default',
        service_version: 'v1',
      }),
    ).toHaveLength(1);
  }, 60_000);

  it("the README's commands: the collector draws the trace as a tree, and productpage's /metrics lists istio_requests_total", async () => {
    const before = new Set((await collectedTraces()).map((trace) => trace.traceId));
    expect((await loadProductPage(bookinfo.productPageUrl)).status).toBe(200);
    await newTraces(before, SPANS_PER_LOAD);
    const tree = await shell(`curl -s ${bookinfo.tracesUrl}/`);
    expect(tree).toMatch(/^trace [0-9a-f]{32} \(9 spans\)$/m);
    expect(tree).toMatch(
      /^ {2}istio-ingressgateway SERVER GET 200 \d+\.\d ms http:\/\/127\.0\.0\.1:\d+\/productpage$/m,
    );
    expect(tree).toMatch(/^ {6}productpage SERVER GET 200 /m);
    expect(tree).toMatch(/^ {10}reviews SERVER GET 200 /m);
    expect(tree).toMatch(/^ {14}ratings SERVER GET 200 .* https:\/\/ratings:9080\/ratings\/0$/m);

    const lines = (await shell(`curl -s ${productPageMetricsUrl()} | grep '^istio_requests_total'`))
      .trim()
      .split('\n');
    expect(lines.every((line) => line.startsWith('istio_requests_total{'))).toBe(true);
    expect(
      lines.some(
        (line) =>
          line.includes('reporter="destination"') && line.includes('destination_workload="productpage-v1"'),
      ),
    ).toBe(true);
    expect(
      lines.some(
        (line) => line.includes('reporter="source"') && line.includes('destination_workload="reviews-v3"'),
      ),
    ).toBe(true);
  }, 60_000);
});
