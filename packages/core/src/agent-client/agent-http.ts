import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { ErrorCodes, WeftError } from '../errors/weft-error.ts';
import type { Clock } from '../time/clock.ts';

/**
 * The few HTTP exchanges the agent client makes, on node:http so that every one is bounded by a
 * timer on the injected Clock and cut short by an AbortSignal (nothing here relies on socket
 * timeouts or on a global dispatcher the application may have replaced).
 */

/** Bytes of a non-streaming answer (status, registration, error bodies) the client reads at most. */
const MAX_ANSWER_BYTES = 1024 * 1024;

export interface AgentRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: URL;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
  /**
   * The keep-alive pool to take a socket from; none means a socket of its own (the watch, which
   * holds it for hours).
   */
  readonly pool?: ConnectionPool;
}

/**
 * The client's own keep-alive pools for its short calls (status, registration), so that they
 * neither depend on nor linger in the process's global agents: `destroy()` on close releases
 * every socket.
 */
export class ConnectionPool {
  #http: http.Agent | undefined;
  #https: https.Agent | undefined;

  for(url: URL): http.Agent {
    if (url.protocol === 'https:') {
      this.#https ??= new https.Agent({ keepAlive: true, maxSockets: 4 });
      return this.#https;
    }
    this.#http ??= new http.Agent({ keepAlive: true, maxSockets: 4 });
    return this.#http;
  }

  destroy(): void {
    this.#http?.destroy();
    this.#https?.destroy();
  }
}

export interface AgentAnswer {
  readonly status: number;
  /** The parsed JSON body, or the text when it is not JSON, or undefined when empty. */
  readonly body: unknown;
}

/** `base` + `path` (base may carry a path prefix), with query parameters. */
export function agentUrl(base: string, path: string, query: Readonly<Record<string, string>> = {}): URL {
  const url = new URL(path.replace(/^\//, ''), base.endsWith('/') ? base : `${base}/`);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  return url;
}

/**
 * Sends a request and resolves with the response as soon as its headers arrive; the caller
 * reads the body or destroys it. Rejects with the signal's reason when the signal aborts.
 */
export function openRequest(request: AgentRequest): Promise<IncomingMessage> {
  const { url, method, signal } = request;
  if (signal.aborted) return Promise.reject(signal.reason);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.reject(
      new WeftError(ErrorCodes.controlPlaneUnavailable, `agent address ${url.origin} is not http(s)`),
    );
  }
  const payload = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body));
  const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(payload.length);
  }
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const outgoing = transport.request(url, {
      method,
      headers,
      signal,
      agent: request.pool?.for(url) ?? false,
    });
    outgoing.once('response', resolve);
    // Stays attached after the response: a later socket error must not become an uncaught one.
    outgoing.on('error', (error) => reject(signal.aborted ? signal.reason : error));
    outgoing.end(payload);
  });
}

/** Reads a whole (small) body; refuses one larger than `maxBytes`. */
export async function readBody(response: IncomingMessage, maxBytes = MAX_ANSWER_BYTES): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      response.destroy();
      throw new WeftError(
        ErrorCodes.controlPlaneUnavailable,
        `agent answer exceeds ${maxBytes} bytes; refused`,
      );
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts, size).toString('utf8');
}

/** One request/answer exchange, bounded by `timeoutMs` on `clock` as a whole. */
export async function exchange(
  request: AgentRequest & { readonly clock: Clock; readonly timeoutMs: number },
): Promise<AgentAnswer> {
  const { clock, timeoutMs } = request;
  const deadline = new AbortController();
  const timer = clock.setTimeout(
    () =>
      deadline.abort(
        new WeftError(
          ErrorCodes.timeout,
          `agent did not answer ${request.method} ${request.url.pathname} within ${timeoutMs} ms`,
        ),
      ),
    timeoutMs,
  );
  const signal = AbortSignal.any([request.signal, deadline.signal]);
  try {
    const response = await openRequest({ ...request, signal });
    const text = await readBody(response);
    return { status: response.statusCode ?? 0, body: parseAnswer(text) };
  } catch (error) {
    throw signal.aborted ? signal.reason : error;
  } finally {
    clock.clearTimeout(timer);
  }
}

/** JSON when the text is JSON, the text otherwise, undefined when empty. */
export function parseAnswer(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A short, single-line description of an error answer, for messages. */
export function describeAnswer(answer: AgentAnswer): string {
  const { body } = answer;
  const detail =
    typeof body === 'string'
      ? body
      : body !== null && typeof body === 'object' && 'message' in body
        ? String((body as { message: unknown }).message)
        : JSON.stringify(body ?? '');
  return `HTTP ${answer.status}${detail === '' || detail === '""' ? '' : `: ${detail.slice(0, 500)}`}`;
}
