/**
 * Sends one admitted request through the mesh like any other call — routed by the VirtualServices
 * bound to this gateway, balanced, retried, fault-injected — and streams the answer back. The
 * mesh's route tables are keyed by the Gateway server's port, which VirtualService `port`
 * matches see, whatever port the gateway really listens on.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { type Dispatcher, request as undiciRequest } from 'undici';
import { answerText } from './answers.ts';

/** Headers that describe one hop, not the request (RFC 9110 §7.6.1); never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
]);

export interface ForwardTarget {
  readonly hostName: string;
  /** The Host header as the client sent it: routing and the upstream see it unchanged. */
  readonly authority: string;
  /** The Gateway server's port. */
  readonly port: number;
  /** How the client reached the gateway: `x-forwarded-proto`, as Envoy sets it. */
  readonly scheme: 'http' | 'https';
}

export function forwardToMesh(
  dispatcher: Dispatcher,
  request: IncomingMessage,
  response: ServerResponse,
  target: ForwardTarget,
): void {
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  const headers = forwardedHeaders(request.headers);
  headers.host = target.authority;
  headers['x-forwarded-proto'] = target.scheme;
  const client = request.socket.remoteAddress;
  if (client !== undefined) {
    const earlier = request.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = earlier === undefined ? client : `${String(earlier)}, ${client}`;
  }
  const abort = new AbortController();
  // A client that goes away takes its upstream request with it.
  response.once('close', () => {
    if (!response.writableFinished) abort.abort();
  });
  undiciRequest(`http://${target.hostName}:${target.port}${request.url ?? '/'}`, {
    dispatcher,
    method: (request.method ?? 'GET') as Dispatcher.HttpMethod,
    headers,
    signal: abort.signal,
    ...(hasBody ? { body: request } : {}),
  }).then(
    (upstream) => {
      response.writeHead(upstream.statusCode, forwardedHeaders(upstream.headers));
      upstream.body.pipe(response);
      upstream.body.once('error', () => response.destroy());
    },
    (error: unknown) => {
      if (abort.signal.aborted) return;
      answerText(
        response,
        502,
        `gateway: upstream failed: ${error instanceof Error ? error.message : String(error)}\n`,
      );
    },
  );
}

function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const forwarded: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    forwarded[name] = value;
  }
  return forwarded;
}
