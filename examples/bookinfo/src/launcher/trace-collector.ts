/**
 * A small trace collector for the demo, on 127.0.0.1: it receives the spans every Bookinfo
 * process exports over OTLP/HTTP (JSON bodies, as @opentelemetry/exporter-trace-otlp-http sends
 * them, gzipped or not), keeps the most recent ones, and serves them:
 *
 *   POST /v1/traces        the OTLP/HTTP receiver (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
 *   GET  /                 the recent traces as indented text trees, newest first
 *   GET  /traces           the same as JSON: {"traces":[{"traceId":…,"spans":[…]}]}
 *   GET  /traces/<traceId> one trace as JSON
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeOtlpJsonSpans, OtlpDecodeError } from './otlp-json-spans.ts';
import { type CollectedTrace, RecentTraces, traceAsText } from './recent-traces.ts';

export interface TraceCollectorOptions {
  /** Spans kept; the oldest are dropped past it. 10 000 by default. */
  readonly maxSpans?: number;
}

export interface TraceCollector {
  /** `http://127.0.0.1:<port>`: `/` and `/traces` are the views. */
  readonly url: string;
  /** Where exporters POST spans: the value of OTEL_EXPORTER_OTLP_TRACES_ENDPOINT. */
  readonly otlpTracesEndpoint: string;
  /** Every kept trace, newest first. */
  traces(): CollectedTrace[];
  close(): Promise<void>;
}

const OTLP_TRACES_PATH = '/v1/traces';
const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** Traces drawn by the text view. */
const TEXT_VIEW_TRACES = 20;

export async function startTraceCollector(options: TraceCollectorOptions = {}): Promise<TraceCollector> {
  const store = new RecentTraces(options.maxSpans ?? 10_000);
  const server = createServer((request, response) => {
    route(store, request, response).catch((error: unknown) => {
      if (!response.headersSent) reply(response, 500, 'text/plain', `trace collector: ${String(error)}\n`);
      else response.destroy();
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    otlpTracesEndpoint: `${url}${OTLP_TRACES_PATH}`,
    traces: () => store.traces(),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function route(store: RecentTraces, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://collector').pathname;
  if (path === OTLP_TRACES_PATH) {
    if (request.method !== 'POST') return reply(response, 405, 'text/plain', `${path} takes POST\n`);
    return receive(store, request, response);
  }
  if (request.method !== 'GET') return reply(response, 405, 'text/plain', `${path} takes GET\n`);
  if (path === '/') {
    const traces = store.traces().slice(0, TEXT_VIEW_TRACES);
    const text =
      traces.length === 0
        ? 'No traces yet: load the product page.\n'
        : `${traces.map(traceAsText).join('\n\n')}\n`;
    return reply(response, 200, 'text/plain; charset=utf-8', text);
  }
  if (path === '/traces')
    return reply(response, 200, 'application/json', JSON.stringify({ traces: store.traces() }));
  if (path.startsWith('/traces/')) {
    const trace = store.trace(path.slice('/traces/'.length));
    if (trace === undefined) return reply(response, 404, 'text/plain', `no trace ${path.slice(8)} is kept\n`);
    return reply(response, 200, 'application/json', JSON.stringify(trace));
  }
  reply(response, 404, 'text/plain', 'see / (text), /traces (JSON) or POST /v1/traces (OTLP/HTTP JSON)\n');
}

/** One export request: answered 200 `{}` (all accepted) or refused whole with the reason. */
async function receive(
  store: RecentTraces,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const type = (request.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    request.resume();
    return reply(
      response,
      415,
      'text/plain',
      `this collector reads OTLP/HTTP JSON only, not "${type}": export with @opentelemetry/exporter-trace-otlp-http or OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json\n`,
    );
  }
  const encoding = request.headers['content-encoding'] ?? 'identity';
  if (encoding !== 'identity' && encoding !== 'gzip') {
    request.resume();
    return reply(response, 415, 'text/plain', `content-encoding "${encoding}" is not supported (gzip is)\n`);
  }
  if (Number(request.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
    request.resume();
    return reply(response, 413, 'text/plain', `bodies are limited to ${MAX_BODY_BYTES} bytes\n`);
  }
  let body = await readBody(request);
  if (body === undefined)
    return reply(response, 413, 'text/plain', `bodies are limited to ${MAX_BODY_BYTES} bytes\n`);
  let spans: ReturnType<typeof decodeOtlpJsonSpans>;
  try {
    if (encoding === 'gzip') body = gunzipSync(body, { maxOutputLength: MAX_BODY_BYTES });
    spans = decodeOtlpJsonSpans(JSON.parse(body.toString('utf8')));
  } catch (error) {
    const reason =
      error instanceof OtlpDecodeError || error instanceof SyntaxError ? error.message : String(error);
    return reply(response, 400, 'text/plain', `bad OTLP/HTTP JSON trace export: ${reason}\n`);
  }
  store.add(spans);
  reply(response, 200, 'application/json', '{}');
}

/** The request's body, or undefined when a chunked one passes the limit (the stream is then destroyed). */
async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function reply(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
