/**
 * What the dashboard and edge-report tests share: a hand-driven watch (to hold a stream token and
 * report ACK/NACK exactly when a test says so), edge reports built field by field, and a reader of
 * server-sent events with a bound on every wait. Everything opened registers its teardown in the
 * client harness's `cleanups`.
 */
import { request as httpRequest } from 'node:http';
import { EDGE_LATENCY_BUCKETS, type EdgeAggregate, type EdgeReport, type RevisionMark } from '@weft/core';
import type { Agent } from '../../src/index.ts';
import { cleanups } from '../client-harness.ts';

export interface RawWatch {
  readonly clientId: string;
  readonly token: string;
  /** The mark of the stream's first frame. */
  readonly mark: RevisionMark;
  /** Posts a status report for `mark` with this stream's token. */
  report(status: 'ack' | 'nack', error?: string, mark?: RevisionMark): Promise<number>;
  close(): void;
}

/** Opens a watch as a client would, reads its first frame, and keeps the stream open. */
export async function rawWatch(
  agent: Agent,
  clientId: string,
  options: { readonly namespace?: string; readonly workload?: string } = {},
): Promise<RawWatch> {
  const controller = new AbortController();
  cleanups.push(() => controller.abort());
  const query = new URLSearchParams({
    clientId,
    namespace: options.namespace ?? 'default',
    workload: options.workload ?? clientId,
    protocolVersion: '1',
  });
  const response = await fetch(`${agent.url}/v1/watch?${query}`, { signal: controller.signal });
  const token = response.headers.get('x-weft-stream-token') ?? '';
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes('\n')) {
    const chunk = await withTimeout(reader.read(), 5_000, 'the first watch frame');
    if (chunk.done) throw new Error('the watch ended before its first frame');
    text += decoder.decode(chunk.value, { stream: true });
  }
  const frame = JSON.parse(text.slice(0, text.indexOf('\n'))) as { mark: RevisionMark };
  // Keep reading (and discarding) so that the agent never sees a stalled client.
  void (async () => {
    try {
      for (;;) if ((await reader.read()).done) return;
    } catch {
      // aborted
    }
  })();
  return {
    clientId,
    token,
    mark: frame.mark,
    async report(status, error, mark = frame.mark) {
      const answer = await fetch(`${agent.url}/v1/status`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-weft-stream-token': token },
        body: JSON.stringify({ clientId, mark, status, ...(error === undefined ? {} : { error }) }),
        signal: AbortSignal.timeout(5_000),
      });
      await answer.body?.cancel();
      return answer.status;
    },
    close: () => controller.abort(),
  };
}

/** One edge with `requests` requests, all in the 5–10 ms bucket, `errors` of them 503s. */
export function edge(
  destination: EdgeAggregate['destination'],
  requests: number,
  options: { readonly errors?: number; readonly mtls?: boolean; readonly bucket?: number } = {},
): EdgeAggregate {
  const errors = options.errors ?? 0;
  const latencyMs = new Array<number>(EDGE_LATENCY_BUCKETS).fill(0);
  latencyMs[options.bucket ?? 3] = requests;
  return {
    destination,
    protocol: 'http',
    requests,
    errors,
    codes: errors === 0 ? { '200': requests } : { '200': requests - errors, '503': errors },
    latencyMs,
    durationMsSum: requests * 7,
    requestBytes: requests * 10,
    responseBytes: requests * 100,
    mtlsRequests: options.mtls === true ? requests : 0,
    faults: 0,
  };
}

export function edgeReport(edges: readonly EdgeAggregate[], overrides: Partial<EdgeReport> = {}): EdgeReport {
  return {
    source: { app: 'productpage', version: 'v1', service: 'productpage.default.svc.cluster.local' },
    intervalMs: 5_000,
    edges,
    dropped: { edges: 0, requests: 0, reports: 0 },
    ejections: [],
    faults: [],
    ...overrides,
  };
}

/** POST /v1/clients/{id}/edges; the status and the parsed body. */
export async function postEdges(
  agent: Agent,
  clientId: string,
  token: string | undefined,
  body: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${agent.url}/v1/clients/${encodeURIComponent(clientId)}/edges`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { 'x-weft-stream-token': token }),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(5_000),
  });
  return { status: response.status, body: await response.json() };
}

export interface EventReader {
  /** The status and headers of the stream's answer. */
  readonly response: Response;
  /** The next `event: state` payload, parsed; rejects after `timeoutMs`. */
  nextState(timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): void;
}

/** Opens `GET /v1/dashboard/events` (or any SSE URL) and parses events as they come. */
export async function readEvents(url: string, headers: Record<string, string> = {}): Promise<EventReader> {
  const controller = new AbortController();
  cleanups.push(() => controller.abort());
  const response = await fetch(url, { signal: controller.signal, headers });
  const reader = response.body?.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  // A read a timed-out wait left pending: the next wait takes it over, so no chunk is lost.
  let pending: ReturnType<NonNullable<typeof reader>['read']> | undefined;
  const nextState = async (timeoutMs = 5_000): Promise<Record<string, unknown>> => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const lines = block.split('\n');
        if (lines.includes('event: state')) {
          const data = lines.find((line) => line.startsWith('data: '));
          if (data !== undefined) return JSON.parse(data.slice('data: '.length)) as Record<string, unknown>;
        }
        continue;
      }
      if (reader === undefined) throw new Error('the answer has no body');
      pending ??= reader.read();
      const chunk = await withTimeout(pending, deadline - performance.now(), 'a dashboard event');
      pending = undefined;
      if (chunk.done) throw new Error('the event stream ended');
      buffer += decoder.decode(chunk.value, { stream: true });
    }
  };
  return { response, nextState, close: () => controller.abort() };
}

export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), Math.max(0, timeoutMs));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A GET with headers fetch() will not send (it drops `Host`): the status and the
 * `www-authenticate` header. The body is discarded.
 */
export function getWithHeaders(
  agent: Agent,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; challenge: string | undefined }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { host: agent.host, port: agent.port, path, headers, timeout: 5_000 },
      (response) => {
        response.resume();
        // An event stream never ends: the status is all these tests want.
        resolve({ status: response.statusCode ?? 0, challenge: response.headers['www-authenticate'] });
        response.destroy();
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`GET ${path} timed out`)));
    outgoing.on('error', reject);
    outgoing.end();
  });
}
