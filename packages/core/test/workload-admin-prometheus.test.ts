/**
 * /stats/prometheus through OpenTelemetry's Prometheus exporter (the application's, given to
 * createMesh as `admin.prometheus` and to its MeterProvider as a reader): scraped over HTTP and
 * parsed, Istio's metrics come out with Istio's names, labels and buckets, next to Weft's own.
 */
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { createMesh, ISTIO_HISTOGRAM_BUCKETS, type Mesh } from '../src/index.ts';
import { FakeClock } from '../src/testing.ts';
import { PRODUCTPAGE, REVIEWS_WORKLOADS, routeRequest } from './support/telemetry-fixtures.ts';

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parses Prometheus' text exposition format (0.0.4): one sample per line, comments skipped. */
function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (match === null) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    const labelText = match[2] ?? '';
    const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    for (let found = label.exec(labelText); found !== null; found = label.exec(labelText)) {
      labels[found[1] ?? ''] = (found[2] ?? '').replace(/\\(.)/g, (_, escaped: string) =>
        escaped === 'n' ? '\n' : escaped,
      );
    }
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return samples;
}

let mesh: Mesh | undefined;
let meterProvider: MeterProvider | undefined;
afterEach(async () => {
  const closing = mesh?.admin?.close();
  mesh?.close();
  await closing;
  await meterProvider?.shutdown();
});

describe('/stats/prometheus', () => {
  it('serves Istio’s metrics with Istio’s labels and buckets, and Weft’s own, to a scraper', async () => {
    const exporter = new PrometheusExporter({ preventServerStart: true });
    meterProvider = new MeterProvider({ readers: [exporter] });
    const clock = new FakeClock(0);
    mesh = createMesh({
      workload: PRODUCTPAGE,
      workloads: REVIEWS_WORKLOADS,
      clock,
      config: { yaml: '' },
      telemetry: { meterProvider },
      admin: { port: 0, prometheus: exporter },
    });
    const host = mesh.outbound.resolveHost('reviews') ?? '';
    const destination = mesh.outbound.routeTable(host, 9080)?.routes[0]?.destinations[0];
    const cluster = destination === undefined ? undefined : mesh.outbound.cluster(destination);
    const endpoint = cluster?.endpoints[0];
    if (cluster === undefined || endpoint === undefined) throw new Error('no cluster');
    for (const [status, durationMs] of [
      [200, 3],
      [200, 40],
      [503, 700],
    ] as const) {
      const call = mesh.telemetry.startClientCall(routeRequest());
      call?.attemptStarted(cluster, endpoint);
      clock.advance(durationMs);
      call?.responded(status);
      call?.end();
    }

    const response = await fetch(`${await mesh.admin?.url()}/stats/prometheus`);
    expect(response.status).toBe(200);
    const samples = parsePrometheus(await response.text());

    const requests = samples.filter((sample) => sample.name === 'istio_requests_total');
    expect(requests.map((sample) => [sample.labels.response_code, sample.value]).sort()).toEqual([
      ['200', 2],
      ['503', 1],
    ]);
    expect(requests[0]?.labels).toMatchObject({
      reporter: 'source',
      source_workload: 'productpage-v1',
      source_app: 'productpage',
      destination_workload: 'reviews-v1',
      destination_service: 'reviews.default.svc.cluster.local',
      destination_service_name: 'reviews',
      request_protocol: 'http',
      response_flags: '-',
      connection_security_policy: 'unknown',
    });
    const buckets = samples.filter(
      (sample) =>
        sample.name === 'istio_request_duration_milliseconds_bucket' && sample.labels.response_code === '200',
    );
    expect(buckets.map((sample) => sample.labels.le)).toEqual([
      ...ISTIO_HISTOGRAM_BUCKETS.map(String),
      '+Inf',
    ]);
    const cumulative = (le: string) => buckets.find((sample) => sample.labels.le === le)?.value;
    expect([
      cumulative('1'),
      cumulative('5'),
      cumulative('25'),
      cumulative('50'),
      cumulative('+Inf'),
    ]).toEqual([0, 1, 1, 2, 2]);
    const sum = samples.find(
      (sample) =>
        sample.name === 'istio_request_duration_milliseconds_sum' && sample.labels.response_code === '200',
    );
    expect(sum?.value).toBe(43);
    expect(samples.find((sample) => sample.name === 'weft_config_revision')?.value).toBe(1);
  });
});
