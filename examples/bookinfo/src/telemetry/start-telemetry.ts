/**
 * The telemetry of one Bookinfo process, set up the way an application sets up the OpenTelemetry
 * Node SDK: spans to an OTLP/HTTP trace exporter, metrics to a Prometheus endpoint, both read from
 * the standard environment variables. Weft records through the global API (@opentelemetry/api)
 * only, so once the SDK is registered its spans and Istio's metrics appear. Nothing else is
 * instrumented: Weft makes the spans, so no auto-instrumentations are loaded.
 *
 *   OTEL_SERVICE_NAME                    the service the spans and target_info name (`productpage`)
 *   OTEL_RESOURCE_ATTRIBUTES             more of the resource (`service.version=v2`)
 *   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT   where spans are POSTed (OTLP/HTTP with JSON bodies);
 *                                        the SDK's default is http://localhost:4318/v1/traces
 *   OTEL_TRACES_EXPORTER=none            no spans at all
 *   OTEL_BSP_SCHEDULE_DELAY              how long a finished span waits for its batch (ms)
 *   OTEL_EXPORTER_PROMETHEUS_HOST/_PORT  where GET /metrics is served: 127.0.0.1 and a free port
 *                                        by default (not Prometheus's 9464: Bookinfo runs seven
 *                                        processes on one machine)
 *
 * Once serving, it prints `{"metrics":"http://…/metrics"}`: the launcher reads that line.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';

/** The path Prometheus scrapes, as the exporter names it. */
export const METRICS_PATH = '/metrics';

export interface ProcessTelemetry {
  /** Where this process's Prometheus metrics are served. */
  readonly metricsUrl: string;
  /** Exports the spans still waiting in their batch, then stops the SDK and the metrics endpoint. */
  shutdown(): Promise<void>;
}

/** Starts and registers the SDK; call it before the mesh is created. */
export async function startTelemetry(): Promise<ProcessTelemetry> {
  // The exporter cannot listen on port 0 (it reads 0 as "use 9464") and never reports the port
  // it bound, so it only renders the metrics, on a listener this process binds itself.
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const server = createServer((request, response) => {
    if (new URL(request.url ?? '/', 'http://metrics').pathname === METRICS_PATH)
      return prometheus.getMetricsRequestHandler(request, response);
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end(`metrics are served at ${METRICS_PATH}\n`);
  });
  const host = process.env.OTEL_EXPORTER_PROMETHEUS_HOST ?? '127.0.0.1';
  const port = await listen(server, host, prometheusPort(process.env.OTEL_EXPORTER_PROMETHEUS_PORT));
  const isTracingOff = process.env.OTEL_TRACES_EXPORTER?.trim() === 'none';
  const sdk = new NodeSDK({
    metricReaders: [prometheus],
    ...(isTracingOff ? { spanProcessors: [] } : { traceExporter: new OTLPTraceExporter() }),
    // Weft writes no log records through the logs API: an idle OTLP log exporter is not wanted.
    logRecordProcessors: [],
  });
  sdk.start();
  const metricsUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}${METRICS_PATH}`;
  process.stdout.write(`${JSON.stringify({ metrics: metricsUrl })}\n`);
  return {
    metricsUrl,
    async shutdown() {
      await sdk.shutdown();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function prometheusPort(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 0;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`OTEL_EXPORTER_PROMETHEUS_PORT: "${value}" is not a port number (0-65535)`);
  return port;
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
