import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Mesh } from '../mesh/create-mesh.ts';
import { revisionNumber } from '../telemetry/mesh-telemetry.ts';
import { reportClusters } from './clusters-report.ts';
import { explainRoute, type RouteQuestion } from './route-explanation.ts';
import { collectStats, formatStatLines, type MetricsCollector } from './stats-text.ts';
import { workloadConfigDump } from './workload-config-dump.ts';

/** The Prometheus exporter's request handler (`PrometheusExporter` with `preventServerStart`). */
export interface PrometheusEndpoint {
  getMetricsRequestHandler(request: IncomingMessage, response: ServerResponse): void;
}

/** createMesh's `admin` option. */
export interface WorkloadAdminOptions {
  /** 15000 (Envoy's admin port) when absent; 0 picks a free port. */
  readonly port?: number;
  /** 127.0.0.1 when absent. The endpoint has no authentication: keep it on loopback. */
  readonly host?: string;
  /**
   * Serves /stats/prometheus: the application's PrometheusExporter (created with
   * `preventServerStart: true` and given to its MeterProvider as a reader).
   */
  readonly prometheus?: PrometheusEndpoint;
  /** Adds OpenTelemetry data points to /stats; the Prometheus exporter is used when absent. */
  readonly metricReader?: MetricsCollector;
}

export const DEFAULT_ADMIN_PORT = 15000;
const MAX_DEBUG_HEADERS = 64;

const INDEX = `Weft workload admin
  /ready               200 when every readiness condition holds, 503 otherwise (JSON)
  /config_dump         the compiled configuration, its revision and the Telemetry policy (JSON)
  /clusters            every cluster and endpoint: health, ejection, active requests, weight (JSON)
  /stats               counters and live state, name: value (text; ?filter=part, ?format=json)
  /stats/prometheus    the OpenTelemetry metrics in Prometheus text format
  /certs               the workload's certificates (JSON)
  /debug/route         ?host=reviews&port=9080&path=/x&method=GET&header=k:v — which route and why (JSON)
`;

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
}

/**
 * The per-workload admin endpoint (Envoy's admin interface, for a process): node:http on
 * 127.0.0.1, read-only, GET and HEAD only. It reads the mesh's live state on each request and
 * holds none of its own.
 */
export class WorkloadAdmin {
  /** Settles when the server listens (or failed to: the port was taken, for instance). */
  readonly listening: Promise<AddressInfo>;
  readonly #mesh: Mesh;
  readonly #options: WorkloadAdminOptions;
  readonly #server: Server;

  constructor(mesh: Mesh, options: WorkloadAdminOptions = {}) {
    this.#mesh = mesh;
    this.#options = options;
    this.#server = createServer((request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) send(response, request, internalError(error));
        else response.destroy();
      });
    });
    this.listening = new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(options.port ?? DEFAULT_ADMIN_PORT, options.host ?? '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve(this.#server.address() as AddressInfo);
      });
    });
    // An application that never awaits `listening` must not crash on an unhandled rejection.
    this.listening.catch(() => {});
  }

  /** `http://127.0.0.1:15000`, once listening. */
  async url(): Promise<string> {
    const { address, port, family } = await this.listening;
    return `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server.listening) {
        resolve();
        return;
      }
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, request, json(405, { error: 'the admin endpoint is read-only: use GET' }));
      return;
    }
    const url = new URL(request.url ?? '/', 'http://admin');
    if (url.pathname === '/stats/prometheus') {
      const prometheus = this.#options.prometheus;
      if (prometheus === undefined) {
        send(
          response,
          request,
          json(404, { error: 'no Prometheus exporter: pass admin.prometheus to createMesh' }),
        );
        return;
      }
      prometheus.getMetricsRequestHandler(request, response);
      return;
    }
    send(response, request, await this.#answer(url));
  }

  async #answer(url: URL): Promise<Answer> {
    const mesh = this.#mesh;
    const revision = mesh.snapshot.revision;
    switch (url.pathname) {
      case '/':
        return { status: 200, body: INDEX, contentType: 'text/plain; charset=utf-8' };
      case '/ready': {
        const report = mesh.readiness.evaluate();
        return json(report.isReady ? 200 : 503, report);
      }
      case '/config_dump':
        return json(200, workloadConfigDump(mesh.outbound, revision, mesh.workload, mesh.telemetry.policy));
      case '/clusters':
        return json(200, reportClusters(mesh.outbound, mesh.clusters.all(), revision, mesh.clock.now()));
      case '/stats': {
        const lines = await collectStats(
          mesh.telemetry.stats,
          mesh.clusters.all(),
          revisionNumber(revision),
          this.#options.metricReader ?? collectorOf(this.#options.prometheus),
          url.searchParams.get('filter') ?? undefined,
        );
        if (url.searchParams.get('format') === 'json') return json(200, { stats: lines });
        return { status: 200, body: formatStatLines(lines), contentType: 'text/plain; charset=utf-8' };
      }
      case '/certs': {
        const report = mesh.certificateReport.read();
        return json(
          200,
          report ?? {
            certificates: [],
            note: 'no identity provides certificates to this workload (no mTLS yet)',
          },
        );
      }
      case '/debug/route': {
        const question = routeQuestion(url.searchParams);
        if (typeof question === 'string') return json(400, { error: question });
        return json(200, explainRoute(mesh.outbound, mesh.workload, question));
      }
      default:
        return json(404, { error: `no admin endpoint ${url.pathname}; GET / lists them` });
    }
  }
}

export function startWorkloadAdmin(mesh: Mesh, options: WorkloadAdminOptions = {}): WorkloadAdmin {
  return new WorkloadAdmin(mesh, options);
}

/** The request /debug/route explains, from its query; a string says what is wrong with it. */
function routeQuestion(params: URLSearchParams): RouteQuestion | string {
  const hostParam = params.get('host');
  if (hostParam === null || hostParam === '')
    return 'host is required, e.g. /debug/route?host=reviews&port=9080&path=/';
  let host = hostParam.toLowerCase();
  let port = Number(params.get('port') ?? Number.NaN);
  const colon = host.lastIndexOf(':');
  if (colon !== -1 && !host.endsWith(']')) {
    if (Number.isNaN(port)) port = Number(host.slice(colon + 1));
    host = host.slice(0, colon);
  }
  const scheme = params.get('scheme') ?? 'http';
  if (Number.isNaN(port)) port = scheme === 'https' ? 443 : 80;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `port must be 1-65535, not ${port}`;
  const headers: Record<string, string> = {};
  const given = params.getAll('header');
  if (given.length > MAX_DEBUG_HEADERS) return `at most ${MAX_DEBUG_HEADERS} header parameters`;
  for (const header of given) {
    const separator = header.indexOf(':');
    if (separator <= 0) return `header must be name:value, not "${header}"`;
    const name = header.slice(0, separator).trim().toLowerCase();
    const value = header.slice(separator + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  return {
    host,
    port,
    path: params.get('path') ?? '/',
    method: (params.get('method') ?? 'GET').toUpperCase(),
    scheme,
    headers,
  };
}

function collectorOf(prometheus: PrometheusEndpoint | undefined): MetricsCollector | undefined {
  const candidate = prometheus as Partial<MetricsCollector> | undefined;
  return typeof candidate?.collect === 'function' ? (candidate as MetricsCollector) : undefined;
}

function json(status: number, body: unknown): Answer {
  return { status, body: `${JSON.stringify(body, null, 2)}\n`, contentType: 'application/json' };
}

function internalError(error: unknown): Answer {
  return json(500, { error: error instanceof Error ? error.message : String(error) });
}

function send(response: ServerResponse, request: IncomingMessage, answer: Answer): void {
  response.writeHead(answer.status, {
    'content-type': answer.contentType,
    'content-length': Buffer.byteLength(answer.body),
    'cache-control': 'no-store',
  });
  response.end(request.method === 'HEAD' ? undefined : answer.body);
}
